"""facescan index / search / forget on the command line: outputs, exit codes, bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from store_fixtures import INDEXED, PEOPLE, person_of

from facescan import cli

ROOT = Path(__file__).resolve().parents[1]


def test_index_search_forget_commands(store_url, photo_folder, lfw_people, capsys, tmp_path):
    (photo_folder / "broken.jpg").write_bytes(b"not an image")
    assert cli.main(["index", str(photo_folder), "--db", store_url, "-q"]) == cli.EXIT_INPUT_ERRORS
    err = capsys.readouterr().err
    total = INDEXED * len(PEOPLE)
    assert f"{total + 1} of {total + 1} photos: {total} new, 0 already stored, 0 moved, 1 failed" in err
    assert "broken.jpg" in err and "Traceback" not in err
    (photo_folder / "broken.jpg").unlink()
    assert cli.main(["index", str(photo_folder), "--db", store_url, "-q"]) == cli.EXIT_OK
    assert f"0 new, {total} already stored" in capsys.readouterr().err

    query = str(lfw_people[PEOPLE[3]][INDEXED])
    assert cli.main(["search", query, "--db", store_url, "-k", "3", "--json"]) == cli.EXIT_OK
    out = json.loads(capsys.readouterr().out)
    assert len(out["matches"]) == 3 and person_of(out["matches"][0]["path"]) == PEOPLE[3]
    assert out["query_faces"] >= 1 and out["model"]
    assert cli.main(["search", query, "--db", store_url, "-k", "2"]) == cli.EXIT_OK
    text = capsys.readouterr().out
    assert "  1. distance " in text and PEOPLE[3] in text

    assert cli.main(["forget", "--db", store_url, "--path", str(photo_folder / PEOPLE[3])]) == cli.EXIT_OK
    assert f"forgot {INDEXED} photo(s)" in capsys.readouterr().out
    assert cli.main(["search", query, "--db", store_url, "-k", "50", "--json"]) == cli.EXIT_OK
    assert all(person_of(m["path"]) != PEOPLE[3] for m in json.loads(capsys.readouterr().out)["matches"])
    assert cli.main(["forget", "--db", store_url, "--path", str(photo_folder / PEOPLE[3])]) == cli.EXIT_INPUT_ERRORS
    assert "nothing stored" in capsys.readouterr().out
    assert cli.main(["forget", "--db", store_url, "--person", "999"]) == cli.EXIT_USAGE
    assert "no person with id 999" in capsys.readouterr().err


def test_query_with_no_face_or_several(store_url, photo_folder, lfw_people, tmp_path, capsys):
    assert cli.main(["index", str(photo_folder / PEOPLE[0]), str(photo_folder / PEOPLE[4]), "--db", store_url,
                     "-q"]) == cli.EXIT_OK
    capsys.readouterr()
    blank = tmp_path / "blank.png"
    Image.fromarray(np.full((200, 300, 3), 128, np.uint8)).save(blank)
    assert cli.main(["search", str(blank), "--db", store_url]) == cli.EXIT_USAGE
    assert "no face found" in capsys.readouterr().err
    # two people side by side, the second one bigger: the largest is used unless --face N
    a = Image.open(lfw_people[PEOPLE[0]][INDEXED]).convert("RGB").resize((200, 200))
    b = Image.open(lfw_people[PEOPLE[4]][INDEXED]).convert("RGB").resize((320, 320))
    pair = Image.new("RGB", (560, 340), (128, 128, 128))
    pair.paste(a, (10, 70))
    pair.paste(b, (230, 10))
    pair.save(tmp_path / "pair.jpg")
    assert cli.main(["search", str(tmp_path / "pair.jpg"), "--db", store_url, "-k", "1"]) == cli.EXIT_OK
    out = capsys.readouterr().out
    assert "2 faces; searching with face 1 (0-based, left to right; the largest; choose another with --face N)" \
        in out and PEOPLE[4] in out
    assert cli.main(["search", str(tmp_path / "pair.jpg"), "--db", store_url, "-k", "1", "--face", "0"]) == 0
    out = capsys.readouterr().out
    assert "searching with face 0 (0-based, left to right; --face)" in out and PEOPLE[0] in out
    assert cli.main(["search", str(tmp_path / "pair.jpg"), "--db", store_url, "--face", "6"]) == cli.EXIT_USAGE
    assert "face 6 (0-based) does not exist" in capsys.readouterr().err


def test_bad_stores_give_one_clear_line(tmp_path, lfw_people):
    photo = str(lfw_people[PEOPLE[0]][0])
    cases = {
        "not-a-store": (["search", photo, "--db", photo], "not a facescan store"),
        "missing": (["search", photo, "--db", str(tmp_path / "none.db")], "no store at"),
        "refused": (["search", photo, "--db", "postgresql://facescan:secret@127.0.0.1:1/faces", "--wait", "2"],
                    "cannot connect to PostgreSQL at postgresql://facescan:***@127.0.0.1:1/faces"),
    }
    env = {"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin"}
    for name, (args, message) in cases.items():
        run = subprocess.run([sys.executable, "-m", "facescan.cli", *args], check=False, capture_output=True, text=True,
                             env=env, timeout=120)
        assert run.returncode == cli.EXIT_USAGE, (name, run.stderr)
        assert message in run.stderr and "Traceback" not in run.stderr and "secret" not in run.stderr, name


@pytest.mark.parametrize("args", [["forget", "--db", "x.db"], ["forget", "--db", "x.db", "--path", "a", "--person", "1"]])
def test_forget_needs_one_target(args, capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(args)
    assert exc.value.code == 2
