"""Video through the Analyzer: sampled frames decoded in a background thread (a bounded
queue), batched into the same model calls as :meth:`Analyzer.analyze_many`
(:meth:`Analyzer.analyze_batch`), linked into tracks. This module uses the pipeline; the
pipeline knows nothing of video.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import VideoError
from ..types import Face
from .source import Frame, VideoSource
from .track import Track, Tracker

if TYPE_CHECKING:
    from ..pipeline import Analyzer

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FrameResult:
    """One analysed frame: the ``analyze`` record plus ``frame`` (its number in the source),
    ``time_s`` and each face's ``track`` id (``tracks``, in the order of ``faces``; None when
    not tracked). An error record (``error`` set, no faces) says where decoding stopped.
    ``image`` holds the frame's pixels only when asked for (``keep_images``)."""

    path: str
    frame: int | None
    time_s: float | None
    faces: list[Face] = field(default_factory=list)
    tracks: list[int] | None = None
    error: str | None = None
    width: int | None = None
    height: int | None = None
    image: np.ndarray | None = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        faces = [f.to_dict() for f in self.faces]
        if self.tracks is not None:
            for face, track in zip(faces, self.tracks):
                face["track"] = track
        return {"path": self.path, "frame": self.frame,
                "time_s": None if self.time_s is None else round(self.time_s, 3),
                "width": self.width, "height": self.height, "faces": faces, "error": self.error}


_END = object()


def _prefetch(frames: Iterator[Frame], size: int, name: str, live: bool = False) -> Iterator[Frame]:
    """``frames`` decoded in a background thread, at most ``size`` ahead (memory stays flat).
    Errors of the source are raised here, in order; closing this generator stops the thread.
    ``live``: when the analysis falls behind a stream, the oldest waiting frame is dropped
    (the analysis keeps up with the present; the count is logged)."""
    q: queue.Queue = queue.Queue(maxsize=size)
    stop = threading.Event()
    dropped = 0

    def put(item, drop: bool = False) -> bool:
        nonlocal dropped
        if drop and q.full():
            with contextlib.suppress(queue.Empty):
                q.get_nowait()
                dropped += 1
        while not stop.is_set():
            try:
                q.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def work() -> None:
        try:
            for frame in frames:
                if not put(frame, live):
                    break
        except BaseException as exc:  # noqa: BLE001 (handed to the consumer, raised there)
            put(exc)
        finally:
            frames.close()  # type: ignore[attr-defined]
        put(_END)

    thread = threading.Thread(target=work, name="facescan-video-decode", daemon=True)
    thread.start()
    try:
        while True:
            item = q.get()
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        thread.join(timeout=5)
        if dropped:
            log.warning("%s: %d frame(s) dropped to keep up with the stream", name, dropped)


def analyze_video(analyzer: Analyzer, source: str | os.PathLike | VideoSource, fps: float | None = None,
                  every: int | None = None, batch_size: int = 4, tracker: Tracker | bool = True,
                  keep_images: bool = False, timeout: float = 10.0) -> Iterator[FrameResult]:
    """One :class:`FrameResult` per sampled frame of a video file, image sequence pattern,
    webcam index or stream URL (or an open :class:`VideoSource`), in order, its faces found and
    analysed by ``analyzer`` (a :class:`facescan.Analyzer`; needs ``facescan[video]``).

    Frames are sampled every ``1/fps`` seconds (default 5 per second) or every ``every``-th
    frame, and their faces analysed in batches of ``batch_size`` frames. With ``tracker``
    (True: a new :class:`Tracker`; or your own, to collect its tracks) each face gets a track
    id. ``keep_images`` keeps each frame's pixels in its record. A source that cannot be
    opened, or stops early, ends with an error record saying where; frames analysed before it
    are yielded first. ``timeout`` bounds opening and reading a stream, in seconds."""
    src = source if isinstance(source, VideoSource) else \
        VideoSource(source, fps, every, max_pixels=analyzer.max_pixels, timeout=timeout)
    track = Tracker() if tracker is True else tracker or None
    if src.live:
        batch_size = 1  # a stream is analysed as it comes
    batch: list[Frame] = []
    frames = _prefetch(src.frames(), max(2, 2 * batch_size), src.name, src.live)
    try:
        for frame in frames:
            batch.append(frame)
            if len(batch) >= batch_size:
                yield from _run(analyzer, src, batch, track, keep_images)
                batch = []
    except VideoError as exc:
        yield from _run(analyzer, src, batch, track, keep_images)
        batch = []
        yield FrameResult(src.name, exc.frame, exc.time_s, error=str(exc), width=src.width, height=src.height)
    finally:
        frames.close()
    yield from _run(analyzer, src, batch, track, keep_images)


def _run(analyzer: Analyzer, src: VideoSource, batch: list[Frame], tracker: Tracker | None,
         keep_images: bool) -> Iterator[FrameResult]:
    if not batch:
        return
    faces, error = analyzer.analyze_batch([f.image for f in batch])
    for frame, found in zip(batch, faces):
        ids = tracker.update(frame.index, frame.time_s, found, frame.image) if tracker is not None else None
        h, w = frame.image.shape[:2]
        yield FrameResult(src.name, frame.index, frame.time_s, found, ids, error, w, h,
                          frame.image if keep_images else None)


def track_video(source: str | os.PathLike, analyzer: Analyzer | None = None, fps: float | None = None,
                every: int | None = None, tracker: Tracker | None = None, **analyzer_options) -> list[Track]:
    """The tracks (people) of a video, with their time spans, boxes, per-frame predictions and
    attributes averaged over each track, ordered by id. ``analyzer`` (or a new
    ``Analyzer(**analyzer_options)``) does the analysis; ``tracker`` (default ``Tracker()``)
    the linking. A video that cannot be read, or stops early, raises VideoError; its ``tracks``
    attribute holds the tracks of the frames decoded before (nothing made is lost)."""
    from ..pipeline import Analyzer as _Analyzer

    analyzer = analyzer or _Analyzer(**analyzer_options)
    tracker = tracker or Tracker()
    done: list[Track] = []
    for result in analyze_video(analyzer, source, fps, every, tracker=tracker):
        if result.error is not None:
            exc = VideoError(result.error, result.frame, result.time_s)
            exc.tracks = sorted(done + tracker.finish(), key=lambda t: t.id)  # type: ignore[attr-defined]
            raise exc
        done.extend(tracker.pop_ended())
    return sorted(done + tracker.finish(), key=lambda t: t.id)
