"""The SQLite store's vector index: an HNSW graph (usearch, vectors kept as float16) in a file
beside the store, ``FILE.db.vectors``, with its state in ``FILE.db.vectors.json``.

The SQLite file is the source of truth; this index is a cache of it. Its state records the
highest face id it holds and the store's deletion count when it was written: faces added to
the store since are added to the index before a search (and the file saved again); a deletion
it did not see, a missing, unreadable or mismatched file make it rebuild from the store. A
``forget`` rebuilds it at once without the forgotten faces (an HNSW graph only marks removed
vectors, their bytes would stay in the file) and replaces the file. The index proposes
candidates; their distances are computed exactly from the stored float32 embeddings.
"""

from __future__ import annotations

import json
import logging
import os
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import require

if TYPE_CHECKING:
    from .sqlite import SQLiteStore

log = logging.getLogger(__name__)

ENGINE = "usearch-hnsw-f16"  # chosen by benchmarks/ann_bench.py (BENCHMARKS.md, "Vector index")
CONNECTIVITY, EXPANSION_ADD, EXPANSION_SEARCH = 16, 128, 64
OVERFETCH = 2  # candidates asked from the graph per result wanted (they are re-ranked exactly)
CHUNK = 50_000  # rows read from SQLite at a time while (re)building


class VectorIndex:
    """The nearest-neighbour index of one SQLite store."""

    def __init__(self, path: str, store: SQLiteStore) -> None:
        self.path, self.state_path, self.store = path, path + ".json", store
        self.index: Any = None
        self.state: dict[str, Any] = {}

    # -- public -----------------------------------------------------------------------------
    def search(self, vector: np.ndarray, k: int) -> list[tuple[int, float]]:
        self.sync()
        if self.index is None or len(self.index) == 0:
            return []
        wanted = min(len(self.index), max(k * OVERFETCH, k + 10))
        found = self.index.search(vector.astype(np.float32), wanted)
        return self._rerank(vector, [int(key) for key in np.atleast_1d(found.keys)], k)

    def forget(self, face_ids: list[int]) -> None:
        """After faces were deleted from the store: rebuild without them, replace the file."""
        if face_ids or not os.path.exists(self.path):
            self.rebuild()

    def sync(self) -> None:
        """Bring the index up to date with the store (load, catch up, or rebuild)."""
        with self.store._snapshot():
            self._sync()

    def _sync(self) -> None:
        max_id, deletions, dim = self._store_state()
        if dim is None:
            return
        if self.index is None or self.state.get("deletions") != deletions or self.state.get("dim") != dim:
            if not self._load(deletions, dim):
                self._rebuild()
                return
        if self.state["max_id"] < max_id:
            added = self._add_rows("WHERE id > ?", (self.state["max_id"],))
            self.state["max_id"] = max_id
            log.info("vector index: %d new face(s) added", added)
            self._save()

    def rebuild(self) -> None:
        with self.store._snapshot():
            self._rebuild()

    def _rebuild(self) -> None:
        max_id, deletions, dim = self._store_state()
        self._remove_files()
        self.index, self.state = None, {}
        if dim is None:
            return
        self.index = self._new_index(dim)
        added = self._add_rows("", ())
        self.state = {"engine": ENGINE, "dim": dim, "max_id": max_id, "deletions": deletions}
        log.info("vector index: rebuilt with %d face(s)", added)
        self._save()

    # -- internals --------------------------------------------------------------------------
    def _store_state(self) -> tuple[int, int, int | None]:
        q = self.store._q
        max_id = q("SELECT coalesce(max(id), 0) FROM faces").fetchone()[0]
        deletions = int(self.store._meta("deletions") or 0)
        dim = self.store._meta("dim")
        return int(max_id), deletions, None if dim is None else int(dim)

    def _new_index(self, dim: int) -> Any:
        usearch = require("usearch.index", "store")
        return usearch.Index(ndim=dim, metric="ip", dtype="f16", connectivity=CONNECTIVITY,
                             expansion_add=EXPANSION_ADD, expansion_search=EXPANSION_SEARCH)

    def _add_rows(self, where: str, args: tuple) -> int:
        added = 0
        cursor = self.store._q(f"SELECT id, embedding FROM faces {where} ORDER BY id", args)
        while True:
            rows = cursor.fetchmany(CHUNK)
            if not rows:
                return added
            keys = np.array([r[0] for r in rows], np.uint64)
            vecs = np.frombuffer(b"".join(r[1] for r in rows), "<f4").reshape(len(rows), -1)
            self.index.add(keys, vecs, threads=os.cpu_count() or 1)
            added += len(rows)

    def _rerank(self, vector: np.ndarray, keys: list[int], k: int) -> list[tuple[int, float]]:
        if not keys:
            return []
        marks = ",".join("?" * len(keys))
        rows = self.store._q(f"SELECT id, embedding FROM faces WHERE id IN ({marks})", keys).fetchall()
        if not rows:
            return []
        vecs = np.frombuffer(b"".join(r[1] for r in rows), "<f4").reshape(len(rows), -1)
        dist = 1.0 - vecs @ vector
        order = np.argsort(dist, kind="stable")[:k]
        return [(int(rows[i][0]), float(dist[i])) for i in order]

    def _load(self, deletions: int, dim: int) -> bool:
        """Load the file if its state says it matches the store; False if it must be rebuilt."""
        try:
            with open(self.state_path) as f:
                state = json.load(f)
            st = os.stat(self.path)
        except (OSError, ValueError):
            return False
        if (state.get("engine") != ENGINE or state.get("dim") != dim or state.get("deletions") != deletions
                or state.get("size") != st.st_size or state.get("mtime_ns") != st.st_mtime_ns):
            log.info("vector index %s is stale: rebuilding it", self.path)
            return False
        index = self._new_index(dim)
        try:
            index.load(self.path)
        except Exception as exc:  # a damaged file: the store has everything to rebuild it
            log.warning("vector index %s unreadable (%s): rebuilding it", self.path, exc)
            return False
        self.index, self.state = index, state
        return True

    def _save(self) -> None:
        tmp = self.path + ".tmp"
        self.index.save(tmp)
        os.replace(tmp, self.path)
        st = os.stat(self.path)
        state = {**self.state, "size": st.st_size, "mtime_ns": st.st_mtime_ns}
        with open(self.state_path + ".tmp", "w") as f:
            json.dump(state, f)
        os.replace(self.state_path + ".tmp", self.state_path)
        self.state = state

    def _remove_files(self) -> None:
        for path in (self.state_path, self.path, self.path + ".tmp"):
            try:
                os.remove(path)
            except FileNotFoundError:
                pass
