"""Vector indexes for the SQLite store, compared on the same embeddings: build time, search
p50/p99 (one query at a time), recall@10 against exact search, memory.

    python benchmarks/ann_bench.py --sizes 100000,1000000 [--only NAME,...] [--real FILE.npy] [--write BENCHMARKS.md]

Candidates: brute-force numpy (exact), FAISS IVF-Flat and HNSW-Flat (`faiss-cpu`), usearch
HNSW, sqlite-vec's vec0 table (a brute-force scan in SQLite, loaded through apsw because this
Python's sqlite3 module cannot load extensions). Embeddings: 128-d, L2-normalised, one
synthetic "person" per 20 faces (a random direction, faces = direction + Gaussian noise, so two
faces of one person have cosine ~0.6, as SFace gives for the same person), plus the real
embeddings of `--real FILE.npy` when given (its mean and covariance then shape the person
directions). Queries are new faces of people in the index. Each run adds its rows to
benchmarks/results/ann.json (the same index, size and data replaced), so candidates can be
measured in separate short runs; ``--write BENCHMARKS.md`` regenerates it from benchmarks/results/.
"""

from __future__ import annotations

import argparse
import datetime
import gc
import os
import resource
import tempfile
import time
from pathlib import Path

import numpy as np
import report  # benchmarks/ is on sys.path when run as a script
import result_tables

COMMAND = "python benchmarks/ann_bench.py --sizes N [--only NAME] [--real FILE.npy]; one run per size and index"
DIM, K, FACES_PER_PERSON, NOISE = 128, 10, 20, 0.072


def unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def synthetic(n: int, n_queries: int, seed: int = 0, real: np.ndarray | None = None,
              dim: int = DIM) -> tuple[np.ndarray, np.ndarray]:
    """(n base embeddings, n_queries queries): the real ones first, then synthetic people."""
    rng = np.random.default_rng(seed)
    base = [] if real is None else [unit(real[:n])]
    left = n - (0 if real is None else len(base[0]))
    people = max(1, (left + n_queries) // FACES_PER_PERSON)
    if real is not None and len(real) > dim:
        centres = unit(rng.multivariate_normal(real.mean(0), np.cov(real.T), people))
    else:
        centres = unit(rng.standard_normal((people, dim)))

    def faces(count: int) -> np.ndarray:
        out = np.empty((count, dim), np.float32)
        for s in range(0, count, 100_000):
            m = min(100_000, count - s)
            who = rng.integers(0, people, m)
            out[s:s + m] = unit(centres[who] + NOISE * rng.standard_normal((m, dim)).astype(np.float32))
        return out

    if left > 0:
        base.append(faces(left))
    return np.concatenate(base), faces(n_queries)


def exact_topk(base: np.ndarray, queries: np.ndarray, k: int = K) -> np.ndarray:
    out = np.empty((len(queries), k), np.int64)
    for s in range(0, len(queries), 50):
        sims = queries[s:s + 50] @ base.T
        part = np.argpartition(-sims, k, axis=1)[:, :k]
        order = np.argsort(-np.take_along_axis(sims, part, 1), axis=1)
        out[s:s + 50] = np.take_along_axis(part, order, 1)
    return out


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


class Numpy:
    name = "numpy brute force (exact)"

    def build(self, x):
        self.x = x

    def search(self, q):
        sims = self.x @ q
        part = np.argpartition(-sims, K)[:K]
        return part[np.argsort(-sims[part])]

    def size(self):
        return self.x.nbytes


class FaissIVF:
    def __init__(self, nprobe: int):
        self.nprobe, self.name = nprobe, f"faiss IVF-Flat, nprobe {nprobe}"

    def build(self, x):
        import faiss

        nlist = int(4 * np.sqrt(len(x)))
        quant = faiss.IndexFlatIP(x.shape[1])
        self.index = faiss.IndexIVFFlat(quant, x.shape[1], nlist, faiss.METRIC_INNER_PRODUCT)
        rng = np.random.default_rng(1)
        self.index.train(x[rng.choice(len(x), min(len(x), 64 * nlist), replace=False)])
        self.index.add_with_ids(x, np.arange(len(x), dtype=np.int64))
        self.index.nprobe = self.nprobe

    def search(self, q):
        return self.index.search(q[None], K)[1][0]

    def size(self):
        return file_size(lambda p: __import__("faiss").write_index(self.index, p))


class FaissHNSW:
    def __init__(self, ef: int):
        self.ef, self.name = ef, f"faiss HNSW-Flat M=32, efSearch {ef}"

    def build(self, x):
        import faiss

        self.index = faiss.IndexHNSWFlat(x.shape[1], 32, faiss.METRIC_INNER_PRODUCT)
        self.index.hnsw.efConstruction = 80
        self.index.add(x)
        self.index.hnsw.efSearch = self.ef

    def search(self, q):
        return self.index.search(q[None], K)[1][0]

    def size(self):
        return file_size(lambda p: __import__("faiss").write_index(self.index, p))


class USearch:
    def __init__(self, ef: int, dtype: str = "f32"):
        self.ef, self.dtype = ef, dtype
        self.name = f"usearch HNSW {dtype}, M=16, ef {ef}"

    def build(self, x):
        from usearch.index import Index

        self.index = Index(ndim=x.shape[1], metric="ip", dtype=self.dtype, connectivity=16,
                           expansion_add=128, expansion_search=self.ef)
        self.index.add(np.arange(len(x), dtype=np.uint64), x, threads=os.cpu_count() or 1)

    def search(self, q):
        return np.asarray(self.index.search(q, K).keys, dtype=np.int64)

    def size(self):
        return file_size(self.index.save)


class SqliteVec:
    name = "sqlite-vec 0.1.9 vec0 (brute force in SQLite)"

    def build(self, x):
        import apsw
        import sqlite_vec

        self.dir = tempfile.TemporaryDirectory()
        self.path = os.path.join(self.dir.name, "vec.db")
        self.db = apsw.Connection(self.path)
        self.db.enable_load_extension(True)
        self.db.load_extension(sqlite_vec.loadable_path())
        self.db.execute(f"CREATE VIRTUAL TABLE v USING vec0(embedding float[{x.shape[1]}] distance_metric=cosine)")
        with self.db:
            self.db.executemany("INSERT INTO v(rowid, embedding) VALUES (?, ?)",
                                ((i + 1, x[i].tobytes()) for i in range(len(x))))

    def search(self, q):
        rows = self.db.execute("SELECT rowid FROM v WHERE embedding MATCH ? AND k = ? ORDER BY distance",
                               (q.tobytes(), K)).fetchall()
        return np.array([r[0] - 1 for r in rows], np.int64)

    def size(self):
        return os.path.getsize(self.path)


def file_size(save) -> int:
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "index")
        save(path)
        return os.path.getsize(path)


def measure(cand, base, queries, truth, max_queries: int) -> dict:
    gc.collect()
    before = rss_mb()
    t0 = time.perf_counter()
    cand.build(base)
    build = time.perf_counter() - t0
    grown = rss_mb() - before
    for q in queries[:5]:  # warm-up
        cand.search(q)
    times, hits = [], 0
    for q, t in zip(queries[:max_queries], truth):
        t0 = time.perf_counter()
        got = cand.search(q)
        times.append(1000 * (time.perf_counter() - t0))
        hits += len(set(got[:K].tolist()) & set(t.tolist()))
    n = min(len(queries), max_queries)
    return {"index": cand.name, "faces": len(base), "build_s": round(build, 1),
            "p50_ms": round(float(np.percentile(times, 50)), 3),
            "p99_ms": round(float(np.percentile(times, 99)), 3),
            "recall10": round(hits / (K * n), 4), "file_mb": round(cand.size() / 2**20, 1),
            "rss_growth_mb": round(grown, 0), "queries": n}


def candidates(only: set[str], skip: set[str]) -> list:
    out = [Numpy(), FaissIVF(16), FaissIVF(32), FaissIVF(64), FaissIVF(128), FaissHNSW(64), USearch(64), USearch(128),
           USearch(64, "f16"), SqliteVec()]
    return [c for c in out if not any(s in c.name for s in skip) and (not only or any(s in c.name for s in only))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="100000,1000000")
    ap.add_argument("--queries", type=int, default=300)
    ap.add_argument("--skip", default="", help="comma-separated name parts of candidates to leave out")
    ap.add_argument("--only", default="", help="comma-separated name parts of the candidates to run")
    ap.add_argument("--real", help=".npy of real embeddings (or store_bench's .npz cache): they come first and "
                    "shape the synthetic ones")
    ap.add_argument("--write", help="regenerate this file (BENCHMARKS.md) from benchmarks/results/ (ann.json: every row)")
    args = ap.parse_args()
    real = None if not args.real else np.load(args.real)["emb"] if args.real.endswith(".npz") else np.load(args.real)
    data = "synthetic" if real is None else f"real-shaped ({len(real):,} real)"
    skip, only = ({s for s in v.split(",") if s} for v in (args.skip, args.only))
    try:
        rows = report.load("ann")["rows"]
    except FileNotFoundError:
        rows = []
    order = {c.name: i for i, c in enumerate(candidates(set(), set()))}
    for n in (int(s) for s in args.sizes.split(",") if s):
        base, queries = synthetic(n, args.queries, real=real)
        truth = exact_topk(base, queries)
        for cand in candidates(only, skip):
            row = measure(cand, base, queries, truth, args.queries)
            row.update(data=data, order=order[cand.name], measured=datetime.date.today().isoformat(),
                       peak_rss_mb=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))
            print(row, flush=True)
            rows = [r for r in rows if (r["index"], r["faces"], r["data"]) != (row["index"], n, data)] + [row]
            result = {"kind": "ann", "meta": report.measured(COMMAND), "rows": rows}
            report.save("ann", result)
            del cand
    result = {"kind": "ann", "meta": report.measured(COMMAND), "rows": rows}
    print(report.provenance(result["meta"]) + "\n\n" + result_tables.ann(result))
    if args.write:
        report.write_report(Path(args.write))


if __name__ == "__main__":
    main()
