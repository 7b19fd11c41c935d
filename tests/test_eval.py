"""Metrics against scikit-learn, the resumable runner, and `facescan eval` on real data."""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from facescan import cli
from facescan.datasets import open_dataset
from facescan.errors import ConfigError
from facescan.eval import metrics as M

sklearn_metrics = pytest.importorskip("sklearn.metrics")


@pytest.mark.filterwarnings("ignore:y_pred contains classes not in y_true")
@pytest.mark.parametrize("seed", range(5))
def test_classification_matches_sklearn(seed):
    rng = np.random.default_rng(seed)
    labels = ["a", "b", "c", "d"]
    truth = list(rng.choice(labels[:3], 200))  # 'd' never true: excluded from the macro means
    pred = list(rng.choice(labels, 200))
    got = M.classification(truth, pred, labels)
    assert got["accuracy"] == pytest.approx(sklearn_metrics.accuracy_score(truth, pred))
    assert got["balanced_accuracy"] == pytest.approx(sklearn_metrics.balanced_accuracy_score(truth, pred))
    assert got["macro_f1"] == pytest.approx(
        sklearn_metrics.f1_score(truth, pred, labels=labels[:3], average="macro"))
    assert got["confusion"] == sklearn_metrics.confusion_matrix(truth, pred, labels=labels).tolist()
    p, r, _, _ = sklearn_metrics.precision_recall_fscore_support(truth, pred, labels=labels, zero_division=0)
    for i, label in enumerate(labels):
        assert got["per_class"][label]["recall"] == pytest.approx(r[i])
        assert got["per_class"][label]["precision"] == pytest.approx(p[i])


def test_failed_predictions_count_as_wrong():
    got = M.classification(["a", "b", "a"], ["a", None, "zzz"], ["a", "b"])
    assert got["accuracy"] == pytest.approx(1 / 3) and got["failed"] == 2
    with pytest.raises(ValueError):
        M.classification(["x"], ["a"], ["a", "b"])
    reg = M.regression([10, 20, 30], [12, None, 27])
    assert reg["mae"] == pytest.approx(2.5) and reg["failed"] == 1


def test_ece_and_group_gaps():
    assert M.expected_calibration_error([0.9] * 10, [True] * 9 + [False]) == pytest.approx(0.0)
    assert M.expected_calibration_error([1.0] * 4, [True, False, True, False]) == pytest.approx(0.5)
    gaps = M.group_accuracy(["m", "m", "f", "f"], ["m", "m", "f", "m"], ["x", "x", "y", "y"])
    assert gaps["groups"]["x"]["accuracy"] == 1.0 and gaps["max_gap"] == pytest.approx(0.5)


def test_open_dataset_specs(utkface_dir, fer_dir):
    assert len(open_dataset(f"fer2013:{fer_dir}")) == len(open_dataset(f"fer2013:{fer_dir}", "test"))
    test = open_dataset(f"utkface:{utkface_dir}", "test")
    assert 0 < len(test) < len(open_dataset(f"utkface:{utkface_dir}")) / 5
    for bad in ("utkface", "nope:/x"):
        with pytest.raises(ConfigError):
            open_dataset(bad)
    with pytest.raises(ConfigError):
        open_dataset(f"utkface:{utkface_dir}", "weird")


def test_eval_utkface_writes_metrics_schema(utkface_dir, tmp_path):
    out = tmp_path / "run"
    assert cli.main(["eval", "--dataset", f"utkface:{utkface_dir}", "--split", "test",
                     "--limit", "24", "--out", str(out)]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    for key in ("gender", "race", "age_group", "age_group5"):
        assert 0 <= metrics[key]["accuracy"] <= 1 and metrics[key]["n"] == 24
    assert metrics["age"]["mae"] >= 0 and metrics["backends"]["facescan"]["gender"] == metrics["gender"]
    assert "max_gap" in metrics["gender_by_race"]
    lines = (out / "predictions.jsonl").read_text().splitlines()
    assert len(lines) == 24 and len({json.loads(x)["id"] for x in lines}) == 24


def test_eval_fer2013_emotion(fer_dir, tmp_path):
    out = tmp_path / "fer"
    assert cli.main(["eval", "--dataset", f"fer2013:{fer_dir}", "--limit", "30",
                     "--attributes", "emotion", "--out", str(out)]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["emotion"]["n"] == 30 and "gender" not in metrics
    assert len(metrics["emotion"]["confusion"]) == 7


def test_sigkill_then_resume_has_every_sample_once(utkface_dir, tmp_path):
    out = tmp_path / "killed"
    cmd = [sys.executable, "-m", "facescan.cli", "eval", "--dataset", f"utkface:{utkface_dir}",
           "--split", "test", "--limit", "150", "--out", str(out), "--attributes", "gender"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    pred = out / "predictions.jsonl"
    deadline = time.time() + 60
    while time.time() < deadline and (not pred.exists() or len(pred.read_text().splitlines()) < 20):
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    partial = len(pred.read_text().splitlines())
    assert 0 < partial < 150
    with open(pred, "a") as fp:
        fp.write('{"id": "torn')  # a half-written line, as a kill can leave
    subprocess.run(cmd + ["--resume"], check=True, capture_output=True)
    ids = [json.loads(line)["id"] for line in pred.read_text().splitlines()]
    assert len(ids) == 150 and len(set(ids)) == 150
