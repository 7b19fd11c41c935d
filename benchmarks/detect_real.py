"""Face detection on real photos: recall on FairFace train photos (each holds one face: a miss is
a miss), by how far the face is turned; false faces on photos without any; milliseconds per
1280x720 photo. The default, the previous default and MTCNN in the same run.

    FACESCAN_FAIRFACE=../fairface/fair_face python benchmarks/detect_real.py [--every 10] [--write BENCHMARKS.md]

FairFace: every N-th photo the CSV lists (``--every``; the folder from ``fetch`` holding
``fairface_label_train.csv`` and ``train/``; default ``../shared/data/fairface``, whose 200
photos are a start). How far a face is turned is estimated from the 5 landmarks that MTCNN (or,
where it finds none, the previous default) puts on it: ``|a - b| / (a + b)`` with ``a`` and
``b`` the horizontal distances from the nose to each eye: under 0.3 frontal, 0.3-0.7 turned,
from 0.7 profile (the nose beside both eyes); "no landmarks" where neither finds the face.
Photos without faces: scikit-image's bundled sample photos (BSD-3-Clause; the two with people,
astronaut and camera, left out, and the synthetic test patterns), each as it is, mirrored,
twice the size and as two quarter crops.
"""

from __future__ import annotations

import argparse
import csv
import os
import time
from pathlib import Path

import cv2
import numpy as np
from report import measured, publish  # benchmarks/ is on sys.path when run as a script

ROOT = Path(__file__).resolve().parents[1]
FAIRFACE = Path(os.environ.get("FACESCAN_FAIRFACE", ROOT.parent / "shared" / "data" / "fairface"))
TURN = (("frontal", 0.0, 0.3), ("turned", 0.3, 0.7), ("profile", 0.7, 9.0))
NOT_PHOTOS = ("astronaut", "camera", "phantom", "microaneurysms", "chessboard", "logo", "text", "page")


def detectors() -> dict:
    from facescan.detect import MTCNN, YuNet, make_detector

    return {"default (yunet, MTCNN when none)": make_detector("yunet"),
            "yunet alone (before)": YuNet(rescue=False), "mtcnn": MTCNN(),
            "yunet+mtcnn": make_detector("yunet+mtcnn")}


def turn(landmarks) -> str:
    if not landmarks:
        return "no landmarks"
    (rx, _), (lx, _), (nx, _) = landmarks[:3]
    a, b = abs(nx - rx), abs(nx - lx)
    r = abs(a - b) / max(a + b, 1e-6)
    return next(name for name, lo, hi in TURN if lo <= r < hi)


def fairface_photos(every: int) -> list[Path]:
    with open(FAIRFACE / "fairface_label_train.csv", newline="") as fp:
        files = [FAIRFACE / row["file"] for row in csv.DictReader(fp)]
    return [f for f in files if f.exists()][::every]


def faceless_photos() -> list[np.ndarray]:
    import skimage

    out = []
    for f in sorted((Path(skimage.__file__).parent / "data").glob("*.[pj][np]g")):
        if any(k in f.name for k in NOT_PHOTOS):
            continue
        img = cv2.imread(str(f), cv2.IMREAD_COLOR)[:, :, ::-1]
        h, w = img.shape[:2]
        out += [img, img[:, ::-1], cv2.resize(img, (2 * w, 2 * h)), img[:h // 2, :w // 2], img[h // 2:, w // 2:]]
    return [np.ascontiguousarray(i) for i in out]


def timed(det, frame: np.ndarray, seconds: float = 2.0) -> float:
    """Milliseconds per detection of ``frame`` (``seconds`` of repeats after one warm-up)."""
    det.detect(frame)
    t0, reps = time.perf_counter(), 0
    while time.perf_counter() - t0 < seconds:
        det.detect(frame)
        reps += 1
    return 1000 * (time.perf_counter() - t0) / reps


def main() -> None:
    from facescan.io import load_image

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--every", type=int, default=10, help="every N-th FairFace photo (1: all)")
    ap.add_argument("--write", help="save results/detect_real.json and regenerate this file (BENCHMARKS.md) from benchmarks/results/")
    args = ap.parse_args()
    start = time.perf_counter()
    dets = detectors()
    names = list(dets)
    photos = fairface_photos(args.every)
    found = {n: [] for n in names}
    turns = []
    for path in photos:
        img = load_image(path)
        boxes = {n: d.detect(img) for n, d in dets.items()}
        for n in names:
            found[n].append(bool(boxes[n]))
        marks = (boxes["mtcnn"] or boxes["yunet alone (before)"] or [None])[0]
        turns.append(turn(marks.landmarks if marks else None))
    faceless = faceless_photos()
    false = {n: sum(len(d.detect(img)) for img in faceless) for n, d in dets.items()}
    frames = {"with a face": cv2.resize(load_image(photos[0]), (1280, 720)),
              "without one": cv2.resize(faceless[0], (1280, 720))}
    ms = {(n, k): timed(d, frame) for n, d in dets.items() for k, frame in frames.items()}
    groups = ["all", *(t[0] for t in TURN), "no landmarks"]
    meta = measured(f"python benchmarks/detect_real.py --every {args.every}", time.perf_counter() - start)
    lines = [(f"FairFace train photos with their face found ({len(photos)} photos, every {args.every}-th listed; "
              "how far the face is turned from MTCNN's landmarks); false faces on "
              f"{len(faceless)} photos without a face; milliseconds per 1280x720 photo (2 threads; a FairFace "
              "photo enlarged, and a sample photo without a face, where the default runs its rescue too):"), "",
             "| | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for g in groups:
        idx = [i for i, t in enumerate(turns) if g == "all" or t == g]
        if not idx:
            continue
        cells = [f"{100 * np.mean([found[n][i] for i in idx]):.2f}% ({sum(not found[n][i] for i in idx)} missed)"
                 for n in names]
        lines.append(f"| {g} (n={len(idx)}) | " + " | ".join(cells) + " |")
    lines.append(f"| false faces on {len(faceless)} photos without one | " + " | ".join(str(false[n]) for n in names) + " |")
    for k in frames:
        lines.append(f"| ms per 1280x720 photo {k} | " + " | ".join(f"{ms[n, k]:.1f}" for n in names) + " |")
    publish("detect_real", meta, "\n".join(lines), args.write)


if __name__ == "__main__":
    main()
