"""metrics.json for one backend, computed from its saved prediction records only.

A record (one line of predictions.jsonl) holds ``truth`` in the data set's label sets and
``prediction`` in the backend's; :mod:`.mapping` decides how they are compared, and every
attribute's entry says which mapping it used.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from ..labels import AGE5, AGE9, AGE9_TO_AGE5, LABEL_SETS, MAPPINGS, label_set_of
from . import metrics as M
from .mapping import Scoring, plan

# metrics key -> (prediction attribute, field of the prediction holding the label, truth key)
SCORED = {"gender": ("gender", "label", "gender"), "race": ("race", "label", "race"),
          "race4": ("race", "label", "race"), "emotion": ("emotion", "label", "emotion"),
          "age_group": ("age", "label", "age_group"), "age_group5": ("age", "group5", "age_group5")}
DEFAULT_SETS = {"gender": "gender", "age_group": "age9", "age_group5": "age5"}
# sensitive attributes for the per-group breakdowns (truth keys); race_gender = both together
SENSITIVE = ("race", "gender", "age_group", "race_gender")
FAIRNESS_TARGETS = ("gender", "race", "age_group5", "emotion")
CALIBRATED = ("gender", "race", "emotion")


def _pred_label(rec: dict[str, Any], attr: str) -> str | None:
    source, key, _ = SCORED[attr]
    pred = rec["prediction"].get(source) or {}
    if attr == "age_group5" and pred.get("group5") is None and pred.get("label") in AGE9_TO_AGE5:
        return AGE9_TO_AGE5[pred["label"]]  # a backend with 9 groups only
    return pred.get(key)


def _sensitive(rec: dict[str, Any], name: str) -> str | None:
    t = rec["truth"]
    if name == "race_gender":
        return f"{t['race']}/{t['gender']}" if "race" in t and "gender" in t else None
    value = t.get(name)
    return None if value is None else str(value)


def _plan(attr: str, recs: list[dict[str, Any]], label_sets: dict[str, str]) -> Scoring | None:
    source = SCORED[attr][0]
    truth_set = label_sets.get(SCORED[attr][2]) or DEFAULT_SETS.get(attr)
    declared = next((r["prediction"][source]["probs"] for r in recs
                     if r["prediction"].get(source, {}).get("probs")), None)
    if declared is None:  # free-text answers (VLMs) carry no distribution: the labels they gave
        given = {r["prediction"][source]["label"] for r in recs
                 if source in r["prediction"] and not r["prediction"][source].get("unparsed")}
        declared = dict.fromkeys(_answer_set(given, truth_set)) or None
        if declared is None and truth_set is not None and any(source in r["prediction"] for r in recs):
            declared = dict.fromkeys(LABEL_SETS[truth_set])  # every answer unparsed: all wrong
    if declared is None or truth_set is None:
        return None
    if attr == "age_group5":  # predicted as the age's group5 field (or mapped from its 9 groups)
        declared = dict.fromkeys(AGE5)
    return plan(truth_set, list(declared), target="race4" if attr == "race4" else None)


def _answer_set(given: set[str], truth_set: str | None) -> list[str]:
    """The label set free-text answers come from: the one they match exactly, else the truth's
    if they fit inside it, else the first known set holding them (else the answers as given)."""
    if not given or label_set_of(list(given)):
        return sorted(given)
    if truth_set is not None and given <= set(LABEL_SETS[truth_set]):
        return list(LABEL_SETS[truth_set])
    return list(next((s for s in LABEL_SETS.values() if given <= set(s)), sorted(given)))


def _rates(recs: list[dict[str, Any]]) -> dict[str, Any]:
    n = max(1, len(recs))
    lat = np.array([r["latency_ms"] for r in recs if r.get("latency_ms") is not None], dtype=float)
    out: dict[str, Any] = {
        "n": len(recs),
        "error_rate": sum(r.get("error") is not None for r in recs) / n,
        "failed_rate": sum(r.get("error") is not None or not r["prediction"] for r in recs) / n,
        "unparsed_rate": sum(any(p.get("unparsed") for p in r["prediction"].values()) for r in recs) / n,
        "no_face_rate": sum(not r.get("face_found") for r in recs) / n,
    }
    if len(lat):
        out.update(ms_per_image=float(lat.mean()), latency_ms_p50=float(np.median(lat)),
                   latency_ms_p90=float(np.percentile(lat, 90)),
                   throughput_per_s=float(1000 * len(lat) / lat.sum()) if lat.sum() > 0 else float("nan"))
    return out


def _classify(attr: str, recs: list[dict[str, Any]], scoring: Scoring) -> tuple[dict[str, Any], list]:
    truth_key = SCORED[attr][2]
    kept, excluded = [], 0
    for r in recs:
        t = scoring.truth(r["truth"][truth_key])
        if t is None:
            excluded += 1
        else:
            probs = (r["prediction"].get(SCORED[attr][0]) or {}).get("probs") if attr != "age_group5" else None
            kept.append((r, t, scoring.pred_from(_pred_label(r, attr), probs)))
    res = M.classification([t for _, t, _ in kept], [p for _, _, p in kept], scoring.labels)
    res.update(scoring.info(), excluded=excluded)
    source = SCORED[attr][0]
    answered = [r["prediction"][source] for r, _, _ in kept if source in r["prediction"]]
    if any("raw" in p for p in answered):  # a VLM: answers that map onto no label count as wrong
        res["unparsed"] = sum(bool(p.get("unparsed")) for p in answered)
        res["unparsed_rate"] = res["unparsed"] / max(1, len(kept))
    if attr in CALIBRATED:
        conf = [(r["prediction"][source]["score"], p == t) for r, t, p in kept if source in r["prediction"]]
        res["ece"] = M.expected_calibration_error([c for c, _ in conf], [h for _, h in conf])
        res["calibration"] = M.calibration_bins([c for c, _ in conf], [h for _, h in conf])
    return res, kept


def compute_metrics(records: Iterable[dict[str, Any]], label_sets: dict[str, str] | None = None
                    ) -> dict[str, Any]:
    """Per-attribute metrics of one backend's records (the truths decide what is scored).

    ``label_sets`` names the truth's label set per attribute (``Dataset.label_sets``); without
    it, gender and age groups use facescan's sets and the others the backend's own.
    """
    recs = list(records)
    sets = {**_own_sets(recs), **(label_sets or {})}
    out = _rates(recs)
    mappings: dict[str, str] = {}
    kept_by_attr: dict[str, list] = {}
    for attr in SCORED:
        scored = [r for r in recs if SCORED[attr][2] in r["truth"]]
        if attr == "race4" and (sets.get("race"), "race4") not in MAPPINGS:
            continue
        scoring = _plan(attr, scored, sets)
        if not scored or scoring is None or (attr == "age_group" and scoring.pred_set != "age9"):
            continue  # (a backend answering in the 5 age groups has no 9-group score)
        out[attr], kept_by_attr[attr] = _classify(attr, scored, scoring)
        mappings[attr] = scoring.description
    truths = {k for r in recs for k in r["truth"]}
    made = {k for r in recs for k in r["prediction"]}
    out["not_produced"] = sorted(k for k in truths & {"gender", "race", "emotion", "age"} if k not in made)
    if "age_group" in truths and "age" not in made:
        out["not_produced"] = sorted({*out["not_produced"], "age"})
    out["mappings"] = mappings
    aged = [r for r in recs if "age" in r["truth"]]
    if aged and any("age" in r["prediction"] for r in aged):
        def mae(rs: list[dict[str, Any]]) -> dict[str, Any]:
            return M.regression([float(r["truth"]["age"]) for r in rs],
                                [(r["prediction"].get("age") or {}).get("years") for r in rs])

        out["age"] = mae(aged)
        groups = {g: [r for r in aged if r["truth"]["age_group"] == g] for g in AGE9}
        out["age"]["by_age_group"] = {g: mae(rs) for g, rs in groups.items() if rs}
    for target in FAIRNESS_TARGETS:
        if target not in kept_by_attr:
            continue
        labels = out[target]["labels"]
        for name in SENSITIVE:
            if name == SCORED[target][2] or (name == "race_gender" and target in ("gender", "race")):
                continue
            rows = [(t, p, g) for r, t, p in kept_by_attr[target] if (g := _sensitive(r, name)) is not None]
            if len({g for *_, g in rows}) > 1:
                out[f"{target}_by_{name}"] = M.group_fairness(
                    [t for t, _, _ in rows], [p for _, p, _ in rows], [g for *_, g in rows], labels)
    return out


def _own_sets(recs: list[dict[str, Any]]) -> dict[str, str]:
    """Truth label sets when the caller gave none: the backend's own sets (old runs)."""
    out = {}
    for attr in ("race", "emotion"):
        probs = next((r["prediction"][attr]["probs"] for r in recs if attr in r["prediction"]), None)
        if probs and (name := label_set_of(list(probs))):
            out[attr] = name
    return out
