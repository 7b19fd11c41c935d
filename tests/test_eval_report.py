"""`facescan eval` end to end over the published layouts (fixtures made of real faces from
../shared/data, written in each layout's format), then `facescan report` on the saved runs."""

import base64
import csv
import io
import json
import re

import numpy as np
import pytest
from PIL import Image

from facescan import cli
from facescan.datasets import read_fer2013_folders, read_utkface
from facescan.labels import EMOTION7, EMOTION8, RACE_FAIRFACE7, age_group9

UTK_TO_FAIRFACE = {"white": "White", "black": "Black", "asian": "East Asian", "indian": "Indian",
                   "others": "Latino_Hispanic"}
FAIRFACE_AGE = {"70+": "more than 70"}


@pytest.fixture(scope="module")
def runs(tmp_path_factory, utkface_dir, fer_dir):
    """Three small runs: FairFace (UTKFace chips), AffectNet folders and FER2013 CSV (FER faces)."""
    root = tmp_path_factory.mktemp("layouts")
    faces = list(read_fer2013_folders(fer_dir, "test"))[::150][:24]
    # FER2013 CSV: the same faces as pixel strings, and as files in a generic folder data set
    with open(root / "fer2013.csv", "w", newline="") as fp:
        w = csv.writer(fp)
        w.writerow(["emotion", "pixels", "Usage"])
        for s in faces:
            pixels = np.asarray(Image.open(s.path).convert("L")).ravel()
            w.writerow([EMOTION7.index(s.labels["emotion"]), " ".join(map(str, pixels)), "PublicTest"])
            dest = root / "folder" / s.labels["emotion"] / (s.path.split("/")[-1][:-4] + ".png")  # lossless
            dest.parent.mkdir(parents=True, exist_ok=True)
            Image.open(s.path).save(dest)
    # AffectNet folder layout, with a contempt class the FER models cannot produce
    for i, s in enumerate(faces[:16]):
        name = "contempt" if i % 4 == 0 else {"angry": "anger"}.get(s.labels["emotion"], s.labels["emotion"])
        dest = root / "affectnet" / "val" / name / f"{i}.jpg"
        dest.parent.mkdir(parents=True, exist_ok=True)
        Image.open(s.path).convert("RGB").resize((96, 96)).save(dest)
    # FairFace: UTKFace chips under val/, labels in fairface_label_val.csv
    utk = list(read_utkface(utkface_dir, "test"))[::60][:16]
    ff = root / "fairface"
    (ff / "val").mkdir(parents=True)
    with open(ff / "fairface_label_val.csv", "w", newline="") as fp:
        w = csv.writer(fp)
        w.writerow(["file", "age", "gender", "race", "service_test"])
        for i, s in enumerate(utk):
            Image.open(s.path).save(ff / "val" / f"{i + 1}.jpg")
            group = age_group9(s.labels["age"])
            w.writerow([f"val/{i + 1}.jpg", FAIRFACE_AGE.get(group, group), s.labels["gender"].title(),
                        UTK_TO_FAIRFACE[s.labels["race"]], "True"])
    out = {}
    for name, args in {"fairface": ["--dataset", f"fairface:{ff}", "--backend", "facescan,faceapi"],
                       "affectnet": ["--dataset", f"affectnet:{root / 'affectnet'}", "--backend", "facescan,fer",
                                     "--attributes", "emotion"],
                       "fercsv": ["--dataset", f"fer2013:{root / 'fer2013.csv'}", "--backend", "fer",
                                  "--attributes", "emotion"],
                       "folder": ["--dataset", f"folder:{root / 'folder'}", "--backend", "fer",
                                  "--attributes", "emotion"]}.items():
        assert cli.main(["eval", *args, "--out", str(root / name)]) == 0
        out[name] = root / name
    return out


def _metrics(run):
    return json.loads((run / "metrics.json").read_text())


def test_fairface_run_maps_race_and_records_it(runs):
    m = _metrics(runs["fairface"])
    assert m["dataset_info"]["kind"] == "fairface" and m["dataset_info"]["label_sets"]["race"] == "fairface7"
    ours = m["backends"]["facescan"]
    assert ours["race"]["labels"] == list(RACE_FAIRFACE7) and ours["race"]["truth_set"] == "fairface7"
    assert ours["mappings"]["race"] == "same label set"  # the default answers in FairFace's 7
    assert ours["race4"]["n"] + ours["race4"]["excluded"] == 16
    assert "age" not in ours and ours["age_group"]["n"] == 16  # FairFace has groups, not years
    assert m["backends"]["faceapi"]["not_produced"] == ["race"]
    assert "equalized_odds" in ours["gender_by_race"] and ours["throughput_per_s"] > 0
    lines = [json.loads(x) for x in (runs["fairface"] / "predictions.jsonl").read_text().splitlines()]
    assert len(lines) == 32 and all(r["latency_ms"] > 0 for r in lines)
    assert {r["truth"]["race"] for r in lines} <= set(RACE_FAIRFACE7)


def test_affectnet_run_lists_contempt_as_not_producible(runs):
    m = _metrics(runs["affectnet"])
    e = m["backends"]["fer"]["emotion"]  # a FER2013 (7-class) model
    assert e["labels"] == list(EMOTION8) and e["not_producible"] == ["contempt"]
    assert e["per_class"]["contempt"]["recall"] == 0.0 and e["per_class"]["contempt"]["support"] == 4
    assert "not producible: contempt" in m["backends"]["fer"]["mappings"]["emotion"]
    ours = m["backends"]["facescan"]["emotion"]  # the default predicts AffectNet's 8
    assert ours["labels"] == list(EMOTION8) and ours["not_producible"] == []
    assert m["backends"]["facescan"]["mappings"]["emotion"] == "same label set"


def test_in_memory_pixels_predict_like_the_files(runs):
    def by_file(run, key):
        recs = [json.loads(x) for x in (run / "predictions.jsonl").read_text().splitlines()]
        return sorted((r["truth"]["emotion"], r["prediction"]["emotion"]["probs"][key]) for r in recs)

    from_csv, from_files = by_file(runs["fercsv"], "happy"), by_file(runs["folder"], "happy")
    assert len(from_csv) == 24 and [t for t, _ in from_csv] == [t for t, _ in from_files]
    assert [p for _, p in from_csv] == pytest.approx([p for _, p in from_files], abs=1e-3)
    assert _metrics(runs["fercsv"])["emotion"]["accuracy"] == _metrics(runs["folder"])["emotion"]["accuracy"]


def test_report_html_is_self_contained(runs, tmp_path):
    pytest.importorskip("matplotlib")
    out = tmp_path / "report.html"
    assert cli.main(["report", str(runs["fairface"]), str(runs["affectnet"]), "--out", str(out)]) == 0
    page = out.read_text()
    assert "http://" not in page and "https://" not in page and "<script" not in page
    images = re.findall(r'src="data:image/png;base64,([^"]+)"', page)
    assert len(images) >= 6
    for data in images:
        assert Image.open(io.BytesIO(base64.b64decode(data))).format == "PNG"
    assert "FairFace val" in page and "AffectNet val" in page and "n/p" in page  # contempt recall


def test_report_markdown_tables(runs, tmp_path, capsys):
    assert cli.main(["report", str(runs["fairface"]), str(runs["affectnet"]), "--format", "md"]) == 0
    text = capsys.readouterr().out
    header = next(line for line in text.splitlines() if line.startswith("| backend | FairFace"))
    assert "FairFace val race (7)" in header and "AffectNet val emotion (8)" in header
    m = _metrics(runs["fairface"])["backends"]
    row = next(line for line in text.splitlines() if line.startswith("| facescan |"))
    assert f"{100 * m['facescan']['gender']['accuracy']:.1f}" in row
    assert cli.main(["report", str(tmp_path), "--format", "md"]) == 2  # no metrics.json there


def test_runs_on_the_same_split_are_told_apart_by_folder(tmp_path):
    from facescan.eval.report import load_runs

    metrics = {"dataset_info": {"kind": "fairface", "split": "val"}, "backends": {}}
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "metrics.json").write_text(json.dumps(metrics))
    runs = load_runs([str(tmp_path / "a"), str(tmp_path / "b")])
    assert [r.title for r in runs] == ["FairFace val [a]", "FairFace val [b]"]
    assert all(r.metrics == metrics for r in runs)  # the metrics read are left as they are
