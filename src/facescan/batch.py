"""Analysis of batches of encoded images: the unit of work a scale-out engine runs in each worker.

A batch is a mapping of two columns, ``path`` (names, for the records) and ``bytes`` (the
encoded files), which is what Ray Data's ``read_binary_files`` hands out; a plain loop can make
one as well. :class:`BatchAnalyzer` loads one :class:`~facescan.pipeline.Analyzer` in its
constructor and runs every batch through :meth:`Analyzer.analyze_many`, the code the local
pipeline runs (there is no second implementation of the analysis). An input that cannot be
read becomes a result with its error, never an exception, so one bad image never fails a job.

Nothing here imports an engine: :mod:`facescan.engines.ray` wraps these classes.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .errors import ConfigError, StoreError, require
from .output import FLAT_COLUMNS, flat_rows
from .types import ImageResult

log = logging.getLogger(__name__)

SHA_COLUMN = "sha256"  # added to the flat rows: the content hash of the row's input


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def digest_set(hashes: Sequence[str]) -> np.ndarray:
    """Hex sha256 strings as a sorted array of raw 32-byte digests: compact, and shared
    without copies by the workers of one machine (an engine's object store)."""
    return np.sort(np.array([bytes.fromhex(h) for h in hashes], dtype="S32"))


def in_digest_set(digests: np.ndarray, sha: str) -> bool:
    raw = np.array(bytes.fromhex(sha), dtype="S32")
    i = int(np.searchsorted(digests, raw))
    return i < len(digests) and digests[i] == raw


def _column(batch: Mapping[str, Any], name: str) -> list[Any]:
    if name not in batch:
        raise KeyError(f"a batch needs the columns 'path' and 'bytes'; got {sorted(batch)}")
    return list(batch[name])


@dataclasses.dataclass(frozen=True)
class Item:
    """One input of a batch and what became of it; ``result`` is None for a skipped input."""

    path: str
    sha256: str
    size: int
    result: ImageResult | None
    latency_ms: float = 0.0  # the wall time of the input's batch, divided by its size


class BatchAnalyzer:
    """One loaded Analyzer for many batches of ``{"path": [...], "bytes": [...]}``.

    ``analyzer_options`` are :class:`~facescan.pipeline.Analyzer`'s keyword arguments.
    ``skip`` (from :func:`digest_set`) names inputs by content not to analyse (their item's
    result is None): the photos a store already holds. Calling the object gives the flat
    rows of :func:`facescan.output.flat_rows` (one per face, the CSV/Parquet schema) with a
    ``sha256`` column added.
    """

    def __init__(self, analyzer_options: Mapping[str, Any] | None = None, batch_size: int = 16,
                 skip: np.ndarray | None = None) -> None:
        from .pipeline import Analyzer

        self.analyzer = Analyzer(**dict(analyzer_options or {}))
        self.batch_size = max(1, batch_size)
        self.skip = skip

    def items(self, batch: Mapping[str, Any]) -> list[Item]:
        paths = [str(p) for p in _column(batch, "path")]
        datas = [bytes(d) for d in _column(batch, "bytes")]
        shas = [sha256(d) for d in datas]
        todo = [i for i, sha in enumerate(shas) if self.skip is None or not in_digest_set(self.skip, sha)]
        start = time.perf_counter()
        results = self._analyze([datas[i] for i in todo])
        each = (time.perf_counter() - start) * 1000 / max(1, len(todo))
        done = {i: self._named(res, paths[i], datas[i]) for i, res in zip(todo, results)}
        return [Item(p, sha, len(d), done.get(i), round(each, 3) if i in done else 0.0)
                for i, (p, sha, d) in enumerate(zip(paths, shas, datas))]

    def __call__(self, batch: Mapping[str, Any]) -> dict[str, list[Any]]:
        columns: dict[str, list[Any]] = {c: [] for c in (*FLAT_COLUMNS, SHA_COLUMN)}
        for item in self.items(batch):
            if item.result is None:
                continue
            for row in flat_rows(item.result):
                for c in FLAT_COLUMNS:
                    columns[c].append(row[c])
                columns[SHA_COLUMN].append(item.sha256)
        return columns

    def _analyze(self, datas: list[bytes]) -> list[ImageResult]:
        try:
            return list(self.analyzer.analyze_many(datas, batch_size=self.batch_size))
        except Exception:  # not an unreadable image (those are results): redo them one by one
            log.warning("a batch of %d images failed; analysing them one at a time", len(datas), exc_info=True)
            return [self._one(d) for d in datas]

    def _one(self, data: bytes) -> ImageResult:
        try:
            return next(iter(self.analyzer.analyze_many([data], batch_size=1)))
        except Exception as exc:  # noqa: BLE001  (this image breaks the analysis: it becomes an error row)
            return ImageResult("<bytes>", [], f"<bytes>: analysis failed: {type(exc).__name__}: {exc}")

    @staticmethod
    def _named(result: ImageResult, path: str, data: bytes) -> ImageResult:
        """The result under its input's name, with the message reading the file would give."""
        error = result.error
        if error is not None:
            error = f"{path}: empty file (0 bytes)" if not data else error.replace("<bytes>", path, 1)
        return dataclasses.replace(result, path=path, error=error)


def expand_urls(paths: Sequence[str]) -> list[str]:
    """Local paths as they are; a URL (``s3://bucket/photos/``, ``file:///...``) naming a folder is
    listed, recursively, through pyarrow's filesystem into the URLs of its image files."""
    from .io import IMAGE_EXTENSIONS

    out: list[str] = []
    for path in paths:
        if "://" not in path:
            out.append(path)
            continue
        pafs = require("pyarrow.fs", "parquet")
        scheme = path.split("://", 1)[0]
        try:
            fs, root = pafs.FileSystem.from_uri(path)
            info = fs.get_file_info(root)
            if info.type != pafs.FileType.Directory:
                out.append(path)
                continue
            found = fs.get_file_info(pafs.FileSelector(root, recursive=True))
        except (OSError, ValueError) as exc:
            raise ConfigError(f"{path}: cannot list it ({exc})") from None
        out += sorted(f"{scheme}://{f.path}" for f in found
                      if f.type == pafs.FileType.File and os.path.splitext(f.path)[1].lower() in IMAGE_EXTENSIONS)
    return out


def split_readable(paths: Sequence[str]) -> tuple[list[str], list[ImageResult]]:
    """(readable inputs, error results of the others): local paths an engine cannot read as binary
    files (missing, a folder, empty) get the message :func:`facescan.io.load_image` gives; URLs
    are left to the engine."""
    from .errors import ImageError
    from .io import load_image

    readable, missing = [], []
    for path in paths:
        if "://" in path or (os.path.isfile(path) and os.path.getsize(path) > 0 and os.access(path, os.R_OK)):
            readable.append(path)
            continue
        try:
            load_image(path)
            error = f"{path}: cannot be read"
        except ImageError as exc:
            error = str(exc)
        except OSError as exc:
            error = f"{path}: cannot read: {exc.strerror or exc}"
        missing.append(ImageResult(path, [], error))
    return readable, missing


class StoreIndexer:
    """Indexes batches straight into a PostgreSQL store (many of these may write at once): the
    store's own write path (:meth:`FaceStore.index_found`: skip known photos by sha256, record
    moves and failures, one transaction per batch). Calling it gives one row: the batch's counts.
    ``prefix`` is put before each batch path (``s3://``: engines hand out URLs without their scheme)."""

    def __init__(self, address: str, model: str, analyzer_options: Mapping[str, Any] | None = None,
                 batch_size: int = 16, timeout: float = 10.0, prefix: str = "") -> None:
        from .pipeline import Analyzer
        from .store import is_postgres, open_store

        if not is_postgres(address):
            raise StoreError(f"{address}: only a PostgreSQL store takes parallel writers; a SQLite store "
                             "is written by one process (the driver)")
        self.store = open_store(address, create=False, timeout=timeout)
        self.model = model
        self.analyzer = Analyzer(**{**dict(analyzer_options or {}), "embed": model})
        self.batch_size = max(1, batch_size)
        self.seen: set[str] = set()
        self.prefix = prefix

    def __call__(self, batch: Mapping[str, Any]) -> dict[str, list[Any]]:
        paths = [self.prefix + str(p) for p in _column(batch, "path")]
        datas = {p: bytes(d) for p, d in zip(paths, _column(batch, "bytes"))}
        found = [(p, len(d), sha256(d)) for p, d in datas.items()]

        def analyze(new: list[tuple[str, int, str]]) -> list[ImageResult]:
            results = self.analyzer.analyze_many([datas[p] for p, _, _ in new], batch_size=self.batch_size)
            return [BatchAnalyzer._named(r, p, datas[p]) for (p, _, _), r in zip(new, results)]

        summary = self.store.index_found(found, self.model, analyze, seen=self.seen)
        return {"photos": [len(found)], "new": [summary.new], "skipped": [summary.skipped],
                "moved": [summary.moved], "failed": [summary.failed], "faces": [summary.faces],
                "failures": [json.dumps(summary.failures)]}

    def __del__(self) -> None:
        store = getattr(self, "store", None)
        if store is not None:
            store.close()
