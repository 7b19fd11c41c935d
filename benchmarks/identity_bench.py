"""Identity embedders on LFW-a View-2 (accuracy, ROC AUC, TAR at FAR) and their speed beside
the attribute pipeline.

    python benchmarks/identity_bench.py [--write BENCHMARKS.md] [--models sface,sface-fast,dlib]
        [--fusion sface,dlib] [--speed-images 300] [--json FILE]

Accuracy: every image of ../shared/data/lfw/pairs.txt is embedded once (YuNet's face nearest
the centre, else the central box: counted), pairs scored by cosine distance, thresholds chosen
on the other folds (`facescan.eval.verification.view2`, the code behind `facescan eval
--dataset lfw:`). A fusion row concatenates the L2-normalised embeddings of the ``--fusion``
models (equal weights), measured on the same embeddings. ``--json`` saves every embedder's
View-2 metrics (thresholds and calibrations included: the source of ``identity/verify.py``'s
table). Speed: faces per second of each embedder on the
same faces (alignment included, detection excluded), then whole-pipeline images per second on
the first N LFW-a images: detection + the default attribute models, with and without each
embedder.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np
from report import measured, publish  # benchmarks/ is on sys.path when run as a script

from facescan.datasets import read_lfw_pairs
from facescan.eval.lfw import embed_images
from facescan.eval.verification import view2
from facescan.identity import DEFAULT_EMBEDDER, normalise

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("FACESCAN_DATA", ROOT.parent / "shared" / "data"))


def pipeline_speed(paths: list[str], embed: str | bool) -> float:
    """Images per second of the default Analyzer (detection + attributes [+ embedding])."""
    from facescan import Analyzer

    analyzer = Analyzer(embed=embed)
    list(analyzer.analyze_many(paths[:8]))  # warm up
    start = time.perf_counter()
    for _ in analyzer.analyze_many(paths):
        pass
    return len(paths) / (time.perf_counter() - start)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--write", help="save results/identity.json and regenerate this file (BENCHMARKS.md) from benchmarks/results/")
    ap.add_argument("--models", default="sface,sface-fast,dlib", help="embedders, comma-separated")
    ap.add_argument("--fusion", default="sface,dlib", help="embedders whose concatenation is scored too")
    ap.add_argument("--json", help="save every embedder's metrics to this file")
    ap.add_argument("--speed-images", type=int, default=300, help="LFW-a images for the pipeline speed rows")
    args = ap.parse_args()
    start = time.perf_counter()
    models = [m for m in args.models.split(",") if m]
    pairs = read_lfw_pairs(DATA / "lfw")
    paths = sorted({p for pair in pairs for p in (pair.path_a, pair.path_b)})
    index = {p: i for i, p in enumerate(paths)}
    vectors, missed, speed = embed_images(paths, models)
    fusion = [m for m in args.fusion.split(",") if m in models]
    if len(fusion) > 1:
        fused = "+".join(fusion)
        vectors[fused] = normalise(np.hstack([vectors[m] for m in fusion]))
        speed[fused] = 1 / sum(1 / speed[m] for m in fusion)
    a = np.array([index[p.path_a] for p in pairs])
    b = np.array([index[p.path_b] for p in pairs])
    same, fold = np.array([p.same for p in pairs]), np.array([p.fold for p in pairs])
    rows = {}
    for name, v in vectors.items():
        rows[name] = view2(1.0 - np.einsum("ij,ij->i", v[a], v[b]), same, fold)
    if args.json:
        Path(args.json).write_text(json.dumps({n: {**m, "faces_per_s": speed[n]} for n, m in rows.items()},
                                              indent=2) + "\n")
    pipe = {"attributes only (default Analyzer)": pipeline_speed(paths[:args.speed_images], False)}
    for m in models:
        pipe[f"attributes + {m} embedding"] = pipeline_speed(paths[:args.speed_images], m)

    m0 = rows[models[0]]
    fars = [t["far"] for t in m0["tar_at_far"]]
    meta = measured("python benchmarks/identity_bench.py", time.perf_counter() - start)
    lines = [(f"LFW-a View-2 as shared here: {len(pairs)} pairs in {m0['folds']} folds "
              f"({m0['n_different']} different-person pairs, so FAR 1e-3 allows no false accept at all: "
              f"marked *), {len(paths)} images, YuNet found no face in {len(missed)} (central box used). "
              "Accuracy: threshold chosen on the other folds, mean ± std over folds. Default embedder: "
              f"`{DEFAULT_EMBEDDER}`."), "",
             "| embedder | accuracy | ROC AUC | " + " | ".join(f"TAR @ FAR {f:g}" for f in fars)
             + " | threshold (FAR / FRR, all pairs) | faces/s (embedding only) |",
             "|---|---|---|" + "---|" * len(fars) + "---|---|"]
    for name, m in rows.items():
        tars = " | ".join(f"{100 * t['tar']:.1f}%{'' if t['meaningful'] else '*'}" for t in m["tar_at_far"])
        th = m["threshold"]
        lines.append(f"| {name} | {100 * m['accuracy']:.2f}% ± {100 * m['accuracy_std']:.2f} | "
                     f"{m['roc_auc']:.4f} | {tars} | {th['value']:.3f} ({100 * th['far']:.2f}% / "
                     f"{100 * th['frr']:.2f}%) | {speed[name]:.1f} |")
    lines += ["", (f"Whole pipeline on the first {args.speed_images} LFW-a images (250x250, one face each; "
                   "2 threads):"), "", "| pipeline | images/s |", "|---|---|"]
    lines += [f"| {name} | {v:.1f} |" for name, v in pipe.items()]
    publish("identity", meta, "\n".join(lines), args.write)


if __name__ == "__main__":
    main()
