"""What every face store does, whatever holds it: one schema, and index / search / forget.

The schema (the same tables in SQLite and PostgreSQL)::

    meta      key, value            'app' = 'facescan-store', 'schema', 'embedding_model', 'dim'
    photos    id, sha256 (unique), path, size, width, height, indexed_at, embedding_model
    faces     id, photo_id -> photos (cascade), face_index, bbox, score, landmarks, attributes
              (JSON), embedding (float32 x dim, L2-normalised), person_id -> persons
    persons   id, name          (kept when photos are indexed again; set by clustering or by hand)
    failures  path, error, at   (photos that could not be read; retried by the next index run)

A photo is known by the sha256 of its bytes: indexing it again is a no-op, and a photo found
at a new path while its old path is gone has moved (its path is updated). Every batch of photos
is written in one transaction, so an interrupted run (even ``kill -9``) keeps the batches it
finished and the next run does the rest. A store holds embeddings of one model only.

The public methods (here, in :class:`.indexing.IndexMixin` and :class:`.people.PeopleMixin`)
are what other modules use: engines that analyse elsewhere write through
:meth:`~.indexing.IndexMixin.index_found` and :meth:`~.indexing.IndexMixin.add_photos`, an index
kept beside the store reads it through :meth:`FaceStore.iter_embeddings`,
:meth:`FaceStore.embeddings`, :meth:`FaceStore.snapshot`, :meth:`FaceStore.max_face_id`,
:meth:`FaceStore.face_count` and :attr:`FaceStore.deletions`. Backends implement the
primitives at the bottom (``_tx``, ``_q``, ``_guard``, ``_nearest``, ...) and share the SQL in
between, written with ``?`` placeholders; nothing outside ``facescan.store`` calls them.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Sequence
from typing import Any, Self

import numpy as np

from ..errors import ImageError, StoreError
from ..identity import largest_face
from ..types import Face
from .indexing import IndexMixin
from .people import PeopleMixin
from .records import ForgetSummary, Match, SearchResult, decode_json

APP, SCHEMA_VERSION = "facescan-store", "1"


class FaceStore(IndexMixin, PeopleMixin):
    """A collection of faces and their embeddings. Open one with :func:`facescan.open_store`;
    use it as a context manager (or call :meth:`close`)."""

    name: str  # where the store lives, for messages (no password)

    # -- public API ---------------------------------------------------------------------------
    @property
    def model(self) -> str | None:
        """The embedding model of the store's faces (None while it is empty)."""
        with self._guard():
            return self._meta("embedding_model")

    @property
    def dim(self) -> int | None:
        with self._guard():
            value = self._meta("dim")
        return None if value is None else int(value)

    def search(self, query: Any, k: int = 10, face: int | None = None, analyzer: Any = None) -> SearchResult:
        """The ``k`` stored faces nearest to the query: an image (path, bytes, array; its largest
        face unless ``face``, 0-based, says which), a :class:`Face` with an embedding, or a vector."""
        if k < 1:
            raise StoreError(f"k must be at least 1, got {k}")
        with self._guard():
            model, dim = self._meta("embedding_model"), self._meta("dim")
            if model is None or dim is None:
                raise StoreError(f"{self.name} holds no faces yet: index photos first (facescan index)")
            vector, faces, used = self._query_vector(query, face, model, int(dim), analyzer)
            hits = self._nearest(vector, k)
            return SearchResult(self._describe(hits, model), faces, used)

    def forget(self, path: str | os.PathLike | None = None, person: int | None = None) -> ForgetSummary:
        """Delete for good the photos at ``path`` (a file, or every photo under a folder) or every
        face of ``person`` (and the person's name; the photos stay known, so indexing them again
        does not bring the faces back). The deleted embeddings are overwritten on disk."""
        if (path is None) == (person is None):
            raise StoreError("forget needs exactly one of path or person")
        with self._guard():
            photos = gone = 0
            with self._tx():
                if path is not None:
                    # files are stored by absolute path; uploads (upload/NAME) and URLs as given
                    where, args = [], []
                    for target in dict.fromkeys([os.path.abspath(path), os.fspath(path).rstrip("/")]):
                        prefix = target.rstrip("/") + "/"
                        where.append("path = ? OR substr(path, 1, ?) = ?")
                        args += [target, len(prefix), prefix]
                    where = " OR ".join(where)
                    ids = [int(r[0]) for r in self._q(f"SELECT id FROM faces WHERE photo_id IN "
                                                      f"(SELECT id FROM photos WHERE {where})", args)]
                    photos = self._q(f"DELETE FROM photos WHERE {where}", args).rowcount
                    self._q(f"DELETE FROM failures WHERE {where}", args)
                else:
                    ids = [int(r[0]) for r in self._q("SELECT id FROM faces WHERE person_id = ?", (person,))]
                    self._q("DELETE FROM faces WHERE person_id = ?", (person,))
                    gone = self._q("DELETE FROM persons WHERE id = ?", (person,)).rowcount
                if ids:
                    self._count_deletion()
            if person is not None and not ids and not gone:
                raise StoreError(f"{self.name}: no person with id {person}")
            if ids or photos or gone:
                self._purge(ids)
            return ForgetSummary(photos, len(ids))

    def embeddings(self, ids: Sequence[int] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(face ids, embeddings (n, dim) float32) of every stored face, or of the faces ``ids``
        that exist, in id order."""
        if ids is None:
            chunks = list(self.iter_embeddings())
        else:
            with self._guard():
                marks = ",".join("?" * len(ids))
                rows = self._q(f"SELECT id, embedding FROM faces WHERE id IN ({marks}) ORDER BY id",
                               [int(i) for i in ids]).fetchall() if len(ids) else []
                chunks = [self._arrays(rows)] if rows else []
        if not chunks:
            return np.zeros(0, np.int64), np.zeros((0, self.dim or 0), np.float32)
        return np.concatenate([c[0] for c in chunks]), np.concatenate([c[1] for c in chunks])

    def iter_embeddings(self, after_id: int = 0, chunk: int = 50_000) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """(face ids, embeddings (n, dim) float32) of the stored faces whose id is above
        ``after_id``, in id order, ``chunk`` faces at a time (memory stays flat on a large store;
        what an index kept beside the store is built from)."""
        with self._guard():
            cursor = self._q("SELECT id, embedding FROM faces WHERE id > ? ORDER BY id", (int(after_id),))
            while rows := cursor.fetchmany(chunk):
                yield self._arrays(rows)

    def face_count(self) -> int:
        """How many faces the store holds."""
        with self._guard():
            return int(self._q("SELECT count(*) FROM faces").fetchone()[0])

    def max_face_id(self) -> int:
        """The highest face id given so far (0 for a store without faces): faces added later
        have higher ids."""
        with self._guard():
            return int(self._q("SELECT coalesce(max(id), 0) FROM faces").fetchone()[0])

    @property
    def deletions(self) -> int:
        """How many times faces were deleted (by :meth:`forget`): an index kept beside the store
        that saw fewer is stale."""
        with self._guard():
            return int(self._meta("deletions") or 0)

    def snapshot(self) -> contextlib.AbstractContextManager:
        """A read transaction: every read inside sees the same state of the store, whatever other
        processes commit meanwhile (SQLite). Backends whose reads need none give a no-op."""
        return contextlib.nullcontext()

    def photo_hashes(self) -> list[str]:
        """The sha256 of every stored photo (what an engine skips before analysing)."""
        with self._guard():
            return [r[0] for r in self._q("SELECT sha256 FROM photos")]

    def stats(self) -> dict[str, Any]:
        with self._guard():
            count = {t: int(self._q(f"SELECT count(*) FROM {t}").fetchone()[0])
                     for t in ("photos", "faces", "persons", "failures")}
            return {"store": self.name, "embedding_model": self._meta("embedding_model"), **count}

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- shared logic ---------------------------------------------------------------------------
    def resolve_model(self, model: str | None) -> str:
        """The embedding model to use with this store: ``model`` if it agrees with the store's,
        the store's if None (the default embedder for an empty store); StoreError otherwise."""
        with self._guard():
            stored = self._meta("embedding_model")
        if model is None and stored is not None:
            return stored
        if model is not None and stored is not None and model != stored:
            raise StoreError(f"{self.name} holds {stored} embeddings; {model} embeddings cannot be mixed "
                             f"with them (use --model {stored}, or a new store for {model})")
        from ..identity import check_embedder

        return check_embedder(model)

    def _query_vector(self, query: Any, face: int | None, model: str, dim: int,
                      analyzer: Any) -> tuple[np.ndarray, list[Face], int | None]:
        faces: list[Face] = []
        used = None
        if isinstance(query, Face):
            chosen = query
        elif isinstance(query, np.ndarray) and query.ndim == 1:
            chosen = None
            vector = query
        else:
            if analyzer is None:
                from ..pipeline import Analyzer

                analyzer = Analyzer(attributes=(), embed=model)
            from ..io import load_image

            faces = analyzer.analyze(load_image(query))
            name = os.fspath(query) if isinstance(query, (str, os.PathLike)) else "the query image"
            if not faces:
                raise ImageError(f"{name}: no face found to search for")
            if face is not None and not 0 <= face < len(faces):
                raise ImageError(f"{name}: has {len(faces)} face(s); face {face} (0-based) does not exist")
            used = largest_face(faces) if face is None else face
            chosen = faces[used]
        if chosen is not None:
            if chosen.embedding is None:
                raise StoreError("the query face has no embedding (analyse it with embed=True)")
            if chosen.embedding_model is not None and chosen.embedding_model != model:
                raise StoreError(f"the query was embedded with {chosen.embedding_model}, the store {self.name} "
                                 f"holds {model} embeddings: embed the query with {model}")
            vector = chosen.embedding
        vector = np.asarray(vector, np.float32).ravel()
        if vector.shape[0] != dim:
            raise StoreError(f"the query is {vector.shape[0]}-d, {self.name} holds {dim}-d {model} embeddings")
        return vector / max(float(np.linalg.norm(vector)), 1e-12), faces, used

    def _describe(self, hits: list[tuple[int, float]], model: str) -> list[Match]:
        from ..identity.verify import CALIBRATIONS
        from .people import THRESHOLDS

        if not hits:
            return []
        cal, strict = CALIBRATIONS.get(model), THRESHOLDS.get(model)

        def same(d: float) -> bool | None:  # 1:N search: sure below the clustering threshold
            if cal is None or strict is None:
                return None
            return True if d <= strict else False if d > cal.threshold else None

        marks = ",".join("?" * len(hits))
        rows = {int(r[0]): r[1:] for r in self._q(
            "SELECT f.id, p.path, f.face_index, f.bbox, f.person_id, s.name, f.attributes FROM faces f "
            "JOIN photos p ON p.id = f.photo_id LEFT JOIN persons s ON s.id = f.person_id "
            f"WHERE f.id IN ({marks})", [int(i) for i, _ in hits])}
        return [Match(int(i), float(d), row[0], int(row[1]), tuple(decode_json(row[2])), row[3], row[4],
                      decode_json(row[5]), same(d))
                for i, d in hits if (row := rows.get(int(i))) is not None]

    def _meta(self, key: str) -> str | None:
        row = self._q("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else row[0]

    def _count_deletion(self) -> None:
        """Deletions are counted in ``meta``, so an index kept beside the store can tell it is stale."""
        count = int(self._meta("deletions") or 0) + 1
        self._q("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                ("deletions", str(count)))

    def _set_meta_once(self, key: str, value: str) -> None:
        if self._meta(key) is None:
            with self._tx():
                self._q("INSERT INTO meta (key, value) VALUES (?, ?)", (key, value))

    # -- backend primitives -----------------------------------------------------------------------
    def _q(self, sql: str, args: Sequence[Any] = ()) -> Any:
        """Run one statement (``?`` placeholders) in the current transaction; return the cursor."""
        raise NotImplementedError

    def _tx(self) -> contextlib.AbstractContextManager:
        """A write transaction: committed on success, rolled back on any exception."""
        raise NotImplementedError

    def _guard(self) -> contextlib.AbstractContextManager:
        """Turn the driver's errors into :class:`StoreError` messages naming the store."""
        raise NotImplementedError

    def _lookup(self, shas: list[str]) -> dict[str, tuple[int, str]]:
        """sha256 -> (photo id, path) of the photos among ``shas`` already stored (one query)."""
        if not shas:
            return {}
        marks = ",".join("?" * len(shas))
        rows = self._q(f"SELECT sha256, id, path FROM photos WHERE sha256 IN ({marks})", list(shas))
        return {sha: (int(i), path) for sha, i, path in rows}

    def _init_dim(self, dim: int) -> None:
        with self._tx():
            self._q("INSERT INTO meta (key, value) VALUES (?, ?)", ("dim", str(dim)))

    def _encode_vector(self, vector: np.ndarray) -> Any:
        raise NotImplementedError

    def _decode_vector(self, value: Any) -> np.ndarray:
        raise NotImplementedError

    def _decode_vectors(self, values: Sequence[Any]) -> np.ndarray:
        """Several stored vectors (at least one) as one (n, dim) float32 array."""
        return np.stack([self._decode_vector(v) for v in values])

    def _arrays(self, rows: Sequence[tuple[Any, Any]]) -> tuple[np.ndarray, np.ndarray]:
        """(id, stored vector) rows -> (ids int64, vectors (n, dim) float32)."""
        return np.array([r[0] for r in rows], np.int64), self._decode_vectors([r[1] for r in rows])

    def _purge(self, face_ids: list[int]) -> None:
        """After a committed delete of these faces: make their bytes unrecoverable from the
        store's files (and from any index kept beside)."""

    def _nearest(self, vector: np.ndarray, k: int) -> list[tuple[int, float]]:
        raise NotImplementedError

