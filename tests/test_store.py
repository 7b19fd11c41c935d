"""The face store, one suite for both backends (SQLite file, PostgreSQL + pgvector): real LFW-a
faces of five people, indexed, searched, re-indexed, moved, named and forgotten."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from store_fixtures import INDEXED, PEOPLE, person_of

from facescan import Face, StoreError, open_store
from facescan.identity import DEFAULT_EMBEDDER


def test_index_search_and_incremental_reindex(store_url, photo_folder, lfw_people, embed_analyzer):
    total = INDEXED * len(PEOPLE)
    with open_store(store_url) as store:
        first = store.index([photo_folder], analyzer=embed_analyzer)
        assert (first.total, first.new, first.skipped, first.failed) == (total, total, 0, 0)
        assert first.faces >= total
        stats = store.stats()
        assert stats["photos"] == total and stats["faces"] == first.faces
        assert store.model == DEFAULT_EMBEDDER and store.dim > 0
        again = store.index([photo_folder], analyzer=embed_analyzer)
        assert (again.new, again.skipped, again.faces) == (0, total, 0)
        assert store.stats()["faces"] == first.faces  # nothing duplicated
        hits = same = 0
        for person, paths in lfw_people.items():  # a photo of each person that is not in the store
            result = store.search(str(paths[INDEXED]), k=5, analyzer=embed_analyzer)
            assert len(result.matches) == 5 and result.used is not None
            distances = [m.distance for m in result.matches]
            assert distances == sorted(distances)
            hits += person_of(result.matches[0].path) == person
            same += bool(result.matches[0].same_person) and person_of(result.matches[0].path) == person
        assert hits == len(PEOPLE) and same >= len(PEOPLE) - 1  # verify's threshold, FRR ~0.6% on LFW-a
        # a stored photo finds itself at distance ~0
        own = photo_folder / PEOPLE[0] / lfw_people[PEOPLE[0]][0].name
        best = store.search(str(own), k=1, analyzer=embed_analyzer).matches[0]
        assert best.path == str(own) and best.distance < 1e-4
        assert set(best.attributes) >= {"gender", "age"}


def test_moved_photo_gets_its_new_path(store_url, photo_folder, embed_analyzer):
    with open_store(store_url) as store:
        store.index([photo_folder], analyzer=embed_analyzer)
        old = next((photo_folder / PEOPLE[1]).glob("*.jpg"))
        new = photo_folder / "moved" / old.name
        new.parent.mkdir()
        shutil.move(old, new)
        summary = store.index([photo_folder], analyzer=embed_analyzer)
        assert (summary.new, summary.moved, summary.skipped) == (0, 1, INDEXED * len(PEOPLE) - 1)
        assert store.search(str(new), k=1, analyzer=embed_analyzer).matches[0].path == str(new)


def test_forget_path_and_person_and_names_persist(store_url, photo_folder, lfw_people, embed_analyzer):
    with open_store(store_url) as store:
        store.index([photo_folder], analyzer=embed_analyzer)
        before = store.stats()["faces"]
        # forget a folder: every photo under it, and nothing else
        gone = store.forget(path=photo_folder / PEOPLE[2])
        assert gone.photos == INDEXED and gone.faces >= INDEXED
        assert store.stats()["faces"] == before - gone.faces
        query = str(lfw_people[PEOPLE[2]][INDEXED])
        assert all(person_of(m.path) != PEOPLE[2] for m in store.search(query, k=50, analyzer=embed_analyzer).matches)
        # a named person: the name survives re-indexing, forget --person deletes the faces
        blair = [m.face_id for m in store.search(str(lfw_people[PEOPLE[0]][INDEXED]), k=50, analyzer=embed_analyzer)
                 .matches if person_of(m.path) == PEOPLE[0]]
        pid = store.add_person("Tony")
        store.assign(blair, pid)
        store.name_person(pid, "Tony Blair")
        store.index([photo_folder], analyzer=embed_analyzer)  # incremental: nothing new
        (photo_folder / "more").mkdir()
        shutil.copy(lfw_people[PEOPLE[3]][INDEXED], photo_folder / "more")
        assert store.index([photo_folder], analyzer=embed_analyzer).new == 1
        assert store.persons() == {pid: "Tony Blair"}
        top = store.search(str(lfw_people[PEOPLE[0]][INDEXED]), k=1, analyzer=embed_analyzer).matches[0]
        assert (top.person_id, top.person_name) == (pid, "Tony Blair")
        n = store.stats()["faces"]
        assert store.forget(person=pid).faces == len(blair)
        assert store.stats()["faces"] == n - len(blair) and store.persons() == {}
        ids, _ = store.embeddings()
        assert not set(blair) & set(ids.tolist())
        # the photos stay known: indexing them again does not bring the forgotten faces back
        assert store.index([photo_folder], analyzer=embed_analyzer).new == 0
        assert store.stats()["faces"] == n - len(blair)
        with pytest.raises(StoreError, match="no person"):
            store.forget(person=pid)


def test_one_model_per_store(store_url, photo_folder, lfw_people, embed_analyzer):
    with open_store(store_url) as store:
        store.index([photo_folder / PEOPLE[0]], analyzer=embed_analyzer)
        model, dim = store.model, store.dim
        other = Face((0, 0, 10, 10), 0.9, embedding=np.ones(dim, np.float32) / np.sqrt(dim),
                     embedding_model=model + "-other")
        with pytest.raises(StoreError, match=f"embedded with {model}-other.*holds {model}"):
            store.search(other)
        with pytest.raises(StoreError, match=f"holds {model} embeddings"):
            store.index([photo_folder], model=model + "-other")
        with pytest.raises(StoreError, match="-d"):
            store.search(np.ones(dim + 1, np.float32))
        assert store.stats()["photos"] == INDEXED  # nothing lost
        # a vector query of the right model works
        assert store.search(other.embedding, k=3).matches


def test_unreadable_photo_is_recorded_and_the_batch_goes_on(store_url, photo_folder, embed_analyzer):
    good = min((photo_folder / PEOPLE[0]).glob("*.jpg"))
    (photo_folder / "broken.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    (photo_folder / "trunc.jpg").write_bytes(good.read_bytes()[:300])
    with open_store(store_url) as store:
        summary = store.index([photo_folder], analyzer=embed_analyzer, batch_size=4)
        assert summary.failed == 2 and summary.new == INDEXED * len(PEOPLE)
        assert {p.rsplit("/", 1)[-1] for p, _ in summary.failures} == {"broken.jpg", "trunc.jpg"}
        assert store.stats()["failures"] == 2
        (photo_folder / "broken.jpg").unlink()
        (photo_folder / "trunc.jpg").unlink()
        store.forget(path=photo_folder / "broken.jpg")  # nothing stored there: no photo, no error
        assert store.stats()["photos"] == INDEXED * len(PEOPLE)


def test_missing_store_is_not_created_for_search(store_url):
    with pytest.raises(StoreError, match="no .*store"):
        open_store(store_url, create=False)


def test_postgres_deferred_index_builds_the_hnsw_index_once(pg_url, photo_folder, lfw_people, embed_analyzer):
    with open_store(pg_url) as store:
        with store.deferred_index():  # an empty store: the first write must not make the index
            store.index([photo_folder / PEOPLE[0]], analyzer=embed_analyzer)
            assert store._q("SELECT count(*) FROM pg_indexes WHERE indexname = 'faces_embedding'").fetchone()[0] == 0
        assert store._q("SELECT indexdef FROM pg_indexes WHERE indexname = 'faces_embedding'").fetchone()[0].find(
            "hnsw") > 0
        with store.deferred_index():  # a store with its index: dropped, rows added, built again
            store.index([photo_folder / PEOPLE[1]], analyzer=embed_analyzer)
        store._q("SET enable_seqscan = off")  # 13 rows: the planner would rather scan them
        plan = "\n".join(r[0] for r in store._q("EXPLAIN SELECT id FROM faces ORDER BY embedding <=> %s LIMIT 5",
                                                 (np.ones(store.dim, np.float32),)))
        assert "faces_embedding" in plan
        result = store.search(str(lfw_people[PEOPLE[1]][INDEXED]), k=3, analyzer=embed_analyzer)
        assert person_of(result.matches[0].path) == PEOPLE[1]
