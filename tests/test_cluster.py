"""Clustering methods and clustering metrics on small hand-checkable cases and on synthetic
identities (embeddings scattered around one random direction per person)."""

from __future__ import annotations

import numpy as np
import pytest

from facescan.eval.metrics import bcubed, pairwise_f1
from facescan.identity.cluster import METHODS, assign, centroids, cluster


def _people(n_people: int = 12, per: int = 6, spread: float = 0.25, dim: int = 128, seed: int = 0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(n_people, dim))
    truth = np.repeat(np.arange(n_people), per)
    x = centres[truth] / np.linalg.norm(centres[truth], axis=1, keepdims=True)
    x = x + spread * rng.normal(size=x.shape) / np.sqrt(dim)
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32), truth


def test_bcubed_and_pairwise_by_hand():
    truth = ["a", "a", "a", "b", "b"]
    perfect = bcubed(truth, [1, 1, 1, 2, 2])
    assert perfect == {"precision": 1.0, "recall": 1.0, "f1": 1.0}
    merged = bcubed(truth, [0, 0, 0, 0, 0])  # one cluster: recall 1, precision (3*3/5 + 2*2/5)/5
    assert merged["recall"] == 1.0 and merged["precision"] == pytest.approx((9 / 5 + 4 / 5) / 5)
    split = pairwise_f1(truth, [0, 0, 1, 2, 2])  # true pairs: 3 + 1; predicted 1 + 1, both right
    assert split["precision"] == 1.0 and split["recall"] == pytest.approx(2 / 4)
    assert pairwise_f1(truth, [0, 1, 2, 3, 4])["f1"] == 0.0


@pytest.mark.parametrize("method", METHODS)
def test_methods_recover_synthetic_people(method):
    x, truth = _people()
    labels = cluster(x, threshold=0.5, method=method)
    assert len(labels) == len(x)
    assert bcubed(truth, labels)["f1"] > 0.95
    # a threshold that joins nothing leaves (nearly) everyone alone for the threshold methods
    if method != "hdbscan":
        assert len(set(cluster(x, threshold=0.01, method=method))) >= len(x) - 1


def test_assign_joins_known_people_and_leaves_strangers():
    x, truth = _people(n_people=5, per=8)
    ids, means = centroids(x[::2], truth[::2])
    found = assign(x[1::2], means, threshold=0.5)
    assert (ids[found] == truth[1::2]).all()
    stranger, _ = _people(n_people=1, per=1, seed=99)
    assert assign(stranger, means, threshold=0.5)[0] == -1


def test_bad_input():
    from facescan.errors import ConfigError

    with pytest.raises(ConfigError):
        cluster(np.zeros(5), threshold=0.5)
    with pytest.raises(ConfigError):
        cluster(np.eye(3, dtype=np.float32), threshold=0.5, method="kmeans")
