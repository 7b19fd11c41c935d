"""The store's public API for engines that read and analyse photos elsewhere (facescan.batch,
facescan.engines.ray) and for an index kept beside the store, on both backends: made-up unit
vectors stand for embeddings (no model runs), except where StoreIndexer analyses real photos."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
from store_fixtures import PEOPLE

from facescan import Face, ImageResult, StoreError, open_store
from facescan.identity import DEFAULT_EMBEDDER, get_embedder
from facescan.store import NewPhoto

DIM = 8


def _face(seed: int) -> Face:
    vector = np.random.default_rng(seed).normal(size=DIM).astype(np.float32)
    return Face((1.0, 2.0, 30.0, 40.0), 0.9, embedding=vector / np.linalg.norm(vector),
                embedding_model=DEFAULT_EMBEDDER)


def _photo(i: int, faces: int = 1) -> NewPhoto:
    return NewPhoto(hashlib.sha256(str(i).encode()).hexdigest(), f"/made-up/{i}.jpg", 1000 + i, 64, 48,
                    [_face(10 * i + k) for k in range(faces)])


def test_engines_write_through_the_public_api(store_url):
    with open_store(store_url) as store:
        store.prepare_model(DEFAULT_EMBEDDER, DIM)
        assert (store.model, store.dim, store.face_count(), store.max_face_id()) == (DEFAULT_EMBEDDER, DIM, 0, 0)
        store.prepare_model(DEFAULT_EMBEDDER, DIM)  # again: nothing changes
        with pytest.raises(StoreError, match=f"{DIM}-d"):
            store.prepare_model(DEFAULT_EMBEDDER, DIM + 1)
        # a bulk load: photos of known bytes are left out
        stored = store.add_photos([_photo(0, faces=2), _photo(1)], DEFAULT_EMBEDDER)
        assert [p.path for p in stored] == ["/made-up/0.jpg", "/made-up/1.jpg"]
        assert store.add_photos([_photo(1)], DEFAULT_EMBEDDER) == []
        # photos read elsewhere: known bytes skipped, only the new ones analysed, failures recorded
        asked = []

        def analyze(new):
            asked.extend(path for path, _, _ in new)
            return [ImageResult(path, _photo(i).faces, width=64, height=48) for (path, _, _), i in zip(new, (2, 3))]

        known, fresh = _photo(1), _photo(2)
        found = [(known.path, known.size, known.sha256), (fresh.path, fresh.size, fresh.sha256)]
        summary = store.index_found(found, DEFAULT_EMBEDDER, analyze, failures=[("/made-up/bad.jpg", "cannot read")])
        assert asked == [fresh.path]
        assert (summary.new, summary.skipped, summary.failed, summary.faces) == (1, 1, 1, 1)
        again = store.index_found(found, DEFAULT_EMBEDDER, analyze, summary=summary, seen={fresh.sha256})
        assert again is summary and (summary.new, summary.skipped) == (1, 3)
        assert store.stats()["failures"] == 1 and store.face_count() == 4


def test_an_index_beside_the_store_reads_it_through_the_public_api(store_url):
    with open_store(store_url) as store:
        store.add_photos([_photo(i, faces=2) for i in range(3)], DEFAULT_EMBEDDER)
        ids, vecs = store.embeddings()
        assert vecs.shape == (6, DIM) and vecs.dtype == np.float32 and list(ids) == sorted(ids)
        assert store.face_count() == 6 and store.max_face_id() == int(ids[-1])
        with store.snapshot():
            chunks = list(store.iter_embeddings(int(ids[1]), chunk=3))
        assert [len(k) for k, _ in chunks] == [3, 1]
        assert np.array_equal(np.concatenate([k for k, _ in chunks]), ids[2:])
        assert np.allclose(np.concatenate([v for _, v in chunks]), vecs[2:])
        some, some_vecs = store.embeddings([int(ids[4]), int(ids[0]), 10**9])  # in id order, missing ones left out
        assert list(some) == [ids[0], ids[4]] and np.allclose(some_vecs, vecs[[0, 4]])
        assert store.embeddings([])[1].shape == (0, DIM)
        some_vecs[0] = 0  # the arrays are the caller's
        assert store.search(vecs[3], k=1).matches[0].face_id == ids[3]
        assert store.deletions == 0
        store.forget(path="/made-up/1.jpg")
        assert store.deletions == 1 and store.face_count() == 4
        assert store.search(vecs[3], k=1).matches[0].face_id != ids[3]  # the index saw the deletion


def test_store_indexer_writes_batches_into_postgres(pg_url, lfw_people):
    from facescan.batch import StoreIndexer

    paths = [str(lfw_people[p][0]) for p in PEOPLE[:3]]
    batch = {"path": paths, "bytes": [lfw_people[p][0].read_bytes() for p in PEOPLE[:3]]}
    with open_store(pg_url) as store:  # as the Ray engine does before its writers start
        store.prepare_model(DEFAULT_EMBEDDER, get_embedder(DEFAULT_EMBEDDER).dim)
    indexer = StoreIndexer(pg_url, DEFAULT_EMBEDDER, {"attributes": ("gender",)}, batch_size=2)
    first = indexer(batch)
    assert (first["new"], first["skipped"], first["failed"]) == ([3], [0], [0]) and first["faces"][0] >= 3
    assert indexer(batch)["skipped"] == [3]
    with open_store(pg_url) as store:
        assert store.stats()["photos"] == 3 and store.face_count() == first["faces"][0]
