"""People in a face store: clustering its faces by person, incrementally, and a summary of each.

New faces join the person whose mean embedding is nearest when closer than the threshold; the
rest are clustered among themselves into new people (:mod:`facescan.identity.cluster`). Faces
already assigned keep their person, so names given to people survive new photos and re-indexing.
``recluster=True`` clusters every face again; a named person then goes to the new cluster that
holds most of their former faces.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..identity.cluster import assign, centroids, cluster

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
    names = store.persons()
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
        keep = _named_clusters(old[todo], labels, names) if recluster else {}
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
