"""Writing what a video became: per-track summaries (JSON or CSV), thumbnails, and an annotated
video re-encoded with PyAV. Every writer writes as it goes (a track when it ends, a frame when
it is analysed) so that an interrupted run keeps what was done; the JSON array of tracks is
closed by :meth:`TracksWriter.close`.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
from fractions import Fraction
from pathlib import Path

import numpy as np

from ..errors import ConfigError, require
from ..types import Face, ImageResult
from .analyze import FrameResult
from .track import Track, Tracker

TRACK_COLUMNS = ("path", "track", "first_frame", "last_frame", "first_time_s", "last_time_s", "frames",
                 "gender", "gender_score", "age_years", "age_group", "age_group5", "age_score",
                 "race", "race_score", "emotion", "emotion_score", "appearance", "appearance_score", "thumbnail")


def track_row(path: str, track: Track) -> dict:
    """One CSV row (the TRACK_COLUMNS) for a track: its span and averaged attributes."""
    row: dict = {c: None for c in TRACK_COLUMNS}
    row.update(path=path, track=track.id, first_frame=track.first_frame, last_frame=track.last_frame,
               first_time_s=round(track.first_time_s, 3), last_time_s=round(track.last_time_s, 3),
               frames=track.frames, thumbnail=track.thumbnail)
    for name, pred in track.attributes.items():
        row["age_group" if name == "age" else name] = pred.label
        row[f"{name}_score"] = round(pred.score, 4)
        if name == "age":
            row["age_years"] = None if pred.years is None else round(pred.years, 2)
            row["age_group5"] = pred.group5
    return row


class TracksWriter:
    """Tracks to FILE.json (one JSON array, written track by track) or FILE.csv (one row each)."""

    def __init__(self, target: str | os.PathLike) -> None:
        path = Path(target)
        self.csv = path.suffix.lower() == ".csv"
        if not self.csv and path.suffix.lower() != ".json":
            raise ConfigError(f"--tracks {target}: use a name ending in .json or .csv")
        path.parent.mkdir(parents=True, exist_ok=True)
        self._fp = open(path, "w", newline="" if self.csv else None, encoding="utf-8")  # noqa: SIM115
        self._first = True
        if self.csv:
            self._csv = csv.DictWriter(self._fp, TRACK_COLUMNS)
            self._csv.writeheader()
        else:
            self._fp.write("[")
        self._fp.flush()

    def write(self, path: str, track: Track) -> None:
        if self.csv:
            self._csv.writerow(track_row(path, track))
        else:
            self._fp.write(("\n" if self._first else ",\n") + json.dumps({"path": path} | track.to_dict()))
            self._first = False
        self._fp.flush()

    def close(self) -> None:
        if not self.csv:
            self._fp.write("\n]\n")
        self._fp.close()


def save_thumbnail(track: Track, folder: Path, stem: str) -> str | None:
    """Save the track's best face crop as ``folder/STEM-track-N.jpg``; returns its path."""
    from PIL import Image

    if track.best_crop is None:
        return None
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{stem}-track-{track.id}.jpg"
    Image.fromarray(track.best_crop).save(path, quality=90)
    track.best_crop = None  # written: free it
    track.thumbnail = str(path)
    return track.thumbnail


def encoder_name() -> str:
    """The encoder annotated videos are written with: libx264 (H.264) if the PyAV wheel has it,
    else libopenh264, else MPEG-4 Part 2 (FFmpeg's own mpeg4, in every build)."""
    av = require("av", "video")
    for name in ("libx264", "libopenh264", "mpeg4"):
        with contextlib.suppress(av.codec.codec.UnknownCodecError):
            av.codec.Codec(name, "w")
            return name
    return "mpeg4"


# x264's default preset (medium) holds ~140 MB more at 720p than veryfast (measured with /usr/bin/time
# on `facescan video --annotate` over a 12-s 720p clip: 644 vs 501 MB peak), for 7% smaller files
_X264_OPTIONS = {"preset": "veryfast"}


class AnnotatedVideo:
    """Each analysed frame with boxes, track ids and labels averaged over the track so far,
    encoded at the sampled frame rate (only analysed frames are decoded to pixels)."""

    def __init__(self, target: str | os.PathLike, fps: float) -> None:
        self.av = require("av", "video")
        self.path = Path(target)
        if self.path.suffix.lower() not in (".mp4", ".mkv", ".mov", ".avi", ".webm"):
            raise ConfigError(f"--annotate {target}: use a name ending in .mp4, .mkv, .mov or .avi")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.codec = encoder_name()
        self.fps = fps
        self._out = self._stream = None
        self._n = 0

    def write(self, result: FrameResult, tracker: Tracker | None) -> None:
        from ..annotate import annotate

        if result.image is None:
            return
        faces = result.faces
        tags = None
        if tracker is not None and result.tracks is not None:
            faces = [Face(f.bbox, f.score, f.landmarks, tracker.smoothed(t) or f.attributes)
                     for f, t in zip(result.faces, result.tracks)]
            tags = [f"#{t}" for t in result.tracks]
        image = annotate(result.image, ImageResult(result.path, faces), tags)
        self._encode(image)

    def _encode(self, image: np.ndarray) -> None:
        av = self.av
        if self._out is None:
            self._out = av.open(str(self.path), "w")
            self._stream = self._out.add_stream(self.codec, rate=Fraction(self.fps).limit_denominator(1000))
            self._stream.width, self._stream.height = image.shape[1] // 2 * 2, image.shape[0] // 2 * 2
            self._stream.pix_fmt = "yuv420p"
            if self.codec == "libx264":
                self._stream.options = _X264_OPTIONS
        w, h = self._stream.width, self._stream.height
        if (image.shape[0] // 2 * 2, image.shape[1] // 2 * 2) != (h, w):  # the size changed: fit the first
            import cv2

            image = cv2.resize(image, (w, h))
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image[:h, :w]), format="rgb24")
        frame.pts = self._n
        self._n += 1
        self._out.mux(self._stream.encode(frame))

    def close(self) -> None:
        if self._out is not None:
            self._out.mux(self._stream.encode(None))
            self._out.close()
            self._out = None
