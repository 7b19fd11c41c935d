"""Local backend: score every detected person against a parsed description, offline.

Each constraint gives a person a score in [0, 1] that reads as the probability that it holds:
gender, race and emotion take the model's probability of the accepted labels; an age range
takes the probability mass of the 9 age groups inside it (uniform within a group; 70+ spans
70-99); a colour takes the share of the clothing or hair region in that colour (60% of the
region counts as sure). A negated constraint scores one minus that. A person's score is the
product over constraints. Positions are relative to the people who fit the rest of the
description: "the woman on the left" is the leftmost woman, so a person's left score is the
probability that nobody to their left also fits; "second from the left" that exactly one
does; "front" that nobody with a clearly larger face fits.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..labels import AGE9, AGE9_START
from ..types import Face
from . import colors
from .parse import Constraint, Query
from .result import Candidate, TargetResult, attributes_of

FLOOR = 0.02               # no single constraint scores exactly 0 or 1
COLOUR_FULL = 0.6          # a region this much in the colour counts as sure
MATCHED = 0.5              # a constraint with this score or more is reported as matched
NO_MATCH_BELOW = 0.2       # the best person failing a constraint this badly: no match
AMBIGUOUS_RATIO = 0.5      # a runner-up scoring at least this fraction of the best: ambiguous
LARGER = 1.15              # a face this much taller is "in front"
POSITIONAL = ("position", "depth")
# hair colours the appearance model also judges (colour name -> its label)
HAIR_MODEL = {"black": "black_hair", "blonde": "blond_hair", "brown": "brown_hair", "grey": "gray_hair",
              "white": "gray_hair"}


@dataclass(frozen=True)
class Physical:
    """What is measured around one face in the image."""

    clothing: dict[str, float]
    hair: dict[str, float]
    x: float
    rank_from_left: int
    relative_size: float
    yaw: float | None
    roll: float | None

    @property
    def horizontal(self) -> str:
        return "left" if self.x < 1 / 3 else ("right" if self.x > 2 / 3 else "centre")

    @property
    def depth(self) -> str:
        return "front" if self.relative_size >= LARGER else (
            "back" if self.relative_size <= 1 / LARGER else "middle")

    def to_dict(self) -> dict[str, Any]:
        pose = None
        if self.yaw is not None and self.roll is not None:
            facing = "frontal" if abs(self.yaw) < 15 else (
                "turned to the viewer's right" if self.yaw > 0 else "turned to the viewer's left")
            pose = {"yaw": round(self.yaw, 1), "roll": round(self.roll, 1), "facing": facing}
        hair = colors.dominant(self.hair, hair=True, top=1)
        return {"clothing_colors": colors.dominant(self.clothing),
                "hair_color": hair[0]["name"] if hair else None,
                "position": {"horizontal": self.horizontal, "x": round(self.x, 3),
                             "rank_from_left": self.rank_from_left, "depth": self.depth,
                             "relative_size": round(self.relative_size, 3)},
                "head_pose": pose}


def head_pose(landmarks: tuple[tuple[float, float], ...] | None) -> tuple[float, float] | None:
    """Approximate (yaw, roll) in degrees from 5 landmarks: roll is the tilt of the eye line
    (positive: clockwise on screen); yaw from how far the nose sits from the eyes' midpoint,
    relative to half the eye distance (positive: turned to the viewer's right)."""
    if not landmarks or len(landmarks) < 3:
        return None
    (ex1, ey1), (ex2, ey2), (nx, _) = landmarks[0], landmarks[1], landmarks[2]
    eye = math.hypot(ex2 - ex1, ey2 - ey1)
    if eye < 1e-6:
        return None
    roll = math.degrees(math.atan2(ey2 - ey1, ex2 - ex1))
    offset = (nx - (ex1 + ex2) / 2) / (eye / 2)
    yaw = math.degrees(math.asin(max(-1.0, min(1.0, offset))))
    return yaw, roll


def measure_people(image: np.ndarray, faces: list[Face]) -> list[Physical]:
    h, w = image.shape[:2]
    heights = [f.bbox[3] - f.bbox[1] for f in faces]
    median = float(np.median(heights)) if heights else 1.0
    order = sorted(range(len(faces)), key=lambda i: (faces[i].bbox[0] + faces[i].bbox[2]))
    rank = {i: r + 1 for r, i in enumerate(order)}
    out = []
    for i, f in enumerate(faces):
        pose = head_pose(f.landmarks)
        out.append(Physical(
            clothing=colors.measure(image, colors.clothing_region(f.bbox, w, h)),
            hair=colors.measure(image, colors.hair_region(f.bbox, w, h), hair=True),
            x=(f.bbox[0] + f.bbox[2]) / 2 / w, rank_from_left=rank[i],
            relative_size=heights[i] / median if median > 0 else 1.0,
            yaw=None if pose is None else pose[0], roll=None if pose is None else pose[1]))
    return out


def _age_mass(probs: dict[str, float], low: float, high: float) -> float:
    total = 0.0
    for k, (label, start) in enumerate(zip(AGE9, AGE9_START)):
        end = AGE9_START[k + 1] if k + 1 < len(AGE9) else 100
        overlap = max(0.0, min(end, high + 1) - max(start, low))
        total += probs.get(label, 0.0) * overlap / (end - start)
    return total


def attribute_score(c: Constraint, face: Face, phys: Physical) -> float | None:
    """Probability that ``c`` (not positional) holds for this person; None if unmeasured."""
    if c.kind in ("gender", "emotion", "race", "appearance"):
        pred = face.attributes.get(c.kind)
        labels = c.labels or (c.value,)
        if pred is None or (pred.probs and not any(label in pred.probs for label in labels)):
            return None  # not measured, or a label this model cannot give (contempt for a 7-emotion model)
        p = sum(pred.probs.get(label, 0.0) for label in labels)
    elif c.kind == "age":
        pred = face.attributes.get("age")
        if pred is None:
            return None
        p = _age_mass(pred.probs, c.low or 0.0, c.high if c.high is not None else 200.0)
    elif c.kind in ("clothing_color", "hair_color"):
        hair = c.kind == "hair_color"
        shares = phys.hair if hair else phys.clothing
        if not shares:
            return None
        p = min(1.0, colors.share(shares, c.value, hair) / COLOUR_FULL)
        looks = face.attributes.get("appearance")
        model_name = HAIR_MODEL.get(c.value) if hair else None
        if looks is not None and model_name in looks.probs:  # the model's view counts as much
            p = (p + looks.probs[model_name]) / 2
    else:
        raise ValueError(f"not an attribute constraint: {c.kind}")
    p = min(1.0 - FLOOR, max(FLOOR, p))
    return 1.0 - p if c.negated else p


def _exactly(probs: list[float], k: int) -> float:
    """Probability that exactly k of independent events with these probabilities happen."""
    dist = [1.0] + [0.0] * len(probs)
    for p in probs:
        for n in range(len(probs), 0, -1):
            dist[n] = dist[n] * (1 - p) + dist[n - 1] * p
        dist[0] *= 1 - p
    return dist[k] if k < len(dist) else 0.0


def layout(faces: list[Face]) -> tuple[list[float], list[float]]:
    """Each face's horizontal centre and height, for :func:`position_score`."""
    return [(f.bbox[0] + f.bbox[2]) / 2 for f in faces], [f.bbox[3] - f.bbox[1] for f in faces]


def position_score(c: Constraint, i: int, cx: list[float], size: list[float], base: list[float]) -> float:
    """Score of a position/depth constraint for person i, given everyone's centres and heights
    (:func:`layout`) and non-positional scores ``base`` (the probability that each fits the
    rest of the description)."""
    others = [j for j in range(len(cx)) if j != i]
    if c.kind == "depth":
        if c.value == "front":
            rivals = [base[j] for j in others if size[j] > size[i] * LARGER]
        else:
            rivals = [base[j] for j in others if size[j] * LARGER < size[i]]
        p = _exactly(rivals, 0)
    elif c.value == "middle":
        left = sum(base[j] for j in others if cx[j] < cx[i])
        right = sum(base[j] for j in others if cx[j] > cx[i])
        p = math.exp(-((left - right) ** 2) / (2 * 0.75 ** 2))
    else:
        side, _, nth = c.value.partition(":")
        before = [base[j] for j in others if (cx[j] < cx[i] if side == "left" else cx[j] > cx[i])]
        p = _exactly(before, int(nth or 1) - 1)
    p = min(1.0 - FLOOR, max(FLOOR, p))
    return 1.0 - p if c.negated else p


def score_people(query: Query, faces: list[Face], physical: list[Physical]
                 ) -> list[list[tuple[Constraint, float | None]]]:
    """Per person, each constraint of the query with its score (None: could not be measured)."""
    attr = [[(c, attribute_score(c, f, ph)) for c in query.constraints if c.kind not in POSITIONAL]
            for f, ph in zip(faces, physical)]
    base = [math.prod(0.5 if s is None else s for _, s in row) for row in attr]
    cx, size = layout(faces)
    out = []
    for i, row in enumerate(attr):
        pos = [(c, position_score(c, i, cx, size, base)) for c in query.constraints if c.kind in POSITIONAL]
        scored = dict(row + pos)
        out.append([(c, scored[c]) for c in query.constraints])
    return out


def target_local(image: np.ndarray, faces: list[Face], query: Query) -> TargetResult:
    """Rank every face in ``image`` against ``query`` and decide the status."""
    physical = measure_people(image, faces)
    rows = score_people(query, faces, physical)
    candidates = []
    for i, (face, row) in enumerate(zip(faces, rows)):
        total = math.prod(0.5 if s is None else s for _, s in row)
        detail = tuple({**c.to_dict(), "score": None if s is None else round(s, 4),
                        "matched": None if s is None else s >= MATCHED} for c, s in row)
        candidates.append(Candidate(i, face.bbox, total, detail))
    ranked = tuple(sorted(candidates, key=lambda c: -c.score))
    desc = query.text
    if not faces:
        return TargetResult(desc, "local", "no_faces", "no face was found in the image", query=query)
    if not query.constraints:
        words = ", ".join(repr(w) for w in query.not_understood + query.unsupported) or "nothing"
        return TargetResult(desc, "local", "not_understood",
                            f"no part of the description was understood (words: {words})",
                            candidates=ranked, query=query)
    if query.contradictions:
        return TargetResult(desc, "local", "contradictory",
                            "the description cannot hold for one person: " + "; ".join(query.contradictions),
                            candidates=ranked, query=query)
    best = ranked[0]
    failed = [d for d in best.constraints if d["score"] is not None and d["score"] < NO_MATCH_BELOW]
    if failed:
        what = ", ".join(f"{d['words']!r} ({d['score']:.2f})" for d in failed)
        return TargetResult(desc, "local", "no_match",
                            f"nobody fits the description; the closest, person #{best.index + 1}, "
                            f"fails {what}", candidates=ranked, query=query)
    tied = tuple(c.index for c in ranked[1:] if c.score >= AMBIGUOUS_RATIO * best.score)
    person = {"attributes": attributes_of(faces[best.index]),
              "physical": physical[best.index].to_dict()}
    if tied:
        others = ", ".join(f"#{i + 1}" for i in tied)
        return TargetResult(desc, "local", "ambiguous",
                            f"person #{best.index + 1} (score {best.score:.2f}) and {others} "
                            f"fit about as well; add detail (position, clothing colour, age)",
                            best, ranked, tied, query, person)
    weak = [d for d in best.constraints if d["score"] is not None and d["score"] < MATCHED]
    unmeasured = [d["words"] for d in best.constraints if d["score"] is None]
    message = f"person #{best.index + 1} (score {best.score:.2f})" + (
        "; only partly fits " + ", ".join(f"{d['words']!r} ({d['score']:.2f})" for d in weak) if weak else "") + (
        "; not checked (the model does not measure it): " + ", ".join(map(repr, unmeasured)) if unmeasured else "")
    return TargetResult(desc, "local", "match", message, best, ranked, (), query, person)
