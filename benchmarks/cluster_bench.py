"""Clustering faces by person on the shared LFW-a identities: BCubed and pairwise F1 of each
method (facescan.identity.cluster) over a range of cosine-distance thresholds.

    python benchmarks/cluster_bench.py [--model sface] [--write BENCHMARKS.md]

Every LFW-a image in ../shared/data/lfw (or $FACESCAN_DATA/lfw) is one face of the person its
folder names: the largest face YuNet finds, embedded by --model (images with no face found are
left out and counted).
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np
from report import measured, publish  # benchmarks/ is on sys.path when run as a script

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("FACESCAN_DATA", ROOT.parent / "shared" / "data"))


def lfw_embeddings(model: str) -> tuple[np.ndarray, list[str], int]:
    from facescan import Analyzer
    from facescan.identity import largest_face

    paths = sorted((DATA / "lfw").glob("*/*.jpg"))
    analyzer = Analyzer(attributes=(), embed=model)
    vecs, people, missed = [], [], 0
    for path, result in zip(paths, analyzer.analyze_many([str(p) for p in paths], batch_size=32)):
        if not result.faces:
            missed += 1
            continue
        vecs.append(result.faces[largest_face(result.faces)].embedding)
        people.append(path.parent.name)
    return np.stack(vecs), people, missed


def main() -> None:
    from facescan.eval.metrics import bcubed, pairwise_f1
    from facescan.identity.cluster import METHODS, cluster

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="sface")
    ap.add_argument("--thresholds", default="0.5,0.55,0.6,0.65,0.7,0.75")
    ap.add_argument("--write", help="save results/cluster.json and regenerate this file (BENCHMARKS.md) from benchmarks/results/")
    args = ap.parse_args()
    start = time.perf_counter()
    x, people, missed = lfw_embeddings(args.model)
    rows = []
    for method in METHODS:
        for t in [float(v) for v in args.thresholds.split(",")] if method != "hdbscan" else [None]:
            t0 = time.perf_counter()
            labels = cluster(x, threshold=t if t is not None else 0.0, method=method)
            s = time.perf_counter() - t0
            b, p = bcubed(people, labels), pairwise_f1(people, labels)
            rows.append((method, "-" if t is None else f"{t:.2f}", len(set(labels)), b, p, s))
    meta = measured(f"python benchmarks/cluster_bench.py --model {args.model}", time.perf_counter() - start)
    lines = [(f"{len(x)} LFW-a faces of {len(set(people))} people ({missed} images without a face found "
                  f"left out), embedded by `{args.model}`."), "",
             "| method | threshold | clusters | BCubed P / R / F1 | pairwise P / R / F1 | seconds |",
             "|---|---|---|---|---|---|"]
    best = max(rows, key=lambda r: r[3]["f1"])
    for method, t, n, b, p, s in rows:
        mark = "**" if (method, t) == best[:2] else ""
        lines.append(f"| {mark}{method}{mark} | {t} | {n} | {b['precision']:.3f} / {b['recall']:.3f} / "
                     f"{mark}{b['f1']:.3f}{mark} | {p['precision']:.3f} / {p['recall']:.3f} / {p['f1']:.3f} | {s:.2f} |")
    publish("cluster", meta, "\n".join(lines), args.write)


if __name__ == "__main__":
    main()
