"""--engine ray on a real local Ray cluster (one per test session, on 127.0.0.1): the same records
as the local pipeline, errors as rows, a killed job resumed without duplicates, the store filled
as a local index fills it. Skipped when ray is not installed, a failure under FACESCAN_REQUIRE_DATA=1."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from facescan import cli, open_store

pq = pytest.importorskip("pyarrow.parquet")
IMAGES = 200
ROOT = Path(__file__).resolve().parents[1]
# 127.0.0.1 as /proc/net/tcp and tcp6 write it (IPv4, IPv4-mapped IPv6)
LOOPBACK = {"0100007F", "0000000000000000FFFF00000100007F"}


@pytest.fixture(scope="session")
def ray_address():
    os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")  # before importing ray: ports on 127.0.0.1
    try:
        import ray
    except ImportError as exc:
        pytest.skip(f"ray is not installed ({exc}): pip install 'facescan[ray]'")
    ray.init(address="local", num_cpus=2, _node_ip_address="127.0.0.1", include_dashboard=False,
             log_to_driver=False, configure_logging=False)
    yield ray.get_runtime_context().gcs_address
    ray.shutdown()


@pytest.fixture(scope="session")
def chips(utkface_dir, tmp_path_factory) -> Path:
    """IMAGES UTKFace chips (a fixed spread over the set) and one file that is no image."""
    folder = tmp_path_factory.mktemp("chips")
    names = sorted(os.listdir(utkface_dir))
    for name in names[:: len(names) // IMAGES][:IMAGES]:
        shutil.copy(utkface_dir / name, folder / name)
    (folder / "zz_broken.jpg").write_bytes(b"\xff\xd8 this is not a JPEG")
    return folder


@pytest.fixture(scope="session")
def local_parquet(chips, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("local") / "faces.parquet"
    assert cli.main(["analyze", str(chips), "-o", str(out), "-q"]) == cli.EXIT_INPUT_ERRORS
    return out


@pytest.fixture(scope="session")
def local_rows(local_parquet) -> list[dict]:
    return _rows(local_parquet)


def _rows(path: Path) -> list[dict]:
    rows = pq.read_table(path).to_pylist()
    return sorted(rows, key=lambda r: (r["path"], -1 if r["face"] is None else r["face"]))


def _same(a: list[dict], b: list[dict]) -> None:
    """Same inputs, faces and labels; scores and boxes equal up to float noise of batching."""
    assert [(r["path"], r["face"], r["error"]) for r in a] == [(r["path"], r["face"], r["error"]) for r in b]
    labels = ("gender", "age_group", "age_group5", "race", "emotion")
    assert [[r[k] for k in labels] for r in a] == [[r[k] for k in labels] for r in b]
    for k in ("x1", "y1", "x2", "y2", "score", "gender_score", "age_years", "race_score", "emotion_score"):
        x = np.array([np.nan if r[k] is None else r[k] for r in a], float)
        y = np.array([np.nan if r[k] is None else r[k] for r in b], float)
        np.testing.assert_allclose(x, y, atol=2e-3, err_msg=k)


def test_analyze_with_ray_gives_the_local_records(ray_address, chips, local_parquet, local_rows, tmp_path, capsys):
    out = tmp_path / "faces.parquet"
    args = ["analyze", str(chips), "-o", str(out), "--engine", "ray", "--actors", "2"]
    assert cli.main(args) == cli.EXIT_INPUT_ERRORS  # the broken file: an error row, not a failed job
    rows = _rows(out)
    assert len({r["path"] for r in rows}) == IMAGES + 1
    for part in out.glob("part-*.parquet"):  # each part: the columns and types of analyze -o x.parquet
        assert pq.read_schema(part).remove_metadata() == pq.read_schema(local_parquet).remove_metadata()
    assert len(list(out.glob("part-*.parquet"))) > 1  # the work was split between the actors
    _same(rows, local_rows)
    broken = [r for r in rows if r["path"].endswith("zz_broken.jpg")]
    assert len(broken) == 1 and "not an image Pillow can read" in broken[0]["error"]
    assert f"{IMAGES + 1} images" in capsys.readouterr().err
    # run again: everything is there already, nothing analysed, nothing added
    assert cli.main(args) == cli.EXIT_OK
    assert f"0 images, 0 faces, 0 errors; {IMAGES + 1} already in" in capsys.readouterr().err
    assert len(_rows(out)) == len(rows)


def test_a_url_folder_is_listed_and_resumed(ray_address, chips, tmp_path, capsys):
    """file:// is read through pyarrow's filesystem, the route of s3:// and gs:// (not reachable here)."""
    folder = tmp_path / "few"
    folder.mkdir()
    for path in sorted(chips.glob("*.jpg"))[:6]:
        shutil.copy(path, folder / path.name)
    out = tmp_path / "urls.parquet"
    args = ["analyze", f"file://{folder}", "-o", str(out), "--engine", "ray", "--actors", "1"]
    assert cli.main(args) == cli.EXIT_OK
    assert sorted({r["path"] for r in _rows(out)}) == sorted(f"file://{p}" for p in folder.glob("*.jpg"))
    assert cli.main(args) == cli.EXIT_OK
    assert "0 images, 0 faces, 0 errors; 6 already in" in capsys.readouterr().err


def test_killed_job_resumes_without_duplicates(ray_address, chips, local_rows, tmp_path):
    out = tmp_path / "faces.parquet"
    args = ["analyze", str(chips), "-o", str(out), "--engine", "ray", "--actors", "1", "-q"]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]),
           "RAY_ADDRESS": ray_address}
    job = subprocess.Popen([sys.executable, "-m", "facescan.cli", *args], env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.monotonic() + 120
    while not list(out.glob("part-*.parquet")) and job.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    os.killpg(job.pid, signal.SIGKILL)  # the driver dies mid-run, as with kill -9
    err = job.communicate()[1].decode()
    assert job.returncode == -signal.SIGKILL, err
    written = {r["path"] for r in _rows(out)} if list(out.glob("part-*.parquet")) else set()
    assert 0 < len(written) < IMAGES + 1, f"the kill came too late or too early ({len(written)} written)"
    assert cli.main(args) == cli.EXIT_INPUT_ERRORS
    rows = _rows(out)
    assert len({r["path"] for r in rows}) == IMAGES + 1
    _same(rows, local_rows)  # every input once: nothing lost, nothing duplicated


def _store_content(address: str) -> dict:
    with open_store(address, create=False) as store:
        ids, vecs = store.embeddings()
        vec = dict(zip(ids.tolist(), vecs))
        rows = store._q("SELECT p.sha256, p.path, f.face_index, f.attributes, f.id FROM faces f "
                        "JOIN photos p ON p.id = f.photo_id").fetchall()
        failures = [r[0] for r in store._q("SELECT path FROM failures").fetchall()]
        photos = store.stats()["photos"]
    faces = {}
    for sha, path, i, attrs, face_id in rows:
        attrs = json.loads(attrs) if isinstance(attrs, str) else attrs
        faces[(sha, path, i)] = ({k: v["label"] for k, v in attrs.items()}, vec[face_id])
    return {"photos": photos, "faces": faces, "failures": sorted(failures)}


def test_index_with_ray_agrees_with_a_local_index(ray_address, store_url, photo_folder, tmp_path, capsys):
    (photo_folder / "broken.jpg").write_bytes(b"GIF89a, but no more")
    local = str(tmp_path / "local.db")
    assert cli.main(["index", str(photo_folder), "--db", local, "-q"]) == cli.EXIT_INPUT_ERRORS
    args = ["index", str(photo_folder), "--db", store_url, "--engine", "ray", "--actors", "2", "-q"]
    assert cli.main(args) == cli.EXIT_INPUT_ERRORS
    want, got = _store_content(local), _store_content(store_url)
    assert got["photos"] == want["photos"] == 30 and got["failures"] == want["failures"]
    assert got["faces"].keys() == want["faces"].keys()
    for key, (labels, vector) in want["faces"].items():
        assert got["faces"][key][0] == labels
        assert float(np.dot(got["faces"][key][1], vector)) > 0.999
    capsys.readouterr()
    # again: every photo is known by its sha256, nothing is analysed or added
    assert cli.main(args) == cli.EXIT_INPUT_ERRORS  # the broken file is retried and fails again
    assert "0 new, 30 already stored" in capsys.readouterr().err
    assert _store_content(store_url)["faces"].keys() == want["faces"].keys()


def test_eval_with_ray_gives_the_local_predictions(ray_address, utkface_dir, tmp_path):
    base = ["eval", "--dataset", f"utkface:{utkface_dir}", "--split", "test", "--limit", "24"]
    assert cli.main([*base, "--out", str(tmp_path / "local")]) == cli.EXIT_OK
    assert cli.main([*base, "--out", str(tmp_path / "ray"), "--engine", "ray", "--actors", "2"]) == cli.EXIT_OK

    def predictions(run: str) -> dict:
        lines = (tmp_path / run / "predictions.jsonl").read_text().splitlines()
        return {(r := json.loads(line))["id"]: {k: v["label"] for k, v in r["prediction"].items()} for line in lines}

    local, ray = predictions("local"), predictions("ray")
    assert len(local) == 24 and ray == local
    a, b = (json.loads((tmp_path / run / "metrics.json").read_text()) for run in ("local", "ray"))
    assert a["gender"]["accuracy"] == b["gender"]["accuracy"] and a["age"]["mae"] == pytest.approx(b["age"]["mae"], abs=1e-3)


def test_ray_errors_are_one_clear_line(ray_address, chips, tmp_path, capsys):
    assert cli.main(["analyze", str(chips), "-o", str(tmp_path / "x.csv"), "--engine", "ray"]) == cli.EXIT_USAGE
    assert "give -o NAME.parquet" in capsys.readouterr().err
    (tmp_path / "file.parquet").write_bytes(b"PAR1")
    assert cli.main(["analyze", str(chips), "-o", str(tmp_path / "file.parquet"), "--engine", "ray"]) == cli.EXIT_USAGE
    assert "is a file" in capsys.readouterr().err
    assert cli.main(["analyze", str(chips), "-o", str(tmp_path / "y.parquet"), "--engine", "ray",
                     "--actors", "0"]) == cli.EXIT_USAGE
    assert "--actors must be at least 1" in capsys.readouterr().err
    assert cli.main(["analyze", str(chips), "-o", str(tmp_path / "z.parquet"), "--engine", "ray",
                     "--attributes", "gender,bogus"]) == cli.EXIT_USAGE  # checked before any actor starts
    assert "unknown attribute(s) ['bogus']" in capsys.readouterr().err
    # a GPU share on a cluster without GPUs: a clear error, not actors waiting forever
    assert cli.main(["analyze", str(chips), "-o", str(tmp_path / "g.parquet"), "--engine", "ray",
                     "--actor-gpus", "1"]) == cli.EXIT_USAGE
    assert "the Ray cluster has no GPU" in capsys.readouterr().err


def _listening(port: int) -> set[str]:
    """Local addresses (hex, as in /proc/net/tcp) of the sockets listening on ``port``."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, _, hex_port = local.rpartition(":")
            if state == "0A" and int(hex_port, 16) == port:
                found.add(address)
    return found


def test_the_local_cluster_listens_on_loopback_only(ray_address):
    import ray

    host, port = ray_address.rsplit(":", 1)
    node = ray.nodes()[0]
    assert host == "127.0.0.1" and node["NodeManagerAddress"] == "127.0.0.1"
    for p in (int(port), node["NodeManagerPort"], node["ObjectManagerPort"]):
        addresses = _listening(p)
        assert addresses and addresses <= LOOPBACK, f"port {p} listens on {addresses}, not on 127.0.0.1 only"


def test_the_cli_without_engine_never_imports_ray(tmp_path, utk_samples):
    code = ("import sys; from facescan import cli; "
            f"rc = cli.main(['analyze', {str(utk_samples[0].path)!r}, '-q', '-o', {str(tmp_path / 'x.parquet')!r}]); "
            "assert rc == 0, rc; print('ray' in sys.modules)")
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
