"""The default store: one SQLite file (WAL), the source of truth, and a vector index file
beside it (``FILE.vectors``, see :mod:`facescan.store.vectors`) rebuilt from it when missing
or stale. Deleted rows are overwritten (``secure_delete``) and the WAL is truncated after a
delete, so a forgotten embedding is gone from both files."""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from ..errors import StoreError
from .base import APP, SCHEMA_VERSION, FaceStore

SQLITE_MAGIC = b"SQLite format 3\x00"
SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE photos (id INTEGER PRIMARY KEY AUTOINCREMENT, sha256 TEXT NOT NULL UNIQUE, path TEXT NOT NULL,
    size INTEGER NOT NULL, width INTEGER, height INTEGER, indexed_at TEXT NOT NULL,
    embedding_model TEXT NOT NULL);
CREATE INDEX photos_path ON photos (path);
CREATE TABLE persons (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT);
CREATE TABLE faces (id INTEGER PRIMARY KEY AUTOINCREMENT,
    photo_id INTEGER NOT NULL REFERENCES photos (id) ON DELETE CASCADE, face_index INTEGER NOT NULL,
    bbox TEXT NOT NULL, score REAL NOT NULL, landmarks TEXT, attributes TEXT NOT NULL,
    embedding BLOB NOT NULL, person_id INTEGER REFERENCES persons (id) ON DELETE SET NULL);
CREATE INDEX faces_photo ON faces (photo_id);
CREATE INDEX faces_person ON faces (person_id);
CREATE TABLE failures (path TEXT PRIMARY KEY, error TEXT NOT NULL, at TEXT NOT NULL);
"""


class SQLiteStore(FaceStore):
    """A store in one SQLite file. ``timeout``: seconds to wait for another writer's lock."""

    def __init__(self, path: str | os.PathLike, create: bool = True, timeout: float = 10.0) -> None:
        self.path = os.path.abspath(path)
        self.name = self.path
        self.timeout = timeout
        self._db: sqlite3.Connection | None = None
        self._vectors: Any = None
        self._check_file(create)
        with self._guard():
            self._db = sqlite3.connect(self.path, timeout=timeout, isolation_level=None,
                                       check_same_thread=False)
            self._db.execute("PRAGMA foreign_keys = ON")
            self._db.execute("PRAGMA secure_delete = ON")
            self._check_tables()  # before anything that writes: another app's database stays untouched
            if self._db.execute("PRAGMA journal_mode = WAL").fetchone()[0].lower() != "wal":
                raise StoreError(f"{self.path}: cannot switch the SQLite file to WAL mode")
            self._db.execute("PRAGMA synchronous = FULL")
            self._init_schema()

    def _check_file(self, create: bool) -> None:
        if os.path.isdir(self.path):
            raise StoreError(f"{self.path} is a folder, not a facescan store (give a file name, e.g. faces.db)")
        if not os.path.exists(self.path):
            if not create:
                raise StoreError(f"no store at {self.path} (make one with: facescan index PHOTOS --db {self.path})")
            if not os.path.isdir(os.path.dirname(self.path)):
                raise StoreError(f"cannot create {self.path}: the folder {os.path.dirname(self.path)} does not exist")
            return
        try:
            with open(self.path, "rb") as f:
                head = f.read(16)
        except OSError as exc:
            raise StoreError(f"cannot read {self.path}: {exc.strerror or exc}") from None
        if head and head != SQLITE_MAGIC:
            raise StoreError(f"{self.path} is not a facescan store (not an SQLite database); "
                             "refusing to touch it")

    def _check_tables(self) -> None:
        tables = {r[0] for r in self._q("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if not tables:
            return
        app = self._q("SELECT value FROM meta WHERE key = 'app'").fetchone() if "meta" in tables else None
        if app is None or app[0] != APP:
            raise StoreError(f"{self.path} is an SQLite database but not a facescan store "
                             f"(tables: {', '.join(sorted(tables)[:6])}); refusing to touch it")
        version = self._meta("schema")
        if version != SCHEMA_VERSION:
            raise StoreError(f"{self.path} has store schema {version}; this facescan reads schema {SCHEMA_VERSION}")

    def _init_schema(self) -> None:
        if self._q("SELECT count(*) FROM sqlite_master").fetchone()[0]:
            return
        with self._tx():  # under the write lock: two processes creating one store make it once
            if self._q("SELECT count(*) FROM sqlite_master").fetchone()[0]:
                return
            for statement in SCHEMA.split(";"):
                if statement.strip():
                    self._q(statement)
            self._q("INSERT INTO meta (key, value) VALUES (?, ?), (?, ?)", ("app", APP, "schema", SCHEMA_VERSION))

    # -- primitives ---------------------------------------------------------------------------
    def _q(self, sql: str, args: Sequence[Any] = ()) -> sqlite3.Cursor:
        if self._db is None:
            raise StoreError(f"{self.path}: the store is closed")
        return self._db.execute(sql, tuple(args))

    @contextlib.contextmanager
    def _tx(self) -> Iterator[None]:
        if self._db is None:
            raise StoreError(f"{self.path}: the store is closed")
        if self._db.in_transaction:  # nested: the outer transaction commits
            yield
            return
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[None]:
        """A read transaction: every query inside sees the same state of the file (inside a
        write transaction, that one)."""
        if self._db is None or self._db.in_transaction:
            yield
            return
        self._db.execute("BEGIN")
        try:
            yield
        finally:
            self._db.execute("COMMIT")

    @contextlib.contextmanager
    def _guard(self) -> Iterator[None]:
        try:
            yield
        except sqlite3.OperationalError as exc:
            text = str(exc)
            if "locked" in text or "busy" in text:
                raise StoreError(f"{self.path} is locked by another process (another facescan index?); "
                                 f"waited {self.timeout:g} s. Try again when it has finished") from None
            if "readonly" in text or "unable to open" in text:
                raise StoreError(f"cannot write {self.path}: {text}") from None
            raise StoreError(f"{self.path}: SQLite error: {text}") from None
        except sqlite3.IntegrityError as exc:
            raise StoreError(f"{self.path}: SQLite refused a write ({exc})") from None
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path} is corrupt or not a facescan store ({exc}); nothing was changed. "
                             "Restore it from a backup, or index into a new file") from None

    def _encode_vector(self, vector: np.ndarray) -> bytes:
        return np.asarray(vector, "<f4").tobytes()

    def _decode_vector(self, value: bytes) -> np.ndarray:
        return np.frombuffer(value, "<f4")

    def _decode_vectors(self, values: Sequence[bytes]) -> np.ndarray:
        # one copy of the bytes (a writable bytearray) instead of one array per row
        return np.frombuffer(bytearray().join(values), "<f4").reshape(len(values), -1)

    def _vector_index(self):
        from .vectors import VectorIndex

        if self._vectors is None:
            self._vectors = VectorIndex(self.path + ".vectors", self)
        return self._vectors

    def _nearest(self, vector: np.ndarray, k: int) -> list[tuple[int, float]]:
        return self._vector_index().search(vector, k)

    def _purge(self, face_ids: list[int]) -> None:
        self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        self._vector_index().forget(face_ids)

    def close(self) -> None:
        if self._db is not None:
            with contextlib.suppress(sqlite3.Error):
                self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            self._db.close()
            self._db = None
