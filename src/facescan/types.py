"""The result types. Conventions, stated once:

* images are RGB ``uint8`` arrays of shape (height, width, 3);
* ``bbox`` is ``(x1, y1, x2, y2)`` in pixels of the original image (EXIF-rotated);
* ``landmarks`` are 5 points ``(x, y)``: right eye, left eye, nose tip, right and left mouth
  corner, as seen from the person (the first point is on the viewer's left);
* ``found_by`` names what found a face: the detector and pass (``"yunet"``, ``"yunet/fine"``,
  ``"mtcnn"``, ...), or ``"whole-image"`` for the whole image taken as the face when the detector
  found none (``if_no_face="whole"``, score 0);
* an identity ``embedding`` is a float32 vector of unit L2 norm; ``embedding_model`` names the
  embedder that made it (embeddings of different models cannot be compared);
* every attribute is a :class:`Prediction` over a declared label set, with probabilities
  summing to 1 in the label set's order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Prediction:
    """One attribute of one face: the top label, its probability and the whole distribution.

    For ``age``, ``label`` is the FairFace 9-group, ``years`` the estimated age and ``group5``
    the paper's 5-group. ``label`` is ``"uncertain"`` when the caller asked to abstain below a
    confidence and the top probability was lower.

    Vision-language backends also keep the model's ``raw`` answer and the ``prompt_version``
    it answered; an answer that maps onto no label of the set has ``unparsed=True``, label
    ``"unparsed"``, score 0 and empty ``probs`` (never a guessed label). Free-text answers
    carry no probabilities: their ``probs`` are empty and their score is 1.
    """

    label: str
    score: float
    probs: dict[str, float]
    years: float | None = None
    group5: str | None = None
    raw: str | None = None
    unparsed: bool = False
    prompt_version: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"label": self.label}
        if self.years is not None:
            out["years"] = round(self.years, 3)  # 3 decimals: whole years round alike from here and from the raw value
        if self.group5 is not None:
            out["group5"] = self.group5
        out["score"] = round(self.score, 4)
        out["probs"] = {k: round(v, 4) for k, v in self.probs.items()}
        if self.raw is not None:
            out["raw"] = self.raw
        if self.unparsed:
            out["unparsed"] = True
        if self.prompt_version is not None:
            out["prompt_version"] = self.prompt_version
        return out


@dataclass(frozen=True)
class Face:
    """One detected face, its attributes and (when asked for) its identity embedding;
    ``found_by``: which detector and pass found it (None when not recorded)."""

    bbox: tuple[float, float, float, float]
    score: float
    landmarks: tuple[tuple[float, float], ...] | None = None
    attributes: dict[str, Prediction] = field(default_factory=dict)
    embedding: np.ndarray | None = field(default=None, compare=False, repr=False)
    embedding_model: str | None = None
    found_by: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out = {
            "bbox": [round(v, 1) for v in self.bbox],
            "score": round(self.score, 4),
            "found_by": self.found_by,
            "landmarks": None if self.landmarks is None
            else [[round(x, 1), round(y, 1)] for x, y in self.landmarks],
            "attributes": {k: p.to_dict() for k, p in self.attributes.items()},
        }
        if self.embedding is not None:
            out["embedding"] = [round(float(v), 6) for v in self.embedding]
        if self.embedding_model is not None:
            out["embedding_model"] = self.embedding_model
        return out


@dataclass(frozen=True)
class ImageResult:
    """What one input became: its faces, or the error that stopped it (then ``faces`` is empty)."""

    path: str
    faces: list[Face] = field(default_factory=list)
    error: str | None = None
    width: int | None = None
    height: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "width": self.width, "height": self.height,
                "faces": [f.to_dict() for f in self.faces], "error": self.error}
