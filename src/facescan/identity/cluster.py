"""Grouping face embeddings by person.

Three methods over L2-normalised embeddings and one cosine-distance threshold (the embedder's
verification threshold: two faces closer than it are "the same person"):

* ``whispers`` (default): Chinese whispers (Biemann 2006) on the graph joining each face to its
  nearest neighbours closer than the threshold; linear in the number of edges, so it scales to
  a large store when the neighbours come from its vector index;
* ``agglomerative``: average-linkage agglomerative clustering cut at the threshold
  (scikit-learn; the full distance matrix: up to ~20k faces);
* ``hdbscan``: scikit-learn's HDBSCAN (density based; no threshold; noise becomes singletons).

``assign`` adds new faces to existing people (incremental clustering): a face joins the person
whose mean embedding is nearest, if closer than the threshold; the others are clustered among
themselves into new people.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..errors import ConfigError, DependencyError

METHODS = ("whispers", "agglomerative", "hdbscan")


def neighbour_graph(embeddings: np.ndarray, threshold: float, k: int = 30,
                    block: int = 2048) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Edges ``(i, j, similarity)`` from each face to its ``k`` nearest neighbours closer than
    ``threshold`` (cosine distance), computed exactly in blocks."""
    n, kk = len(embeddings), min(k, len(embeddings) - 1)
    rows, cols, sims = [], [], []
    for start in range(0, n if kk > 0 else 0, block):
        s = embeddings[start:start + block] @ embeddings.T
        own = np.arange(len(s))
        s[own, start + own] = -np.inf  # not its own neighbour
        idx = np.argpartition(-s, kk - 1, axis=1)[:, :kk]
        top = np.take_along_axis(s, idx, axis=1)
        keep = top > 1.0 - threshold
        rows.append(np.broadcast_to((start + own)[:, None], idx.shape)[keep])
        cols.append(idx[keep])
        sims.append(top[keep])
    if not rows:
        return np.zeros(0, int), np.zeros(0, int), np.zeros(0, np.float32)
    return np.concatenate(rows), np.concatenate(cols), np.concatenate(sims).astype(np.float32)


def chinese_whispers(n: int, rows: np.ndarray, cols: np.ndarray, weights: np.ndarray,
                     iterations: int = 30, seed: int = 0) -> np.ndarray:
    """Labels 0..m-1 for ``n`` nodes of an undirected weighted graph given as edges: each node,
    in a random order each round, takes the label with the largest summed edge weight among its
    neighbours, until no label changes."""
    both_r = np.concatenate([rows, cols])
    both_c = np.concatenate([cols, rows])
    both_w = np.concatenate([weights, weights])
    order = np.argsort(both_r, kind="stable")
    both_r, both_c, both_w = both_r[order], both_c[order], both_w[order]
    starts = np.searchsorted(both_r, np.arange(n + 1))
    labels = np.arange(n)
    rng = np.random.default_rng(seed)
    for _ in range(iterations):
        changed = 0
        for node in rng.permutation(n):
            a, b = starts[node], starts[node + 1]
            if a == b:
                continue
            votes: dict[int, float] = {}
            for nb, w in zip(both_c[a:b], both_w[a:b]):
                lab = int(labels[nb])
                votes[lab] = votes.get(lab, 0.0) + float(w)
            best = max(votes.items(), key=lambda kv: (kv[1], -kv[0]))[0]
            if best != labels[node]:
                labels[node] = best
                changed += 1
        if not changed:
            break
    return np.unique(labels, return_inverse=True)[1]


def cluster(embeddings: np.ndarray, threshold: float, method: str = "whispers", seed: int = 0) -> np.ndarray:
    """One label per face (0..m-1; every face belongs to a cluster, singletons included)."""
    x = np.asarray(embeddings, dtype=np.float32)
    if x.ndim != 2:
        raise ConfigError(f"embeddings must be a 2-D array (faces x dimensions), got shape {x.shape}")
    if len(x) < 2:
        return np.zeros(len(x), dtype=int)
    if method == "whispers":
        return chinese_whispers(len(x), *neighbour_graph(x, threshold), seed=seed)
    try:
        from sklearn.cluster import HDBSCAN, AgglomerativeClustering
    except ImportError as exc:
        raise DependencyError(f"clustering with {method!r} needs scikit-learn: "
                              "pip install 'facescan[cluster]'") from exc
    if method == "agglomerative":
        model = AgglomerativeClustering(n_clusters=None, distance_threshold=threshold, metric="cosine",
                                        linkage="average")
        return model.fit_predict(x)
    if method == "hdbscan":
        labels = HDBSCAN(min_cluster_size=2, min_samples=1, copy=True).fit_predict(x)
        noise = labels < 0
        labels[noise] = labels.max() + 1 + np.arange(noise.sum())
        return np.unique(labels, return_inverse=True)[1]
    raise ConfigError(f"unknown clustering method {method!r}; choose one of {', '.join(METHODS)}")


def centroids(embeddings: np.ndarray, labels: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """The distinct labels and the L2-normalised mean embedding of each."""
    labels = np.asarray(labels)
    ids = np.unique(labels)
    means = np.stack([embeddings[labels == i].mean(0) for i in ids]) if len(ids) else np.zeros((0, embeddings.shape[1]))
    means /= np.maximum(np.linalg.norm(means, axis=1, keepdims=True), 1e-12)
    return ids, means.astype(np.float32)


def assign(new: np.ndarray, known: np.ndarray, threshold: float) -> np.ndarray:
    """For each new embedding, the row of the nearest ``known`` centroid closer than
    ``threshold`` (cosine distance), or -1."""
    if len(known) == 0 or len(new) == 0:
        return np.full(len(new), -1)
    sims = np.asarray(new, np.float32) @ np.asarray(known, np.float32).T
    best = sims.argmax(1)
    return np.where(sims[np.arange(len(new)), best] > 1.0 - threshold, best, -1)
