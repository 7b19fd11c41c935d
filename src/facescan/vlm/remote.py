"""Machinery shared by the API backends: keys, retries, response cache, usage and cost.

* Keys come only from the environment or a config file (TOML, default
  ``~/.config/facescan/config.toml``, or ``$FACESCAN_CONFIG``)::

      [openai]
      api_key = "sk-..."
      base_url = "http://localhost:11434/v1"   # optional
      [gemini]
      api_key = "..."

  They are passed to the client and nowhere else: never logged, cached or written to results.
* Retries: 429, 408, 409 and 5xx answers, timeouts and connection errors are retried with
  exponential backoff (0.5 s, 1 s, 2 s ... at most 30 s), waiting what ``Retry-After`` /
  ``retry-after-ms`` asks where the server sends it (at most 120 s).
* Cache: one JSON file per answer under ``~/.cache/facescan/api`` (or ``cache_dir``), keyed by
  (model, endpoint, prompt version, question, attribute, label set, mode, image hash): a re-run
  sends no request and costs nothing.
"""

from __future__ import annotations

import email.utils
import hashlib
import io
import json
import logging
import os
import time
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from ..errors import BackendError, ConfigError
from .backend import Answer, Usage

log = logging.getLogger(__name__)
T = TypeVar("T")

# list prices in USD per million (input, output) tokens when this was written; cost_usd is
# None for models not listed
PRICES = {"gpt-4o": (2.50, 10.00), "gpt-4o-mini": (0.15, 0.60), "gpt-4.1": (2.00, 8.00),
          "gpt-4.1-mini": (0.40, 1.60), "gemini-1.5-pro": (1.25, 5.00),
          "gemini-1.5-flash": (0.075, 0.30), "gemini-2.0-flash": (0.10, 0.40),
          "gemini-2.5-flash": (0.30, 2.50), "gemini-2.5-pro": (1.25, 10.00)}
RETRY_STATUS = {408, 409, 429}
MAX_RETRY_AFTER = 120.0


def config_path(explicit: str | None = None) -> Path:
    if explicit:
        return Path(explicit).expanduser()
    if os.environ.get("FACESCAN_CONFIG"):
        return Path(os.environ["FACESCAN_CONFIG"]).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return Path(base) / "facescan" / "config.toml"


def provider_settings(provider: str, explicit_config: str | None = None) -> dict[str, str]:
    """The ``[provider]`` table of the config file (empty when there is no file)."""
    path = config_path(explicit_config)
    if not path.is_file():
        if explicit_config:
            raise ConfigError(f"config file {path} does not exist")
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"config file {path}: cannot read it as TOML ({exc})") from exc
    table = data.get(provider, {})
    return {k: str(v) for k, v in table.items()} if isinstance(table, dict) else {}


def secret(env_names: tuple[str, ...], settings: Mapping[str, str]) -> str | None:
    for name in env_names:
        if os.environ.get(name):
            return os.environ[name]
    return settings.get("api_key") or None


def encode_jpeg(crop: np.ndarray, quality: int = 90) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(crop).save(buf, format="JPEG", quality=quality)
    return buf.getvalue()


def image_hash(crop: np.ndarray) -> str:
    h = hashlib.sha256(str(crop.shape).encode())
    h.update(np.ascontiguousarray(crop).tobytes())
    return h.hexdigest()


def cost_of(model: str, prompt_tokens: int, completion_tokens: int) -> float | None:
    price = PRICES.get(model) or PRICES.get(model.split("/")[-1])
    if price is None:
        return None
    return (prompt_tokens * price[0] + completion_tokens * price[1]) / 1e6


@dataclass
class ResponseCache:
    """Answers on disk, one JSON file per key; ``folder=None`` disables it."""

    folder: Path | None

    @classmethod
    def from_options(cls, cache_dir: str | None, enabled: bool) -> ResponseCache:
        if not enabled:
            return cls(None)
        if cache_dir:
            return cls(Path(cache_dir).expanduser())
        base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
        return cls(Path(base) / "facescan" / "api")

    @staticmethod
    def key(**parts: Any) -> str:
        return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()

    def _path(self, key: str) -> Path:
        assert self.folder is not None
        return self.folder / key[:2] / f"{key}.json"

    def get(self, key: str) -> dict[str, Any] | None:
        if self.folder is None:
            return None
        try:
            return json.loads(self._path(key).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    def put(self, key: str, value: dict[str, Any]) -> None:
        if self.folder is None:
            return
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(value), encoding="utf-8")
        os.replace(tmp, path)


def retry_after(headers: Mapping[str, str] | None) -> float | None:
    """Seconds a server asks to wait (``retry-after-ms``, ``Retry-After`` seconds or date)."""
    if not headers:
        return None
    ms = headers.get("retry-after-ms")
    try:
        if ms is not None:
            return max(0.0, float(ms) / 1000)
    except ValueError:
        pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except ValueError:  # neither seconds nor a date: no wait asked
        return None
    return max(0.0, when.timestamp() - time.time())


@dataclass(frozen=True)
class Failure:
    """How an API call failed: retry it or not, after how long the server asked, why."""

    retryable: bool
    wait: float | None
    reason: str


@dataclass
class Retrier:
    retries: int = 5
    base_delay: float = 0.5
    max_delay: float = 30.0
    sleep: Callable[[float], None] = field(default=time.sleep)

    def run(self, call: Callable[[], T], classify: Callable[[Exception], Failure | None],
            what: str, on_retry: Callable[[], None] = lambda: None) -> T:
        """``call()`` until it succeeds, retrying what ``classify`` says is retryable."""
        for attempt in range(self.retries + 1):
            try:
                return call()
            except Exception as exc:  # the client libraries raise their own types
                failure = classify(exc)
                if failure is None:
                    raise
                if not failure.retryable or attempt == self.retries:
                    tries = f" after {attempt + 1} tries" if attempt else ""
                    raise BackendError(f"{what}: {failure.reason}{tries}") from exc
                delay = min(self.max_delay, self.base_delay * 2 ** attempt)
                if failure.wait is not None:
                    delay = min(MAX_RETRY_AFTER, max(delay, failure.wait))
                log.warning("%s: %s; retrying in %.1f s", what, failure.reason, delay)
                on_retry()
                self.sleep(delay)
        raise AssertionError("unreachable")


def failure_of(exc: Exception, secret_value: str | None = None) -> Failure | None:
    """Classify a client library's exception (openai, google-genai, httpx) by its status code
    or its type; None: not an API failure (a bug), re-raised as it is."""
    status = getattr(exc, "status_code", None) or getattr(exc, "code", None)
    names = {c.__name__ for c in type(exc).__mro__}
    reason = str(getattr(exc, "message", None) or exc)
    if secret_value:
        reason = reason.replace(secret_value, "***")
    if isinstance(status, int) and 100 <= status < 600:
        response = getattr(exc, "response", None)
        headers = getattr(response, "headers", None)
        wait = retry_after({k.lower(): v for k, v in headers.items()} if headers is not None else None)
        return Failure(status in RETRY_STATUS or status >= 500, wait, f"HTTP {status}: {reason}")
    if names & {"APITimeoutError", "TimeoutException", "ReadTimeout", "ConnectTimeout", "WriteTimeout",
                "PoolTimeout", "TimeoutError"}:
        return Failure(True, None, "timed out")
    if names & {"APIConnectionError", "ConnectError", "NetworkError", "RemoteProtocolError",
                "ConnectionError"}:
        return Failure(True, None, f"connection failed ({reason})")
    return None


def run_concurrently(fn: Callable[[int], T], n: int, limit: int) -> list[T]:
    """``[fn(0), ..., fn(n-1)]`` with at most ``limit`` calls in flight."""
    if n <= 1 or limit <= 1:
        return [fn(i) for i in range(n)]
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=min(limit, n)) as pool:
        return list(pool.map(fn, range(n)))


class APIEngine:
    """One remote model: cached, retried, concurrency-limited requests, with usage accounting.

    Subclasses implement :meth:`_send` (one request: JPEG + prompt, optionally constrained to
    an enum of labels or a JSON schema -> text and token counts).
    """

    provider = "api"

    def __init__(self, model: str, options: Any, prompt_version: str, endpoint: str,
                 key: str | None) -> None:
        import threading

        self.model = self.name = model
        self.options, self.prompt_version, self.endpoint = options, prompt_version, endpoint
        self._key = key  # passed to the client only; never logged, cached or returned
        self.cache = ResponseCache.from_options(options.cache_dir, options.cache)
        self.retrier = Retrier(retries=options.retries)
        self.usage = Usage()
        self._lock = threading.Lock()

    def _send(self, jpeg: bytes, prompt: str, enum: tuple[str, ...] | None,
              schema: dict[str, Any] | None) -> tuple[str | None, int, int]:
        raise NotImplementedError

    def _retried(self) -> None:
        with self._lock:
            self.usage.retries += 1

    def request(self, crop: np.ndarray, prompt: str, enum: tuple[str, ...] | None = None,
                schema: dict[str, Any] | None = None, **key_parts: Any) -> str | None:
        """The model's text for one crop and prompt, from the cache when it is there."""
        key = ResponseCache.key(provider=self.provider, model=self.model, endpoint=self.endpoint,
                                image=image_hash(crop), prompt=prompt, enum=enum, schema=schema,
                                prompt_version=self.prompt_version, **key_parts)
        hit = self.cache.get(key)
        if hit is not None:
            with self._lock:
                self.usage.cached += 1
            return hit.get("text")
        jpeg = encode_jpeg(crop)
        text, p_tok, c_tok = self.retrier.run(
            lambda: self._send(jpeg, prompt, enum, schema),
            lambda exc: failure_of(exc, self._key), f"{self.model} at {self.endpoint}", self._retried)
        cost = cost_of(self.model, p_tok, c_tok)
        with self._lock:
            self.usage.add(Usage(1, 0, 0, p_tok, c_tok, cost))
        self.cache.put(key, {"text": text, "prompt_tokens": p_tok, "completion_tokens": c_tok})
        return text

    def answer(self, crops: list[np.ndarray], question: str, attribute: str,
               labels: tuple[str, ...], closed: bool) -> list[Answer]:
        enum = labels if closed else None

        def one(i: int) -> Answer:
            return Answer(self.request(crops[i], question, enum, attribute=attribute) or "")

        return run_concurrently(one, len(crops), self.options.concurrency)


@dataclass(frozen=True)
class APIFamily:
    """An API backend as :mod:`facescan.registry` lists it (``gpt-4o[:MODEL]``,
    ``gemini[:MODEL]``): its engine class and the model used when the name gives none."""

    engine: Callable[[str, Any, str], APIEngine]  # (model, options, prompt_version)
    default: str

    def engines(self, arg: str, attributes: Sequence[str], options: Any,
                prompt_version: str = "") -> dict[str, APIEngine]:
        """One engine (``arg``: the model; empty: :attr:`default`) for every attribute."""
        engine = self.engine(arg or self.default, options, prompt_version)
        return dict.fromkeys(attributes, engine)
