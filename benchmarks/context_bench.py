"""Attribute accuracy on faces seen as tight chips and in context, same faces, same run.

    python benchmarks/context_bench.py [--limit N] [--write BENCHMARKS.md]

UTKFace chips are cropped tight; faces in photos come with hair, shoulders, clothes and a
background around them. Each face of facescan's UTKFace `test` split is analysed twice by each
backend, with detection, as a user would: the chip itself, and the chip pasted into a random
surrounding (facescan.train.context.in_context, seed 7: not the seed the models were trained
with, and `test` faces were never trained on). Faces the detector misses in either view are
left out of both. Fixed seed: the same run gives the same numbers on the same machine.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np
from report import measured, publish  # benchmarks/ is on sys.path when run as a script
from summarize import face_in

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("FACESCAN_DATA", ROOT.parent / "shared" / "data"))
BACKENDS = ("facescan", "facescan-v2", "faceapi")
SEED = 7


def run(limit: int | None) -> dict:
    from facescan import Analyzer
    from facescan.datasets import read_utkface
    from facescan.detect import YuNet
    from facescan.io import load_image
    from facescan.labels import age_group5
    from facescan.train.context import in_context

    samples = list(read_utkface(DATA / "utkface", "test"))[:limit]
    detector = YuNet()
    analyzers = {b: Analyzer(["gender", "age", "race"], backend=b) for b in BACKENDS}
    hits = {(b, v): [] for b in BACKENDS for v in ("chip", "context")}
    left_out = 0
    for i, s in enumerate(samples):
        chip = load_image(s.path)
        rng = np.random.default_rng([SEED, i])
        placed = in_context(chip, load_image(samples[int(rng.integers(len(samples)))].path), detector, rng)
        if placed is None:
            left_out += 1
            continue
        views = {"chip": (chip, (0, 0, chip.shape[1], chip.shape[0])), "context": (placed[0], placed[1])}
        found = {}
        for b in BACKENDS:
            for v, (img, box) in views.items():
                faces = analyzers[b].analyze(img)
                k = face_in(faces, box)
                found[(b, v)] = None if k is None else faces[k]
        if any(f is None for f in found.values()):
            left_out += 1
            continue
        truth = s.labels
        for key, f in found.items():
            a = f.attributes
            hits[key].append((a["gender"].label == truth["gender"],
                              a["race"].label == truth["race"] if "race" in a else None,
                              abs(a["age"].years - truth["age"]),
                              age_group5(a["age"].years) == age_group5(truth["age"])))
    return {"hits": hits, "n": len(samples), "left_out": left_out}


def table(result: dict) -> str:
    hits, n = result["hits"], result["n"]
    out = [(f"UTKFace `test`: {n - result['left_out']} of {n} faces "
            f"(left out: missed by the detector in a view, {result['left_out']})."), "",
           "| backend | gender chip / context | race chip / context | age MAE chip / context | 5 age groups (of the years) chip / context |",
           "|---|---|---|---|---|"]
    for b in BACKENDS:
        cells = []
        for k, fmt in ((0, "{:.1f}%"), (1, "{:.1f}%"), (2, "{:.2f}"), (3, "{:.1f}%")):
            vals = []
            for v in ("chip", "context"):
                col = [h[k] for h in hits[(b, v)] if h[k] is not None]
                scale = 1 if k == 2 else 100
                vals.append(fmt.format(scale * float(np.mean(col))) if col else "-")
            cells.append(" / ".join(vals) if vals[0] != "-" else "-")
        out.append(f"| {b} | " + " | ".join(cells) + " |")
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--limit", type=int, help="only the first N faces")
    ap.add_argument("--write", help="save results/context.json and regenerate this file (BENCHMARKS.md) from benchmarks/results/")
    args = ap.parse_args()
    start = time.perf_counter()
    result = run(args.limit)
    command = "python benchmarks/context_bench.py" + (f" --limit {args.limit}" if args.limit else "")
    publish("context", measured(command, time.perf_counter() - start), table(result), args.write)


if __name__ == "__main__":
    main()
