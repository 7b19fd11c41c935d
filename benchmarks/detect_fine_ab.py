"""Speed of YuNet "auto" with its second look at different scales, interleaved in one process
(so the machine's load hits both alike): the check that a change to the second look leaves
chips and ordinary photos as fast as before.

    python benchmarks/detect_fine_ab.py [--scales 2,2.5]

Images: a UTKFace chip, detect_bench's first "size 64-128" scene at 200x200, 640x480 and its
own 1280x720, and its first "size 16-24" scene (1280x720). Median of 5 rounds of 0.6 s each.
"""

from __future__ import annotations

import argparse
import time

import cv2
import numpy as np
from detect_bench import chips, scenes

from facescan.detect import yunet


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scales", default="2,2.5", help="values of yunet.FINE_SCALE to compare")
    args = ap.parse_args()
    factors = [float(v) for v in args.scales.split(",")]
    pool = chips(300, 0)
    scene = scenes("size 64-128", 1, pool, 0)[0][0]
    images = {"chip 200x200": pool[0][0], "200x200": cv2.resize(scene, (200, 200)),
              "640x480": cv2.resize(scene, (640, 480)), "1280x720": scene,
              "1280x720, faces of 16-24 px": scenes("size 16-24", 1, pool, 0)[0][0]}
    det = yunet.YuNet()
    ms: dict[tuple[str, float], list[float]] = {}
    for _ in range(5):
        for factor in factors:
            yunet.FINE_SCALE = factor
            for name, img in images.items():
                det.detect(img)
                start, reps = time.perf_counter(), 0
                while time.perf_counter() - start < 0.6:
                    det.detect(img)
                    reps += 1
                ms.setdefault((name, factor), []).append(1000 * (time.perf_counter() - start) / reps)
    print("| image | " + " | ".join(f"second look {f:g}x (ms)" for f in factors) + " | change |")
    print("|---|" + "---|" * (len(factors) + 1))
    for name in images:
        values = [float(np.median(ms[(name, f)])) for f in factors]
        change = 100 * (values[-1] / values[0] - 1)
        print(f"| {name} | " + " | ".join(f"{v:.1f}" for v in values) + f" | {change:+.0f}% |")


if __name__ == "__main__":
    main()
