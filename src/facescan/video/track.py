"""Linking faces across sampled frames into tracks (one per person, as far as can be told).

Each active track predicts where its face is now (constant velocity from its last boxes);
detections and tracks are paired greedily, best pair first, by box overlap (IoU) plus centre
distance (in face sizes) and, when faces carry identity embeddings, cosine similarity: a pair
whose embeddings disagree (below ``embed_min``) is never linked, and one whose embeddings agree
strongly (``reid_sim``) is linked even where the boxes are apart (the person came back after an
occlusion). A track unseen for ``max_lost_s`` seconds has ended. Measured against supervision's
ByteTrack on the synthetic ground truth in ``benchmarks/video_bench.py`` (BENCHMARKS.md).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ..types import Face, Prediction
from .aggregate import Aggregate

Box = tuple[float, float, float, float]


def iou(a: Box, b: Box) -> float:
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    inter = w * h
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def _area(b: Box) -> float:
    return max(1e-6, (b[2] - b[0]) * (b[3] - b[1]))


@dataclass
class Track:
    """One person's face through the video: time span, boxes, and attributes averaged over the
    track (:attr:`attributes`); :attr:`predictions` keeps the per-frame ones when asked to."""

    id: int
    first_frame: int
    first_time_s: float
    last_frame: int = 0
    last_time_s: float = 0.0
    frames: int = 0
    boxes: list[tuple[int, float, Box]] | None = field(default_factory=list, repr=False)
    predictions: list[tuple[int, dict[str, Prediction]]] | None = field(default_factory=list, repr=False)
    thumbnail: str | None = None
    aggregate: Aggregate = field(default_factory=Aggregate, repr=False)
    best_crop: np.ndarray | None = field(default=None, repr=False)  # the face to make a thumbnail of
    _best: float = field(default=-1.0, repr=False)
    _emb: np.ndarray | None = field(default=None, repr=False)  # sum of the face embeddings
    _box: Box = field(default=(0.0, 0.0, 0.0, 0.0), repr=False)
    _vel: tuple[float, float] = field(default=(0.0, 0.0), repr=False)  # centre, pixels per second

    @property
    def attributes(self) -> dict[str, Prediction]:
        return self.aggregate.result()

    @property
    def last_box(self) -> Box:
        return self._box

    def embedding(self) -> np.ndarray | None:
        """The mean identity embedding of the track's faces (unit norm), or None."""
        return None if self._emb is None else self._emb / max(1e-12, float(np.linalg.norm(self._emb)))

    def predict(self, time_s: float) -> Box:
        """Where the face should be at ``time_s`` (constant velocity, at most 1 s ahead)."""
        dt = min(1.0, time_s - self.last_time_s)
        dx, dy = self._vel[0] * dt, self._vel[1] * dt
        x1, y1, x2, y2 = self._box
        return (x1 + dx, y1 + dy, x2 + dx, y2 + dy)

    def add(self, frame: int, time_s: float, face: Face, image: np.ndarray | None, keep: tuple[bool, bool],
            cut: bool = False) -> None:
        if self.frames:
            dt = time_s - self.last_time_s
            if dt > 0:
                (ax, ay), (bx, by) = _centre(self._box), _centre(face.bbox)
                v = ((bx - ax) / dt, (by - ay) / dt)
                w = 1.0 if self.frames == 1 else 0.6
                self._vel = (w * v[0] + (1 - w) * self._vel[0], w * v[1] + (1 - w) * self._vel[1])
        self.frames += 1
        self.last_frame, self.last_time_s, self._box = frame, time_s, face.bbox
        self.aggregate.add(face.attributes)
        if keep[0] and self.boxes is not None:
            self.boxes.append((frame, time_s, face.bbox))
        if keep[1] and self.predictions is not None:
            self.predictions.append((frame, face.attributes))
        if face.embedding is not None and not cut:
            e = np.asarray(face.embedding, np.float32)
            self._emb = e.copy() if self._emb is None else self._emb + e
        quality = face.score * math.sqrt(_area(face.bbox))
        if image is not None and quality > self._best:
            self._best, self.best_crop = quality, _crop(image, face.bbox)

    def to_dict(self) -> dict:
        out: dict = {"track": self.id, "first_frame": self.first_frame, "last_frame": self.last_frame,
                     "first_time_s": round(self.first_time_s, 3), "last_time_s": round(self.last_time_s, 3),
                     "frames": self.frames,
                     "attributes": {k: p.to_dict() for k, p in self.attributes.items()},
                     "thumbnail": self.thumbnail}
        if self.boxes:
            out["boxes"] = [[f, round(t, 3), *(round(v, 1) for v in b)] for f, t, b in self.boxes]
        if self.predictions:
            out["predictions"] = [{"frame": f, "attributes": {k: p.to_dict() for k, p in a.items()}}
                                  for f, a in self.predictions]
        return out


def _centre(b: Box) -> tuple[float, float]:
    return (b[0] + b[2]) / 2, (b[1] + b[3]) / 2


def _at_edge(box: Box, size: tuple[int, int] | None, margin: float = 2.0) -> bool:
    if size is None:
        return False
    h, w = size
    return box[0] <= margin or box[1] <= margin or box[2] >= w - margin or box[3] >= h - margin


def _crop(image: np.ndarray, box: Box, margin: float = 0.25) -> np.ndarray:
    h, w = image.shape[:2]
    mx, my = margin * (box[2] - box[0]), margin * (box[3] - box[1])
    x1, y1 = max(0, int(box[0] - mx)), max(0, int(box[1] - my))
    x2, y2 = min(w, int(box[2] + mx)), min(h, int(box[3] + my))
    return image[y1:max(y1 + 1, y2), x1:max(x1 + 1, x2)].copy()


# tracks seen in fewer analysed frames are not reported: the 3 hits that SORT and DeepSORT ask of
# a track before confirming it. False faces in a real classroom clip (the back of a head, a hair
# bun) made tracks one or two frames long (issue 27); at the default 5 frames per second a real
# face has to stay 0.4 s to be reported
MIN_FRAMES = 3


class Tracker:
    """Feed it each analysed frame in order (:meth:`update`); collect tracks as they end
    (:meth:`pop_ended`) and the rest at the end of the video (:meth:`finish`).

    ``keep_boxes``/``keep_predictions`` keep each track's per-frame boxes/predictions (memory
    grows with a track's length: the command line keeps boxes only, its frames file has the
    predictions); ``thumbnails`` keeps each track's best face crop. Tracks seen in fewer than
    ``min_frames`` analysed frames (default :data:`MIN_FRAMES`) are not returned (:attr:`dropped`
    counts them): a face seen once or twice is most often a false one (the back of a head, a
    pattern), and a real face seen that briefly tells little; their faces keep their track ids
    in the per-frame results.
    """

    def __init__(self, max_lost_s: float = 2.0, iou_min: float = 0.1, max_dist: float = 1.0,
                 embed_min: float = 0.25, reid_sim: float = 0.5, keep_boxes: bool = True,
                 keep_predictions: bool = True, thumbnails: bool = False, min_frames: int = MIN_FRAMES) -> None:
        self.max_lost_s, self.iou_min, self.max_dist = max_lost_s, iou_min, max_dist
        self.embed_min, self.reid_sim = embed_min, reid_sim
        self._keep = (keep_boxes, keep_predictions)
        self.thumbnails, self.min_frames, self.dropped = thumbnails, min_frames, 0
        self.active: list[Track] = []
        self._ended: list[Track] = []
        self._next_id = 1

    def _score(self, track: Track, face: Face, time_s: float, cut: bool) -> float | None:
        """How well ``face`` continues ``track`` (higher is better), None if it cannot."""
        pred = track.predict(time_s)
        ratio = _area(face.bbox) / _area(pred)
        if not 1 / 3 <= ratio <= 3:
            return None
        overlap = iou(pred, face.bbox)
        (ax, ay), (bx, by) = _centre(pred), _centre(face.bbox)
        dist = math.hypot(ax - bx, ay - by) / math.sqrt(math.sqrt(_area(pred) * _area(face.bbox)))
        near = overlap >= self.iou_min or dist <= self.max_dist
        score = overlap + max(0.0, 1.0 - dist)
        emb = track.embedding()
        if emb is not None and face.embedding is not None and not cut:
            sim = float(np.dot(emb, face.embedding))
            if sim < self.embed_min:
                return None
            return score + 2 * sim if near or sim >= self.reid_sim else None
        return score if near else None

    def update(self, frame: int, time_s: float, faces: Sequence[Face], image: np.ndarray | None = None,
               size: tuple[int, int] | None = None) -> list[int]:
        """Link the faces of one frame; returns each face's track id (in the order of ``faces``).
        The frame's ``size`` (height, width; or its ``image``) tells faces cut by the frame's
        edge, whose embeddings are not used (a half face's embedding is unreliable)."""
        size = image.shape[:2] if image is not None else size
        cut = [_at_edge(f.bbox, size) for f in faces]
        still = []
        for t in self.active:
            (still if time_s - t.last_time_s <= self.max_lost_s else self._ended).append(t)
        self.active = still
        pairs = []
        for ti, track in enumerate(self.active):
            for fi, face in enumerate(faces):
                score = self._score(track, face, time_s, cut[fi])
                if score is not None:
                    pairs.append((score, ti, fi))
        pairs.sort(key=lambda p: -p[0])
        used_t: set[int] = set()
        ids: list[int | None] = [None] * len(faces)
        for _, ti, fi in pairs:
            if ti in used_t or ids[fi] is not None:
                continue
            used_t.add(ti)
            ids[fi] = self.active[ti].id
            self.active[ti].add(frame, time_s, faces[fi], image if self.thumbnails else None, self._keep, cut[fi])
        for fi, face in enumerate(faces):
            if ids[fi] is None:
                track = Track(self._next_id, frame, time_s)
                self._next_id += 1
                track.add(frame, time_s, face, image if self.thumbnails else None, self._keep, cut[fi])
                self.active.append(track)
                ids[fi] = track.id
        return [i for i in ids if i is not None]

    def _kept(self, tracks: list[Track]) -> list[Track]:
        kept = [t for t in tracks if t.frames >= self.min_frames]
        self.dropped += len(tracks) - len(kept)
        return kept

    def pop_ended(self) -> list[Track]:
        """Tracks that ended since the last call (their person was not seen for max_lost_s)."""
        ended, self._ended = self._ended, []
        return self._kept(ended)

    def finish(self) -> list[Track]:
        """End every track (the video is over): the ones not collected yet, in order of id."""
        ended = sorted(self._ended + self.active, key=lambda t: t.id)
        self._ended, self.active = [], []
        return self._kept(ended)

    def smoothed(self, track_id: int) -> dict[str, Prediction]:
        """The attributes averaged so far over an active track (for labels that do not flicker)."""
        for t in self.active:
            if t.id == track_id:
                return t.attributes
        return {}
