"""What a server is allowed to do: limits, keys, CORS origins, the store. Passed to worker
processes through ``FACESCAN_SERVE_*`` environment variables (uvicorn starts each worker from
an import string, so a Python object cannot be handed over)."""

from __future__ import annotations

import os
from dataclasses import dataclass, fields

from ..errors import ConfigError

ENV_PREFIX = "FACESCAN_SERVE_"
API_KEYS_ENV = "FACESCAN_API_KEYS"  # comma-separated bearer tokens (or use an API key file)


@dataclass(frozen=True)
class Settings:
    """``max_upload_mb``: request body size (413 above); ``max_pixels``: per image, checked from
    the header before decoding (413); ``max_images``: files per request (413); ``timeout``:
    seconds per request (504); ``max_concurrency``: requests in progress per worker, more are
    refused with 503 and ``Retry-After``; ``api_keys``: bearer tokens required on ``/v1/``
    (none: open); ``cors``: allowed browser origins (none: CORS off); ``db``: a face store
    (SQLite file or ``postgresql://``) for ``/v1/index`` and ``/v1/search``; ``preload``: load
    the default models at start-up (``/readyz`` says when they are)."""

    db: str | None = None
    api_keys: tuple[str, ...] = ()
    cors: tuple[str, ...] = ()
    max_upload_mb: float = 20.0
    max_pixels: int = 25_000_000
    max_images: int = 16
    timeout: float = 60.0
    max_concurrency: int = 8
    retry_after: int = 2
    preload: bool = True

    def __post_init__(self) -> None:
        for name in ("max_upload_mb", "max_pixels", "max_images", "timeout", "max_concurrency"):
            if not getattr(self, name) > 0:
                raise ConfigError(f"serve setting {name} must be positive, got {getattr(self, name)}")
        if any(not k or k != k.strip() for k in self.api_keys):
            raise ConfigError("an API key is empty or has spaces around it")

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)

    def to_env(self) -> dict[str, str]:
        """The environment variables that make :meth:`from_env` give these settings back."""
        env = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value is None or value == ():
                continue
            env[ENV_PREFIX + f.name.upper()] = ",".join(value) if isinstance(value, tuple) else str(value)
        return env

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        kwargs: dict[str, object] = {}
        for f in fields(cls):
            raw = env.get(ENV_PREFIX + f.name.upper())
            if raw is None:
                continue
            kind = type(getattr(cls(), f.name)) if f.name != "db" else str
            try:
                if kind is tuple:
                    kwargs[f.name] = tuple(v.strip() for v in raw.split(",") if v.strip())
                elif kind is bool:
                    kwargs[f.name] = raw.lower() in ("1", "true", "yes")
                else:
                    kwargs[f.name] = kind(raw)
            except ValueError:
                raise ConfigError(f"{ENV_PREFIX + f.name.upper()}={raw!r} is not a valid {kind.__name__}") from None
        keys = tuple(kwargs.get("api_keys", ())) + tuple(  # type: ignore[arg-type]
            k.strip() for k in env.get(API_KEYS_ENV, "").split(",") if k.strip())
        kwargs["api_keys"] = tuple(dict.fromkeys(keys))
        return cls(**kwargs)  # type: ignore[arg-type]


def read_key_file(path: str) -> tuple[str, ...]:
    """API keys from a file: one per line; blank lines and lines starting with # are ignored."""
    try:
        with open(path, encoding="utf-8") as f:
            keys = tuple(line.strip() for line in f if line.strip() and not line.lstrip().startswith("#"))
    except OSError as exc:
        raise ConfigError(f"cannot read the API key file {path}: {exc.strerror or exc}") from None
    if not keys:
        raise ConfigError(f"the API key file {path} holds no key")
    return keys
