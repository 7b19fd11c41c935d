"""Clustering a face store by person (both backends): real LFW-a faces of five people, people
found, incremental assignment of new photos, names kept through re-clustering, the CLI."""

from __future__ import annotations

import json
import shutil

from store_fixtures import INDEXED, PEOPLE, person_of

from facescan import open_store
from facescan.cli import EXIT_OK, EXIT_USAGE, main
from facescan.eval.metrics import bcubed
from facescan.store.people import cluster_store, summarise


def _truth_and_labels(store):
    rows = store.face_rows()
    return [person_of(path) for _, path, _, _ in rows], [pid for _, _, pid, _ in rows]


def test_cluster_store_incremental_and_names(store_url, photo_folder, lfw_people, embed_analyzer):
    with open_store(store_url) as store:
        store.index([photo_folder], analyzer=embed_analyzer)
        people = store.cluster()
        truth, labels = _truth_and_labels(store)
        assert None not in labels
        assert bcubed(truth, labels)["f1"] > 0.9
        biggest = people[0]
        assert biggest.faces >= INDEXED - 1 and len(biggest.photos) == biggest.faces
        assert {"gender", "age"} <= set(biggest.summary)
        # a new photo of someone known joins that person; nothing else moves
        before = dict(zip(*[[r[0] for r in store.face_rows()], labels]))
        shutil.copy(lfw_people[PEOPLE[0]][INDEXED], photo_folder / PEOPLE[0])
        store.index([photo_folder], analyzer=embed_analyzer)
        cluster_store(store)
        rows = store.face_rows()
        after = {fid: pid for fid, _, pid, _ in rows}
        assert all(after[f] == p for f, p in before.items())
        new_face = max(after)
        blair = {pid for fid, path, pid, _ in rows if person_of(path) == PEOPLE[0] and fid != new_face}
        assert after[new_face] in blair
        # a name survives clustering everything again
        store.name_person(after[new_face], "Tony Blair")
        again = cluster_store(store, recluster=True)
        named = [p for p in again if p.name == "Tony Blair"]
        assert len(named) == 1 and all(person_of(path) == PEOPLE[0] for path in named[0].photos)


def test_summary_averages_probabilities():
    rows = [{"gender": {"label": "female"}, "age": {"years": 30.0},
             "race": {"label": "asian", "probs": {"asian": 0.4, "white": 0.6}}},
            {"gender": {"label": "female"}, "age": {"years": 40.0},
             "race": {"label": "asian", "probs": {"asian": 0.9, "white": 0.1}}},
            {"gender": {"label": "male"}, "age": {"years": 50.0}}]
    s = summarise(rows)
    assert s["gender"] == {"label": "female", "share": 0.667}
    assert s["age"] == {"median_years": 40.0}
    assert s["race"] == {"label": "asian", "score": 0.65}


def test_cluster_cli(tmp_path, photo_folder, capsys):
    db = str(tmp_path / "faces.db")
    out = tmp_path / "people.json"
    assert main(["cluster", str(photo_folder), "--db", db, "-o", str(out), "-q"]) == EXIT_OK
    record = json.loads(out.read_text())
    assert record["embedding_model"] and len(record["people"]) >= len(PEOPLE)
    top = record["people"][0]
    assert top["faces"] >= INDEXED - 1 and "gender" in top["summary"]
    shown = capsys.readouterr().out
    assert f"person {top['id']}" in shown
    assert main(["cluster", "--db", db, "--name", f"{top['id']}=Somebody", "-o", "-"]) == EXIT_OK
    again = json.loads(capsys.readouterr().out)
    assert again["people"][0]["name"] == "Somebody"
    with open_store(db) as store:
        assert store.persons()[top["id"]] == "Somebody"
    assert main(["cluster"]) == EXIT_USAGE
    assert main(["cluster", "--db", db, "--name", "x=y"]) == EXIT_USAGE
