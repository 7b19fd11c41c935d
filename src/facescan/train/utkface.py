"""The recipes of the shipped UTKFace models, all on face-api's TinyXception: our heads on its
frozen features (``utkface-heads``), its later blocks fine-tuned with them (``utkface-finetune``),
and the fine-tuned model stacked with SFace embeddings (``utkface-stack``)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path

from ..models.catalog import FACEAPI_CROP
from .context import CONTEXT_SEED
from .report import sha256

log = logging.getLogger(__name__)

# the views of each face that training uses: as cropped from its chip, and in context
VIEWS = ("plain", "context")


def _utkface_features(data: Path, work: Path, extract: Callable, size: int = 112,
                      context: bool = False) -> tuple[dict, dict]:
    """UTKFace train/val samples, and per split a list of ``extract(crops)``, one per view
    (:data:`VIEWS`; only the first without ``context``) of the run-time crops (uint8, ``size``
    pixels square)."""
    from ..datasets import read_utkface
    from ..detect import YuNet
    from .features import build_crops

    start = time.time()
    detector = YuNet()
    splits = {s: list(read_utkface(data, s)) for s in ("train", "val")}
    feats = {}
    for name, samples in splits.items():
        seeds = (None, CONTEXT_SEED) if context else (None,)
        feats[name] = [extract(build_crops(samples, detector, FACEAPI_CROP, size, work / "cache", context_seed=seed))
                       for seed in seeds]
        log.info("%s: %d samples, features ready (%.0fs)", name, len(samples), time.time() - start)
    return splits, feats


def build_utkface_heads(data: Path, out: Path, work: Path, epochs: int = 40, seed: int = 0) -> dict:
    """face-api TinyXception (converted) + our gender/race/age heads trained on UTKFace."""
    from .convert import fetch_faceapi, load_faceapi_age_gender
    from .heads import FlipTTAModel, evaluate, export_onnx, faceapi_features, train_heads

    start = time.time()
    backbone, _, _ = load_faceapi_age_gender(fetch_faceapi(work / "faceapi"))
    splits, feats = _utkface_features(data, work, lambda c: (faceapi_features(backbone, c),
                                                             faceapi_features(backbone, c, flip=True)))
    heads = train_heads(*feats["train"][0], splits["train"], epochs=epochs, seed=seed)
    metrics = evaluate(heads, *feats["val"][0], splits["val"])
    export_onnx(FlipTTAModel(backbone, heads).eval(), out, 112, 3, ["gender", "race", "age"])
    return {"model": str(out), "sha256": sha256(out), "val": metrics,
            "n_train": len(splits["train"]), "n_val": len(splits["val"]),
            "seconds": round(time.time() - start)}


def build_utkface_finetune(data: Path, out: Path, work: Path, epochs: int = 12, seed: int = 0) -> dict:
    """face-api TinyXception, middle blocks + exit flow fine-tuned on UTKFace with our
    gender / race / age heads (see facescan.train.finetune), on every face as cropped and in
    context (facescan.train.context)."""
    import torch

    from .calibrate import temperature_report
    from .convert import fetch_faceapi, load_faceapi_age_gender
    from .finetune import FullModel, predict_top, train_top, trunk_features
    from .finetune import metrics as top_metrics
    from .heads import export_onnx, sample_labels

    start = time.time()
    net, _, _ = load_faceapi_age_gender(fetch_faceapi(work / "faceapi"))
    splits, feats = _utkface_features(data, work, lambda c: (trunk_features(net, c, False),
                                                             trunk_features(net, c, True)), context=True)
    top = train_top(net, feats["train"], splits["train"], feats["val"], splits["val"], epochs=epochs, seed=seed)
    labels = sample_labels(splits["val"])
    outputs = [predict_top(top, *view) for view in feats["val"]]
    metrics = {name: top_metrics(o, labels) for name, o in zip(VIEWS, outputs)}
    names = ("gender", "race", "age")
    calibration = temperature_report({k: torch.cat([o[i] for o in outputs]).numpy() for i, k in enumerate(names)},
                                {k: torch.cat([y] * len(outputs)).numpy() for k, y in zip(names, labels)})
    export_onnx(FullModel(net, top).eval(), out, 112, 3, ["gender", "race", "age"])
    return {"model": str(out), "sha256": sha256(out), "val": metrics, "calibration": calibration,
            "n_train": len(splits["train"]), "n_val": len(splits["val"]),
            "seconds": round(time.time() - start)}


def build_utkface_stack(data: Path, out: Path, work: Path) -> dict:
    """The shipped fine-tuned model + SFace embeddings of the same crop, stacked by logistic
    regression for gender and race, composed into one ONNX graph (see facescan.train.stack).
    Fitted and calibrated on every face as cropped and in context (facescan.train.context)."""
    import numpy as np

    from ..models import get_spec
    from . import stack
    from .calibrate import temperature_report
    from .heads import sample_labels

    start = time.time()
    base, source = get_spec("facescan-utkface-finetuned"), get_spec("sface")
    base_path = base.verified_path()
    sface = stack.sface_float(source.verified_path())
    models = stack.sessions(base_path, sface)
    splits, feats = _utkface_features(
        data, work, lambda c: stack.features(models, c, base.mean, base.scale), base.input_size, context=True)
    truth = {s: {k: np.concatenate([t.numpy()] * len(VIEWS)) for k, t in zip(("gender", "race"), sample_labels(v)[:2])}
             for s, v in splits.items()}
    heads, fitted, logits = {}, {}, {}
    for attr in stack.STACKED:  # each split's views, one after the other
        x = {s: np.vstack([stack.stack_input(base_out[attr], emb) for base_out, emb in feats[s]]) for s in splits}
        w, b, fitted[attr] = stack.fit(x["train"], truth["train"][attr], x["val"], truth["val"][attr])
        heads[attr] = (w, b)
        logits[attr] = x["val"] @ w.T + b
        base_logits = np.vstack([base_out[attr] for base_out, _ in feats["val"]])
        fitted[attr].update(base_val_accuracy=round(float((base_logits.argmax(1) == truth["val"][attr]).mean()), 4),
                            stacked_val_accuracy=round(float((logits[attr].argmax(1) == truth["val"][attr]).mean()), 4))
    stack.compose(base_path, sface, heads, base.mean, base.scale, out)
    calibration = temperature_report(logits, truth["val"])
    check = stack.session(out.read_bytes()).run(
        list(stack.STACKED), {"crops": np.zeros((2, 3, base.input_size, base.input_size), np.float32)})
    log.info("composed graph runs: %s", [c.shape for c in check])
    return {"model": str(out), "sha256": sha256(out), "val": fitted, "calibration": calibration,
            "n_train": len(splits["train"]), "n_val": len(splits["val"]),
            "seconds": round(time.time() - start)}
