"""Face-verification metrics: pure functions of pair distances and truths (numpy only).

A pair is called "same person" when its distance is at most a threshold. The LFW View-2
protocol: for each fold, the threshold that maximises accuracy on the *other* folds is applied
to this fold; the mean and spread of the per-fold accuracies are reported. ROC AUC and the
true-accept rate at a fixed false-accept rate use all pairs. A logistic fit of P(same | distance)
turns a distance into a calibrated probability; it is also scored fold by fold (fitted on the
other folds) so its log loss is an honest, held-out number.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np


def best_threshold(dist: np.ndarray, same: np.ndarray) -> float:
    """The distance threshold (same person if ``dist <= t``) with the highest accuracy on these
    pairs; among equally good ones, the middle of the first best gap between two distances."""
    order = np.argsort(dist, kind="stable")
    d, y = np.asarray(dist, np.float64)[order], np.asarray(same, bool)[order]
    # accepting the first i pairs: right = same among them + different after them
    right = np.concatenate([[0], np.cumsum(y)]) + (~y).sum() - np.concatenate([[0], np.cumsum(~y)])
    i = int(np.argmax(right))
    if i == 0:
        return float(d[0] - 1e-6)
    if i == len(d):
        return float(d[-1] + 1e-6)
    return float((d[i - 1] + d[i]) / 2)


def roc_auc(dist: np.ndarray, same: np.ndarray) -> float:
    """P(a random same pair is closer than a random different pair); ties count half."""
    dist, same = np.asarray(dist, np.float64), np.asarray(same, bool)
    pos, neg = dist[same], np.sort(dist[~same])
    if not len(pos) or not len(neg):
        return float("nan")
    below, upto = np.searchsorted(neg, pos, "left"), np.searchsorted(neg, pos, "right")
    return float(((len(neg) - upto) + 0.5 * (upto - below)).sum() / (len(pos) * len(neg)))


def tar_at_far(dist: np.ndarray, same: np.ndarray, far: float) -> dict[str, Any]:
    """The true-accept rate at the largest threshold whose false-accept rate is at most ``far``.

    With ``n`` different-person pairs, FAR can only be measured in steps of 1/n: when
    ``far * n < 1`` no false accept is allowed at all (the threshold sits just below the
    closest different pair) and ``meaningful`` is False; the estimate is rough until
    ``far * n`` reaches ~10.
    """
    dist, same = np.asarray(dist, np.float64), np.asarray(same, bool)
    neg = np.sort(dist[~same])
    allowed = math.floor(far * len(neg) + 1e-9)
    threshold = float(neg[allowed] - 1e-9) if allowed < len(neg) else float(dist.max())
    return {"far": far, "tar": float((dist[same] <= threshold).mean()), "threshold": threshold,
            "false_accepts_allowed": allowed, "n_negatives": len(neg),
            "meaningful": far * len(neg) >= 1}


def fit_logistic(dist: np.ndarray, same: np.ndarray, iterations: int = 50) -> tuple[float, float]:
    """(a, b) of P(same | d) = 1 / (1 + exp(-(a + b d))), by Newton's method with a tiny ridge
    (finite even when the pairs are perfectly separated)."""
    x = np.stack([np.ones_like(dist, dtype=np.float64), np.asarray(dist, np.float64)], 1)
    y = np.asarray(same, np.float64)
    w = np.zeros(2)
    ridge = 1e-3 * np.eye(2)
    for _ in range(iterations):
        p = 1 / (1 + np.exp(-np.clip(x @ w, -30, 30)))
        grad = x.T @ (p - y) + ridge @ w
        hess = x.T @ (x * (p * (1 - p))[:, None]) + ridge
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-9:
            break
    return float(w[0]), float(w[1])


def probability(dist: np.ndarray | float, a: float, b: float) -> np.ndarray | float:
    return 1 / (1 + np.exp(-np.clip(a + b * np.asarray(dist, np.float64), -30, 30)))


def _log_loss(p: np.ndarray, y: np.ndarray) -> float:
    p = np.clip(p, 1e-7, 1 - 1e-7)
    return float(-(y * np.log(p) + (1 - y) * np.log(1 - p)).mean())


def view2(dist: np.ndarray, same: np.ndarray, fold: np.ndarray,
          fars: tuple[float, ...] = (1e-3, 1e-2)) -> dict[str, Any]:
    """The View-2 numbers of one embedder: per-fold accuracy with thresholds chosen on the
    other folds, their mean / std / standard error, ROC AUC, TAR at each FAR, the held-out
    log loss and Brier score of the logistic calibration, and the threshold, FAR, FRR and
    logistic parameters fitted on all pairs (what ``facescan verify`` uses)."""
    dist, same, fold = np.asarray(dist, np.float64), np.asarray(same, bool), np.asarray(fold)
    folds = sorted(set(fold.tolist()))
    per_fold, held_p = [], np.zeros(len(dist))
    for k in folds:
        test, train = fold == k, fold != k
        t = best_threshold(dist[train], same[train]) if train.any() else best_threshold(dist, same)
        per_fold.append({"fold": int(k), "n": int(test.sum()), "threshold": round(t, 6),
                         "accuracy": float(((dist[test] <= t) == same[test]).mean())})
        a, b = fit_logistic(dist[train], same[train]) if train.any() else fit_logistic(dist, same)
        held_p[test] = probability(dist[test], a, b)
    accs = np.array([f["accuracy"] for f in per_fold])
    t_all = best_threshold(dist, same)
    a, b = fit_logistic(dist, same)
    return {
        "n": len(dist), "n_same": int(same.sum()), "n_different": int((~same).sum()), "folds": len(folds),
        "accuracy": float(accs.mean()), "accuracy_std": float(accs.std()),
        "accuracy_se": float(accs.std(ddof=1) / math.sqrt(len(accs))) if len(accs) > 1 else float("nan"),
        "per_fold": per_fold,
        "roc_auc": roc_auc(dist, same),
        "tar_at_far": [tar_at_far(dist, same, f) for f in fars],
        "calibration": {"a": a, "b": b, "held_out_log_loss": _log_loss(held_p, same.astype(float)),
                        "held_out_brier": float(((held_p - same) ** 2).mean())},
        "threshold": {"value": t_all, "far": float((dist[~same] <= t_all).mean()),
                      "frr": float((dist[same] > t_all).mean()),
                      "note": "chosen and measured on all pairs (in-sample)"},
        "distance": {"same_median": float(np.median(dist[same])), "different_median": float(np.median(dist[~same]))},
    }
