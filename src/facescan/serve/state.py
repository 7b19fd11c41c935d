"""What one server process holds: its analyzers (models loaded once, reused by every request)
and the face store. Options that change no model (``if_no_face``) travel with each request, not
in the key of an analyzer, so one copy of the models serves them all. Each analyzer runs one batch at a time (OpenCV's detector is not
thread-safe; onnxruntime already spreads one inference over the cores), made of the images of
every request waiting for it."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future
from typing import Any

from ..errors import FacescanError
from ..identity import check_embedder
from ..pipeline import ALL_ATTRIBUTES, ATTRIBUTES, DEFAULT_BACKEND, Analyzer
from ..types import Face, ImageResult
from .settings import Settings

MAX_ANALYZERS = 8  # option combinations kept loaded; the least recently used is dropped
# the analyzer options of /v1/analyze when a request gives none (the CLI's defaults)
ANALYZE_DEFAULTS: dict[str, Any] = {"attributes": ATTRIBUTES, "backend": DEFAULT_BACKEND, "detector": "yunet",
                                    "min_score": 0.0, "detect_scales": "auto", "max_faces": 0,
                                    "abstain_below": 0.0, "embed": False}


class SharedAnalyzer:
    """An :class:`Analyzer` shared by concurrent requests: their images are queued and analysed
    together, up to ``max_batch`` at a time, by whichever waiting thread runs next (one at a
    time), so that concurrent requests get the CLI's batch efficiency. Each request keeps its
    own ``if_no_face`` (the images of a batch are analysed in one call per value)."""

    def __init__(self, analyzer: Analyzer, max_batch: int = 16,
                 on_batch: Callable[[int, int], None] | None = None) -> None:
        self.analyzer, self.max_batch, self.on_batch = analyzer, max_batch, on_batch
        self._lock = threading.Lock()  # guards _queue
        self._run = threading.Lock()  # held by the thread running a batch
        self._queue: list[tuple[list[Any], str | None, Future]] = []

    @property
    def embedder(self) -> Any:
        return self.analyzer.embedder

    def analyze(self, image: Any, if_no_face: str | None = None) -> list[Face]:
        (result,) = self.analyze_many([image], if_no_face=if_no_face)
        if result.error is not None:
            raise FacescanError(result.error)
        return result.faces

    def analyze_many(self, sources: Iterable[Any], batch_size: int = 16,
                     if_no_face: str | None = None) -> Iterator[ImageResult]:
        future: Future = Future()
        with self._lock:
            self._queue.append((list(sources), if_no_face, future))
        while not future.done():
            with self._run:  # one batch at a time; it may well hold this request's images
                if not future.done():
                    self._run_batch()
        return iter(future.result())

    def _run_batch(self) -> None:
        with self._lock:  # whole requests, oldest first, up to max_batch images (at least one request)
            take, count = 0, 0
            while take < len(self._queue) and (take == 0 or count + len(self._queue[take][0]) <= self.max_batch):
                count += len(self._queue[take][0])
                take += 1
            jobs, self._queue = self._queue[:take], self._queue[take:]
        answers: list[list[ImageResult] | BaseException] = [[] for _ in jobs]
        for option in dict.fromkeys(option for _, option, _ in jobs):  # one call per if_no_face value
            mine = [i for i, (_, o, _) in enumerate(jobs) if o == option]
            images = [x for i in mine for x in jobs[i][0]]
            try:
                results = iter(list(self.analyzer.analyze_many(images, batch_size=max(1, len(images)),
                                                               if_no_face=option)))
            except BaseException as exc:  # noqa: BLE001 (handed to every request waiting for it)
                for i in mine:
                    answers[i] = exc
                continue
            for i in mine:
                answers[i] = [next(results) for _ in jobs[i][0]]
        if self.on_batch is not None:
            self.on_batch(len(jobs), count)
        for (_, _, future), answer in zip(jobs, answers):
            if isinstance(answer, BaseException):
                future.set_exception(answer)
            else:
                future.set_result(answer)


class ServerState:
    """Analyzers by their options (built on first use, the defaults at start-up) and the store."""

    def __init__(self, settings: Settings, on_batch: Callable[[int, int], None] | None = None) -> None:
        self.settings, self.on_batch = settings, on_batch
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
            shared = SharedAnalyzer(Analyzer(max_pixels=self.settings.max_pixels, **options), on_batch=self.on_batch)
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
