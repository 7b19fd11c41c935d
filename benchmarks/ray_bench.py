"""`facescan analyze` local vs `--engine ray` with 1 and 2 actors: images/s and faces/s on this
machine, and the per-actor rate the README's cluster projection starts from.

    flock /tmp/facescan-heavy.lock python benchmarks/ray_bench.py --images 2000 --write BENCHMARKS.md

Inputs: `--images` LFW-a photos (250x250, one or more faces each; a fixed spread over
../shared/data/lfw), written to Parquet as `facescan analyze DIR -o X.parquet` writes them.
"local" is the local pipeline in this process (model loading timed apart). For Ray, a local
cluster is started once (timed apart, as an existing cluster would be); each run's wall time
then covers the actors' start and model loading, reading, analysis and the Parquet parts.
"steady" leaves out the start-up: for Ray, the wall time of the same job on one image per
actor (actors started, models loaded), taken away from the full run's. Each run's rows are
checked against the local run's (same inputs, faces and labels).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from report import measured, publish  # benchmarks/ is on sys.path when run as a script

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("FACESCAN_DATA", ROOT.parent / "shared" / "data"))


def pick(n: int) -> list[str]:
    files = sorted(str(p) for p in (DATA / "lfw").glob("*/*.jpg"))
    if len(files) < n:
        sys.exit(f"only {len(files)} LFW-a images under {DATA / 'lfw'}")
    return files[:: len(files) // n][:n]


def labels(table) -> list[tuple]:
    rows = table.select(["path", "face", "gender", "age_group", "race", "emotion"]).to_pylist()
    return sorted(tuple(r.values()) for r in rows)


def run_local(paths: list[str], out: Path) -> dict:
    import pyarrow.parquet as pq

    from facescan import Analyzer
    from facescan.output import ParquetWriter

    start = time.perf_counter()
    analyzer = Analyzer()
    load = time.perf_counter() - start
    writer = ParquetWriter(out)
    for result in analyzer.analyze_many(paths):
        writer.write(result)
    writer.close()
    wall = time.perf_counter() - start
    table = pq.read_table(out)
    return {"name": "local (this process, ONNX Runtime on every core)", "wall": wall, "load": load,
            "steady": len(paths) / (wall - load), "faces": sum(f is not None for f in table.column("face").to_pylist()),
            "labels": labels(table)}


def run_ray(paths: list[str], out: Path, actors: int) -> dict:
    import pyarrow.parquet as pq

    from facescan.engines.ray import RayOptions, analyze_to_parquet

    opts = RayOptions(actors=actors)
    start = time.perf_counter()  # start-up: the same job on one image per actor
    analyze_to_parquet(paths[:actors], str(out.with_suffix(".startup")), {}, opts)
    startup = time.perf_counter() - start
    start = time.perf_counter()
    counts = analyze_to_parquet(paths, str(out), {}, opts)
    wall = time.perf_counter() - start
    table = pq.read_table(out)
    return {"name": f"`--engine ray --actors {actors}`", "wall": wall, "load": startup,
            "steady": len(paths) / (wall - startup), "faces": counts["faces"], "labels": labels(table)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--images", type=int, default=2000)
    ap.add_argument("--write", metavar="FILE", help="save results/ray.json and regenerate this file (BENCHMARKS.md) from benchmarks/results/")
    args = ap.parse_args()
    began = time.perf_counter()
    paths = pick(args.images)
    os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    import ray

    from facescan.engines.ray import connect

    with tempfile.TemporaryDirectory() as tmp:
        runs = [run_local(paths, Path(tmp) / "local.parquet")]
        t = time.perf_counter()
        connect(None)
        cluster_start = time.perf_counter() - t
        cpus = ray.cluster_resources().get("CPU")
        for actors in (1, 2):
            runs.append(run_ray(paths, Path(tmp) / f"ray{actors}.parquet", actors))
        ray.shutdown()
    for r in runs[1:]:
        r["same"] = r["labels"] == runs[0]["labels"]
    n = len(paths)
    per_actor = runs[1]["steady"]  # 1 actor, 1 CPU, 1 thread
    meta = measured(f"python benchmarks/ray_bench.py --images {args.images}", time.perf_counter() - began)
    lines = [(f"{n} LFW-a photos (250x250), {runs[0]['faces']} faces found; default backend and detector, output "
             f"Parquet. The local Ray cluster ({cpus:g} CPUs) took {cluster_start:.1f} s to start, not counted below. "
             "Ray actors get (CPUs - 1) / actors CPUs each (1 actor: 1 CPU, 2 actors: 0.5 each) and as many "
             "ONNX Runtime / OpenCV threads (at least 1)."), "",
             "| run | wall s | images/s | faces/s | steady images/s (no start-up) | same labels as local |",
             "|---|---|---|---|---|---|"]
    for r in runs:
        steady = "-" if r["steady"] is None else f"{r['steady']:.1f}"
        load = f" ({'model load' if r is runs[0] else 'start-up'} {r['load']:.1f} s)"
        lines.append(f"| {r['name']} | {r['wall']:.1f}{load} | {n / r['wall']:.1f} | {r['faces'] / r['wall']:.1f} | "
                     f"{steady} | {'-' if 'same' not in r else ('yes' if r['same'] else 'NO')} |")
    if per_actor:
        lines += ["", (f"Per actor (1 actor, 1 CPU, 1 thread, steady): **{per_actor:.1f} images/s** "
                  f"({per_actor * runs[0]['faces'] / n:.1f} faces/s) on this CPU; the README's projection starts "
                  "from it.")]
    publish("ray", meta, "\n".join(lines), args.write)


if __name__ == "__main__":
    main()
