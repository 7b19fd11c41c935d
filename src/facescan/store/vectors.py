"""The SQLite store's vector index: an HNSW graph (FAISS ``IndexHNSWFlat``, M=32, inner product
on the L2-normalised embeddings) in a file beside the store, ``FILE.db.vectors``, with its
state in ``FILE.db.vectors.json``.

The SQLite file is the source of truth; this index is a cache of it. Its state records the
highest face id it holds and the store's deletion count when it was written: faces added to
the store since are added to the index before a search (and the file saved again); a deletion
it did not see, a missing, unreadable or mismatched file make it rebuild from the store. A
``forget`` deletes the file (an HNSW graph only marks removed vectors, their bytes would stay
in it): the next search rebuilds it without the forgotten faces. The index proposes
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
    from .base import FaceStore

log = logging.getLogger(__name__)

ENGINE = "faiss-hnsw-flat-32"  # chosen by benchmarks/ann_bench.py (BENCHMARKS.md, "Vector index")
# efSearch 1024: at 1M faces, queries whose person has few faces in the store (their 10 nearest
# are strangers at similar distances) need it for recall@10 >= 0.95; ~5 ms (BENCHMARKS.md)
M, EF_CONSTRUCTION, EF_SEARCH = 32, 80, 1024
CHUNK = 50_000  # rows read from SQLite at a time while (re)building


class VectorIndex:
    """The nearest-neighbour index of one store (the SQLite store keeps one), read through the
    store's public API: :meth:`~facescan.store.FaceStore.snapshot`,
    :meth:`~facescan.store.FaceStore.iter_embeddings`, :meth:`~facescan.store.FaceStore.embeddings`,
    ``max_face_id``, ``face_count``, ``deletions`` and ``dim``."""

    def __init__(self, path: str, store: FaceStore) -> None:
        self.path, self.state_path, self.store = path, path + ".json", store
        self.index: Any = None
        self.state: dict[str, Any] = {}

    # -- public -----------------------------------------------------------------------------
    def search(self, vector: np.ndarray, k: int) -> list[tuple[int, float]]:
        self.sync()
        if self.index is None or self.index.ntotal == 0:
            return []
        self._hnsw().efSearch = max(EF_SEARCH, k)
        _, keys = self.index.search(vector.astype(np.float32)[None], min(k, self.index.ntotal))
        return self._rerank(vector, [int(key) for key in keys[0] if key >= 0], k)

    def forget(self, face_ids: list[int]) -> None:
        """After faces were deleted from the store: delete the index file and drop the index
        held in memory (an HNSW graph cannot drop a vector's bytes); the next search rebuilds it
        from the store, without them."""
        if face_ids:
            self._remove_files()
            self.index, self.state = None, {}

    def sync(self) -> None:
        """Bring the index up to date with the store (load, catch up, or rebuild)."""
        with self.store.snapshot():
            self._sync()

    def _sync(self) -> None:
        max_id, deletions, dim = self._store_state()
        if dim is None:
            return
        current = self.index is not None and self.state.get("deletions") == deletions and self.state.get("dim") == dim
        if not current and not self._load(deletions, dim):
            self._rebuild()
            return
        if self.state["max_id"] < max_id:
            added = self._add_rows(self.state["max_id"])
            self.state["max_id"] = max_id
            log.info("vector index: %d new face(s) added", added)
            self._save()

    def rebuild(self) -> None:
        with self.store.snapshot():
            self._rebuild()

    def _rebuild(self) -> None:
        max_id, deletions, dim = self._store_state()
        self._remove_files()
        self.index, self.state = None, {}
        if dim is None:
            return
        self.index = self._new_index(dim)
        added = self._add_rows(0)
        self.state = {"engine": ENGINE, "dim": dim, "max_id": max_id, "deletions": deletions}
        log.info("vector index: rebuilt with %d face(s)", added)
        self._save()

    # -- internals --------------------------------------------------------------------------
    def _store_state(self) -> tuple[int, int, int | None]:
        """The store's highest face id, deletion count and vector size (None: no faces yet)."""
        return self.store.max_face_id(), self.store.deletions, self.store.dim

    def _new_index(self, dim: int) -> Any:
        faiss = require("faiss", "store")
        hnsw = faiss.IndexHNSWFlat(dim, M, faiss.METRIC_INNER_PRODUCT)
        hnsw.hnsw.efConstruction = EF_CONSTRUCTION
        return faiss.IndexIDMap2(hnsw)  # keeps a Python reference to hnsw

    def _hnsw(self) -> Any:
        import faiss

        return faiss.downcast_index(self.index.index).hnsw

    def _add_rows(self, after_id: int) -> int:
        """Add the store's faces whose id is above ``after_id``; returns how many."""
        added = 0
        for keys, vecs in self.store.iter_embeddings(after_id, CHUNK):
            self.index.add_with_ids(np.ascontiguousarray(vecs, np.float32), keys)
            added += len(keys)
        return added

    def _rerank(self, vector: np.ndarray, keys: list[int], k: int) -> list[tuple[int, float]]:
        """The ``k`` nearest of the candidates ``keys``, by their exact distance to ``vector``."""
        if not keys:
            return []
        ids, vecs = self.store.embeddings(keys)
        if not len(ids):
            return []
        dist = 1.0 - vecs @ vector
        order = np.argsort(dist, kind="stable")[:k]
        return [(int(ids[i]), float(dist[i])) for i in order]

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
        faiss = require("faiss", "store")
        try:
            index = faiss.read_index(self.path)
        except Exception as exc:  # noqa: BLE001  (a damaged file: the store has everything to rebuild it)
            log.warning("vector index %s unreadable (%s): rebuilding it", self.path, exc)
            return False
        if index.d != dim or index.ntotal > self.store.face_count():
            log.warning("vector index %s does not match the store: rebuilding it", self.path)
            return False
        self.index, self.state = index, state
        return True

    def _save(self) -> None:
        import faiss

        tmp = self.path + ".tmp"
        faiss.write_index(self.index, tmp)
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
