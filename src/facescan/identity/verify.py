"""Are two faces the same person? Cosine distance of their embeddings against the embedder's
threshold, and a calibrated probability (a logistic fit of P(same | distance) on LFW-a).

Thresholds and fits come from ``facescan eval --dataset lfw:../shared/data/lfw`` (the numbers
of its metrics.json: ``threshold`` and ``calibration``), stored here per embedder with the
false-accept and false-reject rates measured on the same 1,800 pairs (in-sample; the
held-out View-2 accuracy is in BENCHMARKS.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import ConfigError, ImageError
from ..types import Face
from . import largest_face


@dataclass(frozen=True)
class Calibration:
    threshold: float  # cosine distance: the same person at or below it
    far: float  # false-accept rate at the threshold, on LFW-a View-2 (all pairs)
    frr: float  # false-reject rate, likewise
    a: float  # P(same | d) = 1 / (1 + exp(-(a + b d)))
    b: float


# per embedder, from `facescan eval --dataset lfw:../shared/data/lfw --model sface,dlib` (metrics.json)
CALIBRATIONS: dict[str, Calibration] = {
    "sface": Calibration(threshold=0.7078, far=0.0044, frr=0.0056, a=33.123, b=-47.363),
    "sface-fast": Calibration(threshold=0.6919, far=0.0022, frr=0.0144, a=30.791, b=-43.921),
    "dlib": Calibration(threshold=0.0895, far=0.0100, frr=0.0222, a=13.261, b=-140.918),
}


@dataclass(frozen=True)
class Verification:
    """The answer for one pair. ``face_a``/``face_b`` are the faces compared (with their
    embeddings), ``index_a``/``index_b`` their places among the faces found in each image
    (left to right), ``faces_a``/``faces_b`` how many faces each image held."""

    distance: float
    same: bool
    probability: float
    threshold: float
    model: str
    face_a: Face
    face_b: Face
    index_a: int
    index_b: int
    faces_a: int
    faces_b: int

    def to_dict(self) -> dict[str, Any]:
        def side(face: Face, index: int, count: int) -> dict[str, Any]:
            return {"face": index, "faces": count, "bbox": [round(v, 1) for v in face.bbox],
                    "score": round(face.score, 4)}

        cal = CALIBRATIONS.get(self.model)
        return {"same": self.same, "probability": round(self.probability, 4),
                "distance": round(self.distance, 4), "threshold": round(self.threshold, 4),
                "false_accept_rate_at_threshold": None if cal is None else cal.far, "model": self.model,
                "a": side(self.face_a, self.index_a, self.faces_a),
                "b": side(self.face_b, self.index_b, self.faces_b)}


def pick_face(faces: list[Face], index: int | None, name: str) -> int:
    """The face to use: ``index`` (0-based, left to right) or the largest; ImageError if the
    image has no face or fewer than ``index + 1``."""
    if not faces:
        raise ImageError(f"{name}: no face found")
    if index is None:
        return largest_face(faces)
    if not 0 <= index < len(faces):
        raise ImageError(f"{name}: face {index} asked for, but {len(faces)} face(s) found "
                         f"(numbered 0 to {len(faces) - 1}, left to right)")
    return index


def compare(face_a: Face, face_b: Face) -> tuple[float, Calibration]:
    """Cosine distance of two embedded faces of one model, and that model's calibration."""
    if face_a.embedding is None or face_b.embedding is None:
        raise ConfigError("both faces need an embedding (Analyzer(embed=...) or facescan.embed)")
    if face_a.embedding_model != face_b.embedding_model:
        raise ConfigError(f"embeddings of different models cannot be compared: "
                          f"{face_a.embedding_model!r} and {face_b.embedding_model!r}")
    cal = CALIBRATIONS.get(face_a.embedding_model or "")
    if cal is None:
        raise ConfigError(f"no verification threshold for model {face_a.embedding_model!r}")
    distance = float(1.0 - np.dot(face_a.embedding, face_b.embedding))
    return distance, cal


def verify_faces(faces_a: list[Face], faces_b: list[Face], face_a: int | None = None, face_b: int | None = None,
                 names: tuple[str, str] = ("image A", "image B")) -> Verification:
    """:class:`Verification` of two images' embedded faces (see :func:`pick_face`)."""
    ia, ib = pick_face(faces_a, face_a, names[0]), pick_face(faces_b, face_b, names[1])
    distance, cal = compare(faces_a[ia], faces_b[ib])
    p = 1 / (1 + np.exp(-np.clip(cal.a + cal.b * distance, -30, 30)))
    return Verification(distance, distance <= cal.threshold, float(p), cal.threshold,
                        faces_a[ia].embedding_model or "", faces_a[ia], faces_b[ib], ia, ib,
                        len(faces_a), len(faces_b))
