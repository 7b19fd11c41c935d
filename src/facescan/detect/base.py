"""What every detector returns and shares: :class:`Detection`, box overlap, the plausibility
check and the merging of boxes from several passes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from ..errors import ConfigError


@dataclass(frozen=True)
class Detection:
    """A face box (``x1, y1, x2, y2``), its score, 5 landmarks or None, and ``source``: which
    detector and pass found it (``"yunet"``: YuNet's base pass, ``"yunet/coarse"``,
    ``"yunet/fine"``, ``"yunet/x2"``: its other passes; ``"mtcnn"``; ``"none"``: no detection)."""

    bbox: tuple[float, float, float, float]
    score: float
    landmarks: tuple[tuple[float, float], ...] | None
    source: str = ""


class Detector(Protocol):
    name: str

    def detect(self, image: np.ndarray) -> list[Detection]: ...


class WholeImage:
    """No detection: the whole image is one face with score 1 (for aligned face chips)."""

    name = "none"

    def detect(self, image: np.ndarray) -> list[Detection]:
        h, w = image.shape[:2]
        return [Detection((0.0, 0.0, float(w), float(h)), 1.0, None, self.name)]


MERGE_IOU = 0.4


def iou(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    """Intersection over union of two (x1, y1, x2, y2) boxes."""
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    inter = max(0.0, w) * max(0.0, h)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def plausible(d: Detection) -> bool:
    """A box shaped like a face, with its eyes and nose inside it and the eyes apart: drops
    boxes that merged scales or a detector's false alarms make (a hand, a pattern)."""
    x1, y1, x2, y2 = d.bbox
    w, h = x2 - x1, y2 - y1
    if w <= 0 or h <= 0 or not 0.4 <= w / h <= 1.6:
        return False
    if d.landmarks is None:
        return True
    (rx, ry), (lx, ly), (nx, ny) = d.landmarks[:3]
    inside = all(x1 - 0.15 * w <= x <= x2 + 0.15 * w and y1 - 0.15 * h <= y <= y2 + 0.15 * h
                 for x, y in ((rx, ry), (lx, ly), (nx, ny)))
    return inside and ((lx - rx) ** 2 + (ly - ry) ** 2) ** 0.5 >= 0.08 * w


def merge(found: list[Detection], max_faces: int = 0) -> list[Detection]:
    """One box per face over all passes (greedy non-maximum suppression by score), implausible
    boxes dropped; the ``max_faces`` best when that is set (0: all). A kept box keeps its
    ``source`` (the pass that found it with the best score)."""
    kept: list[Detection] = []
    for d in sorted(found, key=lambda d: -d.score):
        if plausible(d) and all(iou(d.bbox, k.bbox) < MERGE_IOU for k in kept):
            kept.append(d)
    return kept[:max_faces] if max_faces > 0 else kept


def parse_scales(value: str | None) -> tuple[float, ...] | None:
    """``"auto"``/None -> None (automatic), ``"1,2"`` -> (1.0, 2.0): extra passes at these
    multiples of the base scale (0.25-4)."""
    if value is None or value == "auto":
        return None
    try:
        scales = tuple(float(v) for v in value.split(",") if v.strip())
    except ValueError:
        scales = ()
    if not scales or any(not 0.25 <= s <= 4 for s in scales):
        raise ConfigError(f"--detect-scales {value!r}: use 'auto' or numbers from 0.25 to 4, e.g. '1,2'")
    return scales
