"""The engine-free units of scale-out: batches through the local pipeline's code (facescan.batch)
and the resumable Parquet part folder (facescan.parts). No Ray needed."""

from __future__ import annotations

import hashlib
import shutil

import pytest

from facescan.batch import BatchAnalyzer, digest_set, in_digest_set
from facescan.errors import ConfigError
from facescan.output import FLAT_COLUMNS, flat_rows, flat_schema
from facescan.parts import PartsFolder

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")


def _batch(paths):
    return {"path": [str(p) for p in paths], "bytes": [p.read_bytes() for p in paths]}


def test_batch_analyzer_gives_the_local_pipelines_rows_and_error_rows(analyzer, utk_samples, tmp_path):
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"not an image at all")
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    paths = [tmp_path / "a.jpg", bad, tmp_path / "b.jpg", empty]
    shutil.copy(utk_samples[0].path, paths[0])
    shutil.copy(utk_samples[1].path, paths[2])
    batch = BatchAnalyzer(batch_size=2)
    batch.analyzer = analyzer  # the session's default Analyzer: the same options, loaded once
    rows = batch(_batch(paths))
    expected = [r for res in analyzer.analyze_many([str(p) for p in paths]) for r in flat_rows(res)]
    assert set(rows) == {*FLAT_COLUMNS, "sha256"}
    got = [{c: rows[c][i] for c in FLAT_COLUMNS} for i in range(len(rows["path"]))]
    assert got == expected  # same faces, labels and scores; the same error messages
    assert "not an image Pillow can read" in got[1]["error"] and got[1]["path"] == str(bad)
    assert got[3]["error"] == f"{empty}: empty file (0 bytes)"
    assert rows["sha256"][0] == hashlib.sha256(paths[0].read_bytes()).hexdigest()


def test_batch_analyzer_skips_known_content(analyzer, utk_samples, tmp_path):
    paths = [tmp_path / f"{i}.jpg" for i in range(3)]
    for p, s in zip(paths, utk_samples):
        shutil.copy(s.path, p)
    known = hashlib.sha256(paths[1].read_bytes()).hexdigest()
    batch = BatchAnalyzer(skip=digest_set([known, "00" * 32, "ff" * 32]))
    batch.analyzer = analyzer
    items = batch.items(_batch(paths))
    assert [i.result is None for i in items] == [False, True, False]
    assert items[0].result.faces and items[0].result.path == str(paths[0])
    assert in_digest_set(batch.skip, known) and not in_digest_set(batch.skip, "ab" * 32)


def _table(paths):
    rows = [{c: None for c in FLAT_COLUMNS} | {"path": p, "face": 0} for p in paths]
    return pa.Table.from_pylist(rows, flat_schema())


def test_parts_folder_resumes_by_path_and_content(tmp_path):
    imgs = [tmp_path / f"{i}.jpg" for i in range(4)]
    for i, p in enumerate(imgs):
        p.write_bytes(b"x" * (i + 1))
    sha = {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in imgs}
    out = PartsFolder(tmp_path / "faces.parquet")
    out.write(_table([str(imgs[0]), str(imgs[1])]), {str(imgs[0]): sha[str(imgs[0])], str(imgs[1]): sha[str(imgs[1])]})
    (out.folder / ".tmp-part-torn.parquet").write_bytes(b"half a file")  # what a killed write leaves
    imgs[1].write_bytes(b"changed")  # redone: its old rows must go
    out = PartsFolder(tmp_path / "faces.parquet")
    assert not list(out.folder.glob(".tmp-*"))
    todo, skipped = out.pending([str(p) for p in imgs])
    assert todo == [str(imgs[1]), str(imgs[2]), str(imgs[3])] and skipped == 1
    assert out.done() == {str(imgs[0]): sha[str(imgs[0])]}
    table = pq.read_table(out.folder)
    assert table.column("path").to_pylist() == [str(imgs[0])]
    assert table.schema.names == list(FLAT_COLUMNS)


def test_parts_folder_refuses_a_file(tmp_path):
    (tmp_path / "x.parquet").write_bytes(b"PAR1")
    with pytest.raises(ConfigError, match="is a file"):
        PartsFolder(tmp_path / "x.parquet")


@pytest.mark.needs_cpu_onnxruntime
def test_gpu_without_onnxruntime_gpu_is_a_clear_error():
    from facescan import Analyzer

    with pytest.raises(ConfigError, match="needs onnxruntime-gpu"):
        Analyzer(gpu=True)


@pytest.mark.needs_gpu
def test_gpu_gives_the_cpu_answers(utk_samples, analyzer):
    from facescan import Analyzer

    paths = [s.path for s in utk_samples]
    on_gpu = list(Analyzer(gpu=True).analyze_many(paths))
    on_cpu = list(analyzer.analyze_many(paths))
    assert [len(r.faces) for r in on_gpu] == [len(r.faces) for r in on_cpu]
    for g, c in zip((f for r in on_gpu for f in r.faces), (f for r in on_cpu for f in r.faces)):
        assert list(g.attributes) == list(c.attributes)
        for name, p in g.attributes.items():  # float32 on another device: the same numbers, near enough
            assert p.probs == pytest.approx(c.attributes[name].probs, abs=0.02), name
        assert g.attributes["age"].years == pytest.approx(c.attributes["age"].years, abs=0.5)
