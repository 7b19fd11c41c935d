"""Metrics as pure functions of (truth, prediction). ``None`` as a prediction means the sample
failed (no face, unparsed answer): it counts as wrong, never as a guess."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np

MIN_SUPPORT = 10  # fewest samples behind a TPR or FPR that equalised odds compares


def classification(y_true: Sequence[str], y_pred: Sequence[str | None],
                   labels: Sequence[str]) -> dict[str, Any]:
    """Accuracy, balanced accuracy, macro-F1, per-class P/R/F1 and the confusion matrix.

    ``labels`` fixes the class order; truths outside it are an error. Predictions outside it
    (including None) count as wrong and show in the ``failed`` count.
    """
    labels = list(labels)
    index = {label: i for i, label in enumerate(labels)}
    bad = sorted({t for t in y_true if t not in index})
    if bad:
        raise ValueError(f"truth labels {bad} are not in the label set {labels}")
    n, k = len(y_true), len(labels)
    confusion = np.zeros((k, k), dtype=int)
    failed = 0
    for t, p in zip(y_true, y_pred):
        if p is None or p not in index:
            failed += 1
            continue
        confusion[index[t], index[p]] += 1
    correct = int(np.trace(confusion))
    counts = Counter(y_true)
    support = np.array([counts[label] for label in labels])
    tp = np.diag(confusion)
    predicted = confusion.sum(axis=0)
    precision = np.divide(tp, predicted, out=np.zeros(k), where=predicted > 0)
    recall = np.divide(tp, support, out=np.zeros(k), where=support > 0)
    f1 = np.divide(2 * precision * recall, precision + recall, out=np.zeros(k),
                   where=(precision + recall) > 0)
    present = support > 0
    return {
        "n": n,
        "accuracy": correct / n if n else float("nan"),
        "balanced_accuracy": float(recall[present].mean()) if present.any() else float("nan"),
        "macro_f1": float(f1[present].mean()) if present.any() else float("nan"),
        "failed": failed,
        "failed_rate": failed / n if n else 0.0,
        "labels": labels,
        "per_class": {label: {"precision": float(precision[i]), "recall": float(recall[i]),
                              "f1": float(f1[i]), "support": int(support[i])}
                      for i, label in enumerate(labels)},
        "confusion": confusion.tolist(),
    }


def regression(y_true: Sequence[float], y_pred: Sequence[float | None]) -> dict[str, Any]:
    """Mean absolute error over the samples with a prediction (``failed`` counts the rest)."""
    pairs = [(t, p) for t, p in zip(y_true, y_pred) if p is not None]
    err = np.abs(np.array([p - t for t, p in pairs], dtype=float)) if pairs else np.array([])
    return {"n": len(y_true), "mae": float(err.mean()) if len(err) else float("nan"),
            "median_ae": float(np.median(err)) if len(err) else float("nan"),
            "failed": len(y_true) - len(pairs)}


def calibration_bins(confidence: Sequence[float], correct: Sequence[bool],
                     bins: int = 15) -> list[dict[str, float]]:
    """Equal-width confidence bins (the last one closed): for each non-empty bin its edges,
    ``n``, mean ``confidence`` and ``accuracy`` (the points of a reliability diagram)."""
    conf = np.asarray(confidence, dtype=float)
    hit = np.asarray(correct, dtype=float)
    edges = np.linspace(0, 1, bins + 1)
    which = np.clip(np.digitize(conf, edges[1:-1]), 0, bins - 1)
    out = []
    for b in range(bins):
        mask = which == b
        if mask.any():
            out.append({"lo": float(edges[b]), "hi": float(edges[b + 1]), "n": int(mask.sum()),
                        "confidence": float(conf[mask].mean()), "accuracy": float(hit[mask].mean())})
    return out


def expected_calibration_error(confidence: Sequence[float], correct: Sequence[bool],
                               bins: int = 15) -> float:
    """ECE with equal-width confidence bins (the usual definition, Guo et al. 2017)."""
    n = len(confidence)
    if not n:
        return float("nan")
    return float(sum(b["n"] / n * abs(b["accuracy"] - b["confidence"])
                     for b in calibration_bins(confidence, correct, bins)))


def group_accuracy(y_true: Sequence[str], y_pred: Sequence[str | None],
                   groups: Sequence[str]) -> dict[str, Any]:
    """Accuracy within each group, and the largest gap between two groups."""
    out: dict[str, Any] = {}
    for g in sorted(set(groups)):
        idx = [i for i, x in enumerate(groups) if x == g]
        out[g] = {"n": len(idx), "accuracy": float(np.mean([y_true[i] == y_pred[i] for i in idx]))}
    if not out:
        return {"groups": out, "max_gap": float("nan"), "best": None, "worst": None}
    best = max(out, key=lambda k: out[k]["accuracy"])
    worst = min(out, key=lambda k: out[k]["accuracy"])
    return {"groups": out, "max_gap": out[best]["accuracy"] - out[worst]["accuracy"],
            "best": best, "worst": worst}


def equalized_odds(y_true: Sequence[str], y_pred: Sequence[str | None], groups: Sequence[str],
                   labels: Sequence[str], min_support: int = MIN_SUPPORT) -> dict[str, Any]:
    """Equalised-odds difference across ``groups``, one-vs-rest per class.

    For class ``c`` and group ``g``: TPR = P(pred = c | truth = c, g), FPR = P(pred = c |
    truth != c, g). The class's difference is max(max_g TPR - min_g TPR, max_g FPR - min_g FPR)
    over the groups where the rate rests on at least ``min_support`` samples (positives for
    TPR, negatives for FPR; a rate from 2 samples would make any model look unfair). A
    failed prediction (None) is "not c" for every class. ``difference`` is the largest class
    difference, ``mean`` their average over classes with a defined difference (for two classes
    both are the same number, as in the usual binary definition).
    """
    t = np.asarray(y_true, dtype=object)
    p = np.asarray(y_pred, dtype=object)
    g = np.asarray(groups, dtype=object)
    per_class: dict[str, dict[str, float]] = {}
    for c in labels:
        tpr, fpr = [], []
        for group in sorted(set(groups)):
            in_g = g == group
            pos, neg = in_g & (t == c), in_g & (t != c)
            if pos.sum() >= min_support:
                tpr.append(float(np.mean(p[pos] == c)))
            if neg.sum() >= min_support:
                fpr.append(float(np.mean(p[neg] == c)))
        tpr_gap = max(tpr) - min(tpr) if len(tpr) > 1 else float("nan")
        fpr_gap = max(fpr) - min(fpr) if len(fpr) > 1 else float("nan")
        gaps = [x for x in (tpr_gap, fpr_gap) if not np.isnan(x)]
        if gaps:
            per_class[c] = {"tpr_gap": tpr_gap, "fpr_gap": fpr_gap, "difference": max(gaps)}
    diffs = [v["difference"] for v in per_class.values()]
    return {"difference": max(diffs) if diffs else float("nan"),
            "mean": float(np.mean(diffs)) if diffs else float("nan"), "per_class": per_class}


def group_fairness(y_true: Sequence[str], y_pred: Sequence[str | None], groups: Sequence[str],
                   labels: Sequence[str]) -> dict[str, Any]:
    """Per-group accuracy, the largest accuracy gap and the equalised-odds difference."""
    out = group_accuracy(y_true, y_pred, groups)
    out["equalized_odds"] = equalized_odds(y_true, y_pred, groups, labels)
    return out


def _contingency(y_true: Sequence, y_pred: Sequence) -> np.ndarray:
    if len(y_true) != len(y_pred):
        raise ValueError(f"{len(y_true)} truths but {len(y_pred)} predictions")
    _, t = np.unique(np.asarray(y_true, dtype=object).astype(str), return_inverse=True)
    _, p = np.unique(np.asarray(y_pred, dtype=object).astype(str), return_inverse=True)
    table = np.zeros((t.max(initial=-1) + 1, p.max(initial=-1) + 1), dtype=np.int64)
    np.add.at(table, (t, p), 1)
    return table


def _f1(precision: float, recall: float) -> float:
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def bcubed(y_true: Sequence, y_pred: Sequence) -> dict[str, float]:
    """BCubed precision, recall and F1 of a clustering (Amigo et al. 2009): per item, the share
    of its cluster that has its class, and of its class that is in its cluster; averaged."""
    table = _contingency(y_true, y_pred)
    n = table.sum()
    if n == 0:
        return {"precision": 0.0, "recall": 0.0, "f1": 0.0}
    squares = (table.astype(float) ** 2)
    precision = float((squares / np.maximum(table.sum(0, keepdims=True), 1)).sum() / n)
    recall = float((squares / np.maximum(table.sum(1, keepdims=True), 1)).sum() / n)
    return {"precision": precision, "recall": recall, "f1": _f1(precision, recall)}


def pairwise_f1(y_true: Sequence, y_pred: Sequence) -> dict[str, float]:
    """Precision, recall and F1 over all pairs of items: a pair is positive when both share a
    class (truth) or a cluster (prediction)."""
    table = _contingency(y_true, y_pred)
    pairs = lambda c: float((c * (c - 1) // 2).sum())
    both, same_pred, same_true = pairs(table), pairs(table.sum(0)), pairs(table.sum(1))
    precision = both / same_pred if same_pred else 1.0
    recall = both / same_true if same_true else 1.0
    return {"precision": precision, "recall": recall, "f1": _f1(precision, recall)}
