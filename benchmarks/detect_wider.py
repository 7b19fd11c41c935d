"""Face detection on real group and crowd photos with hand-drawn face boxes: WIDER FACE `val`.
Recall by face height, false boxes, average precision, milliseconds per photo; the default,
the previous default and other choices in the same run, on the photos as published (1024 px
wide) and shrunk to 512 px wide (as many real group photos are: half the face sizes).

    FACESCAN_WIDER=../wider python benchmarks/detect_wider.py [--every 8] [--part report] [--write BENCHMARKS.md]

WIDER FACE (Yang, Luo, Loy, Tang, CVPR 2016; non-commercial research use) is not in
``../shared/data``: docs/development.md says how to fetch it (``WIDER_val/images/`` and
``wider_face_split/wider_face_val_bbx_gt.txt``, its published layout). The photos are taken in
order and split in two parts: ``tune`` (even positions of every ``--every``-th photo) for
choosing settings and ``report`` (odd positions) for the numbers reported, so a choice is never
judged on the photos it was tuned on.

A detection matches a true face at IoU >= 0.4 (the judge's rule), greedily by score
(``detect_groups.match``). Faces the
annotators marked invalid, and faces under ``MIN_FACE`` px tall (which no detector here finds),
are "ignored": a detection on one counts neither way, as in WIDER's own evaluation. Average
precision (AP) is the area under the precision-recall curve of all photos' detections ranked
by score (all-point interpolation). YuNet was trained on WIDER FACE `train`: `val` is the
standard test of such detectors, not an unseen domain.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import cv2
import numpy as np
from detect_groups import average_precision, match  # benchmarks/ is on sys.path when run as a script
from PIL import Image
from report import measured, publish

ROOT = Path(__file__).resolve().parents[1]
WIDER = Path(os.environ.get("FACESCAN_WIDER", ROOT.parent / "wider"))
MIN_FACE = 10  # px tall, at the size the detector sees
SIZES = (("10-16 px", 10, 16), ("16-24 px", 16, 24), ("24-48 px", 24, 48), ("48 px and more", 48, 1e9))
# recall rows by the annotators' labels: (row, column of the gt line, value)
KINDS = (("partly covered", 8, 1), ("heavily covered", 8, 2), ("odd pose (lying, upside down, turned away)", 9, 1),
         ("heavy blur", 4, 2))
# the smallest faces counted in the "cut by the photo's border" row (px tall)
CUT_MIN = 24
# column name -> (detector, --detect-scales)
DETECTORS = {"yunet auto (default)": ("yunet", "auto"), "yunet auto before mirror (previous default)": None,
             "yunet 1 pass": ("yunet", "1"), "yunet 1,2": ("yunet", "1,2"), "mtcnn": ("mtcnn", None),
             "yunet+mtcnn": ("yunet+mtcnn", None)}
Box = tuple[float, float, float, float]


def read_truth(path: Path) -> list[tuple[str, np.ndarray, np.ndarray, np.ndarray]]:
    """(image path relative to WIDER_val/images, boxes x1 y1 x2 y2, invalid flags, the label
    columns) per photo of a ``wider_face_*_bbx_gt.txt``: a name line, a count line, then ``x y w
    h blur expression illumination invalid occlusion pose`` per face (one line of zeros when the
    count is 0)."""
    lines = path.read_text().split("\n")
    out, i = [], 0
    while i < len(lines) and lines[i].strip():
        name, count = lines[i].strip(), int(lines[i + 1])
        rows = np.array([[int(v) for v in lines[i + 2 + k].split()[:10]] for k in range(max(count, 1))]).reshape(-1, 10)
        rows = rows[:count]
        boxes = np.column_stack([rows[:, 0], rows[:, 1], rows[:, 0] + rows[:, 2], rows[:, 1] + rows[:, 3]]).astype(float)
        out.append((name, boxes, (rows[:, 7] == 1) | (rows[:, 2] <= 0) | (rows[:, 3] <= 0), rows))
        i += 2 + max(count, 1)
    return out


def photos(every: int, part: str, width: int | None,
           cut_only: bool = False) -> list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """(RGB photo, face boxes, ignored flags, label columns) of the chosen part, resized to
    ``width`` px wide (boxes with it) when given; ``cut_only``: only the photos holding a face
    cut by the border (:data:`CUT_MIN` px or more, as published)."""
    from facescan.io import load_image

    chosen = read_truth(WIDER / "wider_face_split" / "wider_face_val_bbx_gt.txt")[::every]
    if cut_only:
        def has_cut(name: str, boxes: np.ndarray, invalid: np.ndarray) -> bool:
            with Image.open(WIDER / "WIDER_val" / "images" / name) as img:  # reads the header only
                w, h = img.size
            return bool((cut_by_border(boxes, (h, w)) & ~invalid).any())

        chosen = [c for c in chosen if has_cut(*c[:3])]
    chosen = chosen[0::2] if part == "tune" else chosen[1::2]
    out = []
    for name, boxes, invalid, labels in chosen:
        img = load_image(WIDER / "WIDER_val" / "images" / name)
        if width and img.shape[1] != width:
            f = width / img.shape[1]
            img = cv2.resize(img, (width, max(1, round(img.shape[0] * f))), interpolation=cv2.INTER_AREA)
            boxes = boxes * f
        out.append((img, boxes, invalid | (boxes[:, 3] - boxes[:, 1] < MIN_FACE), labels))
    return out


def cut_by_border(boxes: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Which boxes of a photo of ``shape`` (height, width, ...) are faces of :data:`CUT_MIN` px
    or more touching its border (within 2 px): faces the frame cuts off."""
    h, w = shape[:2]
    touching = (boxes[:, 0] <= 2) | (boxes[:, 1] <= 2) | (boxes[:, 2] >= w - 3) | (boxes[:, 3] >= h - 3)
    return touching & (boxes[:, 3] - boxes[:, 1] >= CUT_MIN)


def measure(det, items: list) -> dict:
    heights = np.concatenate([b[:, 3] - b[:, 1] for _, b, _, _ in items])
    counted = ~np.concatenate([ign for _, _, ign, _ in items])
    labels = np.concatenate([lab for *_, lab in items])
    cut = np.concatenate([cut_by_border(b, img.shape) for img, b, _, _ in items])
    matched = np.zeros(len(heights), bool)
    scored, offset, seconds = [], 0, 0.0
    for img, truth, ignored, _ in items:
        start = time.perf_counter()
        found = det.detect(img)
        seconds += time.perf_counter() - start
        s, used = match(found, truth, ignored)
        scored += s
        matched[[offset + j for j in used]] = True
        offset += len(truth)
    hits = sum(h for _, h in scored)
    return {"recall": matched[counted].mean(),
            **{k: matched[counted & (heights >= lo) & (heights < hi)].mean() for k, lo, hi in SIZES},
            **{k: matched[counted & (labels[:, col] == v)].mean() for k, col, v in KINDS},
            f"cut by the photo's border ({CUT_MIN} px and more)": matched[counted & cut].mean(),
            "precision": hits / max(1, len(scored)), "false per photo": (len(scored) - hits) / len(items),
            "AP (IoU 0.4)": average_precision(scored, int(counted.sum())), "ms per photo": 1000 * seconds / len(items)}


def table(rows: dict, items: list, title: str) -> list[str]:
    heights = np.concatenate([b[:, 3] - b[:, 1] for _, b, _, _ in items])
    counted = ~np.concatenate([ign for _, _, ign, _ in items])
    names = list(rows)
    counts = ", ".join(f"{k}: {int((counted & (heights >= lo) & (heights < hi)).sum())}" for k, lo, hi in SIZES)
    cut = np.concatenate([cut_by_border(b, img.shape) for img, b, _, _ in items])
    counts += f"; cut by the border, {CUT_MIN} px and more: {int((counted & cut).sum())}"
    lines = [(f"{title}: {len(items)} photos, {int(counted.sum())} faces counted ({counts}); "
              f"{int((~counted).sum())} ignored (invalid, or under {MIN_FACE} px):"), "",
             "| | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for key in next(iter(rows.values())):
        fmt = (lambda v: f"{v:.2f}") if key == "false per photo" else (lambda v: f"{v:.0f}") if key.startswith("ms") \
            else (lambda v: f"{100 * v:.1f}%")
        lines.append(f"| {key} | " + " | ".join(fmt(rows[n][key]) for n in names) + " |")
    return lines


def detector(name: str):
    from facescan.detect import YuNet, make_detector

    return YuNet(fine_mirror=False) if DETECTORS[name] is None else make_detector(*DETECTORS[name])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--every", type=int, default=8, help="every N-th photo of WIDER FACE val (default 8)")
    ap.add_argument("--part", choices=("tune", "report"), default="report")
    ap.add_argument("--widths", default="512,1024", help="photo widths to run at (1024: as published)")
    ap.add_argument("--only", nargs="+", choices=list(DETECTORS), help="columns to run (default: all)")
    ap.add_argument("--cut-only", action="store_true", help="only the photos holding a face of 24 px or more "
                    "cut by the border (as published)")
    ap.add_argument("--write", help="save results/detect_wider.json and regenerate this file (BENCHMARKS.md)")
    args = ap.parse_args()
    start = time.perf_counter()
    lines: list[str] = []
    for width in (int(w) for w in args.widths.split(",")):
        items = photos(args.every, args.part, width, args.cut_only)
        rows = {name: measure(detector(name), items) for name in args.only or DETECTORS}
        lines += table(rows, items, f"WIDER FACE val ({args.part} part), photos {width} px wide") + [""]
    meta = measured(f"python benchmarks/detect_wider.py --every {args.every} --part {args.part} --widths {args.widths}"
                    + (" --cut-only" if args.cut_only else ""),
                    time.perf_counter() - start)
    publish("detect_wider", meta, "\n".join(lines).strip(), args.write)


if __name__ == "__main__":
    main()
