"""Prometheus metrics of one server process (``GET /metrics``), kept in a registry of their own
(one per app, so several apps in one process never share counts). With ``--workers N`` each
worker counts its own requests, and every sample carries a ``worker`` label (its process id)."""

from __future__ import annotations

import os
import time

from prometheus_client import CONTENT_TYPE_LATEST as CONTENT_TYPE
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["CONTENT_TYPE", "Metrics", "MetricsMiddleware"]

BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


class Metrics:
    def __init__(self, in_flight: callable) -> None:  # type: ignore[valid-type]
        self.registry = CollectorRegistry()
        worker = {"worker": str(os.getpid())}
        labels = ("method", "route", "status")
        self.requests = Counter("facescan_http_requests", "HTTP requests answered", labels + ("worker",),
                                registry=self.registry)
        self.errors = Counter("facescan_http_errors", "HTTP requests answered with a 4xx or 5xx status",
                              labels + ("worker",), registry=self.registry)
        self.latency = Histogram("facescan_http_request_duration_seconds", "Time to answer a request",
                                 ("method", "route", "worker"), buckets=BUCKETS, registry=self.registry)
        self.images = Counter("facescan_images", "Images analysed", ("route", "worker"), registry=self.registry)
        self.faces = Counter("facescan_faces", "Faces found in analysed images", ("route", "worker"),
                             registry=self.registry)
        self.batches = Histogram("facescan_batch_images", "Images per model batch (concurrent requests "
                                 "are analysed together)", ("worker",), buckets=(1, 2, 4, 8, 16, 32),
                                 registry=self.registry)
        self.batch_requests = Counter("facescan_batch_requests", "Requests served by model batches",
                                      ("worker",), registry=self.registry)
        gauge = Gauge("facescan_requests_in_progress", "Requests under /v1/ in progress (work included)",
                      ("worker",), registry=self.registry)
        gauge.labels(**worker).set_function(in_flight)
        self._worker = worker["worker"]

    def count_images(self, route: str, images: int, faces: int) -> None:
        self.images.labels(route, self._worker).inc(images)
        self.faces.labels(route, self._worker).inc(faces)

    def count_batch(self, requests: int, images: int) -> None:
        self.batches.labels(self._worker).observe(images)
        self.batch_requests.labels(self._worker).inc(requests)

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, str(status), self._worker).inc()
        if status >= 400:
            self.errors.labels(method, route, str(status), self._worker).inc()
        self.latency.labels(method, route, self._worker).observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)


class MetricsMiddleware:
    """Counts every HTTP request by method, route template (``other`` for unknown paths, so a
    scan of random URLs cannot grow the label set) and status, and times it."""

    def __init__(self, app: ASGIApp, metrics: Metrics, paths: set[str] | None = None) -> None:
        self.app, self.metrics, self.paths = app, metrics, paths or set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start, status = time.perf_counter(), 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            route = getattr(scope.get("route"), "path", None)  # set by the router, if reached
            if route is None and scope["path"] in self.paths:  # refused before routing (413, 503)
                route = scope["path"]
            elif route is None and scope["path"].startswith("/static/"):
                route = "/static"
            self.metrics.observe(scope["method"], route or "other", status, time.perf_counter() - start)
