"""Face detection on composed group photos like many real ones (about 512 px wide, many
faces of 12-40 px, most of them masked): recall by face size, false boxes, average precision,
milliseconds per photo; the default, the previous default and other choices in the same run.

    python benchmarks/detect_groups.py [--photos 40] [--seed 0] [--write BENCHMARKS.md]

Each photo is 512 px wide and 320-400 px tall, a blurred, enlarged other photo as background,
with 8-30 heads from the 200 FairFace photos of ``../shared/data`` (face, hair and neck, blended
in through a soft ellipse) on a jittered grid: face heights 12-40 px (half under 24), 60% of
them wearing a mask (a plain light blue, white, dark or denim shape from the bridge of the nose
to under the chin, shaded, with straps), a fifth turned 10-25 degrees in the image plane, half
mirrored. A detection matches a true face at IoU >= 0.4, greedily by score; average precision (AP) is the area under the
precision-recall curve of all photos' detections ranked by score (all-point interpolation,
as PASCAL VOC since 2010).
"""

from __future__ import annotations

import argparse
import time

import cv2
import numpy as np
from detect_bench import DATA, Box, background, paste  # benchmarks/ is on sys.path when run as a script
from detect_real import timed
from report import measured, publish

from facescan.detect import Detection, iou
from facescan.detect.yunet import mirrored

FAIRFACE = DATA / "fairface" / "train"
MASKS = ((172, 204, 232), (236, 236, 236), (32, 32, 36), (120, 150, 190))
# column name -> (detector, --detect-scales)
DETECTORS = {"yunet auto (default)": ("yunet", "auto"), "yunet 1 pass (before, photos up to 640 px)": ("yunet", "1"),
             "yunet 1,2": ("yunet", "1,2"), "yunet 1,2.5": ("yunet", "1,2.5"), "mtcnn": ("mtcnn", None),
             "yunet+mtcnn": ("yunet+mtcnn", None)}
SIZES = (("under 24 px", 0, 24), ("24-40 px", 24, 99))


def heads(limit: int) -> list[tuple[np.ndarray, Box, tuple]]:
    """(photo, face box, 5 landmarks) for FairFace photos in which YuNet finds one face (the 200
    in ../shared/data hold the head with hair and neck: what a face in a group photo shows)."""
    from facescan.detect import YuNet
    from facescan.io import load_image

    det = YuNet(scales=(1.0,))
    out = []
    for path in sorted(FAIRFACE.glob("*.jpg"))[:limit]:
        img = load_image(path)
        found = det.detect(img)
        if len(found) == 1 and found[0].landmarks:
            out.append((img, found[0].bbox, found[0].landmarks))
    return out


def place(canvas: np.ndarray, head: tuple, face: float, x: float, y: float, angle: float, masked: bool,
          rng: np.random.Generator) -> Box:
    """Paste the head so its face box is ``face`` px tall with its top-left at (x, y), rotated
    by ``angle`` degrees, blended in through a soft ellipse around the head; a mask drawn on
    the photo first when ``masked``. Returns the true face box."""
    img, box, marks = head
    img = img.copy()
    if masked:
        mask(img, box, marks, rng)
    bw, bh = box[2] - box[0], box[3] - box[1]
    alpha = np.zeros(img.shape[:2], np.float32)
    cv2.ellipse(alpha, (int((box[0] + box[2]) / 2), int((box[1] + box[3]) / 2 - 0.08 * bh)),
                (int(0.66 * bw), int(0.8 * bh)), 0, 0, 360, 1.0, -1)
    return paste(canvas, img, box, face, x, y, angle, cv2.GaussianBlur(alpha, (0, 0), 0.08 * bh))


def mask(img: np.ndarray, box: Box, marks: tuple, rng: np.random.Generator) -> None:
    """A face mask from the bridge of the nose to under the chin, shaded, with ear straps."""
    x1, y1, x2, y2 = box
    w, h = x2 - x1, y2 - y1
    nose_y = marks[2][1]
    top, bottom = nose_y - 0.1 * h, y2 + 0.04 * h
    cx = (marks[3][0] + marks[4][0]) / 2
    layer = np.zeros(img.shape[:2], np.uint8)
    cv2.rectangle(layer, (int(x1 + 0.06 * w), int(top)), (int(x2 - 0.06 * w), int(nose_y + 0.05 * h)), 255, -1)
    cv2.ellipse(layer, (int(cx), int(nose_y)), (int(0.44 * w), int(bottom - nose_y)), 0, 0, 180, 255, -1)
    colour = np.array(MASKS[int(rng.integers(len(MASKS)))], np.float32)
    rows = np.linspace(1.05, 0.8, img.shape[0], dtype=np.float32)[:, None, None]  # light from above
    shaded = np.clip(colour * rows + rng.normal(0, 4, img.shape), 0, 255)
    inside = cv2.GaussianBlur(layer, (0, 0), 1.0)[..., None] / 255.0
    img[:] = (img * (1 - inside) + shaded * inside).astype(np.uint8)
    strap = tuple(int(v * 0.85) for v in colour)
    for side in (x1, x2):
        cv2.line(img, (int(side), int(top + 0.05 * h)), (int(x1 + 0.06 * w if side == x1 else x2 - 0.06 * w),
                                                        int(top + 0.05 * h)), strap, max(1, int(0.02 * h)))


def group_photos(n: int, pool: list, seed: int) -> list[tuple[np.ndarray, list[Box], list[bool]]]:
    """(photo, true face boxes, whether each face is masked)"""
    rng = np.random.default_rng([seed, 512])
    out = []
    for _ in range(n):
        w, h = 512, int(rng.integers(320, 401))
        canvas = background(rng, pool, h, w)
        count = int(rng.integers(8, 31))
        cols = int(np.ceil(np.sqrt(count * w / h)))
        rows = int(np.ceil(count / cols))
        boxes: list[Box] = []
        masks = []
        for k in range(count):
            img, box, marks = pool[int(rng.integers(len(pool)))]
            if rng.random() < 0.5:
                iw = img.shape[1]
                flipped = mirrored(Detection(box, 0.0, marks), iw)
                img, box, marks = img[:, ::-1].copy(), flipped.bbox, flipped.landmarks
            face = rng.uniform(12, 24) if rng.random() < 0.5 else rng.uniform(24, 40)
            cw, ch = w / cols, h / rows
            x = (k % cols) * cw + rng.uniform(0, max(1.0, cw - face * 1.2))
            y = (k // cols) * ch + rng.uniform(0, max(1.0, ch - face * 1.2))
            masked = rng.random() < 0.6
            angle = float(rng.uniform(10, 25) * rng.choice([-1, 1])) if rng.random() < 0.2 else 0.0
            boxes.append(place(canvas, (img, box, marks), face, x, y, angle, masked, rng))
            masks.append(masked)
        out.append((canvas, boxes, masks))
    return out


def match(found: list, truth, ignored=None) -> tuple[list[tuple[float, bool]], set[int]]:  # type: ignore[no-untyped-def]
    """(score, true positive) per counted detection, best score first, and the true faces
    matched (IoU >= 0.4, greedily by score). ``ignored``: a flag per true face; a detection whose
    match is an ignored face counts neither way (WIDER FACE's rule for its invalid faces)."""
    used: set[int] = set()
    scored = []
    for d in sorted(found, key=lambda d: -d.score):
        best, j = max(((iou(d.bbox, t), j) for j, t in enumerate(truth) if j not in used), default=(0.0, -1))
        hit = best >= 0.4
        if hit:
            used.add(j)
        if not (hit and ignored is not None and ignored[j]):
            scored.append((d.score, hit))
    return scored, used if ignored is None else {j for j in used if not ignored[j]}


def average_precision(scored: list[tuple[float, bool]], positives: int) -> float:
    """Area under the precision-recall curve (all-point interpolation)."""
    hits = np.array([h for _, h in sorted(scored, key=lambda s: -s[0])], bool)
    tp, fp = np.cumsum(hits), np.cumsum(~hits)
    recall = np.concatenate([[0.0], tp / max(positives, 1), [1.0]])
    precision = np.concatenate([[1.0], tp / np.maximum(tp + fp, 1), [0.0]])
    precision = np.maximum.accumulate(precision[::-1])[::-1]
    return float(np.sum((recall[1:] - recall[:-1]) * precision[1:]))


def main() -> None:
    from facescan.detect import make_detector

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--photos", type=int, default=40)
    ap.add_argument("--seed", type=int, default=0, help="another seed gives other photos (for tuning)")
    ap.add_argument("--only", nargs="+", choices=list(DETECTORS), help="columns to run (default: all)")
    ap.add_argument("--write", help="save results/detect_groups.json and regenerate this file (BENCHMARKS.md)")
    args = ap.parse_args()
    start = time.perf_counter()
    photos = group_photos(args.photos, heads(200), args.seed)
    faces = [b for _, boxes, _ in photos for b in boxes]
    heights = np.array([b[3] - b[1] for b in faces])
    masked = np.array([m for *_, masks in photos for m in masks])
    rows = {}
    for name in args.only or DETECTORS:
        det = make_detector(*DETECTORS[name])
        scored, matched, offset = [], np.zeros(len(faces), bool), 0
        for img, truth, _ in photos:
            s, used = match(det.detect(img), truth)
            scored += s
            matched[[offset + j for j in used]] = True
            offset += len(truth)
        hits = sum(h for _, h in scored)
        row = {"recall": matched.mean(), **{k: matched[(heights >= lo) & (heights < hi)].mean() for k, lo, hi in SIZES},
               "masked": matched[masked].mean(), "not masked": matched[~masked].mean(),
               "precision": hits / max(1, len(scored)), "false per photo": (len(scored) - hits) / len(photos),
               "AP (IoU 0.4)": average_precision(scored, len(faces)), "ms per photo": timed(det, photos[0][0], 1.5)}
        rows[name] = row
    names = list(rows)
    meta = measured(f"python benchmarks/detect_groups.py --photos {args.photos} --seed {args.seed}",
                    time.perf_counter() - start)
    lines = [(f"{args.photos} composed group photos, 512 px wide, {len(faces)} faces of 12-40 px "
              f"({int((heights < 24).sum())} under 24 px; 60% masked); a face is found at IoU >= 0.4:"), "",
             "| | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for key in next(iter(rows.values())):
        fmt = (lambda v: f"{v:.2f}") if key in ("false per photo",) else (lambda v: f"{v:.1f}") if key.startswith("ms") \
            else (lambda v: f"{100 * v:.1f}%")
        lines.append(f"| {key} | " + " | ".join(fmt(rows[n][key]) for n in names) + " |")
    publish("detect_groups", meta, "\n".join(lines), args.write)


if __name__ == "__main__":
    main()
