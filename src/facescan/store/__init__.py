"""Face stores: photos, their faces and embeddings, searchable by face, deletable for good.

>>> from facescan import open_store
>>> with open_store("faces.db") as store:                     # doctest: +SKIP
...     store.index(["photos/"])                              # new photos only
...     result = store.search("someone.jpg", k=10)            # nearest stored faces
...     store.forget(path="photos/2019")                      # really deleted

``open_store`` picks the backend from the address's scheme, registered in :mod:`facescan.registry`
(kind ``"store"``): ``postgresql://...`` (or ``postgres://``) is a PostgreSQL database with pgvector
(:mod:`.postgres`), an address without a scheme a SQLite file (:mod:`.sqlite`, the default). Both
keep one schema, described in :mod:`.base`.
"""

from __future__ import annotations

import os

from .. import registry
from .base import FaceStore
from .records import ForgetSummary, IndexSummary, Match, NewPhoto, SearchResult

__all__ = ["FaceStore", "ForgetSummary", "IndexSummary", "Match", "NewPhoto", "SearchResult", "is_postgres",
           "open_store", "store_scheme"]

DEFAULT_SCHEME = "sqlite"  # an address without ``scheme://``: a file path


def store_scheme(address: str | os.PathLike) -> str:
    """The registered store scheme of ``address`` (``sqlite`` for a file path); ConfigError for
    a ``scheme://`` no store has."""
    if not isinstance(address, str) or "://" not in address:
        return DEFAULT_SCHEME
    return registry.entry("store", address.partition("://")[0]).name


def is_postgres(address: str | os.PathLike) -> bool:
    """Whether ``address`` is a PostgreSQL store (many processes may write to it at once)."""
    return registry.entry("store", store_scheme(address)).target == registry.entry("store", "postgresql").target


def open_store(address: str | os.PathLike, create: bool = True, timeout: float = 10.0) -> FaceStore:
    """Open (or, with ``create``, make) the store at ``address``: a SQLite file path or a
    ``postgresql://`` URL. ``timeout``: seconds to wait for a lock or a connection."""
    store = registry.load("store", store_scheme(address))
    return store(address, create=create, timeout=timeout)
