"""How recall@10 of the SQLite store's HNSW index (FAISS IndexHNSWFlat, M=32, efConstruction
EFC) grows with efSearch, for two kinds of queries: held-out real faces (LFW-a / UTKFace
embeddings; most of their 10 nearest are strangers at similar distances: the hard case) and
new synthetic faces of people in the index (their nearest are their own faces: the easy case).

    python benchmarks/hnsw_ef.py N EFC EF[,EF...]      e.g. 1000000 80 256,512,1024

Needs the real-embedding cache of store_bench.py (benchmarks/.cache/real-*.npz). Prints one
line per efSearch; BENCHMARKS.md ("efSearch") renders benchmarks/results/hnsw_ef.json, its printed
rows transcribed by hand (update that file after a run).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import faiss
import numpy as np
from ann_bench import exact_topk, synthetic  # benchmarks/ is on sys.path when run as a script

HELD_OUT = 150


def main() -> None:
    n, efc, efs = int(sys.argv[1]), int(sys.argv[2]), [int(v) for v in sys.argv[3].split(",")]
    real = np.load(next((Path(__file__).parent / ".cache").glob("real-*.npz")))["emb"]
    base, synth = synthetic(n, HELD_OUT, real=real[HELD_OUT:])
    queries = np.concatenate([real[:HELD_OUT], synth])
    truth = exact_topk(base, queries)
    index = faiss.IndexHNSWFlat(base.shape[1], 32, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = efc
    t0 = time.time()
    index.add(base)
    print(f"{n:,} faces, efConstruction {efc}: built in {time.time() - t0:.1f} s", flush=True)
    for ef in efs:
        index.hnsw.efSearch = ef
        times, hits = [], np.zeros(len(queries))
        for i, q in enumerate(queries):
            t1 = time.perf_counter()
            _, found = index.search(q[None], 10)
            times.append(1000 * (time.perf_counter() - t1))
            hits[i] = len(set(found[0].tolist()) & set(truth[i].tolist())) / 10
        print(f"  efSearch {ef}: recall@10 real queries {hits[:HELD_OUT].mean():.3f}, synthetic queries "
              f"{hits[HELD_OUT:].mean():.3f}, all {hits.mean():.3f}; p50 {np.median(times):.2f} ms, "
              f"p99 {np.percentile(times, 99):.2f} ms", flush=True)


if __name__ == "__main__":
    main()
