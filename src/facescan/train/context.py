"""Faces in context: a tight-cropped chip pasted into a made-up surrounding.

UTKFace's chips are cropped tight (the detector's box covers ~87% of the chip), so a
``square:1.2`` crop of a chip shows the face framed by black padding, while the same crop in a
photo shows hair, shoulders, clothes and background. A model trained on chips alone loses much
of its accuracy on faces seen in a wider frame: the stacked model trained on chips alone, on the
`val` split, fell from 83.5% to 61.5% on race and from 94.0% to 87.9% on gender when its faces
were put in context this way. Training also on this view is the remedy.

The surrounding is random and generic, not any benchmark's scene: a background that is either a
heavily blurred, enlarged other photo or a smooth two-colour gradient, both with sensor-like
noise; below the face, most of the time, a torso of a random colour; the chip itself shrunk to
35-100% of its size (faces of 70-200 pixels). The detector then runs on the result, as it
would on a photo, and the crop is cut around what it finds.
"""

from __future__ import annotations

import cv2
import numpy as np

from ..detect import Detector

# seed of the in-context copy of each face, in every recipe that uses one
CONTEXT_SEED = 1


def _background(h: int, w: int, rng: np.random.Generator, other: np.ndarray) -> np.ndarray:
    if rng.random() < 0.5:
        blurred = cv2.GaussianBlur(cv2.resize(other, (48, 48), interpolation=cv2.INTER_AREA), (0, 0), 3)
        img = cv2.resize(blurred, (w, h), interpolation=cv2.INTER_CUBIC).astype(np.float32)
    else:
        a, b = rng.uniform(20, 235, 3), rng.uniform(20, 235, 3)
        t = np.linspace(0, 1, h if rng.random() < 0.5 else w, dtype=np.float32)
        t = t[:, None, None] if len(t) == h else t[None, :, None]
        img = np.broadcast_to(a + (b - a) * t, (h, w, 3)).astype(np.float32)
    return img + rng.normal(0, rng.uniform(2, 8), (h, w, 3)).astype(np.float32)


def _torso(img: np.ndarray, cx: float, top: float, side: int, rng: np.random.Generator) -> None:
    h, w = img.shape[:2]
    half_top, half_bottom = side * rng.uniform(0.4, 0.7), side * rng.uniform(0.6, 0.95)
    poly = np.array([[cx - half_top, top + 0.25 * side], [cx - 0.3 * side, top],
                     [cx + 0.3 * side, top], [cx + half_top, top + 0.25 * side],
                     [cx + half_bottom, h], [cx - half_bottom, h]], np.int32)
    mask = np.zeros((h, w), np.uint8)
    cv2.fillPoly(mask, [poly], 1)
    shade = 1.0 - rng.uniform(0, 0.3) * np.linspace(0, 1, h, dtype=np.float32)[:, None, None]
    colour = rng.uniform(0, 255, 3).astype(np.float32)
    img[mask > 0] = (colour * shade * np.ones_like(img))[mask > 0]


def in_context(chip: np.ndarray, other: np.ndarray, detector: Detector, rng: np.random.Generator
               ) -> tuple[np.ndarray, tuple, tuple | None] | None:
    """``chip`` pasted into a random surrounding (``other``: a photo to blur into a background).

    Returns (image, face box, landmarks) as the detector sees the face in it, or None when the
    detector misses it there."""
    side = round(chip.shape[1] * rng.uniform(0.35, 1.0))
    small = cv2.resize(chip, (side, side), interpolation=cv2.INTER_AREA)
    w, h = int(side * rng.uniform(1.8, 2.6)), int(side * rng.uniform(2.3, 2.9))
    x = int((w - side) / 2 + rng.uniform(-0.2, 0.2) * side)
    y = int(side * rng.uniform(0.25, 0.6))
    img = _background(h, w, rng, other)
    if rng.random() < 0.85:
        _torso(img, x + side / 2, y + side * rng.uniform(0.85, 0.95), side, rng)
    img[y:y + side, x:x + side] = small
    img = np.clip(img, 0, 255).astype(np.uint8)
    inside = [d for d in detector.detect(img)
              if x <= (d.bbox[0] + d.bbox[2]) / 2 <= x + side and y <= (d.bbox[1] + d.bbox[3]) / 2 <= y + side]
    if not inside:
        return None
    return img, inside[0].bbox, inside[0].landmarks
