"""Label-set mappings, equalised odds and metrics.json from saved records (no model runs)."""

import numpy as np
import pytest

from facescan.eval import metrics as M
from facescan.eval.mapping import plan
from facescan.eval.scoring import compute_metrics
from facescan.labels import EMOTION7, EMOTION8, RACE_FAIRFACE7, RACE_UTK5

sklearn_metrics = pytest.importorskip("sklearn.metrics")


@pytest.mark.parametrize("truth_set,pred,target,labels,tmap,pmap,missing", [
    ("utk5", RACE_UTK5, None, RACE_UTK5, None, None, ()),
    ("affectnet8", EMOTION7, None, EMOTION8, None, None, ("contempt",)),
    ("fairface7", RACE_UTK5, None, RACE_UTK5, ("latino_hispanic", "others"), None, ()),
    ("fer7", EMOTION8, None, EMOTION7, None, ("contempt", None), ()),
    ("fairface7", RACE_UTK5, "race4", ("white", "black", "asian", "indian"), ("middle_eastern", None),
     ("others", None), ()),
])
def test_plan(truth_set, pred, target, labels, tmap, pmap, missing):
    s = plan(truth_set, list(pred), target)
    assert s.labels == tuple(labels) and s.not_producible == missing and s.description
    if tmap:
        assert s.truth(tmap[0]) == tmap[1]
    if pmap:
        assert s.pred(pmap[0]) == pmap[1]
    assert s.pred(None) is None


def _direct_eod(truth, pred, groups, labels):
    """Equalised-odds difference from sklearn's per-group binary confusion matrices."""
    diffs = []
    for c in labels:
        tprs, fprs = [], []
        for g in sorted(set(groups)):
            idx = [i for i, x in enumerate(groups) if x == g]
            t = [truth[i] == c for i in idx]
            p = [pred[i] == c for i in idx]
            tn, fp, fn, tp = sklearn_metrics.confusion_matrix(t, p, labels=[False, True]).ravel()
            if tp + fn >= M.MIN_SUPPORT:
                tprs.append(tp / (tp + fn))
            if fp + tn >= M.MIN_SUPPORT:
                fprs.append(fp / (fp + tn))
        gaps = [max(x) - min(x) for x in (tprs, fprs) if len(x) > 1]
        if gaps:
            diffs.append(max(gaps))
    return max(diffs), float(np.mean(diffs))


@pytest.mark.parametrize("seed", range(4))
def test_equalized_odds_matches_direct_computation(seed):
    rng = np.random.default_rng(seed)
    labels = ["a", "b", "c"]
    truth = list(rng.choice(labels, 300))
    pred = [t if rng.random() < 0.6 else rng.choice(labels + [None]) for t in truth]
    groups = list(rng.choice(["g1", "g2", "g3"], 300, p=[0.5, 0.3, 0.2]))
    got = M.equalized_odds(truth, pred, groups, labels)
    worst, mean = _direct_eod(truth, pred, groups, labels)
    assert len(got["per_class"]) == 3
    assert got["difference"] == pytest.approx(worst) and got["mean"] == pytest.approx(mean)


def test_equalized_odds_binary_and_fair_cases():
    truth = ["m", "f", "m", "f"] * 10
    assert M.equalized_odds(truth, truth, ["x", "x", "y", "y"] * 10, ["m", "f"])["difference"] == 0.0
    assert np.isnan(M.equalized_odds(truth, truth, ["x", "y"] * 20, ["m", "f"])["difference"])  # no overlap
    # group y: every f called m -> TPR(f) 1 vs 0, FPR(m) 0 vs 1
    pred = [t if g == "x" else "m" for t, g in zip(truth, ["x", "x", "y", "y"] * 10)]
    got = M.equalized_odds(truth, pred, ["x", "x", "y", "y"] * 10, ["m", "f"])
    assert got["difference"] == 1.0 and got["per_class"]["f"]["tpr_gap"] == 1.0
    # a group of 3 (below MIN_SUPPORT) is left out of the rates, however wrong its predictions
    tiny = M.equalized_odds(truth + ["m", "f", "m"], truth + ["f", "m", "f"], ["x", "x", "y", "y"] * 10 + ["z"] * 3,
                            ["m", "f"])
    assert tiny["difference"] == M.equalized_odds(truth, truth, ["x", "x", "y", "y"] * 10, ["m", "f"])["difference"]


def test_calibration_bins_add_up_to_ece():
    rng = np.random.default_rng(0)
    conf = rng.uniform(0.3, 1, 500)
    hit = rng.random(500) < conf
    bins = M.calibration_bins(conf, hit)
    assert sum(b["n"] for b in bins) == 500
    assert M.expected_calibration_error(conf, hit) == pytest.approx(
        sum(b["n"] / 500 * abs(b["accuracy"] - b["confidence"]) for b in bins))


def _rec(i, truth, pred, **extra):
    return {"id": str(i), "backend": "b", "truth": truth, "prediction": pred, "error": None,
            "face_found": True, "latency_ms": 10.0, **extra}


def _emo(label, labels):
    probs = {k: (0.9 if k == label else 0.1 / (len(labels) - 1)) for k in labels}
    return {"emotion": {"label": label, "score": 0.9, "probs": probs}}


def test_affectnet8_truth_fer7_model_reports_contempt_as_not_producible():
    truths = ["happy", "contempt", "contempt", "sad", "angry"]
    preds = ["happy", "angry", "neutral", "sad", "angry"]
    recs = [_rec(i, {"emotion": t}, _emo(p, EMOTION7)) for i, (t, p) in enumerate(zip(truths, preds))]
    recs.append(_rec(9, {"emotion": "fear"}, {}, error="unreadable"))
    recs.append(_rec(10, {"emotion": "fear"}, {"emotion": {"label": "unparsed", "score": 0.0, "probs": {},
                                                           "unparsed": True, "raw": "I think it's a cat"}}))
    m = compute_metrics(recs, {"emotion": "affectnet8"})
    e = m["emotion"]
    assert e["labels"] == list(EMOTION8) and e["not_producible"] == ["contempt"]
    assert e["per_class"]["contempt"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 2}
    assert [row[EMOTION8.index("contempt")] for row in e["confusion"]] == [0] * 8
    assert e["accuracy"] == pytest.approx(3 / 7) and e["failed"] == 2
    assert "contempt" in m["mappings"]["emotion"]
    assert m["failed_rate"] == pytest.approx(1 / 7) and m["unparsed_rate"] == pytest.approx(1 / 7)
    assert m["throughput_per_s"] == pytest.approx(100.0)


def test_fairface_truth_utk5_model_maps_truth_and_breaks_down_by_group():
    rng = np.random.default_rng(3)
    recs = []
    for i in range(200):
        race = RACE_FAIRFACE7[i % 7]
        gender = ("male", "female")[i % 2]
        guess = gender if rng.random() < (0.95 if race == "white" else 0.7) else ("female", "male")[i % 2]
        pred = {"gender": {"label": guess, "score": 0.8, "probs": {"male": 0.5, "female": 0.5}},
                "race": {"label": RACE_UTK5[i % 5], "score": 0.5, "probs": dict.fromkeys(RACE_UTK5, 0.2)},
                "age": {"label": "20-29", "years": 25.0, "group5": "20-39", "score": 0.5,
                        "probs": dict.fromkeys(["0-2", "3-9", "10-19", "20-29", "30-39", "40-49", "50-59",
                                                "60-69", "70+"], 1 / 9)}}
        recs.append(_rec(i, {"gender": gender, "race": race, "age_group": "20-29", "age_group5": "20-39"}, pred))
    m = compute_metrics(recs, {"gender": "gender", "race": "fairface7", "age_group": "age9"})
    assert m["race"]["labels"] == list(RACE_UTK5) and "fairface7 -> utk5" in m["mappings"]["race"]
    assert m["race4"]["excluded"] == sum(r["truth"]["race"] in ("latino_hispanic", "middle_eastern") for r in recs)
    byr = m["gender_by_race"]
    assert set(byr["groups"]) == set(RACE_FAIRFACE7) and byr["best"] == "white"
    assert byr["max_gap"] == pytest.approx(byr["groups"]["white"]["accuracy"] - byr["groups"][byr["worst"]]["accuracy"])
    assert byr["equalized_odds"]["difference"] > 0 and "age" not in m  # groups only: no MAE
    assert m["age_group5"]["accuracy"] == 1.0 and "gender_by_race_gender" not in m


def _said(race):  # a free-text (VLM) answer: a label, no distribution
    return {"race": {"label": race, "score": 1.0, "probs": {}, "raw": race}}


def test_free_text_answers_covering_part_of_the_truths_set_are_scored_in_it():
    truths = ["white", "black", "asian", "others", "white"]
    answers = ["white", "black", "white", "black", "black"]
    recs = [_rec(i, {"race": t}, _said(a)) for i, (t, a) in enumerate(zip(truths, answers))]
    m = compute_metrics(recs, {"race": "utk5"})  # was: ConfigError no mapping from utk5 / None to race4
    assert m["race"]["labels"] == list(RACE_UTK5) and m["race"]["accuracy"] == pytest.approx(2 / 5)
    assert m["race4"]["excluded"] == 1 and m["race4"]["accuracy"] == pytest.approx(2 / 4)


def test_free_text_answers_outside_the_truths_set_use_the_set_holding_them():
    truths = ["white", "black", "east_asian", "southeast_asian", "latino_hispanic", "indian"]
    answers = ["white", "black", "asian", "asian", "white", "asian"]
    recs = [_rec(i, {"race": t}, _said(a)) for i, (t, a) in enumerate(zip(truths, answers))]
    m = compute_metrics(recs, {"race": "fairface7"})  # was: every answer scored wrong
    assert m["race"]["labels"] == list(RACE_UTK5) and "fairface7 -> utk5" in m["mappings"]["race"]
    assert m["race"]["accuracy"] == pytest.approx(4 / 6) and m["race4"]["accuracy"] == pytest.approx(4 / 5)
