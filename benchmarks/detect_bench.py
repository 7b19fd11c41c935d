"""Face detection: recall and precision per condition on composed scenes with known boxes, and
on real photos; milliseconds per photo by size.

    python benchmarks/detect_bench.py [--write BENCHMARKS.md] [--scenes 30]

Scenes are made here from real faces: UTKFace `test` chips (the face box in each chip is where
YuNet finds it on the chip alone; chips where it finds none are not used) pasted on a heavily
blurred, enlarged other photo. Conditions: face sizes from 16 px to filling the frame; faces cut
by each edge (20-45% of the box outside); a selfie (four faces of 150-250 px and a big one of
250-400 px, 25-50% of it past the bottom or right border); rotated 15-60 degrees; partly
covered (a block over 20-40% of the face); crowds of 20-50 faces of 24-60 px; the same scenes
grey or dark. A detection matches a true face at IoU >= 0.5 (rotated faces: its centre inside the true box and a size
within 0.5-2x, as the true box of a rotated face is not axis-aligned). Real photos: LFW-a and
CelebA test images, one labelled face each (background people are not labelled, so only recall
is counted: a detection whose centre lies in the middle third).
"""

from __future__ import annotations

import argparse
import math
import os
import time
from pathlib import Path

import cv2
import numpy as np
from detect_real import timed  # benchmarks/ is on sys.path when run as a script
from report import measured, publish

from facescan.detect import iou

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("FACESCAN_DATA", ROOT.parent / "shared" / "data"))
# column name -> (detector, --detect-scales)
DETECTORS = {"yunet auto (default)": ("yunet", "auto"), "yunet 1 pass (before)": ("yunet", "1"),
             "yunet 1,2": ("yunet", "1,2"), "mtcnn": ("mtcnn", None)}
Box = tuple[float, float, float, float]


def chips(n: int, seed: int) -> list[tuple[np.ndarray, Box]]:
    """(chip, face box in the chip) for n UTKFace test chips where YuNet finds one face alone."""
    from facescan.datasets import read_utkface
    from facescan.detect import YuNet
    from facescan.io import load_image

    det = YuNet(scales=(1.0,))
    paths = [s.path for s in read_utkface(DATA / "utkface", "test")]
    rng = np.random.default_rng(seed)
    out = []
    for i in rng.permutation(len(paths)):
        img = load_image(paths[i])
        found = det.detect(img)
        if len(found) == 1:
            out.append((img, found[0].bbox))
        if len(out) == n:
            break
    return out


def background(rng: np.random.Generator, pool: list, h: int, w: int) -> np.ndarray:
    img = pool[int(rng.integers(len(pool)))][0]
    small = cv2.GaussianBlur(cv2.resize(img, (32, 32), interpolation=cv2.INTER_AREA), (0, 0), 2)
    big = cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC).astype(np.float32)
    return np.clip(big + rng.normal(0, 6, big.shape), 0, 255).astype(np.uint8)


def paste(canvas: np.ndarray, chip: np.ndarray, box: Box, face: float, x: float, y: float,
          angle: float = 0.0, alpha: np.ndarray | None = None) -> Box:
    """Paste ``chip`` so its face box is ``face`` px tall with its top-left at (x, y), rotated
    by ``angle`` degrees about the face centre (the whole chip, or blended by ``alpha``: a
    weight 0-1 per chip pixel); returns the true face box (unrotated frame), clipped to the
    canvas."""
    scale = face / (box[3] - box[1])
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    tx, ty = x + (cx - box[0]) * scale, y + (cy - box[1]) * scale
    m = cv2.getRotationMatrix2D((cx, cy), angle, scale)
    m[0, 2] += tx - cx
    m[1, 2] += ty - cy
    h, w = canvas.shape[:2]
    warped = cv2.warpAffine(chip, m, (w, h), flags=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    if alpha is None:
        mask = cv2.warpAffine(np.full(chip.shape[:2], 255, np.uint8), m, (w, h)) > 128
        canvas[mask] = warped[mask]
    else:
        a = cv2.warpAffine(alpha, m, (w, h))[..., None]
        canvas[:] = (canvas * (1 - a) + warped * a).astype(np.uint8)
    fw, fh = (box[2] - box[0]) * scale, face
    return (max(0.0, tx - fw / 2), max(0.0, ty - fh / 2), min(float(w), tx + fw / 2), min(float(h), ty + fh / 2))


# four faces of 150-250 px and a fifth of 250-400 px cut by the bottom or right border
SELFIE = "selfie: big faces, one cut"


def scenes(kind: str, n: int, pool: list, seed: int) -> list[tuple[np.ndarray, list[Box]]]:
    rng = np.random.default_rng([seed, sum(map(ord, kind))])
    out = []
    for _ in range(n):
        if kind == "frame-filling":
            h, w = 600, 800
            canvas = background(rng, pool, h, w)
            chip, box = pool[int(rng.integers(len(pool)))]
            face = h * rng.uniform(0.6, 0.95)
            fw = face * (box[2] - box[0]) / (box[3] - box[1])
            out.append((canvas, [paste(canvas, chip, box, face, (w - fw) / 2 + rng.uniform(-40, 40),
                                       (h - face) / 2 + rng.uniform(-20, 20))]))
            continue
        h, w = 720, 1280
        canvas = background(rng, pool, h, w)
        if kind.startswith("size "):
            lo, hi = (int(v) for v in kind[5:].split("-"))
            count = 6
        elif kind == "crowd 20-50":
            count, lo, hi = int(rng.integers(20, 51)), 24, 60
        elif kind == SELFIE:
            count, lo, hi = 5, 150, 250
        else:
            count, lo, hi = 4, 60, 140
        boxes: list[Box] = []
        cols = max(1, math.ceil(math.sqrt(count * w / h)))
        rows = math.ceil(count / cols)
        for k in range(count):
            chip, box = pool[int(rng.integers(len(pool)))]
            face = rng.uniform(lo, hi)
            cw, ch = w / cols, h / rows
            x = (k % cols) * cw + rng.uniform(0, max(1.0, cw - face * 1.2))
            y = (k // cols) * ch + rng.uniform(0, max(1.0, ch - face * 1.2))
            angle = 0.0
            if kind == SELFIE and k == 4:  # big, 25-50% below the bottom or past the right border
                face = rng.uniform(250, 400)
                out_part = rng.uniform(0.25, 0.5) * face
                x, y = [(cw + rng.uniform(0, max(1.0, cw - face * 0.8)), h - face + out_part),
                        (w - face * 0.8 + out_part, max(ch, h - face))][int(rng.integers(2))]
            if kind == "cut by edges" and k < 4:  # one face per edge, 20-45% outside
                out_part = rng.uniform(0.2, 0.45) * face
                x, y = [(-out_part, h / 2 - face / 2), (w - face + out_part, h / 2 - face / 2),
                        (w / 2 - face / 2, -out_part), (w / 2 + face, h - face + out_part)][k]
            if kind == "rotated 15-60":
                angle = float(rng.uniform(15, 60) * rng.choice([-1, 1]))
            true = paste(canvas, chip, box, face, x, y, angle)
            if kind == "partly covered":
                bx1, by1, bx2, by2 = (int(v) for v in true)
                side = int(rng.integers(4))
                cover = rng.uniform(0.2, 0.4)
                bw, bh = bx2 - bx1, by2 - by1
                rect = [(bx1, by2 - int(bh * cover * 1.5), bx2, by2), (bx1, by1, bx1 + int(bw * cover * 1.5), by2),
                        (bx2 - int(bw * cover * 1.5), by1, bx2, by2), (bx1, by1 + int(bh * 0.35), bx2,
                                                                       by1 + int(bh * (0.35 + cover)))][side]
                canvas[rect[1]:rect[3], rect[0]:rect[2]] = rng.integers(0, 255, 3)
            boxes.append(true)
        out.append((canvas, boxes))
    return out


def variants(base: list[tuple[np.ndarray, list[Box]]], how: str) -> list[tuple[np.ndarray, list[Box]]]:
    if how == "grey":
        return [(np.repeat(cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)[..., None], 3, 2), b) for img, b in base]
    return [(np.clip(255 * (img / 255.0) ** 2.2 * 0.5, 0, 255).astype(np.uint8), b) for img, b in base]


def count(found: list[Box], truth: list[Box], rotated: bool) -> tuple[int, int]:
    """(true faces matched, detections matching none), greedy one-to-one."""
    used, hits = set(), 0
    for t in truth:
        for i, f in enumerate(found):
            if i in used:
                continue
            if rotated:
                cx, cy = (f[0] + f[2]) / 2, (f[1] + f[3]) / 2
                ratio = (f[3] - f[1]) / max(1e-9, t[3] - t[1])
                ok = t[0] <= cx <= t[2] and t[1] <= cy <= t[3] and 0.5 <= ratio <= 2
            else:
                ok = iou(f, t) >= 0.5
            if ok:
                used.add(i)
                hits += 1
                break
    return hits, len(found) - len(used)


def real_photos(limit: int) -> list[np.ndarray]:
    from facescan.datasets import open_dataset
    from facescan.io import load_image

    lfw = sorted((DATA / "lfw").glob("*/*.jpg"))[::7][:limit]
    celeba = [s.path for s in open_dataset(f"celeba:{DATA / 'celeba'}", "test")][:limit]
    return [load_image(p) for p in [*lfw, *celeba]]


def main() -> None:
    from facescan.detect import make_detector

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--write", help="save results/detect.json and regenerate this file (BENCHMARKS.md) from benchmarks/results/")
    ap.add_argument("--scenes", type=int, default=30, help="scenes per condition")
    ap.add_argument("--seed", type=int, default=0, help="another seed gives other scenes (for tuning)")
    ap.add_argument("--only", nargs="+", choices=list(DETECTORS), help="columns to run (default: all)")
    args = ap.parse_args()
    start = time.perf_counter()
    pool = chips(300, args.seed)
    kinds = ["size 16-24", "size 24-32", "size 32-64", "size 64-128", "size 128-256", "frame-filling",
             "cut by edges", SELFIE, "rotated 15-60", "partly covered", "crowd 20-50"]
    sets = {k: scenes(k, args.scenes, pool, args.seed) for k in kinds}
    mixed = sets["size 32-64"] + sets["size 64-128"]
    sets["grey"], sets["dark"] = variants(mixed, "grey"), variants(mixed, "dark")
    real = real_photos(300)
    dets = {name: make_detector(*DETECTORS[name]) for name in args.only or DETECTORS}
    rows = {}
    for name, det in dets.items():
        row = {}
        for kind, items in sets.items():
            hits = total = false = 0
            for img, truth in items:
                found = [d.bbox for d in det.detect(img)]
                h, f = count(found, truth, kind.startswith("rotated"))
                hits, total, false = hits + h, total + len(truth), false + f
            row[kind] = (hits / total, false / len(items))
        found = 0
        for img in real:
            h, w = img.shape[:2]
            found += any(w / 3 <= (d.bbox[0] + d.bbox[2]) / 2 <= 2 * w / 3 and h / 3 <= (d.bbox[1] + d.bbox[3]) / 2
                         <= 2 * h / 3 for d in det.detect(img))
        row["real: LFW-a + CelebA"] = (found / len(real), None)
        ms = {}
        for size in ((200, 200), (640, 480), (1280, 720), (1920, 1080), (4000, 3000)):
            ms[f"{size[0]}x{size[1]}"] = timed(det, cv2.resize(sets["size 64-128"][0][0], size), 1.5)
        rows[name] = (row, ms)
    names = list(rows)
    faces = sum(len(b) for k in kinds for _, b in sets[k])
    meta = measured(f"python benchmarks/detect_bench.py --scenes {args.scenes}", time.perf_counter() - start)
    lines = [(f"Recall at IoU 0.5 (false boxes per photo), {args.scenes} scenes per condition "
              f"({faces} faces in all); real photos: {len(real)} (recall only):"), "",
             "| condition | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for kind in [*sets, "real: LFW-a + CelebA"]:
        cells = []
        for name in names:
            r, fp = rows[name][0][kind]
            cells.append(f"{100 * r:.1f}%" + ("" if fp is None else f" ({fp:.2f})"))
        lines.append(f"| {kind} | " + " | ".join(cells) + " |")
    sizes = list(next(iter(rows.values()))[1])
    lines += ["", "Milliseconds per photo (detection only, 2 threads, the fastest of 4 rounds):", "",
              "| detector | " + " | ".join(sizes) + " |", "|---|" + "---|" * len(sizes)]
    for name in names:
        lines.append(f"| {name} | " + " | ".join(f"{rows[name][1][s]:.1f}" for s in sizes) + " |")
    publish("detect", meta, "\n".join(lines), args.write)


if __name__ == "__main__":
    main()
