"""End-to-end CLI runs on real faces, with broken files mixed in."""

import csv
import json
import shutil
import subprocess
import sys

import pytest

from facescan import cli


@pytest.fixture()
def folder(tmp_path, utk_samples):
    """8 real chips in nested folders, plus the bad-input corpus."""
    root = tmp_path / "photos"
    (root / "sub").mkdir(parents=True)
    for i, s in enumerate(utk_samples[:8]):
        shutil.copy(s.path, root / ("sub" if i % 2 else "") / f"face{i}.jpg")
    (root / "empty.jpg").write_bytes(b"")
    (root / "text.png").write_text("not an image")
    (root / "trunc.jpg").write_bytes((root / "face0.jpg").read_bytes()[:400])
    (root / "dir.jpg").mkdir()
    (root / "notes.txt").write_text("ignored: not an image extension")
    return root


BAD = {"empty.jpg", "text.png", "trunc.jpg", "dir.jpg"}


def _records(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_analyze_folder_jsonl_errors_and_annotations(folder, tmp_path, capsys):
    out = tmp_path / "out.jsonl"
    code = cli.main(["analyze", str(folder), "-o", str(out), "--annotate", str(tmp_path / "ann")])
    assert code == cli.EXIT_INPUT_ERRORS
    records = _records(out)
    assert len(records) == 12
    by_name = {r["path"].rsplit("/", 1)[-1]: r for r in records}
    for name, rec in by_name.items():
        if name in BAD:
            assert rec["error"] and rec["faces"] == []
        else:
            assert rec["error"] is None and rec["faces"], name
            attrs = rec["faces"][0]["attributes"]
            assert set(attrs) == {"gender", "age", "race", "emotion"}
            assert {"label", "years", "group5", "score", "probs"} <= set(attrs["age"])
            assert len(rec["faces"][0]["landmarks"]) == 5 and len(rec["faces"][0]["bbox"]) == 4
    assert len(list((tmp_path / "ann").glob("*.jpg"))) == 8
    assert "12 images" in capsys.readouterr().err


def test_csv_and_parquet_rows_per_face(folder, tmp_path):
    pq = pytest.importorskip("pyarrow.parquet")
    assert cli.main(["analyze", str(folder), "-q", "-o", str(tmp_path / "r.csv")]) == 1
    rows = list(csv.DictReader((tmp_path / "r.csv").read_text().splitlines()))
    assert len(rows) >= 12 and all(r["gender"] for r in rows if not r["error"])
    assert cli.main(["analyze", str(folder), "-q", "-o", str(tmp_path / "r.parquet"),
                     "--attributes", "age,gender"]) == 1
    table = pq.read_table(tmp_path / "r.parquet").to_pylist()
    assert len(table) == len(rows)
    good = [r for r in table if r["error"] is None]
    assert all(r["age_years"] > 0 and r["race"] is None for r in good)


def test_readable_summary_on_stdout(folder, capsys):
    assert cli.main(["analyze", str(folder / "face0.jpg"), "-q"]) == 0
    out = capsys.readouterr().out
    assert "face0.jpg: 1 face(s)" in out and "#1 [" in out


def test_interrupt_keeps_what_was_written(folder, tmp_path, monkeypatch):
    from facescan.pipeline import Analyzer

    real = Analyzer.analyze_many

    def interrupted(self, sources, batch_size=16):
        for i, result in enumerate(real(self, sources, batch_size=2)):
            if i == 3:
                raise KeyboardInterrupt
            yield result

    monkeypatch.setattr(Analyzer, "analyze_many", interrupted)
    out = tmp_path / "part.jsonl"
    assert cli.main(["analyze", str(folder), "-q", "-o", str(out)]) == cli.EXIT_INTERRUPTED
    assert len(_records(out)) == 3


def test_if_no_face_whole_makes_a_faceless_image_one_marked_face(folder, tmp_path, capsys):
    import numpy as np
    from PIL import Image

    Image.fromarray(np.full((160, 120, 3), 128, np.uint8)).save(tmp_path / "grey.png")
    inputs = [str(tmp_path / "grey.png"), str(folder / "face0.jpg")]
    out = tmp_path / "skip.jsonl"
    assert cli.main(["analyze", *inputs, "-q", "--attributes", "gender", "-o", str(out)]) == 0
    assert [len(r["faces"]) for r in _records(out)] == [0, 1]
    out = tmp_path / "whole.jsonl"
    assert cli.main(["analyze", *inputs, "-q", "--attributes", "gender", "--if-no-face", "whole", "-o", str(out)]) == 0
    grey, face = _records(out)
    assert grey["faces"] == [{"bbox": [0.0, 0.0, 120.0, 160.0], "score": 0.0, "found_by": "whole-image",
                              "landmarks": None, "attributes": grey["faces"][0]["attributes"]}]
    assert list(grey["faces"][0]["attributes"]) == ["gender"]
    assert [f["found_by"] for f in face["faces"]] == ["yunet"]  # a face found is kept as it is
    assert cli.main(["analyze", *inputs, "-q", "--if-no-face", "whole", "-o", str(tmp_path / "r.csv")]) == 0
    rows = list(csv.DictReader((tmp_path / "r.csv").read_text().splitlines()))
    assert [(r["score"], r["found_by"]) for r in rows] == [("0.0", "whole-image"), (rows[1]["score"], "yunet")]
    capsys.readouterr()
    assert cli.main(["analyze", inputs[0], "-q", "--attributes", "gender", "--if-no-face", "whole"]) == 0
    assert "  #1 [0, 0, 120, 160] (no face found: the whole image) " in capsys.readouterr().out
    with pytest.raises(SystemExit) as exit_:
        cli.main(["analyze", inputs[0], "--if-no-face", "crop"])
    assert exit_.value.code == cli.EXIT_USAGE
    assert "invalid choice: 'crop' (choose from" in capsys.readouterr().err
    helped = subprocess.run([sys.executable, "-m", "facescan.cli", "analyze", "--help"], capture_output=True,
                            text=True, check=True).stdout
    assert "--if-no-face {skip,whole}" in helped and "passport photo" in " ".join(helped.split())


def test_usage_errors_exit_2(tmp_path, capsys):
    assert cli.main(["analyze", str(tmp_path), "-q"]) == cli.EXIT_USAGE  # empty folder
    assert cli.main(["analyze", "x.jpg", "--attributes", "height"]) == cli.EXIT_USAGE
    assert "unknown attribute" in capsys.readouterr().err
    assert cli.main(["analyze", "x.jpg", "-o", "out.xlsx"]) == cli.EXIT_USAGE


def test_models_command_and_installed_script(capsys):
    assert cli.main(["models"]) == 0
    out = capsys.readouterr().out
    assert "yunet" in out and "facescan-utkface-heads" in out and "ok" in out
    # the console script, as a user runs it, in a separate process
    run = subprocess.run([sys.executable, "-m", "facescan.cli", "models", "--json"],
                         capture_output=True, text=True, check=True)
    assert {m["name"] for m in json.loads(run.stdout)} >= {"yunet", "fer-mini-xception"}


def test_train_needs_its_data_folder(capsys):
    assert cli.main(["train", "utkface-finetune", "--out", "x.onnx"]) == cli.EXIT_USAGE
    assert "--data" in capsys.readouterr().err
