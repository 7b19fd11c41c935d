"""Face stores: photos, their faces and embeddings, searchable by face, deletable for good.

>>> from facescan import open_store
>>> with open_store("faces.db") as store:                     # doctest: +SKIP
...     store.index(["photos/"])                              # new photos only
...     result = store.search("someone.jpg", k=10)            # nearest stored faces
...     store.forget(path="photos/2019")                      # really deleted

``open_store`` picks the backend from the address: ``postgresql://...`` (or ``postgres://``)
is a PostgreSQL database with pgvector (:mod:`.postgres`), anything else a SQLite file
(:mod:`.sqlite`, the default). Both keep one schema, described in :mod:`.base`.
"""

from __future__ import annotations

import os

from .base import FaceStore
from .records import ForgetSummary, IndexSummary, Match, NewPhoto, SearchResult

__all__ = ["FaceStore", "ForgetSummary", "IndexSummary", "Match", "NewPhoto", "SearchResult", "is_postgres",
           "open_store"]


def is_postgres(address: str | os.PathLike) -> bool:
    return isinstance(address, str) and address.startswith(("postgresql://", "postgres://"))


def open_store(address: str | os.PathLike, create: bool = True, timeout: float = 10.0) -> FaceStore:
    """Open (or, with ``create``, make) the store at ``address``: a SQLite file path or a
    ``postgresql://`` URL. ``timeout``: seconds to wait for a lock or a connection."""
    if is_postgres(address):
        from .postgres import PostgresStore

        return PostgresStore(str(address), create=create, timeout=timeout)
    from .sqlite import SQLiteStore

    return SQLiteStore(address, create=create, timeout=timeout)
