"""Crop policies: how a face box (and its landmarks) becomes a model's square input.

A policy is named ``"<kind>:<scale>"``:

* ``square:S``  a square of side ``S * max(box width, box height)`` centred on the box;
* ``aligned:S`` the same square, rotated about the box centre so the eyes are level (falls back
  to ``square:S`` when a detector gives no landmarks).

Pixels outside the image are black. Each model declares its policy in its ModelSpec, and the
same policy is used when the project's models are trained, so training and use agree.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from .errors import ConfigError

Box = tuple[float, float, float, float]


def parse_policy(policy: str) -> tuple[str, float]:
    kind, _, scale = policy.partition(":")
    try:
        value = float(scale)
    except ValueError:
        value = -1.0
    if kind not in ("square", "aligned") or not 0.2 <= value <= 4.0:
        raise ConfigError(f"bad crop policy {policy!r}: expected 'square:S' or 'aligned:S' "
                          "with 0.2 <= S <= 4")
    return kind, value


def crop_face(image: np.ndarray, bbox: Box, landmarks: tuple[tuple[float, float], ...] | None,
              policy: str, size: int) -> np.ndarray:
    """Cut one face out of ``image`` as a ``size`` x ``size`` RGB uint8 array."""
    kind, scale = parse_policy(policy)
    x1, y1, x2, y2 = bbox
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    side = scale * max(x2 - x1, y2 - y1, 1.0)
    angle = 0.0
    if kind == "aligned" and landmarks is not None:
        (rx, ry), (lx, ly) = landmarks[0], landmarks[1]
        angle = math.degrees(math.atan2(ly - ry, lx - rx))
    # warp first to an intermediate size, then area-resize: avoids aliasing on big faces
    inter = int(min(max(round(side), size), 3 * size))
    m = cv2.getRotationMatrix2D((cx, cy), angle, inter / side)
    m[0, 2] += inter / 2 - cx
    m[1, 2] += inter / 2 - cy
    crop = cv2.warpAffine(image, m, (inter, inter), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0))
    if inter != size:
        crop = cv2.resize(crop, (size, size), interpolation=cv2.INTER_AREA)
    return crop
