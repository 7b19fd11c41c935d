"""What the store's operations return, and what one index batch writes."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from ..types import Face


@dataclass
class IndexSummary:
    """What one index run did. ``failures`` are (path, error) pairs of photos not indexed."""

    total: int = 0
    new: int = 0
    skipped: int = 0
    moved: int = 0
    failed: int = 0
    faces: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)

    @property
    def done(self) -> int:
        return self.new + self.skipped + self.moved + self.failed


@dataclass(frozen=True)
class Match:
    """One stored face found by a search; ``distance`` is the cosine distance (1 - cos)."""

    face_id: int
    distance: float
    path: str
    face_index: int
    bbox: tuple[float, float, float, float]
    person_id: int | None = None
    person_name: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    # True: closer than the model's clustering threshold (strict enough for a search among many
    # faces); None: between it and the 1:1 verification threshold ("possibly"), or no threshold
    # known for the model; False: beyond the verification threshold
    same_person: bool | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"face_id": self.face_id, "distance": round(self.distance, 4), "same_person": self.same_person,
                "path": self.path,
                "face_index": self.face_index, "bbox": [round(v, 1) for v in self.bbox],
                "person_id": self.person_id, "person_name": self.person_name, "attributes": self.attributes}


@dataclass(frozen=True)
class SearchResult:
    """The faces found in the query (empty for a vector query), which one was used, the matches."""

    matches: list[Match]
    query_faces: list[Face] = field(default_factory=list)
    used: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"query_faces": len(self.query_faces), "used_face": self.used,
                "query_bbox": None if self.used is None else [round(v, 1) for v in self.query_faces[self.used].bbox],
                "matches": [m.to_dict() for m in self.matches]}


@dataclass(frozen=True)
class ForgetSummary:
    photos: int
    faces: int


@dataclass(frozen=True)
class NewPhoto:
    """One analysed photo to write (:meth:`FaceStore.add_photos`): its bytes' sha256, path,
    size in bytes, pixel size, and its faces (with embeddings)."""

    sha256: str
    path: str
    size: int
    width: int | None
    height: int | None
    faces: list[Face]


def decode_json(value: Any) -> Any:
    """A JSON column's value (SQLite gives text, PostgreSQL the decoded object)."""
    return json.loads(value) if isinstance(value, (str, bytes)) else value
