"""Face detectors. Each returns, per image, a list of :class:`Detection` in original pixels.

``yunet`` (the default): OpenCV Zoo's YuNet over one or more scales (:mod:`.yunet`).
``mtcnn``: MTCNN's three-stage cascade, run by onnxruntime (:mod:`.mtcnn`). ``none``: the whole
image is one face (for data sets of already cropped face chips). The names are registered in
:mod:`facescan.registry` (kind ``"detector"``): a new detector is one module and one registry line.
"""

from __future__ import annotations

import inspect

from .. import registry
from ..errors import ConfigError
from .base import MERGE_IOU, Detection, Detector, WholeImage, iou, merge, parse_scales, plausible
from .mtcnn import MTCNN
from .yunet import YuNet

__all__ = ["MERGE_IOU", "MTCNN", "Detection", "Detector", "WholeImage", "YuNet", "iou",
           "make_detector", "merge", "parse_scales", "plausible"]


def make_detector(name: str, scales: str | None = None, max_faces: int = 0) -> Detector:
    """The detector registered as ``name``. Its factory is given ``scales`` (see
    :func:`parse_scales`; YuNet) and ``max_faces`` (YuNet, MTCNN) where its signature names them."""
    factory = registry.entry("detector", name).load()
    if max_faces < 0:
        raise ConfigError(f"max_faces must be 0 (all) or more, got {max_faces}")
    taken = inspect.signature(factory).parameters
    return factory(**{k: v for k, v in (("scales", scales), ("max_faces", max_faces)) if k in taken})
