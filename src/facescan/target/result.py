"""The result of finding a described person, shared by every backend, and its JSON form.

Statuses (``TargetResult.status``), never hidden behind a best guess:

========================  ======================================================================
``match``                 one person fits clearly better than the others: ``match`` is set
``ambiguous``             several fit about as well: ``match`` is the best, ``tied`` the others
``no_match``              the best candidate clearly fails part of the description: no ``match``
``no_faces``              the detector found nobody
``not_understood``        no word of the description was understood
``contradictory``         the description cannot hold for one person (``contradictions`` says why)
``invalid_answer``        (VLM backends) the answer failed validation: ``error`` says why, ``raw``
                          keeps it
========================  ======================================================================
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..types import Face
from .parse import Query

STATUSES = ("match", "ambiguous", "no_match", "no_faces", "not_understood", "contradictory",
            "invalid_answer")


@dataclass(frozen=True)
class Candidate:
    """One detected person, ranked. ``index`` is the face's place in the left-to-right list
    (0-based; the number drawn on the image is ``index + 1``); ``constraints`` holds, per parsed
    constraint, its score in [0, 1] for this person."""

    index: int
    bbox: tuple[float, float, float, float]
    score: float
    constraints: tuple[dict[str, Any], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"index": self.index, "number": self.index + 1, "bbox": [round(v, 1) for v in self.bbox],
                "score": round(self.score, 4), "constraints": list(self.constraints)}


@dataclass(frozen=True)
class TargetResult:
    description: str
    backend: str
    status: str
    message: str
    match: Candidate | None = None
    candidates: tuple[Candidate, ...] = ()
    tied: tuple[int, ...] = ()
    query: Query | None = None
    person: dict[str, Any] | None = None
    error: str | None = None
    raw: Any = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        best = self.match or (self.candidates[0] if self.candidates else None)
        out: dict[str, Any] = {
            "description": self.description, "backend": self.backend, "status": self.status,
            "message": self.message,
            "match": None if self.match is None else {k: v for k, v in self.match.to_dict().items()
                                                      if k != "constraints"},
            "tied": [i for i in self.tied],
            "constraints": list(best.constraints) if best else
            ([c.to_dict() for c in self.query.constraints] if self.query else []),
            "not_understood": list(self.query.not_understood) if self.query else [],
            "unsupported": list(self.query.unsupported) if self.query else [],
            "contradictions": list(self.query.contradictions) if self.query else [],
            "person": self.person,
            "candidates": [c.to_dict() for c in self.candidates],
        }
        if self.error is not None:
            out["error"] = self.error
        if self.raw is not None:
            out["raw"] = self.raw
        out.update(self.extra)
        return out


def attributes_of(face: Face) -> dict[str, Any]:
    """Race, gender, age and emotion of a face as in the analyze records."""
    return {k: p.to_dict() for k, p in face.attributes.items()}
