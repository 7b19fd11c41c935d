"""Temperature scaling (Guo et al., 2017): one scalar per head, fitted on validation data by
minimising the negative log-likelihood; it changes confidences, never the top label."""

from __future__ import annotations

import numpy as np

from ..attributes import softmax
from ..labels import AGE9, age_group9


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
    p = grouped(softmax(logits, temperature), groups)
    return float(-np.log(np.clip(p[np.arange(len(target)), target], 1e-12, None)).mean())


def _best_temperature(loss) -> float:
    """The temperature in [0.25, 8] with the lowest ``loss`` (log grid, then refined)."""
    grid = np.exp(np.linspace(np.log(0.25), np.log(8.0), 61))
    best = min(grid, key=loss)
    return float(min(best * np.exp(np.linspace(-0.06, 0.06, 25)), key=loss))


def fit_temperature(logits: np.ndarray, target: np.ndarray, groups: np.ndarray | None = None) -> float:
    """The temperature with the lowest validation NLL (:func:`_best_temperature`)."""
    return _best_temperature(lambda t: nll(logits, target, t, groups))


def fit_multilabel_temperature(logits: np.ndarray, target: np.ndarray) -> float:
    """One temperature for independent yes/no logits (``target`` 0/1, NaN = unknown), by the
    lowest validation binary cross-entropy."""
    known = ~np.isnan(target)
    z, y = logits[known], target[known]

    def bce(t: float) -> float:
        p = np.clip(1 / (1 + np.exp(-z / t)), 1e-12, 1 - 1e-12)
        return float(-(y * np.log(p) + (1 - y) * np.log(1 - p)).mean())

    return _best_temperature(bce)


def balancing_offset(margin: np.ndarray, female: np.ndarray) -> float:
    """The offset ``b`` to add to ``margin`` (female minus male logit) that brings female and
    male recall closest together on validation data (``female``: bool truth); among equally
    balanced offsets, the most accurate, then the smallest."""
    def key(b: float) -> tuple[float, float, float]:
        said = margin + b > 0
        rec_f, rec_m = said[female].mean(), (~said)[~female].mean()
        return round(abs(rec_f - rec_m), 3), -float((said == female).mean()), abs(b)

    return float(min(np.round(np.arange(-3.0, 3.0001, 0.01), 2), key=key))


def temperature_report(logp: dict[str, np.ndarray], targets: dict[str, np.ndarray]) -> dict:
    """Per head (``logp``: head -> validation logits, ``targets``: head -> class indices): the
    fitted temperature and the validation ECE before and after (age: on the 9 groups)."""
    from ..eval.metrics import expected_calibration_error

    out = {}
    for name, z in logp.items():
        y = targets[name]
        groups = None
        if name == "age":
            groups = np.array([AGE9.index(age_group9(b)) for b in range(z.shape[1])])
            y = groups[np.minimum(y, z.shape[1] - 1)]
        t = fit_temperature(z, y, groups)
        eces = []
        for temp in (1.0, t):
            p = grouped(softmax(z, temp), groups)
            eces.append(expected_calibration_error(p.max(1), p.argmax(1) == y))
        out[name] = {"temperature": round(t, 3), "val_ece_before": round(eces[0], 4),
                     "val_ece_after": round(eces[1], 4)}
    return out
