"""Annotated images: numbered boxes, landmarks and a label block per face, laid out so that
labels stay inside the image and never cover another label or a face where any free place
exists (crowds: the place that covers least; a leader line then joins label and face)."""

from __future__ import annotations

import cv2
import numpy as np

from .output import describe
from .types import ImageResult

Rect = tuple[int, int, int, int]  # x1, y1, x2, y2

_FONT = cv2.FONT_HERSHEY_SIMPLEX
_BOX = (0, 220, 0)
_TEXT = (255, 255, 255)
_PANEL = (24, 24, 24)
_PAD = 3


def _overlap(a: Rect, b: Rect) -> int:
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    return max(0, w) * max(0, h)


def _candidates(box: Rect, w: int, h: int, width: int, height: int, gap: int) -> list[Rect]:
    """Places for a w x h label around ``box``, nearest first, clamped into the image."""
    x1, y1, x2, y2 = box
    spots = []
    for ring in range(4):  # 0: touching the box, then further out
        d = gap + ring * (h // 2 + gap)
        for x, y in ((x1, y2 + d), (x1, y1 - d - h), (x2 + d, y1), (x1 - d - w, y1),
                     (x2 - w, y2 + d), (x2 - w, y1 - d - h), (x2 + d, y2 - h), (x1 - d - w, y2 - h)):
            x = min(max(0, x), max(0, width - w))
            y = min(max(0, y), max(0, height - h))
            spots.append((x, y, x + w, y + h))
    # then anywhere in the image, nearest first (a leader line joins such a label to its face)
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    grid = [(x, y, x + w, y + h) for x in range(0, max(1, width - w + 1), max(4, w // 4))
            for y in range(0, max(1, height - h + 1), max(4, h // 4))]
    grid.sort(key=lambda r: (r[0] + w / 2 - cx) ** 2 + (r[1] + h / 2 - cy) ** 2)
    return list(dict.fromkeys(spots + grid))


def layout(boxes: list[Rect], sizes: list[tuple[int, int]], width: int, height: int, gap: int = 3) -> list[Rect]:
    """One label rectangle per face: the first candidate that covers no label or face, else
    the one covering least (labels count 4x a face: reading matters most)."""
    placed: list[Rect] = []
    for box, (w, h) in zip(boxes, sizes):
        best, best_cost = None, None
        for rank, spot in enumerate(_candidates(box, w, h, width, height, gap)):
            cost = 4 * sum(_overlap(spot, p) for p in placed) + sum(_overlap(spot, f) for f in boxes)
            if cost == 0:
                best = spot
                break
            if best_cost is None or cost < best_cost:
                best, best_cost = spot, cost
        placed.append(best if best is not None else (0, 0, w, h))
    return placed


def _style(width: int, height: int) -> tuple[int, float]:
    thick = max(1, round(max(height, width) / 700))
    return thick, max(0.4, 0.45 * thick)


def label_blocks(result: ImageResult, width: int, height: int,
                 tags: list[str] | None = None) -> list[tuple[Rect, list[str]]]:
    """Per face: where its label goes in a ``width`` x ``height`` image, and its lines (each
    starting with the face's tag: ``tags[i]``, or its number ``#i``)."""
    thick, scale = _style(width, height)
    tags = tags or [f"#{i + 1}" for i in range(len(result.faces))]
    texts = [[tag] + describe(f.attributes).split(" | ") for tag, f in zip(tags, result.faces)]
    texts = [[f"{t[0]} {t[1]}", *t[2:]] if len(t) > 1 else t for t in texts]
    (_, line_h), base = cv2.getTextSize("Ag", _FONT, scale, thick)
    sizes = [(max(cv2.getTextSize(t, _FONT, scale, thick)[0][0] for t in lines) + 2 * _PAD,
              (line_h + base + 2) * len(lines) + 2 * _PAD) for lines in texts]
    boxes: list[Rect] = [tuple(round(v) for v in f.bbox) for f in result.faces]  # type: ignore[misc]
    return list(zip(layout(boxes, sizes, width, height), texts))


def annotate(image: np.ndarray, result: ImageResult, tags: list[str] | None = None) -> np.ndarray:
    """A copy of ``image`` (RGB) with numbered boxes, landmarks and readable attribute labels
    (``tags``: what each label starts with instead of the face's number, e.g. a track id)."""
    out = image.copy()
    height, width = out.shape[:2]
    thick, scale = _style(width, height)
    (_, line_h), base = cv2.getTextSize("Ag", _FONT, scale, thick)
    boxes = [tuple(round(v) for v in f.bbox) for f in result.faces]
    for box, face in zip(boxes, result.faces):
        cv2.rectangle(out, box[:2], box[2:], _BOX, thick)
        for x, y in face.landmarks or ():
            cv2.circle(out, (int(x), int(y)), thick + 1, (255, 64, 0), -1)
    for box, (rect, lines) in zip(boxes, label_blocks(result, width, height, tags)):
        x1, y1, x2, y2 = rect
        panel = out[y1:y2, x1:x2]
        panel[:] = (0.25 * panel + 0.75 * np.array(_PANEL)).astype(np.uint8)
        cv2.rectangle(out, (x1, y1), (x2 - 1, y2 - 1), _BOX, 1)
        if _overlap(rect, (box[0] - 4, box[1] - 4, box[2] + 4, box[3] + 4)) == 0:  # not touching: leader
            tx, ty = min(max((x1 + x2) // 2, box[0]), box[2]), min(max((y1 + y2) // 2, box[1]), box[3])
            cv2.line(out, (min(max(tx, x1), x2 - 1), min(max(ty, y1), y2 - 1)), (tx, ty), _BOX, 1, cv2.LINE_AA)
        for j, text in enumerate(lines):
            org = (x1 + _PAD, y1 + _PAD + line_h + j * (line_h + base + 2))
            cv2.putText(out, text, org, _FONT, scale, _TEXT, thick, cv2.LINE_AA)
    return out
