"""What one server process holds: its analyzers (models loaded once, reused by every request)
and the face store. Each analyzer is used by one thread at a time (OpenCV's detector is not
thread-safe; onnxruntime already spreads one inference over the cores)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from typing import Any

from ..identity import check_embedder
from ..pipeline import ALL_ATTRIBUTES, ATTRIBUTES, DEFAULT_BACKEND, Analyzer
from ..types import Face, ImageResult
from .settings import Settings

MAX_ANALYZERS = 8  # option combinations kept loaded; the least recently used is dropped
# the options of /v1/analyze when a request gives none (the CLI's defaults)
ANALYZE_DEFAULTS: dict[str, Any] = {"attributes": ATTRIBUTES, "backend": DEFAULT_BACKEND, "detector": "yunet",
                                    "min_score": 0.0, "detect_scales": "auto", "max_faces": 0,
                                    "abstain_below": 0.0, "embed": False}


class SharedAnalyzer:
    """An :class:`Analyzer` behind a lock, with the methods the pipeline's callers use."""

    def __init__(self, analyzer: Analyzer) -> None:
        self.analyzer, self.lock = analyzer, threading.Lock()

    @property
    def embedder(self) -> Any:
        return self.analyzer.embedder

    def analyze(self, image: Any) -> list[Face]:
        with self.lock:
            return self.analyzer.analyze(image)

    def analyze_many(self, sources: Iterable[Any], batch_size: int = 16) -> Iterator[ImageResult]:
        with self.lock:
            return iter(list(self.analyzer.analyze_many(sources, batch_size=batch_size)))


class ServerState:
    """Analyzers by their options (built on first use, the defaults at start-up) and the store."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._analyzers: OrderedDict[tuple, SharedAnalyzer] = OrderedDict()
        self._build_lock = threading.Lock()
        self.store: Any = None
        self.store_lock = threading.Lock()
        self.ready = False

    def analyzer(self, **options: Any) -> SharedAnalyzer:
        """The shared analyzer for these :class:`Analyzer` keyword options (built once)."""
        key = tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in options.items()))
        with self._build_lock:
            if key in self._analyzers:
                self._analyzers.move_to_end(key)
                return self._analyzers[key]
            shared = SharedAnalyzer(Analyzer(max_pixels=self.settings.max_pixels, **options))
            self._analyzers[key] = shared
            while len(self._analyzers) > MAX_ANALYZERS:
                self._analyzers.popitem(last=False)
            return shared

    def analyze_analyzer(self, **options: Any) -> SharedAnalyzer:
        return self.analyzer(**{**ANALYZE_DEFAULTS, **options})

    def target_analyzer(self) -> SharedAnalyzer:
        """As ``facescan target``: every attribute (appearance included)."""
        return self.analyzer(attributes=ALL_ATTRIBUTES)

    def embed_analyzer(self, model: str | None = None, attributes: tuple[str, ...] = ()) -> SharedAnalyzer:
        """Identity embeddings by ``model`` (None: the default), with ``attributes`` (none: embeddings only)."""
        return self.analyzer(attributes=attributes, embed=check_embedder(model))

    def start(self) -> None:
        """Open the store and load the default models (the lifespan's start-up)."""
        if self.settings.db:
            from ..store import open_store

            self.store = open_store(self.settings.db, create=True)
        if self.settings.preload:
            self.analyze_analyzer()
            self.target_analyzer()
            self.embed_analyzer()
        self.ready = True

    def stop(self) -> None:
        if self.store is not None:
            self.store.close()
            self.store = None
        self._analyzers.clear()
        self.ready = False

    def loaded(self) -> list[dict[str, Any]]:
        return [dict(key) for key in self._analyzers]
