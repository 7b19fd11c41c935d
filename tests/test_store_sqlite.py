"""The SQLite store's files: forgotten embeddings really gone from the disk, kill -9 during
`facescan index`, the vector index file rebuilt when missing or damaged, and files that are
not a store, locked or corrupt (each a clear StoreError, the file untouched)."""

from __future__ import annotations

import hashlib
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from store_fixtures import INDEXED, PEOPLE

from facescan import StoreError, open_store

ROOT = Path(__file__).resolve().parents[1]


def _blobs(db: Path, folder: Path) -> list[bytes]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as con:
        return [r[0] for r in con.execute("SELECT f.embedding FROM faces f JOIN photos p ON p.id = f.photo_id "
                                          "WHERE p.path LIKE ?", (f"{folder}/%",))]


def _disk(db: Path) -> bytes:
    return b"".join(Path(str(db) + s).read_bytes() for s in ("", "-wal") if Path(str(db) + s).exists())


def test_forgotten_embeddings_are_gone_from_the_files(tmp_path, photo_folder, embed_analyzer):
    db = tmp_path / "faces.db"
    vectors = Path(str(db) + ".vectors")
    with open_store(db) as store:
        store.index([photo_folder], analyzer=embed_analyzer)
        store.search(next(photo_folder.rglob("*.jpg")), k=1, analyzer=embed_analyzer)  # writes the vector file
        doomed, kept = _blobs(db, photo_folder / PEOPLE[1]), _blobs(db, photo_folder / PEOPLE[2])
        assert len(doomed) >= INDEXED and kept
        disk, ann = _disk(db), vectors.read_bytes()
        assert all(b in disk for b in doomed + kept)  # the check below can see them...
        assert all(b in ann for b in doomed + kept)
        store.forget(path=photo_folder / PEOPLE[1])
        assert not vectors.exists()  # deleted at once; the next search writes it anew
        store.search(next(photo_folder.rglob("*.jpg")), k=1, analyzer=embed_analyzer)
        disk, ann = _disk(db), vectors.read_bytes()
        assert not any(b in disk for b in doomed)  # ...and they are gone, while the others stay
        assert not any(b in ann for b in doomed)
        assert all(b in disk for b in kept) and all(b in ann for b in kept)
    assert not any(b in _disk(db) for b in doomed)


def test_kill_9_during_index_loses_and_duplicates_nothing(tmp_path, photo_folder, embed_analyzer):
    total = INDEXED * len(PEOPLE)
    db = tmp_path / "faces.db"
    cmd = [sys.executable, "-m", "facescan.cli", "index", str(photo_folder), "--db", str(db), "--batch-size", "2",
           "-q"]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    stored, deadline = 0, time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        if db.exists():
            try:
                with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as con:
                    stored = con.execute("SELECT count(*) FROM photos").fetchone()[0]
            except sqlite3.Error:
                stored = 0
            if stored >= 4:
                break
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert 4 <= stored < total, "the kill did not land in the middle of the run"
    rerun = subprocess.run(cmd, check=False, env=env, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    with open_store(tmp_path / "reference.db") as ref:
        ref.index([photo_folder], analyzer=embed_analyzer)
    def faces_per_photo(path):
        with sqlite3.connect(path) as con:
            assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            return sorted(con.execute("SELECT p.sha256, p.path, count(f.id) FROM photos p "
                                      "LEFT JOIN faces f ON f.photo_id = p.id GROUP BY p.id"))
    got = faces_per_photo(db)
    assert len(got) == total and len({sha for sha, _, _ in got}) == total
    assert got == faces_per_photo(tmp_path / "reference.db")
    with open_store(db) as store:  # the vector index catches up with what the killed run left
        assert store.search(next(photo_folder.rglob("*.jpg")), k=1, analyzer=embed_analyzer).matches[0].distance < 1e-4


def test_vector_index_is_rebuilt_when_missing_or_damaged(tmp_path, photo_folder, lfw_people, embed_analyzer):
    db = tmp_path / "faces.db"
    vectors = Path(str(db) + ".vectors")
    query = str(lfw_people[PEOPLE[0]][INDEXED])
    with open_store(db) as store:
        store.index([photo_folder / PEOPLE[0], photo_folder / PEOPLE[1]], analyzer=embed_analyzer)
        expected = [m.face_id for m in store.search(query, k=5, analyzer=embed_analyzer).matches]
    for damage in (vectors.unlink, lambda: vectors.write_bytes(b"garbage" * 100)):
        damage()
        with open_store(db) as store:
            assert [m.face_id for m in store.search(query, k=5, analyzer=embed_analyzer).matches] == expected
        assert vectors.stat().st_size > 1000
    with open_store(db) as store:  # new faces indexed by another process reach the vector index
        store.index([photo_folder], analyzer=embed_analyzer)
        n = store.stats()["faces"]
        assert len(store.search(query, k=n + 5, analyzer=embed_analyzer).matches) == n


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_files_that_are_not_a_store_are_refused_untouched(tmp_path, lfw_people):
    photo = lfw_people[PEOPLE[0]][0]
    with pytest.raises(StoreError, match="not a facescan store"):
        open_store(photo)
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as con:
        con.execute("CREATE TABLE notes (x TEXT)")
    before = _sha(other)
    with pytest.raises(StoreError, match="SQLite database but not a facescan store"):
        open_store(other)
    assert _sha(other) == before and not Path(str(other) + "-wal").exists()
    with pytest.raises(StoreError, match="is a folder"):
        open_store(tmp_path)
    with pytest.raises(StoreError, match="does not exist"):
        open_store(tmp_path / "no" / "such" / "faces.db")


def test_locked_store_fails_clearly_and_keeps_everything(tmp_path, photo_folder, embed_analyzer):
    db = tmp_path / "faces.db"
    with open_store(db) as store:
        store.index([photo_folder / PEOPLE[0]], analyzer=embed_analyzer)
        before = store.stats()
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # another writer holds the lock
    try:
        with open_store(db, timeout=0.3) as store:
            t0 = time.time()
            with pytest.raises(StoreError, match="locked by another process"):
                store.index([photo_folder], analyzer=embed_analyzer)
            assert time.time() - t0 < 30
            assert store.stats() == before  # readers still work
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    with open_store(db) as store:
        assert store.stats() == before
        assert store.index([photo_folder], analyzer=embed_analyzer).new == INDEXED * (len(PEOPLE) - 1)


def test_corrupt_store_fails_clearly(tmp_path, photo_folder, embed_analyzer):
    db = tmp_path / "faces.db"
    with open_store(db) as store:
        store.index([photo_folder / PEOPLE[0]], analyzer=embed_analyzer)
    data = bytearray(db.read_bytes())
    data[4096:] = b"\xab" * (len(data) - 4096)  # every page after the first: garbage
    db.write_bytes(bytes(data))
    with pytest.raises(StoreError, match="corrupt"), open_store(db) as store:
        store.search(next(photo_folder.rglob("*.jpg")), analyzer=embed_analyzer)
