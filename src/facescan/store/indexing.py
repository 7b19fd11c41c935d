"""Indexing photos into a face store: read, hash, skip the known, analyse the new, and write
each batch in one transaction (:class:`facescan.store.FaceStore` inherits these methods)."""

from __future__ import annotations

import datetime
import hashlib
import json
import os
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from ..errors import StoreError
from .records import IndexSummary, NewPhoto

Progress = Callable[[IndexSummary], None]


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")


class IndexMixin:
    """index / index_images and the write path; the backend primitives come from FaceStore."""

    def index(self, paths: Iterable[str | os.PathLike], *, model: str | None = None, analyzer: Any = None,
              batch_size: int = 16, progress: Progress | None = None) -> IndexSummary:
        """Index image files and folders (recursively): new photos are analysed (faces,
        attributes, embeddings) and stored; known ones (same bytes) are skipped or, if moved,
        get their new path. Unreadable photos are recorded in ``failures`` and the run goes on."""
        from ..io import iter_image_paths

        model, analyzer = self._model_and_analyzer(model, analyzer)
        files = [os.path.abspath(p) for p in iter_image_paths(paths)]
        summary, seen = IndexSummary(total=len(files)), set()
        with self._guard():
            self._set_meta_once("embedding_model", model)
            for start in range(0, len(files), max(1, batch_size)):
                self._index_batch(files[start:start + batch_size], model, analyzer, summary, seen)
                if progress is not None:
                    progress(summary)
        return summary

    def index_images(self, photos: Sequence[tuple[str, bytes] | tuple[str, bytes, Any]], *,
                     model: str | None = None, analyzer: Any = None) -> IndexSummary:
        """Index photos held in memory, as (name, encoded bytes) pairs (e.g. uploads), or (name,
        bytes, decoded RGB array) when the caller has decoded them already (the array is analysed,
        the bytes hashed): as :meth:`index`, with ``name`` recorded as the photo's path. Nothing
        is written but the store."""
        model, analyzer = self._model_and_analyzer(model, analyzer)
        summary = IndexSummary(total=len(photos))
        with self._guard():
            self._set_meta_once("embedding_model", model)
            read = [(p[0], bytes(p[1]), p[2] if len(p) > 2 else bytes(p[1])) for p in photos]
            self._index_read(read, [], model, analyzer, summary, set())
        return summary

    def _model_and_analyzer(self, model: str | None, analyzer: Any) -> tuple[str, Any]:
        model = self.resolve_model(model or getattr(getattr(analyzer, "embedder", None), "name", None))
        if analyzer is None:
            from ..pipeline import Analyzer

            analyzer = Analyzer(embed=model)
        return model, analyzer

    def _index_batch(self, files: list[str], model: str, analyzer: Any, summary: IndexSummary,
                     seen: set[str]) -> None:
        read, failures = [], []
        for path in files:
            try:
                with open(path, "rb") as f:
                    data = f.read()
            except OSError as exc:
                failures.append((path, f"cannot read: {exc.strerror or exc}"))
                continue
            read.append((path, data, data))
        self._index_read(read, failures, model, analyzer, summary, seen)

    def _index_read(self, photos: list[tuple[str, bytes, Any]], failures: list[tuple[str, str]], model: str,
                    analyzer: Any, summary: IndexSummary, seen: set[str]) -> None:
        """One batch of photos read into memory, analysed here: (path, bytes, what the analyzer
        reads: the same bytes, or the image already decoded) each."""
        source = {path: src for path, _, src in photos}
        found = [(path, len(b), hashlib.sha256(b).hexdigest()) for path, b, _ in photos]

        def analyze(new: list[tuple[str, int, str]]) -> Iterable[Any]:
            return analyzer.analyze_many([source[path] for path, _, _ in new], batch_size=len(new))

        self._index_found(found, failures, model, analyze, summary, seen)

    # -- the write path, public for engines that read and analyse photos elsewhere ----------------
    def prepare_model(self, model: str, dim: int) -> None:
        """Record the store's embedding model (unless it has one) and vector size before writers
        start, so that writers running at once need not race to set them; StoreError if the
        store holds vectors of another size."""
        with self._guard():
            self._set_meta_once("embedding_model", model)
            with self._tx():
                self._check_dim({int(dim)})

    def index_found(self, found: Sequence[tuple[str, int, str]], model: str,
                    analyze: Callable[[list[tuple[str, int, str]]], Iterable[Any]], *,
                    failures: Sequence[tuple[str, str]] = (), summary: IndexSummary | None = None,
                    seen: set[str] | None = None) -> IndexSummary:
        """Index one batch of photos read and hashed elsewhere, ``found`` holding (path, size,
        sha256) of each, as :meth:`index` does: known photos are skipped (or, moved, get their new
        path), the new ones are handed to ``analyze`` (-> one :class:`facescan.ImageResult` each,
        in order) and written in one transaction with ``failures`` ((path, error) pairs of photos
        that could not be read). ``summary`` (updated and returned; a new one by default) and
        ``seen`` (the sha256 of the run so far, updated) carry a run across its batches. Engines
        that analyse elsewhere (:mod:`facescan.batch`, :mod:`facescan.engines.ray`) write here."""
        summary = IndexSummary() if summary is None else summary
        seen = set() if seen is None else seen
        failures = list(failures)
        with self._guard():
            self._index_found(found, failures, model, analyze, summary, seen)
        return summary

    def add_photos(self, records: Sequence[NewPhoto], model: str) -> list[NewPhoto]:
        """Write photos analysed elsewhere (their faces with ``model`` embeddings) in one
        transaction, without the checks of :meth:`index_found` (known paths, moves): a bulk
        load. Returns the photos stored; those whose bytes are stored already are left out."""
        with self._guard():
            return self._write(list(records), model)

    def _index_found(self, found: Sequence[tuple[str, int, str]], failures: list[tuple[str, str]], model: str,
                     analyze: Callable[[list[tuple[str, int, str]]], Iterable[Any]], summary: IndexSummary,
                     seen: set[str]) -> None:
        """:meth:`index_found` inside the store's error guard (``failures`` is appended to)."""
        known = self._lookup([sha for _, _, sha in found])
        new, moved = [], []
        for path, size, sha in found:
            if sha in seen:  # the same bytes twice in this run
                summary.skipped += 1
            elif sha in known:
                photo_id, old = known[sha]
                if old != path and not os.path.exists(old):
                    moved.append((photo_id, path))
                else:
                    summary.skipped += 1
            else:
                new.append((path, size, sha))
            seen.add(sha)
        records = []
        if new:
            for (path, size, sha), res in zip(new, analyze(new)):
                if res.error is not None:
                    failures.append((path, res.error.replace("<bytes>", path, 1)))
                    continue
                faces = [f for f in res.faces if f.embedding is not None]
                wrong = {f.embedding_model for f in faces} - {model}
                if wrong:
                    raise StoreError(f"the analyzer gave {', '.join(map(str, wrong))} embeddings, "
                                     f"the store holds {model}")
                records.append(NewPhoto(sha, path, size, res.width, res.height, faces))
        stored = self._write(records, model, moved, failures)
        summary.new += len(stored)
        summary.skipped += len(records) - len(stored)  # stored meanwhile by another process
        summary.moved += len(moved)
        summary.failed += len(failures)
        summary.failures += failures
        summary.faces += sum(len(r.faces) for r in stored)

    def _write(self, records: list[NewPhoto], model: str, moved: Sequence[tuple[int, str]] = (),
               failures: Sequence[tuple[str, str]] = ()) -> list[NewPhoto]:
        """One transaction: new photos and their faces, moved paths, failures recorded. Returns
        the photos stored (those another process stored first are left out)."""
        self._set_meta_once("embedding_model", model)
        dims = {f.embedding.shape[0] for r in records for f in r.faces}
        if dims:
            self._check_dim(dims)
        with self._tx():
            now = _now()
            stored = [rec for rec in records if self._insert_photo(rec, model, now)]
            for rec in records:
                self._q("DELETE FROM failures WHERE path = ?", (rec.path,))
            for photo_id, path in moved:
                self._q("UPDATE photos SET path = ? WHERE id = ?", (path, photo_id))
            for path, error in failures:
                self._q("DELETE FROM failures WHERE path = ?", (path,))
                self._q("INSERT INTO failures (path, error, at) VALUES (?, ?, ?)", (path, error, now))
        return stored

    def _check_dim(self, dims: set[int]) -> None:
        stored = self._meta("dim")
        if len(dims) > 1 or (stored is not None and int(stored) not in dims):
            raise StoreError(f"{self.name} holds {stored}-d embeddings; got {sorted(dims)}-d ones")
        if stored is None:
            self._init_dim(dims.pop())

    def _insert_photo(self, rec: NewPhoto, model: str, now: str) -> bool:
        """Insert one photo and its faces; False if a photo with the same bytes is already there."""
        row = self._q("INSERT INTO photos (sha256, path, size, width, height, indexed_at, embedding_model) "
                      "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (sha256) DO NOTHING RETURNING id",
                      (rec.sha256, rec.path, rec.size, rec.width, rec.height, now, model)).fetchone()
        if row is None:
            return False
        for i, face in enumerate(rec.faces):
            landmarks = None if face.landmarks is None else [[round(x, 2), round(y, 2)] for x, y in face.landmarks]
            self._q("INSERT INTO faces (photo_id, face_index, bbox, score, landmarks, attributes, embedding) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (row[0], i, json.dumps([round(v, 2) for v in face.bbox]), float(face.score),
                     None if landmarks is None else json.dumps(landmarks),
                     json.dumps({k: p.to_dict() for k, p in face.attributes.items()}),
                     self._encode_vector(face.embedding)))
        return True
