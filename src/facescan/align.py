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


# Where the 5 landmarks go in a 112x112 identity crop: the ArcFace (insightface) template, which
# OpenCV Zoo's SFace also uses (right eye, left eye, nose tip, right and left mouth corner)
ARCFACE_112 = np.array([[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366],
                        [41.5493, 92.3655], [70.7299, 92.2041]], np.float32)
# the 5 landmarks' mean place inside a YuNet box, as fractions of its width and height (measured
# on 232 LFW-a faces, made left-right symmetric): a guess for faces found without landmarks
BOX_LANDMARKS = np.array([[0.268, 0.369], [0.732, 0.369], [0.5, 0.557], [0.305, 0.722], [0.695, 0.722]],
                         np.float32)


def similarity_transform(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """The 2x3 similarity (rotation, uniform scale, shift) taking points ``src`` closest to
    ``dst`` in least squares (Umeyama's closed form; no reflection)."""
    src, dst = np.asarray(src, np.float64), np.asarray(dst, np.float64)
    mu_s, mu_d = src.mean(0), dst.mean(0)
    a, b = src - mu_s, dst - mu_d
    u, s, vt = np.linalg.svd(b.T @ a / len(src))
    d = np.array([1.0, np.sign(np.linalg.det(u @ vt)) or 1.0])
    rotation = u @ np.diag(d) @ vt
    scale = float((s * d).sum() / max(a.var(0).sum(), 1e-12))
    shift = mu_d - scale * rotation @ mu_s
    return np.hstack([scale * rotation, shift[:, None]])


def five_points(bbox: Box, landmarks: tuple[tuple[float, float], ...] | None) -> np.ndarray:
    """A face's 5 landmarks as a (5, 2) array, guessed from its box (:data:`BOX_LANDMARKS`)
    when the detector gave none."""
    if landmarks is not None:
        return np.asarray(landmarks, np.float32)
    x1, y1, x2, y2 = bbox
    return np.array([x1, y1], np.float32) + BOX_LANDMARKS * np.array([x2 - x1, y2 - y1], np.float32)


def align_face(image: np.ndarray, bbox: Box, landmarks: tuple[tuple[float, float], ...] | None,
               size: int = 112, template: np.ndarray = ARCFACE_112) -> np.ndarray:
    """The face warped so its 5 landmarks land on ``template`` (given for a 112-pixel crop and
    scaled to ``size``): a ``size`` x ``size`` RGB uint8 array, black outside the image."""
    m = similarity_transform(five_points(bbox, landmarks), template * (size / 112.0))
    scale = float(np.hypot(m[0, 0], m[0, 1]))
    if scale < 0.5:  # a big face: area-average first (bilinear sampling alone would alias)
        h, w = image.shape[:2]
        small = cv2.resize(image, (max(1, round(w * 2 * scale)), max(1, round(h * 2 * scale))),
                           interpolation=cv2.INTER_AREA)
        f = np.array([small.shape[1] / w, small.shape[0] / h])
        m[:, 2] += m[:, :2] @ (0.5 / f - 0.5)  # pixel centres: old = (new + 0.5) / f - 0.5
        m[:, :2] /= f
        image = small
    return cv2.warpAffine(image, m, (size, size), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0))
