"""Per-track attributes: the per-frame probability distributions of a track, averaged.

A track's label is the top label of its mean distribution, its score that label's mean
probability; age also averages the estimated years (the 9-group then follows the mean years,
as it does per frame); appearance (independent yes/no probabilities) averages each label's
probability and re-applies the 0.5 cut. Predictions without probabilities (free-text answers of
vision-language backends) are counted as votes, and unparsed answers are left out. Only sums
are kept, so a track of any length costs the same memory.
"""

from __future__ import annotations

from collections import Counter

from ..attributes import age_prediction, multilabel_prediction
from ..types import Prediction


class Aggregate:
    """Running sums of one track's predictions; :meth:`result` is their average."""

    def __init__(self) -> None:
        self.count = 0
        self._sums: dict[str, dict[str, float]] = {}
        self._n: Counter[str] = Counter()
        self._years: dict[str, float] = {}
        self._votes: dict[str, Counter[str]] = {}

    def add(self, attributes: dict[str, Prediction]) -> None:
        self.count += 1
        for name, pred in attributes.items():
            if pred.unparsed:
                continue
            if not pred.probs:
                self._votes.setdefault(name, Counter())[pred.label] += 1
                continue
            sums = self._sums.setdefault(name, {})
            for label, p in pred.probs.items():
                sums[label] = sums.get(label, 0.0) + p
            self._n[name] += 1
            if pred.years is not None:
                self._years[name] = self._years.get(name, 0.0) + pred.years

    def result(self) -> dict[str, Prediction]:
        out: dict[str, Prediction] = {}
        for name, sums in self._sums.items():
            n = self._n[name]
            probs = {k: v / n for k, v in sums.items()}
            if name in self._years:
                out[name] = age_prediction(self._years[name] / n, probs)
            elif name == "appearance":
                out[name] = multilabel_prediction(probs)
            else:
                label = max(probs, key=probs.__getitem__)
                out[name] = Prediction(label, probs[label], probs)
        for name, votes in self._votes.items():
            if name not in out:
                label, k = votes.most_common(1)[0]
                out[name] = Prediction(label, k / sum(votes.values()), {})
        return out
