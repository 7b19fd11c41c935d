"""Synthetic test clips with known ground truth: real face chips (e.g. UTKFace) moving over a
background, written with PyAV. Used by the tests and ``benchmarks/video_bench.py`` (not part of the
package: the product never makes test clips).

The script, in fractions ``u`` of the clip's length:

* person 0 enters from the left edge and leaves at the right edge (top lane);
* person 1 does the opposite in the same lane: the two cross at u=0.5, person 0 in front,
  so person 1 is hidden for a moment;
* person 2 stands in the bottom lane, drifting a little; a dark board passes in front of
  it between u=0.22 and u=0.42 (a short occlusion);
* person 3 enters from the right edge at u=0.45, stops, and leaves the same way after u=0.85.

Ground truth: per frame, the face box of every person at least :data:`MIN_VISIBLE` visible
(pixels not covered and inside the frame); the face box is the chip placed, scaled by
:data:`FACE_IN_CHIP` (where YuNet puts a face in a UTKFace chip, measured on 20 chips).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import numpy as np

from facescan.errors import require
from facescan.video.track import iou
from facescan.video.write import encoder_name

FACE_IN_CHIP = (0.09, -0.14, 0.93, 0.97)  # face box in chip coordinates (0..1), from YuNet
MIN_VISIBLE = 0.5
Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class Person:
    pid: int
    path: str
    labels: dict[str, object]  # the data set's own labels (e.g. gender, age, race)


@dataclass
class SynthClip:
    path: str
    width: int
    height: int
    fps: float
    frames: int
    people: list[Person]
    truth: list[list[tuple[int, Box]]] = field(repr=False)  # per frame: (pid, face box) of visible people

    def truth_at(self, time_s: float) -> list[tuple[int, Box]]:
        return self.truth[min(len(self.truth) - 1, round(time_s * self.fps))]


def pick_people(samples: Sequence, n: int = 4) -> list[Person]:
    """``n`` people from data set samples (with ``.path`` and ``.labels``), alternating genders,
    spread over the list so that ages and races vary."""
    by_gender: dict[object, list] = {}
    for s in samples:
        by_gender.setdefault(s.labels.get("gender"), []).append(s)
    lists = [sorted(g, key=lambda s: (float(s.labels.get("age", 0)), str(s.path))) for g in by_gender.values()]
    per = -(-n // len(lists))  # people per gender
    chosen = []
    for i in range(n):  # ages spread: the (j + 1)/(per + 1) quantiles of each gender
        group, j = lists[i % len(lists)], i // len(lists)
        chosen.append(group[(j + 1) * len(group) // (per + 1)])
    return [Person(i, str(s.path), dict(s.labels)) for i, s in enumerate(chosen)]


def _positions(u: float, w: int, h: int, s: int) -> dict[int, tuple[float, float]]:
    """Top-left corner of each person's chip at fraction ``u`` of the clip (absent: left out)."""
    top, bottom = 0.04 * h, h - s - 0.04 * h
    pos = {0: (-s + u * (w + s), top), 1: (w - u * (w + s), top),
           2: (0.06 * w + 0.04 * w * np.sin(6 * u), bottom)}
    stop = w - s - 0.06 * w
    if 0.45 <= u < 0.57:
        pos[3] = (w - (u - 0.45) / 0.12 * (w - stop), bottom)
    elif 0.57 <= u < 0.85:
        pos[3] = (stop, bottom)
    elif 0.85 <= u < 0.97:
        pos[3] = (stop + (u - 0.85) / 0.12 * (w - stop), bottom)
    return pos


def _background(w: int, h: int, rng: np.random.Generator) -> np.ndarray:
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    base = np.stack([90 + 60 * x / w, 110 + 40 * y / h, 140 - 50 * x / w], axis=2)
    blobs = rng.normal(0, 12, (h // 8 + 1, w // 8 + 1, 3)).repeat(8, 0).repeat(8, 1)[:h, :w]
    return np.clip(base + blobs, 0, 255).astype(np.uint8)


def _chip(path: str, s: int) -> np.ndarray:
    from PIL import Image

    from facescan.io import load_image

    return np.asarray(Image.fromarray(load_image(path)).resize((s, s), Image.BILINEAR))


def render(people: Sequence[Person], width: int, height: int, fps: float, seconds: float,
           face_frac: float = 0.4, seed: int = 0):
    """Yield (frame image, ground truth of the frame) for the script above."""
    s = int(face_frac * height)
    chips = {p.pid: _chip(p.path, s) for p in people}
    bg = _background(width, height, np.random.default_rng(seed))
    n = max(1, round(seconds * fps))
    bar_w = int(0.6 * s)
    for k in range(n):
        u = k / max(1, n - 1)
        img, owner = bg.copy(), np.full((height, width), -1, np.int16)
        pos = _positions(u, width, height, s)
        rects = {}
        for pid in (2, 3, 1, 0):  # back to front
            if pid not in pos or pid not in chips:
                continue
            x, y = round(pos[pid][0]), round(pos[pid][1])
            rects[pid] = (x, y)
            x1, y1, x2, y2 = max(0, x), max(0, y), min(width, x + s), min(height, y + s)
            if x2 > x1 and y2 > y1:
                img[y1:y2, x1:x2] = chips[pid][y1 - y:y2 - y, x1 - x:x2 - x]
                owner[y1:y2, x1:x2] = pid
        if 0.22 <= u <= 0.42:  # the board in front of person 2
            bx = round(-bar_w + (u - 0.22) / 0.2 * (0.06 * width + s + bar_w + 0.1 * width))
            x1, x2 = max(0, bx), min(width, bx + bar_w)
            if x2 > x1:
                img[int(0.45 * height):, x1:x2] = (40, 40, 48)
                owner[int(0.45 * height):, x1:x2] = -2
        truth = []
        for pid, (x, y) in sorted(rects.items()):
            if np.count_nonzero(owner == pid) >= MIN_VISIBLE * s * s:
                fx1, fy1, fx2, fy2 = FACE_IN_CHIP
                box = (max(0.0, x + fx1 * s), max(0.0, y + fy1 * s), min(width, x + fx2 * s), min(height, y + fy2 * s))
                truth.append((pid, box))
        yield img, truth


def write_frames(path: str | os.PathLike, frames, fps: float, codec: str | None = None) -> None:
    """Encode RGB frames with PyAV (H.264 when the wheel has libx264, else MPEG-4); an mp4
    gets its index at the front (faststart), so a cut-off copy still decodes up to the cut."""
    av = require("av", "video")
    path = Path(path)
    options = {"movflags": "+faststart"} if path.suffix.lower() in (".mp4", ".mov", ".m4v") else {}
    with av.open(str(path), "w", options=options) as out:
        stream = None
        for k, img in enumerate(frames):
            if stream is None:
                stream = out.add_stream(codec or encoder_name(), rate=Fraction(fps).limit_denominator(1000))
                stream.width, stream.height = img.shape[1] // 2 * 2, img.shape[0] // 2 * 2
                stream.pix_fmt = "yuv420p"
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(img[:stream.height, :stream.width]), format="rgb24")
            frame.pts = k
            out.mux(stream.encode(frame))
        if stream is not None:
            out.mux(stream.encode(None))


def make_clip(path: str | os.PathLike, people: Sequence[Person], width: int = 320, height: int = 240,
              fps: float = 10.0, seconds: float = 6.0, face_frac: float = 0.4, seed: int = 0) -> SynthClip:
    """Write the script above to ``path`` and return its ground truth."""
    truth: list[list[tuple[int, Box]]] = []

    def frames():
        for img, t in render(people, width, height, fps, seconds, face_frac, seed):
            truth.append(t)
            yield img

    write_frames(path, frames(), fps)
    return SynthClip(str(path), width, height, fps, len(truth), list(people), truth)


def write_tone(path: str | os.PathLike, seconds: float = 1.0) -> None:
    """An audio-only file (a 440 Hz tone), for testing inputs without a video stream."""
    av = require("av", "video")
    rate = 16000
    with av.open(str(path), "w") as out:
        stream = out.add_stream("aac", rate=rate)
        t = np.arange(int(seconds * rate)) / rate
        samples = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)[None, :]
        for i in range(0, samples.shape[1], 1024):
            frame = av.AudioFrame.from_ndarray(samples[:, i:i + 1024], format="fltp", layout="mono")
            frame.sample_rate, frame.pts = rate, i
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))


def score_tracks(clip: SynthClip, results: Sequence, iou_min: float = 0.5) -> dict:
    """Tracking scores of ``results`` (FrameResults of ``clip``, in order) against its ground
    truth, computed here (not by motmetrics): a face matches a visible person when their boxes
    overlap by ``iou_min`` IoU or more (best pairs first). IDF1 = 2 IDTP / (truth boxes +
    predicted boxes), with IDTP the matches kept by the best one-to-one mapping of people to
    track ids; ``switches``: a person's matched track id changing; ``fragmentations``: a
    person's matched track being interrupted and resumed; ``matches``: (frame result index,
    face index, pid) of every match, for per-frame checks."""
    from scipy.optimize import linear_sum_assignment

    n_truth = n_pred = 0
    pairs: dict[tuple[int, int], int] = {}
    matches: list[tuple[int, int, int]] = []
    last_id: dict[int, int] = {}
    last_seen: dict[int, bool] = {}
    switches = frags = 0
    for k, r in enumerate(results):
        if r.error is not None:
            continue
        truth = clip.truth_at(r.time_s)
        n_truth, n_pred = n_truth + len(truth), n_pred + len(r.faces)
        cand = sorted(((iou(box, f.bbox), pid, fi) for pid, box in truth for fi, f in enumerate(r.faces)), reverse=True)
        got: dict[int, int] = {}
        used: set[int] = set()
        for score, pid, fi in cand:
            if score >= iou_min and pid not in got and fi not in used:
                got[pid] = fi
                used.add(fi)
        for pid, _ in truth:
            if pid in got:
                tid = r.tracks[got[pid]] if r.tracks else -1
                pairs[(pid, tid)] = pairs.get((pid, tid), 0) + 1
                matches.append((k, got[pid], pid))
                switches += pid in last_id and last_id[pid] != tid
                frags += pid in last_id and not last_seen[pid]
                last_id[pid] = tid
            last_seen[pid] = pid in got
    pids = sorted({p for p, _ in pairs})
    tids = sorted({t for _, t in pairs})
    gain = np.array([[pairs.get((p, t), 0) for t in tids] for p in pids]) if pairs else np.zeros((0, 0))
    rows, cols = linear_sum_assignment(-gain) if gain.size else ([], [])
    idtp = int(sum(gain[r, c] for r, c in zip(rows, cols)))
    idf1 = 2 * idtp / max(1, n_truth + n_pred)
    return {"idf1": idf1, "idtp": idtp, "truth_boxes": n_truth, "pred_boxes": n_pred, "switches": switches,
            "fragmentations": frags, "tracks": len(tids), "matches": matches,
            "mapping": {pids[r]: tids[c] for r, c in zip(rows, cols)}}
