"""People in a face store: clustering its faces by person, incrementally, and a summary of each.

New faces join the person whose mean embedding is nearest when closer than the threshold; the
rest are clustered among themselves into new people (:mod:`facescan.identity.cluster`). Faces
already assigned keep their person, so names given to people survive new photos and re-indexing.
``recluster=True`` clusters every face again; a named person then goes to the new cluster that
holds most of their former faces.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import StoreError
from ..identity.cluster import assign, centroids, cluster
from .records import decode_json

# cosine-distance threshold per embedding model, chosen on LFW-a (benchmarks/cluster_bench.py:
# Chinese whispers BCubed F1 0.983 at 0.50, 0.982 at 0.55, 0.922 at 0.60: the safe side)
THRESHOLDS = {"sface": 0.5}
DEFAULT_THRESHOLD = 0.5


@dataclass(frozen=True)
class Person:
    """One person of a store: their faces and photos, and what their faces' attributes say."""

    id: int
    name: str | None
    faces: int
    photos: list[str]
    summary: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "faces": self.faces, "photos": self.photos,
                "summary": self.summary}


def summarise(attributes: list[dict[str, Any]]) -> dict[str, Any]:
    """Majority gender, median age (years), and race and emotion by averaging probabilities."""
    out: dict[str, Any] = {}
    genders = [a["gender"]["label"] for a in attributes if isinstance(a.get("gender"), dict)]
    if genders:
        label, n = Counter(genders).most_common(1)[0]
        out["gender"] = {"label": label, "share": round(n / len(genders), 3)}
    years = [a["age"]["years"] for a in attributes if isinstance(a.get("age"), dict) and "years" in a["age"]]
    if years:
        out["age"] = {"median_years": round(float(np.median(years)), 1)}
    for key in ("race", "emotion"):
        probs = [a[key]["probs"] for a in attributes if isinstance(a.get(key), dict) and a[key].get("probs")]
        if probs:
            labels = list(probs[0])
            mean = np.mean([[p.get(k, 0.0) for k in labels] for p in probs], axis=0)
            out[key] = {"label": labels[int(mean.argmax())], "score": round(float(mean.max()), 3)}
    return out


def cluster_store(store: Any, threshold: float | None = None, method: str = "whispers",
                  recluster: bool = False) -> list[Person]:
    """Give every face of ``store`` a person (see the module docstring); returns the people,
    largest first."""
    model = store.model
    if threshold is None:
        threshold = THRESHOLDS.get(model or "", DEFAULT_THRESHOLD)
    ids, vecs = store.embeddings()
    current = store.face_persons()  # face id -> person id or None
    person = np.array([-1 if current.get(int(i)) is None else current[int(i)] for i in ids])
    if recluster:
        old, person = person.copy(), np.full(len(ids), -1)
    todo = np.flatnonzero(person < 0)
    if len(todo):
        known = person >= 0
        if known.any():
            pids, means = centroids(vecs[known], person[known])
            found = assign(vecs[todo], means, threshold)
            person[todo[found >= 0]] = pids[found[found >= 0]]
            todo = todo[found < 0]
        labels = cluster(vecs[todo], threshold, method) if len(todo) else np.zeros(0, int)
        keep = _named_clusters(old[todo], labels, store.persons()) if recluster else {}
        new_ids = {lab: keep.get(lab) or store.add_person() for lab in np.unique(labels)}
        person[todo] = [new_ids[lab] for lab in labels]
        changed = {int(f): int(p) for f, p in zip(ids, person) if current.get(int(f)) != int(p)}
        store.set_persons(changed)
        if recluster:
            store.drop_empty_persons()
    return people(store)


def _named_clusters(old: np.ndarray, labels: np.ndarray, names: dict[int, str | None]) -> dict[int, int]:
    """New cluster label -> the named person most of whose former faces it holds."""
    out: dict[int, int] = {}
    for pid, name in names.items():
        if name is None or not (old == pid).any():
            continue
        lab = Counter(labels[old == pid].tolist()).most_common(1)[0][0]
        out.setdefault(int(lab), pid)
    return out


def people(store: Any) -> list[Person]:
    """Every person of ``store`` with at least one face, largest first."""
    names = store.persons()
    faces: dict[int, list[tuple[str, dict]]] = {}
    for _, path, pid, attributes in store.face_rows():
        if pid is not None:
            faces.setdefault(pid, []).append((path, attributes))
    out = [Person(pid, names.get(pid), len(rows), sorted({p for p, _ in rows}), summarise([a for _, a in rows]))
           for pid, rows in faces.items()]
    return sorted(out, key=lambda p: (-p.faces, p.id))


class PeopleMixin:
    """The persons of a store (a part of :class:`facescan.store.FaceStore`): filled by clustering
    or by hand; they survive re-indexing."""

    def cluster(self, threshold: float | None = None, method: str = "whispers", recluster: bool = False) -> list:
        """Give every face a person (incrementally: see :mod:`facescan.store.people`); the people,
        largest first."""
        return cluster_store(self, threshold=threshold, method=method, recluster=recluster)

    def add_person(self, name: str | None = None) -> int:
        with self._guard(), self._tx():
            return int(self._q("INSERT INTO persons (name) VALUES (?) RETURNING id", (name,)).fetchone()[0])

    def name_person(self, person: int, name: str | None) -> None:
        with self._guard(), self._tx():
            if self._q("UPDATE persons SET name = ? WHERE id = ?", (name, person)).rowcount == 0:
                raise StoreError(f"{self.name}: no person with id {person}")

    def assign(self, face_ids: Sequence[int], person: int | None) -> None:
        """Set the person of the given faces (None: unassigned)."""
        self.set_persons({int(fid): person for fid in face_ids})

    def set_persons(self, persons: dict[int, int | None]) -> None:
        """Set the person of each face id (None: unassigned), in one transaction."""
        with self._guard(), self._tx():
            for fid, pid in persons.items():
                self._q("UPDATE faces SET person_id = ? WHERE id = ?", (pid, int(fid)))

    def drop_empty_persons(self) -> None:
        """Delete the unnamed persons no face belongs to."""
        with self._guard(), self._tx():
            self._q("DELETE FROM persons WHERE name IS NULL AND id NOT IN "
                    "(SELECT person_id FROM faces WHERE person_id IS NOT NULL)")

    def face_persons(self) -> dict[int, int | None]:
        """Face id -> its person's id (None: not assigned yet)."""
        with self._guard():
            return {int(i): None if p is None else int(p) for i, p in self._q("SELECT id, person_id FROM faces")}

    def face_rows(self) -> list[tuple[int, str, int | None, dict[str, Any]]]:
        """(face id, photo path, person id or None, attributes) of every face, in id order."""
        with self._guard():
            rows = self._q("SELECT f.id, p.path, f.person_id, f.attributes FROM faces f "
                           "JOIN photos p ON p.id = f.photo_id ORDER BY f.id").fetchall()
        return [(int(i), path, None if pid is None else int(pid), decode_json(a) or {}) for i, path, pid, a in rows]

    def persons(self) -> dict[int, str | None]:
        with self._guard():
            return {int(i): n for i, n in self._q("SELECT id, name FROM persons ORDER BY id")}

