"""Temperature scaling (Guo et al., 2017): one scalar per head, fitted on validation data by
minimising the negative log-likelihood; it changes confidences, never the top label."""

from __future__ import annotations

import numpy as np

from ..attributes import _softmax


def grouped(p: np.ndarray, groups: np.ndarray | None) -> np.ndarray:
    """Class probabilities ``p`` summed per group (``groups``: class -> group index); unchanged
    without groups."""
    if groups is None:
        return p
    return np.stack([p[:, groups == g].sum(axis=1) for g in range(groups.max() + 1)], axis=1)


def nll(logits: np.ndarray, target: np.ndarray, temperature: float,
        groups: np.ndarray | None = None) -> float:
    """Mean NLL of ``target`` under softmax(logits / T). With ``groups`` (class -> group index),
    probabilities are summed per group first and ``target`` holds group indices."""
    p = grouped(_softmax(logits, temperature), groups)
    return float(-np.log(np.clip(p[np.arange(len(target)), target], 1e-12, None)).mean())


def fit_temperature(logits: np.ndarray, target: np.ndarray, groups: np.ndarray | None = None) -> float:
    """The temperature in [0.25, 8] with the lowest validation NLL (log grid, then refined)."""
    grid = np.exp(np.linspace(np.log(0.25), np.log(8.0), 61))
    best = min(grid, key=lambda t: nll(logits, target, t, groups))
    fine = best * np.exp(np.linspace(-0.06, 0.06, 25))
    return float(min(fine, key=lambda t: nll(logits, target, t, groups)))
