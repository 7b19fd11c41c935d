"""Verification: the View-2 metrics, `facescan eval --dataset lfw:`, facescan.verify and the CLI."""

import json

import numpy as np
import pytest
from PIL import Image

import facescan
from facescan import registry
from facescan.cli import main
from facescan.eval.verification import best_threshold, fit_logistic, probability, roc_auc, tar_at_far, view2
from facescan.identity.verify import CALIBRATIONS

# two photos of one man, and one of another (LFW-a, grey 250x250)
SAME = (("Abdullah_Gul", 14), ("Abdullah_Gul", 15))
OTHER = ("Aaron_Sorkin", 1)


def _path(root, name, i):
    return str(root / name / f"{name}_{i:04d}.jpg")


def test_best_threshold_and_auc_on_known_pairs():
    dist = np.array([0.1, 0.2, 0.3, 0.6, 0.7, 0.25])
    same = np.array([True, True, True, False, False, False])
    assert best_threshold(dist, same) == pytest.approx(0.225)  # one of six wrong whichever way
    assert roc_auc(dist, same) == pytest.approx(8 / 9)
    assert roc_auc(np.array([0.1, 0.9]), np.array([True, False])) == 1.0
    assert roc_auc(np.array([0.5, 0.5]), np.array([True, False])) == 0.5


def test_tar_at_far_says_when_there_are_too_few_negatives():
    rng = np.random.default_rng(0)
    dist = np.concatenate([rng.uniform(0, 0.5, 500), rng.uniform(0.3, 1, 500)])
    same = np.arange(1000) < 500
    few = tar_at_far(dist, same, 1e-3)  # 500 negatives: 0.5 false accepts allowed -> none
    assert not few["meaningful"] and few["false_accepts_allowed"] == 0
    assert few["threshold"] < dist[~same].min()
    ok = tar_at_far(dist, same, 1e-2)
    assert ok["meaningful"] and ok["false_accepts_allowed"] == 5
    assert (dist[~same] <= ok["threshold"]).sum() == 5 and ok["tar"] > few["tar"]


def test_logistic_calibration_and_view2():
    rng = np.random.default_rng(1)
    dist = np.concatenate([rng.normal(0.3, 0.1, 600), rng.normal(0.8, 0.1, 600)])
    same = np.arange(1200) < 600
    fold = np.tile(np.repeat([0, 1, 2], 200), 2)
    a, b = fit_logistic(dist, same)
    assert b < 0 and probability(0.2, a, b) > 0.95 and probability(0.9, a, b) < 0.05
    assert probability(-a / b, a, b) == pytest.approx(0.5)
    m = view2(dist, same, fold)
    assert m["folds"] == 3 and len(m["per_fold"]) == 3 and m["n_different"] == 600
    assert 0.97 < m["accuracy"] <= 1 and m["roc_auc"] > 0.99
    assert 0.45 < m["threshold"]["value"] < 0.65 and m["calibration"]["held_out_log_loss"] < 0.15
    assert [t["far"] for t in m["tar_at_far"]] == [1e-3, 1e-2]


def test_every_embedder_has_a_calibration():
    assert set(CALIBRATIONS) == set(registry.names("embedder"))
    for cal in CALIBRATIONS.values():
        assert 0 < cal.threshold < 1 and 0 <= cal.far < 0.1 and cal.b < 0


def _tiny_lfw(lfw_dir, tmp_path):
    """An LFW layout of 2 folds x (2 same + 2 different) real pairs, linked to the shared copy."""
    root = tmp_path / "lfw"
    root.mkdir()
    lines = ["2\t2",  # per fold: 2 same-person lines, then 2 different-person lines
             "Abdullah_Gul\t14\t15", "Abdullah_Gul\t1\t6", "Aaron_Sorkin\t1\tAbdullah_Gul\t14",
             "Aaron_Sorkin\t2\tAbdullah_Gul\t6",
             "Abdullah_Gul\t7\t8", "Aaron_Sorkin\t1\t2", "Abdullah_Gul\t9\tAaron_Sorkin\t1",
             "Abdullah_Gul\t12\tAaron_Sorkin\t2"]
    (root / "pairs.txt").write_text("\n".join(lines) + "\n")
    for name in ("Abdullah_Gul", "Aaron_Sorkin"):
        (root / name).symlink_to(lfw_dir / name)
    return root


def test_eval_lfw_writes_view2_metrics_and_the_report_shows_them(lfw_dir, tmp_path, capsys):
    root = _tiny_lfw(lfw_dir, tmp_path)
    out = tmp_path / "run"
    assert main(["eval", "--dataset", f"lfw:{root}", "--model", "sface", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "sface: accuracy" in printed and "ROC AUC" in printed and "no false accept allowed" in printed
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["task"] == "verification" and metrics["dataset_info"]["pairs"] == 8
    m = metrics["backends"]["sface"]
    assert m["folds"] == 2 and m["n"] == 8 and m["faces_per_s"] > 0 and m["dim"] == 128
    assert m["roc_auc"] == 1.0  # these pairs are easy
    records = [json.loads(line) for line in (out / "predictions.jsonl").read_text().splitlines()]
    assert len(records) == 8 and {r["same"] for r in records} == {True, False}
    assert all(r["distance"] < 0.5 for r in records if r["same"])
    assert main(["report", str(out), "--format", "md"]) == 0
    report = capsys.readouterr().out
    assert "identity verification" in report and "TAR % @ FAR 0.001" in report and "| sface |" in report


def test_verify_same_and_different_people(lfw_dir):
    a, b = (_path(lfw_dir, *p) for p in SAME)
    same = facescan.verify(a, b)
    other = facescan.verify(a, _path(lfw_dir, *OTHER))
    assert same.same and not other.same
    assert same.distance < same.threshold < other.distance
    assert same.probability > 0.9 and other.probability < 0.1
    assert same.model == "sface" and same.faces_a >= 1 and same.face_a.embedding is not None


def test_verify_uses_the_largest_face_unless_told(group_photo, lfw_dir):
    image, places = group_photo  # four different people, pasted at equal size
    v = facescan.verify(image, image, face_a=0, face_b=0)
    assert v.same and v.distance < 1e-4 and v.faces_a == len(places)
    # a boy of 10 and a black girl of 17 (faces 0 and 3, a boy and a woman of 20, come out at
    # 0.67: under the LFW threshold, a false accept; children are harder than LFW's adults)
    w = facescan.verify(image, image, face_a=0, face_b=2)
    assert not w.same and (w.index_a, w.index_b) == (0, 2)
    with pytest.raises(facescan.ImageError, match="face 7 asked for, but 4"):
        facescan.verify(image, image, face_a=7)


def test_cli_verify_json_and_text(lfw_dir, capsys):
    a, b = (_path(lfw_dir, *p) for p in SAME)
    assert main(["verify", a, b, "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["same"] is True and record["model"] == "sface"
    assert set(record) == {"same", "probability", "distance", "threshold", "false_accept_rate_at_threshold",
                           "model", "a", "b"}
    assert record["a"]["path"] == a and set(record["a"]) == {"path", "face", "faces", "bbox", "score"}
    assert main(["verify", a, _path(lfw_dir, *OTHER)]) == 0
    text = capsys.readouterr().out
    assert text.startswith("different people") and "threshold" in text and "face 0 of" in text


def test_cli_verify_bad_input(lfw_dir, tmp_path, capsys):
    a = _path(lfw_dir, *SAME[0])
    blank = tmp_path / "blank.png"
    Image.fromarray(np.full((200, 200, 3), 128, np.uint8)).save(blank)
    junk = tmp_path / "junk.jpg"
    junk.write_bytes(b"not an image")
    assert main(["verify", a, str(blank)]) == 1
    assert f"{blank}: no face found" in capsys.readouterr().err
    assert main(["verify", str(junk), a]) == 1
    assert "junk.jpg" in capsys.readouterr().err
    assert main(["verify", a, str(tmp_path / "missing.jpg")]) == 1
    assert "no such file" in capsys.readouterr().err
    assert main(["verify", a, a, "--face-b", "3"]) == 1
    with pytest.raises(SystemExit) as exit_info:  # argparse: usage error
        main(["verify", a, a, "--model", "nope"])
    assert exit_info.value.code == 2
