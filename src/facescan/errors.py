"""The exception tree of facescan.

    FacescanError                 base of everything facescan raises on purpose
    ├── ImageError                an input could not be read as an image (what and why)
    │   └── VideoError            a video or stream could not be opened or decoded (and where it stopped)
    ├── ModelError                a model file is missing, corrupt (sha256) or cannot load
    ├── DependencyError           an optional extra is needed: the message names it
    ├── ConfigError               a bad option: unknown backend, attribute, crop policy, ...
    ├── BackendError              a remote backend (VLM API) failed: connection, HTTP error, refusal
    ├── StoreError                a face store cannot be used: not a store, locked, corrupt, no
    │                             connection, or embeddings of another model than the store's
    └── EngineError               a scale-out engine (--engine ray) failed: no cluster at the
                                  address, no GPU for --actor-gpus, or the job itself failed
"""

from __future__ import annotations


class FacescanError(Exception):
    """Base class of all errors raised by facescan."""


class ImageError(FacescanError):
    """An input could not be read as an image."""


class VideoError(ImageError):
    """A video file or stream could not be opened, or decoding stopped: ``frame`` and
    ``time_s`` say where (None: before the first frame)."""

    def __init__(self, message: str, frame: int | None = None, time_s: float | None = None) -> None:
        super().__init__(message)
        self.frame, self.time_s = frame, time_s


class ModelError(FacescanError):
    """A model's weights are missing, corrupt or cannot be loaded."""


class DependencyError(FacescanError, ImportError):
    """An optional dependency is missing; the message says which extra installs it."""


class ConfigError(FacescanError, ValueError):
    """An option has a value facescan does not know."""


def require(module: str, extra: str) -> object:
    """Import an optional dependency, or raise a DependencyError naming the extra."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise DependencyError(
            f"this needs the optional package {module!r}: pip install 'facescan[{extra}]'"
        ) from exc


class BackendError(FacescanError):
    """A remote backend (a VLM behind an HTTP API) failed: no connection, an HTTP error or a
    refusal. The message names the endpoint and what it answered."""


class StoreError(FacescanError):
    """A face store (SQLite file or PostgreSQL database) cannot be opened or used: the path is
    not a store, the file is locked or corrupt, the server refuses the connection, or a query
    was embedded with another model than the store's. The message names the store."""


class EngineError(FacescanError):
    """A scale-out engine failed: it cannot start or join the cluster, the cluster lacks what was
    asked for (a GPU), or the job failed; the message carries the worker's own error line."""
