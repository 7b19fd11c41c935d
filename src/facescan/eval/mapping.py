"""How the truth of a data set and the predictions of a backend are compared when their label
sets differ. Pure: decided from label-set names (``facescan.labels.LABEL_SETS``) and the labels
a backend declares (the keys of its ``probs``), using only the tables in ``facescan.labels``.

* same set: compared as they are;
* the backend's labels are a subset of the truth's (FER-7 model on AffectNet-8): scored in the
  truth's classes; the classes it cannot produce are listed (their recall is 0);
* a table maps the backend's set onto the truth's (AffectNet-8 model on FER2013): predictions
  mapped, scored in the truth's classes; a top label with no counterpart (contempt) gives way
  to the most probable label that has one (its probability mass summed per mapped class), or
  counts as wrong when the backend gave no probabilities;
* else a table maps the truth onto the backend's set (FairFace 7 -> UTKFace 5, as no table
  can split UTKFace's asian/others): truths mapped, scored in the backend's classes;
* ``target`` set (e.g. ``race4``): both sides mapped onto it; samples whose truth has no label
  there (UTKFace ``others``) are left out of that score and counted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..errors import ConfigError
from ..labels import LABEL_SETS, MAPPINGS, label_set_of


@dataclass(frozen=True)
class Scoring:
    labels: tuple[str, ...]                      # class order of the scores and confusion
    truth_set: str
    pred_set: str | None
    truth_map: dict[str, str | None] | None = None
    pred_map: dict[str, str | None] | None = None
    not_producible: tuple[str, ...] = ()
    description: str = ""

    def truth(self, label: str) -> str | None:
        return self.truth_map.get(label) if self.truth_map is not None else label

    def pred(self, label: str | None) -> str | None:
        if label is None:
            return None
        return self.pred_map.get(label) if self.pred_map is not None else label

    def pred_from(self, label: str | None, probs: dict[str, float] | None) -> str | None:
        """The prediction in the scored classes; a label the map drops is replaced by the
        most probable mapped class of ``probs`` (summed per class), if there are any."""
        mapped = self.pred(label)
        if mapped is not None or not probs or not self.pred_map:
            return mapped
        mass: dict[str, float] = {}
        for name, p in probs.items():
            target = self.pred_map.get(name)
            if target is not None:
                mass[target] = mass.get(target, 0.0) + p
        return max(mass, key=mass.__getitem__) if mass else None

    def info(self) -> dict[str, object]:
        return {"truth_set": self.truth_set, "pred_set": self.pred_set, "scored_in": list(self.labels),
                "mapping": self.description, "not_producible": list(self.not_producible)}


def _to(source: str, target: str) -> dict[str, str | None] | None:
    return {k: k for k in LABEL_SETS[source]} if source == target else MAPPINGS.get((source, target))


def plan(truth_set: str, pred_labels: Sequence[str], target: str | None = None) -> Scoring:
    """How to score predictions over ``pred_labels`` against truths from ``truth_set``;
    with ``target``, both are mapped onto that label set."""
    pred_set = label_set_of(pred_labels)
    truth_labels = LABEL_SETS[truth_set]
    if target is not None:
        tmap, pmap = _to(truth_set, target), _to(pred_set, target) if pred_set else None
        if tmap is None or pmap is None:
            raise ConfigError(f"no mapping from {truth_set} / {pred_set} to {target}")
        return Scoring(LABEL_SETS[target], truth_set, pred_set, tmap, pmap,
                       description=f"truth {truth_set} -> {target}, predictions {pred_set} -> {target}")
    if pred_set == truth_set:
        return Scoring(truth_labels, truth_set, pred_set, description="same label set")
    if set(pred_labels) <= set(truth_labels):
        missing = tuple(c for c in truth_labels if c not in set(pred_labels))
        return Scoring(truth_labels, truth_set, pred_set, not_producible=missing,
                       description=f"predictions {pred_set} within truth {truth_set}; "
                                   f"not producible: {', '.join(missing)}")
    if pred_set and (pred_set, truth_set) in MAPPINGS:
        pmap = MAPPINGS[(pred_set, truth_set)]
        lost = tuple(k for k, v in pmap.items() if v is None)
        return Scoring(truth_labels, truth_set, pred_set, pred_map=pmap,
                       description=f"predictions {pred_set} -> {truth_set} (labels.MAPPINGS)"
                                   + (f"; {', '.join(lost)}: next most probable mapped label" if lost else ""))
    if pred_set and (truth_set, pred_set) in MAPPINGS:
        return Scoring(LABEL_SETS[pred_set], truth_set, pred_set, truth_map=MAPPINGS[(truth_set, pred_set)],
                       description=f"truth {truth_set} -> {pred_set} (labels.MAPPINGS)")
    return Scoring(truth_labels, truth_set, pred_set, pred_map={},
                   description=f"no mapping from {pred_set or sorted(pred_labels)} to {truth_set}: "
                               "every prediction counts as wrong")
