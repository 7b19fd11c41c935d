"""Face detectors. Each returns, per image, a list of :class:`Detection` in original pixels.

``yunet`` (the default): OpenCV Zoo's YuNet over one or more scales (:mod:`.yunet`).
``mtcnn``: MTCNN's three-stage cascade, run by onnxruntime (:mod:`.mtcnn`). ``none``: the whole
image is one face (for data sets of already cropped face chips).
"""

from __future__ import annotations

from ..errors import ConfigError
from .base import MERGE_IOU, Detection, Detector, WholeImage, iou, merge, parse_scales, plausible
from .mtcnn import MTCNN
from .yunet import YuNet

__all__ = ["DETECTORS", "MERGE_IOU", "MTCNN", "Detection", "Detector", "WholeImage", "YuNet", "iou",
           "make_detector", "merge", "parse_scales", "plausible"]

DETECTORS = {"yunet": YuNet, "mtcnn": MTCNN, "none": WholeImage}


def make_detector(name: str, scales: str | None = None, max_faces: int = 0) -> Detector:
    """A detector by name; ``scales`` (see :func:`parse_scales`) applies to YuNet, ``max_faces``
    to both YuNet and MTCNN."""
    if name not in DETECTORS:
        raise ConfigError(f"unknown detector {name!r}; choose one of {sorted(DETECTORS)}")
    if max_faces < 0:
        raise ConfigError(f"max_faces must be 0 (all) or more, got {max_faces}")
    if name == "yunet":
        return YuNet(scales=parse_scales(scales), max_faces=max_faces)
    if name == "mtcnn":
        if scales not in (None, "auto"):
            raise ConfigError(f"--detect-scales {scales!r} applies to yunet only: mtcnn searches "
                              "every scale of its image pyramid")
        return MTCNN(max_faces=max_faces)
    return WholeImage()
