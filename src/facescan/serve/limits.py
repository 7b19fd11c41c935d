"""Limits and safety: concurrency (503 + Retry-After), per-request timeout (504), uploads parsed
in memory (never spooled to disk), images checked from their header (413 over the pixel limit,
415 for a non-image), and bearer API keys compared in constant time."""

from __future__ import annotations

import asyncio
import hmac
import json
from collections.abc import Callable
from typing import Any

import numpy as np
from fastapi import HTTPException, Request, UploadFile
from fastapi.routing import APIRoute
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..errors import ImageError
from ..io import load_image
from .settings import Settings

LIMITED_PREFIX = "/v1/"


class Gate:
    """Requests in progress under ``/v1/`` (a slot is held until the work ends, even after a 504)."""

    def __init__(self, limit: int) -> None:
        self.limit, self.in_flight = limit, 0


async def _send_json(send: Send, status: int, detail: str, headers: dict[str, str] | None = None) -> None:
    body = json.dumps({"detail": detail}).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    raw += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


class _TooLarge(Exception):
    pass


class LimitsMiddleware:
    """ASGI middleware for ``/v1/``: 413 for a body over ``settings.max_upload_mb`` (from its
    Content-Length, or counted as it arrives), 503 + Retry-After when ``gate`` is full, and 504
    when a request runs past ``settings.timeout``. A request that timed out keeps its slot until
    its (uninterruptible) work finishes, so the gate counts real load; its late response is
    dropped."""

    def __init__(self, app: ASGIApp, settings: Settings, gate: Gate) -> None:
        self.app, self.settings, self.gate = app, settings, gate

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(LIMITED_PREFIX):
            await self.app(scope, receive, send)
            return
        limit = self.settings.max_upload_bytes
        too_large = f"the upload is over the limit of {self.settings.max_upload_mb:g} MB"
        length = dict(scope["headers"]).get(b"content-length", b"0")
        if length.isdigit() and int(length) > limit:
            await _send_json(send, 413, too_large)
            return
        gate = self.gate
        if gate.in_flight >= gate.limit:
            await _send_json(send, 503, f"busy: {gate.limit} requests in progress; retry later",
                             {"Retry-After": str(self.settings.retry_after)})
            return
        gate.in_flight += 1
        state = {"started": False, "timed_out": False}

        async def guarded_send(message: Message) -> None:
            if state["timed_out"]:
                return  # the client already has its 504
            if message["type"] == "http.response.start":
                state["started"] = True
            await send(message)

        received = 0

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > limit:
                raise _TooLarge
            return message

        task = asyncio.ensure_future(self.app(scope, counted_receive, guarded_send))
        task.add_done_callback(lambda _: setattr(gate, "in_flight", gate.in_flight - 1))
        done, _ = await asyncio.wait({task}, timeout=self.settings.timeout)
        if task in done:
            try:
                task.result()  # re-raise what the app raised
            except _TooLarge:
                if not state["started"]:
                    await _send_json(send, 413, too_large)
            return
        state["timed_out"] = True
        task.add_done_callback(lambda t: t.cancelled() or t.exception())  # retrieve, never log the upload
        if not state["started"]:
            await _send_json(send, 504, f"the request took longer than {self.settings.timeout:g} s "
                             "and was abandoned (its work finishes in the background)")


class _InMemoryParser(MultiPartParser):
    spool_max_size = 0  # SpooledTemporaryFile(max_size=0) never rolls over to a file on disk


class InMemoryRoute(APIRoute):
    """A route whose multipart uploads stay in memory (Starlette would spool parts over 1 MB to
    a temporary file); the request body is already capped by the app's ``max_body_size``."""

    max_files = 1000
    api_keys: tuple[str, ...] = ()

    def get_route_handler(self) -> Callable[[Request], Any]:
        handler = super().get_route_handler()
        max_files, keys = self.max_files, self.api_keys

        async def route_handler(request: Request) -> Any:
            if keys:  # before reading the upload (FastAPI's dependencies run after it)
                scheme, _, token = request.headers.get("authorization", "").partition(" ")
                check_key(token if scheme.lower() == "bearer" else "", keys)
            if request.headers.get("content-type", "").startswith("multipart/form-data"):
                parser = _InMemoryParser(request.headers, request.stream(), max_files=max_files,
                                         max_fields=100, max_part_size=64 * 1024)
                try:
                    request._form = await parser.parse()  # FastAPI then reads this form
                except MultiPartException as exc:
                    status = 413 if "Too many files" in exc.message else 422
                    raise HTTPException(status, f"bad multipart upload: {exc.message}") from None
            return await handler(request)

        return route_handler


def route_class(settings: Settings) -> type[InMemoryRoute]:
    return type("LimitedRoute", (InMemoryRoute,), {"max_files": settings.max_images, "api_keys": settings.api_keys})


def decode_uploads(files: list[UploadFile], settings: Settings) -> list[tuple[str, bytes, np.ndarray]]:
    """(name, bytes, RGB array) per uploaded file, or HTTPException 413 / 415 / 422 naming the file."""
    if not files:
        raise HTTPException(422, "no image uploaded")
    if len(files) > settings.max_images:
        raise HTTPException(413, f"{len(files)} images in one request; the limit is {settings.max_images}")
    out = []
    for i, upload in enumerate(files):
        name = upload.filename or f"image {i + 1}"
        upload.file.seek(0)
        data = upload.file.read()
        if not data:
            raise HTTPException(415, f"{name}: empty file (0 bytes), not an image")
        try:
            image = load_image(data, settings.max_pixels)
        except ImageError as exc:
            message = str(exc).replace("<bytes>", name, 1).replace(" (raise max_pixels to allow it)", "")
            raise HTTPException(413 if "over the limit" in message else 415, message) from None
        out.append((name, data, image))
    return out


def check_key(token: str, keys: tuple[str, ...]) -> None:
    """Raise 401 unless the bearer ``token`` is one of ``keys`` (every key compared, in constant time)."""
    if not keys:
        return
    given = token.encode()
    ok = False
    for key in keys:
        ok |= hmac.compare_digest(given, key.encode())
    if not ok:
        raise HTTPException(401, "missing or wrong API key: send 'Authorization: Bearer KEY'",
                            headers={"WWW-Authenticate": "Bearer"})
