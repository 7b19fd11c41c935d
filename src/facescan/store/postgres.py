"""The server store: PostgreSQL with pgvector, an HNSW index (cosine) on the embeddings.

Its tables live in their own PostgreSQL schema, ``facescan``, so they never mix with other
tables of the database. Needs ``pip install 'facescan[postgres]'`` (psycopg 3 + pgvector) and
a server where the ``vector`` extension exists or may be created.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from ..errors import StoreError, require
from .base import APP, SCHEMA_VERSION, FaceStore

SCHEMA = """
CREATE TABLE meta (key text PRIMARY KEY, value text NOT NULL);
CREATE TABLE photos (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, sha256 text NOT NULL UNIQUE,
    path text NOT NULL, size bigint NOT NULL, width integer, height integer, indexed_at text NOT NULL,
    embedding_model text NOT NULL);
CREATE INDEX photos_path ON photos (path);
CREATE TABLE persons (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text);
CREATE TABLE faces (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    photo_id bigint NOT NULL REFERENCES photos (id) ON DELETE CASCADE, face_index integer NOT NULL,
    bbox jsonb NOT NULL, score real NOT NULL, landmarks jsonb, attributes jsonb NOT NULL,
    embedding vector NOT NULL, person_id bigint REFERENCES persons (id) ON DELETE SET NULL);
CREATE INDEX faces_photo ON faces (photo_id);
CREATE INDEX faces_person ON faces (person_id);
CREATE TABLE failures (path text PRIMARY KEY, error text NOT NULL, at text NOT NULL)
"""
HNSW = "CREATE INDEX IF NOT EXISTS faces_embedding ON faces USING hnsw (embedding vector_cosine_ops)"
EF_SEARCH = 400  # HNSW candidates per query (pgvector's default 40 loses recall at 100k faces)


def redact(url: str) -> str:
    """The URL without its password, for messages."""
    return re.sub(r"(://[^:/@]*):[^@]*@", r"\1:***@", url)


class PostgresStore(FaceStore):
    """A store in a PostgreSQL database (``postgresql://user@host:port/db``)."""

    def __init__(self, url: str, create: bool = True, timeout: float = 10.0) -> None:
        psycopg = require("psycopg", "postgres")
        self._psycopg = psycopg
        self.name = redact(url)
        self._db: Any = None
        self._depth = 0
        self._deferred = False
        try:
            self._db = psycopg.connect(url, autocommit=True, connect_timeout=max(1, int(timeout)))
        except psycopg.Error as exc:
            reason = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
            raise StoreError(f"cannot connect to PostgreSQL at {self.name}: {reason}. Is the server running "
                             "and accepting connections there?") from None
        with self._guard():
            self._setup(create, timeout)

    def _setup(self, create: bool, timeout: float) -> None:
        self._db.execute(f"SET lock_timeout = '{int(timeout * 1000)}ms'")
        self._db.execute(f"SET hnsw.ef_search = {EF_SEARCH}")
        exists = self._db.execute("SELECT 1 FROM pg_namespace WHERE nspname = 'facescan'").fetchone()
        if exists is None and not create:
            raise StoreError(f"no facescan store in {self.name} (make one with: facescan index PHOTOS --db URL)")
        if exists is None:
            if not self._has_vector():
                try:
                    self._db.execute("CREATE EXTENSION IF NOT EXISTS vector")
                except self._psycopg.Error as exc:
                    raise StoreError(f"{self.name}: the pgvector extension is missing and cannot be created "
                                     f"({str(exc).strip()}); ask an administrator to run CREATE EXTENSION vector"
                                     ) from None
            with self._tx():
                self._db.execute("CREATE SCHEMA facescan")
                self._db.execute("SET LOCAL search_path TO facescan, public")
                for statement in SCHEMA.split(";"):
                    self._db.execute(statement)
                self._db.execute("INSERT INTO facescan.meta (key, value) VALUES (%s, %s), (%s, %s)",
                                 ("app", APP, "schema", SCHEMA_VERSION))
        self._db.execute("SET search_path TO facescan, public")
        register = require("pgvector.psycopg", "postgres").register_vector
        register(self._db)
        tables = {r[0] for r in self._db.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'facescan'")}
        app = self._meta("app") if "meta" in tables else None
        if app != APP:
            raise StoreError(f"{self.name} has a 'facescan' schema that is not a facescan store; refusing to touch it")
        version = self._meta("schema")
        if version != SCHEMA_VERSION:
            raise StoreError(f"{self.name} has store schema {version}; this facescan reads schema {SCHEMA_VERSION}")

    def _has_vector(self) -> bool:
        return self._db.execute("SELECT 1 FROM pg_extension WHERE extname = 'vector'").fetchone() is not None

    # -- primitives ---------------------------------------------------------------------------
    def _q(self, sql: str, args: Sequence[Any] = ()) -> Any:
        if self._db is None:
            raise StoreError(f"{self.name}: the store is closed")
        return self._db.execute(sql.replace("?", "%s"), tuple(args))

    @contextlib.contextmanager
    def _tx(self) -> Iterator[None]:
        if self._db is None:
            raise StoreError(f"{self.name}: the store is closed")
        if self._depth:  # nested: the outer transaction commits
            yield
            return
        self._depth += 1
        try:
            with self._db.transaction():
                yield
        finally:
            self._depth -= 1

    @contextlib.contextmanager
    def _guard(self) -> Iterator[None]:
        errors = self._psycopg.errors
        try:
            yield
        except (errors.LockNotAvailable, errors.DeadlockDetected) as exc:
            raise StoreError(f"{self.name} is locked by another session ({str(exc).strip()}); "
                             "try again when it has finished") from None
        except self._psycopg.OperationalError as exc:
            raise StoreError(f"lost the connection to PostgreSQL at {self.name}: {str(exc).strip()}") from None
        except self._psycopg.Error as exc:
            raise StoreError(f"{self.name}: PostgreSQL error: {str(exc).strip()}") from None

    def _init_dim(self, dim: int) -> None:
        with self._tx():
            self._q(f"ALTER TABLE faces ALTER COLUMN embedding TYPE vector({int(dim)})")
            if not self._deferred:
                self._q(HNSW)
            self._q("INSERT INTO meta (key, value) VALUES (?, ?)", ("dim", str(dim)))

    @contextlib.contextmanager
    def deferred_index(self, work_mem: str = "2GB") -> Iterator[None]:
        """A large import: the HNSW index is dropped, rows go in, and the index is built once at the
        end (pgvector builds a graph in bulk several times faster than it inserts row by row).
        Searches during the import scan every row; the index comes back even if the import fails."""
        with self._guard():
            self._q("DROP INDEX IF EXISTS faces_embedding")
        self._deferred = True
        try:
            yield
        finally:
            self._deferred = False
            if self.dim is not None:  # the column has its dimension: the index can be built
                with self._guard():
                    self._q(f"SET maintenance_work_mem = '{work_mem}'")
                    self._q(HNSW)
                    self._q("RESET maintenance_work_mem")

    def _encode_vector(self, vector: np.ndarray) -> np.ndarray:
        return np.asarray(vector, np.float32)

    def _decode_vector(self, value: Any) -> np.ndarray:
        return np.asarray(value.to_numpy() if hasattr(value, "to_numpy") else value, np.float32)

    def _nearest(self, vector: np.ndarray, k: int) -> list[tuple[int, float]]:
        rows = self._q("SELECT id, embedding <=> ? AS d FROM faces ORDER BY embedding <=> ? LIMIT ?",
                       (vector, vector, int(k))).fetchall()
        return [(int(i), float(d)) for i, d in rows]

    def _purge(self, face_ids: list[int]) -> None:
        # dead rows and their HNSW entries are removed; PostgreSQL does not zero freed space
        # (see the README: VACUUM FULL rewrites the files)
        self._db.execute("VACUUM facescan.faces")
        self._db.execute("VACUUM facescan.photos")

    def close(self) -> None:
        if self._db is not None:
            with contextlib.suppress(Exception):
                self._db.close()
            self._db = None
