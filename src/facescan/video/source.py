"""Frames from video files, folders of them, image sequences, webcams and network streams.

Decoding goes through PyAV (its wheels carry FFmpeg), imported only here and only when a video
is opened. Frames are sampled by time (``fps``) or by step (``every``): every frame must still
be decoded (inter-coded video), but only the sampled ones are converted to RGB, and where the
next sample lies more than :data:`SEEK_GAP_S` ahead in a seekable file, the demuxer seeks to
the key frame before it instead of decoding the gap. Every failure is a
:class:`~facescan.errors.VideoError` that says which input and where decoding stopped.
"""

from __future__ import annotations

import glob
import os
import re
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import ConfigError, VideoError, require
from ..io import DEFAULT_MAX_PIXELS, IMAGE_EXTENSIONS, expand_paths

VIDEO_EXTENSIONS = frozenset({".mp4", ".m4v", ".mkv", ".webm", ".avi", ".mov", ".mpg", ".mpeg", ".ts",
                              ".mts", ".wmv", ".flv", ".3gp", ".ogv", ".gif"})
STREAM_SCHEMES = ("rtsp://", "rtsps://", "rtmp://", "http://", "https://", "udp://", "tcp://", "srt://")
DEFAULT_FPS = 5.0  # sampled frames per second when neither fps nor every is given
SEEK_GAP_S = 2.0  # seek rather than decode when the next sample is further ahead than this
MAX_BAD_PACKETS = 50  # packets in a row that fail to decode before a file is given up


@dataclass(frozen=True)
class Frame:
    """One sampled frame: its number in the source (0-based), its time and its RGB pixels."""

    index: int
    time_s: float
    image: np.ndarray = field(repr=False)


def is_stream(spec: str) -> bool:
    return spec.lower().startswith(STREAM_SCHEMES)


def is_webcam(spec: str) -> bool:
    return spec.isdigit() and not os.path.exists(spec)


def is_sequence(spec: str) -> bool:
    """An image-sequence pattern: ``frames/%05d.png`` or a glob over image files."""
    if re.search(r"%0?\d*d", spec):
        return True
    return glob.has_magic(spec) and Path(spec).suffix.lower() in IMAGE_EXTENSIONS


def iter_video_inputs(inputs: Iterable[str | os.PathLike]) -> Iterator[str]:
    """Expand folders (recursively, sorted, video extensions) and globs over videos; streams,
    webcam indices, image-sequence patterns and files are yielded as given (a missing file is
    yielded too, so that it becomes an error record)."""
    return expand_paths(inputs, VIDEO_EXTENSIONS, lambda text: is_stream(text) or is_webcam(text)
                        or is_sequence(text) or os.path.exists(text))


def check_sampling(fps: float | None, every: int | None) -> tuple[float | None, int | None]:
    """(fps, every) with at most one set; neither given means :data:`DEFAULT_FPS`."""
    if fps is not None and every is not None:
        raise ConfigError("give either fps (frames per second) or every (every Nth frame), not both")
    if every is not None and every < 1:
        raise ConfigError(f"every must be 1 or more, got {every}")
    if fps is not None and not fps > 0:
        raise ConfigError(f"fps must be above 0, got {fps}")
    return (DEFAULT_FPS if fps is None and every is None else fps), every


class VideoSource:
    """A video input and how to sample it; :meth:`frames` decodes it (once per call).

    ``spec`` is a file, an image-sequence pattern (``%05d`` or a glob over images, read at
    ``sequence_fps``), a webcam index (``"0"``) or a stream URL (rtsp, http, ...). ``timeout``
    bounds, in seconds, opening a stream and each read from it.
    """

    def __init__(self, spec: str | os.PathLike, fps: float | None = None, every: int | None = None,
                 max_pixels: int = DEFAULT_MAX_PIXELS, timeout: float = 10.0, sequence_fps: float = 25.0) -> None:
        self.name = os.fspath(spec)
        self.fps, self.every = check_sampling(fps, every)
        self.max_pixels, self.timeout, self.sequence_fps = max_pixels, timeout, sequence_fps
        self.live = is_stream(self.name) or is_webcam(self.name)
        self.width = self.height = None
        self.rate: float | None = None  # the source's average frame rate, when it declares one

    def _open(self):
        av = require("av", "video")
        name, kwargs = self.name, {}
        if is_webcam(name):
            if sys.platform.startswith("linux"):
                name, kwargs = f"/dev/video{name}", {"format": "v4l2"}
            elif sys.platform == "darwin":
                kwargs = {"format": "avfoundation"}
            else:
                raise VideoError(f"webcam {name}: webcam indices are supported on Linux and macOS; "
                                 "give the device as an FFmpeg input instead")
        elif is_sequence(name):
            options = {"framerate": str(self.sequence_fps)}
            if "%" not in name:
                options["pattern_type"] = "glob"
            kwargs = {"format": "image2", "options": options}
        elif not is_stream(name):
            if not os.path.exists(name):
                raise VideoError(f"{name}: no such file")
            if os.path.isdir(name):
                raise VideoError(f"{name}: is a directory with no video files")
            if os.path.getsize(name) == 0:
                raise VideoError(f"{name}: empty file (0 bytes)")
        what = f"webcam {self.name} ({name})" if is_webcam(self.name) else self.name
        started = time.monotonic()
        try:
            container = av.open(name, timeout=(self.timeout, self.timeout) if self.live else None, **kwargs)
        except (av.error.FFmpegError, OSError, ValueError) as exc:
            if self.live and (isinstance(exc, av.error.ExitError) or time.monotonic() - started >= self.timeout):
                raise VideoError(f"{what}: no answer within {self.timeout:g} s (timeout)") from None
            raise VideoError(f"{what}: cannot open as a video ({_reason(exc)})") from None
        if not container.streams.video:
            audio = len(container.streams.audio)
            container.close()
            what = f"audio only: {audio} audio stream(s)" if audio else "no streams FFmpeg can read"
            raise VideoError(f"{self.name}: no video stream ({what})")
        return av, container

    def frames(self) -> Iterator[Frame]:
        """The sampled frames, in order. Raises VideoError when the input cannot be opened, or
        when decoding stops early (truncated or corrupt data), after the frames decoded before."""
        av, container = self._open()
        try:
            yield from self._decode(av, container)
        finally:
            container.close()

    def _decode(self, av, container) -> Iterator[Frame]:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        ctx = stream.codec_context
        self.width, self.height = ctx.width or None, ctx.height or None
        if self.width and self.height:
            self._check_size(self.width, self.height, None, None)
        self.rate = float(stream.average_rate) if stream.average_rate else None
        expected, exact = _expected_frames(stream, container, self.rate)
        end_s = expected / self.rate if expected and self.rate else None  # no seeking past the end
        start = None
        index = -1
        next_t = 0.0  # fps mode: the time (from the start) of the next sample
        bad = bad_total = 0
        first_bad: tuple[int, float] | None = None
        last_t = 0.0
        seeked_to = -1.0
        packets = container.demux(stream)
        while True:
            try:
                packet = next(packets)
            except StopIteration:
                break
            except av.error.ExitError:
                raise VideoError(f"{self.name}: no data for {self.timeout:g} s (timeout)",
                                 index + 1, last_t) from None
            except av.error.FFmpegError as exc:
                raise VideoError(f"{self.name}: reading stopped at frame {index + 1} (t={last_t:.2f} s): "
                                 f"{_reason(exc)}", index + 1, last_t) from None
            try:
                decoded = packet.decode()
                bad = 0
            except av.error.FFmpegError as exc:
                bad, bad_total = bad + 1, bad_total + 1
                first_bad = first_bad or (index + 1, last_t)
                if bad >= MAX_BAD_PACKETS:
                    raise VideoError(f"{self.name}: decoding stopped at frame {index + 1} (t={last_t:.2f} s): "
                                     f"{_reason(exc)}", index + 1, last_t) from None
                continue
            for frame in decoded:
                t = frame.time if frame.time is not None else (index + 1) / (self.rate or self.sequence_fps)
                if start is None:
                    start = t
                last_t = t - start
                index = index + 1 if frame.pts is None or self.rate is None or self.every \
                    else max(index + 1, round(last_t * self.rate))
                if self.every is not None:
                    take = index % self.every == 0
                else:
                    take = last_t >= next_t - 1e-6
                    if take:
                        next_t = max(next_t + 1 / self.fps, last_t + 0.5 / self.fps)
                if take:
                    self._check_size(frame.width, frame.height, index, last_t)
                    yield Frame(index, last_t, frame.to_ndarray(format="rgb24"))
                elif (self.fps is not None and not self.live and next_t - last_t > SEEK_GAP_S
                      and next_t != seeked_to and stream.time_base and (end_s is None or next_t < end_s)):
                    seeked_to = next_t  # once per sample: the key frame before it may be further back
                    try:
                        container.seek(int((start + next_t) / stream.time_base), stream=stream, backward=True)
                    except av.error.FFmpegError:
                        continue  # not seekable: decode on
                    packets = container.demux(stream)
                    break
        problems = []
        if expected and not self.live and index + 1 < (expected if exact else 0.9 * expected):
            problems.append(f"{index + 1} of {'' if exact else '~'}{expected} frames decoded, the last at "
                            f"t={last_t:.2f} s")
        if bad_total and first_bad is not None:
            problems.append(f"{bad_total} packet(s) could not be decoded, the first at frame {first_bad[0]} "
                            f"(t={first_bad[1]:.2f} s)")
        if problems:
            where = first_bad or (index + 1, last_t)
            raise VideoError(f"{self.name}: truncated or corrupt: " + "; ".join(problems), *where)

    def _check_size(self, width: int, height: int, index: int | None, time_s: float | None) -> None:
        if width * height > self.max_pixels:
            raise VideoError(f"{self.name}: {width}x{height} = {width * height:,} pixels per frame is over "
                             f"the limit of {self.max_pixels:,} (raise max_pixels to allow it)", index, time_s)


def _expected_frames(stream, container, rate: float | None) -> tuple[int | None, bool]:
    """How many frames the container says the stream holds, and whether that is an exact count
    (a frame index) or an estimate from the duration; (None, False) when it does not say."""
    if stream.frames:
        return int(stream.frames), True
    if rate and stream.duration and stream.time_base:
        return round(float(stream.duration * stream.time_base) * rate), False
    if rate and container.duration:
        return round(container.duration / 1_000_000 * rate), False
    return None, False


def _reason(exc: BaseException) -> str:
    text = getattr(exc, "strerror", None) or str(exc)
    return text.split(": '", 1)[0] if isinstance(text, str) else str(exc)
