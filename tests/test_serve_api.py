"""facescan serve's HTTP API, through a real uvicorn on 127.0.0.1: the same records as the
library and the CLI, every designed error, metrics, API keys and the store endpoints."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import threading
import time

import pytest
from serve_helpers import EXAMPLE, live_server, metric, need_serve_deps

need_serve_deps()

import httpx

from facescan.serve import Settings


def _files(*paths, field="images"):
    return [(field, (p.name, p.read_bytes(), "image/jpeg")) for p in paths]


@pytest.fixture(scope="module")
def server():
    with live_server(Settings()) as url:
        yield url


def test_import_facescan_stays_light():
    code = "import sys, facescan, facescan.serve, facescan.cli; print([m for m in ('fastapi', 'uvicorn', " \
           "'starlette', 'prometheus_client') if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_analyze_gives_the_analyzer_record(server, analyzer):
    expected = next(analyzer.analyze_many([str(EXAMPLE)]))
    expected = json.loads(json.dumps(dataclasses.replace(expected, path=EXAMPLE.name).to_dict()))
    r = httpx.post(f"{server}/v1/analyze", files=_files(EXAMPLE, EXAMPLE), timeout=60)
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert results == [expected, expected]
    assert len(expected["faces"]) == 2 and expected["width"] == 1112


def test_analyze_options_reach_the_analyzer(server):
    r = httpx.post(f"{server}/v1/analyze", files=_files(EXAMPLE), timeout=60,
                   data={"attributes": "age,appearance", "max_faces": "1", "embed": "true"})
    assert r.status_code == 200, r.text
    (face,) = r.json()["results"][0]["faces"]
    assert list(face["attributes"]) == ["age", "appearance"]
    assert face["embedding_model"] == "sface" and len(face["embedding"]) == 128


def test_if_no_face_whole_gives_a_faceless_image_one_marked_face(server):
    import io

    import numpy as np
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.full((90, 120, 3), 128, np.uint8)).save(buf, "PNG")
    files = [("images", ("grey.png", buf.getvalue(), "image/png")), *_files(EXAMPLE)]
    r = httpx.post(f"{server}/v1/analyze", files=files, timeout=60)
    assert r.status_code == 200, r.text
    grey, photo = r.json()["results"]
    assert grey["faces"] == [] and [f["found_by"] for f in photo["faces"]] == ["yunet", "yunet"]
    r = httpx.post(f"{server}/v1/analyze", files=files, data={"if_no_face": "whole", "attributes": "age"}, timeout=60)
    assert r.status_code == 200, r.text
    grey, photo = r.json()["results"]
    (face,) = grey["faces"]
    assert face["bbox"] == [0.0, 0.0, 120.0, 90.0] and face["score"] == 0.0 and face["found_by"] == "whole-image"
    assert list(face["attributes"]) == ["age"] and [f["found_by"] for f in photo["faces"]] == ["yunet", "yunet"]
    models = httpx.get(f"{server}/v1/models").json()
    assert models["if_no_face"] == ["skip", "whole"]
    schema = httpx.get(f"{server}/openapi.json").json()
    assert "passport photo" in json.dumps(schema)


@pytest.mark.parametrize(("data", "files", "status", "words"), [
    ({}, [("images", ("notes.txt", b"not a picture", "text/plain"))], 415, "notes.txt: not an image"),
    ({}, [("images", ("empty.jpg", b"", "image/jpeg"))], 415, "empty.jpg: empty file"),
    ({"attributes": "gender,height"}, None, 422, "unknown attribute(s) ['height']"),
    ({"detector": "haar"}, None, 422, "detector"),
    ({"min_score": "2"}, None, 422, "min_score"),
    ({"detect_scales": "9"}, None, 422, "--detect-scales '9'"),
    ({"if_no_face": "crop"}, None, 422, "if_no_face"),
    ({}, [], 422, "images"),
])
def test_bad_input_is_a_clear_4xx(server, data, files, status, words):
    r = httpx.post(f"{server}/v1/analyze", data=data, files=_files(EXAMPLE) if files is None else files or None,
                   timeout=60)
    assert r.status_code == status, r.text
    assert words in json.dumps(r.json()["detail"]).replace('\\"', '"')


def test_target_and_verify_give_the_cli_records(server):
    from facescan import find_person, verify

    r = httpx.post(f"{server}/v1/target", files=_files(EXAMPLE, field="image"),
                   data={"description": "the person on the right"}, timeout=60)
    assert r.status_code == 200, r.text
    expected = {"path": EXAMPLE.name, **find_person(str(EXAMPLE), "the person on the right").to_dict()}
    assert r.json() == json.loads(json.dumps(expected))
    assert r.json()["match"]["number"] == 2
    assert httpx.post(f"{server}/v1/target", files=_files(EXAMPLE, field="image"), timeout=60).status_code == 422

    r = httpx.post(f"{server}/v1/verify", files=_files(EXAMPLE, field="image_a") + _files(EXAMPLE, field="image_b"),
                   data={"face_b": "0"}, timeout=60)
    assert r.status_code == 200, r.text
    record = verify(str(EXAMPLE), str(EXAMPLE), face_b=0).to_dict()
    record["a"]["path"] = record["b"]["path"] = EXAMPLE.name
    assert r.json() == json.loads(json.dumps(record)) and r.json()["same"] is False
    r = httpx.post(f"{server}/v1/verify", files=_files(EXAMPLE, field="image_a") + _files(EXAMPLE, field="image_b"),
                   data={"face_a": "5"}, timeout=60)
    assert r.status_code == 422 and "face 5" in r.json()["detail"]


def test_metrics_count_requests_faces_and_errors(server):
    before = httpx.get(f"{server}/metrics").text
    httpx.post(f"{server}/v1/analyze", files=_files(EXAMPLE), timeout=60).raise_for_status()
    httpx.post(f"{server}/v1/analyze", files=[("images", ("x.txt", b"x", "text/plain"))], timeout=60)
    after = httpx.get(f"{server}/metrics").text
    route = {"route": "/v1/analyze"}
    for name, labels, step in [("facescan_faces_total", route, 2), ("facescan_images_total", route, 1),
                               ("facescan_http_requests_total", {**route, "status": "200"}, 1),
                               ("facescan_http_errors_total", {**route, "status": "415"}, 1),
                               ("facescan_http_request_duration_seconds_count", route, 2)]:
        assert metric(after, name, **labels) - metric(before, name, **labels) == step, name


def test_service_endpoints(server):
    assert httpx.get(f"{server}/healthz").json() == {"status": "ok"}
    assert httpx.get(f"{server}/readyz").json() == {"ready": True}
    models = httpx.get(f"{server}/v1/models").json()
    assert models["default_backend"] == "facescan" and "sface" in models["embedders"] and not models["store"]
    schema = httpx.get(f"{server}/openapi.json").json()
    assert {"/v1/analyze", "/v1/target", "/v1/verify", "/v1/models"} <= set(schema["paths"])
    assert "/v1/search" not in schema["paths"]  # no store configured
    assert httpx.post(f"{server}/v1/search", files=_files(EXAMPLE, field="image")).status_code == 404
    page = httpx.get(f"{server}/")
    assert page.status_code == 200 and "/static/app.js" in page.text and "http" not in page.text.split("<body>")[1]


def test_size_pixel_and_count_limits_give_413():
    settings = Settings(max_upload_mb=0.1, max_pixels=500_000, max_images=2, preload=False)
    small = EXAMPLE.read_bytes()  # 167 kB, 1112 x 600 = 667,200 pixels
    with live_server(settings) as url:
        r = httpx.post(f"{url}/v1/analyze", files=_files(EXAMPLE))  # Content-Length over the limit
        assert r.status_code == 413 and "over the limit of 0.1 MB" in r.json()["detail"]

        def chunks():  # no Content-Length: counted as the body arrives
            yield b"--b\r\nContent-Disposition: form-data; name=\"images\"; filename=\"a.jpg\"\r\n\r\n"
            for i in range(0, len(small), 16384):
                yield small[i:i + 16384]
            yield b"\r\n--b--\r\n"

        r = httpx.post(f"{url}/v1/analyze", content=chunks(), headers={"content-type": "multipart/form-data; boundary=b"})
        assert r.status_code == 413 and "over the limit" in r.json()["detail"]
        import io

        from PIL import Image

        buf = io.BytesIO()
        Image.new("RGB", (1000, 600)).save(buf, "PNG")  # 600,000 pixels, a small file
        png = buf.getvalue()
        r = httpx.post(f"{url}/v1/analyze", files=[("images", ("big.png", png, "image/png"))])
        assert r.status_code == 413 and r.json()["detail"] == \
            "big.png: 1000x600 = 600,000 pixels is over the limit of 500,000"
        r = httpx.post(f"{url}/v1/analyze", files=[("images", (f"{i}.png", png[:100], "image/png")) for i in range(3)])
        assert r.status_code == 413 and "Too many files" in r.json()["detail"]
        text = httpx.get(f"{url}/metrics").text
        assert metric(text, "facescan_http_errors_total", route="/v1/analyze", status="413") == 4


def test_timeout_gives_504_and_a_busy_server_503_with_retry_after():
    # ~1 s of work; the timeout leaves time to receive the upload (a 504 sent while the body is
    # still arriving can end the request there, and free its slot: seen as a flaky 504 below)
    slow = {"files": _files(*[EXAMPLE] * 16), "data": {"detect_scales": "1,2"}, "timeout": 60}
    with live_server(Settings(timeout=0.3, max_concurrency=1, preload=False)) as url:
        r = httpx.post(f"{url}/v1/analyze", **slow)
        assert r.status_code == 504 and "longer than 0.3 s" in r.json()["detail"]
        # its work goes on (a thread cannot be stopped) and keeps the only slot: the next is refused
        r = httpx.post(f"{url}/v1/analyze", files=_files(EXAMPLE), timeout=60)
        assert r.status_code == 503 and r.headers["retry-after"] == "2" and "busy" in r.json()["detail"]
        deadline = time.monotonic() + 60
        while metric(httpx.get(f"{url}/metrics").text, "facescan_requests_in_progress") and time.monotonic() < deadline:
            time.sleep(0.1)
        assert httpx.get(f"{url}/v1/models").status_code == 200  # the slot is free again
        assert httpx.get(f"{url}/healthz").status_code == 200  # never limited
        text = httpx.get(f"{url}/metrics").text
        assert metric(text, "facescan_http_requests_total", route="/v1/analyze", status="503") == 1


def test_api_keys(caplog):
    key = "k3y-that-must-not-leak"
    with live_server(Settings(api_keys=("other-key", key), preload=False)) as url:
        missing = httpx.post(f"{url}/v1/analyze", files=_files(EXAMPLE))
        assert missing.status_code == 401 and missing.headers["www-authenticate"] == "Bearer"
        assert "missing or wrong API key" in missing.json()["detail"]
        wrong = httpx.get(f"{url}/v1/models", headers={"Authorization": "Bearer " + key[:-1]})
        assert wrong.status_code == 401
        assert httpx.get(f"{url}/v1/models", headers={"Authorization": f"Bearer {key}"}).status_code == 200
        assert httpx.get(f"{url}/healthz").status_code == 200
    assert key not in caplog.text


def test_store_endpoints(tmp_path, lfw_dir):
    people = sorted(p for p in lfw_dir.iterdir() if p.is_dir() and len(list(p.glob("*.jpg"))) >= 3)[:3]
    known = [sorted(p.glob("*.jpg"))[:2] for p in people]
    query = sorted(people[1].glob("*.jpg"))[2]
    with live_server(Settings(db=str(tmp_path / "faces.db"), preload=False)) as url:
        r = httpx.post(f"{url}/v1/search", files=_files(query, field="image"), timeout=60)
        assert r.status_code == 409 and "holds no faces yet" in r.json()["detail"]
        r = httpx.post(f"{url}/v1/index", files=_files(*[p for pair in known for p in pair]), timeout=60)
        assert r.status_code == 200, r.text
        assert (r.json()["new"], r.json()["store"]["photos"]) == (6, 6) and r.json()["faces"] >= 6
        again = httpx.post(f"{url}/v1/index", files=_files(known[0][0]), timeout=60).json()
        assert (again["new"], again["skipped"]) == (0, 1)
        r = httpx.post(f"{url}/v1/search", files=_files(query, field="image"), data={"k": "3"}, timeout=60)
        assert r.status_code == 200, r.text
        matches = r.json()["matches"]
        assert len(matches) == 3 and r.json()["query"] == query.name and r.json()["model"] == "sface"
        assert {m["path"] for m in matches[:2]} == {f"upload/{p.name}" for p in known[1]}  # the same person
        assert "/v1/index" in httpx.get(f"{url}/openapi.json").json()["paths"]
    from facescan import open_store

    with open_store(tmp_path / "faces.db") as store:  # an upload is forgotten by the path it was stored under
        assert store.forget(path=f"upload/{known[0][0].name}").photos == 1
        assert store.stats()["photos"] == 5


def test_uploads_stay_in_memory():
    """Starlette spools upload parts over 1 MB to a temporary file; ours never do."""
    import asyncio

    from starlette.datastructures import Headers

    from facescan.serve.limits import _InMemoryParser

    data = b"\xff" * (3 * 1024 * 1024)
    body = (b"--b\r\nContent-Disposition: form-data; name=\"images\"; filename=\"a.jpg\"\r\n\r\n" + data
            + b"\r\n--b--\r\n")

    async def stream():
        yield body

    parser = _InMemoryParser(Headers({"content-type": "multipart/form-data; boundary=b"}), stream())
    form = asyncio.run(parser.parse())
    upload = form["images"]
    assert upload.file._rolled is False and upload.file.read() == data  # type: ignore[union-attr]


def test_one_slow_request_does_not_block_health_checks():
    """CPU-bound endpoints run in the threadpool: the event loop answers while one works."""
    with live_server(Settings(preload=False)) as url:
        box = {}
        worker = threading.Thread(target=lambda: box.update(r=httpx.post(
            f"{url}/v1/analyze", files=_files(*[EXAMPLE] * 8), timeout=120)))
        worker.start()
        deadline = time.monotonic() + 30
        while not metric(httpx.get(f"{url}/metrics").text, "facescan_requests_in_progress"):
            assert time.monotonic() < deadline
        assert httpx.get(f"{url}/healthz", timeout=5).status_code == 200
        assert worker.is_alive()  # health answered while the analysis was still running
        worker.join()
        assert box["r"].status_code == 200


def test_schemathesis_finds_no_5xx(tmp_path):
    """Cases generated from the OpenAPI schema (valid and invalid, a bounded, fixed sample) against a
    real server with a store: every answer is below 500."""
    schemathesis = pytest.importorskip("schemathesis")
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st
    from schemathesis import GenerationMode

    with live_server(Settings(db=str(tmp_path / "faces.db"), preload=False)) as url:
        schema = schemathesis.openapi.from_url(f"{url}/openapi.json")
        seen: dict[str, set[int]] = {}
        for result in schema.get_all_operations():
            operation = result.ok()
            strategy = st.one_of(operation.as_strategy(GenerationMode.POSITIVE),
                                 operation.as_strategy(GenerationMode.NEGATIVE))

            @given(case=strategy)
            @settings(max_examples=25, deadline=None, derandomize=True, database=None,
                      suppress_health_check=list(HealthCheck))
            def check(case):
                response = case.call(timeout=60)
                seen.setdefault(case.operation.label, set()).add(response.status_code)
                assert response.status_code < 500, f"{case.method} {case.path}: {response.status_code} {response.text}"

            check()
    assert {"POST /v1/analyze", "POST /v1/index", "POST /v1/search", "GET /v1/models"} <= set(seen)
    assert any(415 in codes or 422 in codes for codes in seen.values())  # invalid input was generated


def test_concurrent_requests_are_batched_and_each_gets_its_own_records(server, analyzer, lfw_dir):
    """Requests waiting together are analysed as one batch; every answer holds its own images."""
    from concurrent.futures import ThreadPoolExecutor

    photos = sorted(lfw_dir.glob("*/*.jpg"))[:11] + [EXAMPLE]
    requests = [photos[i:i + 2] for i in range(0, 12, 2)]  # 6 requests of 2 photos
    expected = {p.name: json.loads(json.dumps(dataclasses.replace(r, path=p.name).to_dict()))
                for p, r in zip(photos, analyzer.analyze_many([str(p) for p in photos]))}
    before = httpx.get(f"{server}/metrics").text
    with ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(lambda ps: httpx.post(f"{server}/v1/analyze", files=_files(*ps), timeout=60),
                                requests * 3))
    for ps, r in zip(requests * 3, answers):
        assert r.status_code == 200, r.text
        assert r.json()["results"] == [expected[p.name] for p in ps]
    after = httpx.get(f"{server}/metrics").text
    batches, images, served = (metric(after, n) - metric(before, n) for n in (
        "facescan_batch_images_count", "facescan_batch_images_sum", "facescan_batch_requests_total"))
    assert (images, served) == (36, 18)
    assert batches < 18  # some batches held the images of several requests


def test_one_analyzer_serves_both_if_no_face_choices_even_in_one_batch(server):
    """``if_no_face`` changes no model: requests with either value share the loaded analyzer,
    and concurrent ones batched together each get the answer of their own choice."""
    import io
    from concurrent.futures import ThreadPoolExecutor

    import numpy as np
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.full((90, 120, 3), 128, np.uint8)).save(buf, "PNG")
    files = [("images", ("grey.png", buf.getvalue(), "image/png")), *_files(EXAMPLE)]
    def loaded():  # the option sets of the analyzers loaded (their order is recency)
        return sorted(json.dumps(o, sort_keys=True) for o in httpx.get(f"{server}/v1/models").json()["loaded"])

    before_loaded = loaded()
    assert all("if_no_face" not in options for options in before_loaded)
    choices = ["skip", "whole"] * 6
    before = httpx.get(f"{server}/metrics").text
    with ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(lambda c: httpx.post(f"{server}/v1/analyze", files=files, timeout=60,
                                                     data={"if_no_face": c}), choices))
    batches = metric(httpx.get(f"{server}/metrics").text, "facescan_batch_images_count") - \
        metric(before, "facescan_batch_images_count")
    assert batches < len(choices)  # some batches held requests of both choices
    for choice, r in zip(choices, answers):
        assert r.status_code == 200, r.text
        grey, photo = r.json()["results"]
        assert [f["found_by"] for f in grey["faces"]] == ([] if choice == "skip" else ["whole-image"])
        assert [f["found_by"] for f in photo["faces"]] == ["yunet", "yunet"]
    assert loaded() == before_loaded  # no second copy of the models


def test_settings_travel_through_the_environment(tmp_path):
    from facescan.errors import ConfigError
    from facescan.serve.settings import read_key_file

    settings = Settings(db="faces.db", api_keys=("a", "b"), cors=("https://x.example",), max_upload_mb=2.5,
                        max_pixels=1000, max_images=3, timeout=1.5, max_concurrency=2, preload=False)
    assert Settings.from_env(settings.to_env()) == settings
    assert Settings.from_env({"FACESCAN_API_KEYS": "k1, k2"}).api_keys == ("k1", "k2")
    with pytest.raises(ConfigError, match="FACESCAN_SERVE_TIMEOUT='soon' is not a valid float"):
        Settings.from_env({"FACESCAN_SERVE_TIMEOUT": "soon"})
    with pytest.raises(ConfigError, match="max_images must be positive"):
        Settings(max_images=0)
    keys = tmp_path / "keys.txt"
    keys.write_text("# comment\nfirst\n\n  second  \n")
    assert read_key_file(str(keys)) == ("first", "second")
    keys.write_text("# nothing\n")
    with pytest.raises(ConfigError, match="holds no key"):
        read_key_file(str(keys))


def test_cli_serves_with_two_workers_and_a_key_file(tmp_path):
    """`facescan serve --workers 2`: uvicorn's supervisor with our TCP socket, settings passed to
    each worker by environment variables."""
    import os
    import signal

    from serve_helpers import ROOT, free_port

    keys = tmp_path / "keys.txt"
    keys.write_text("s3cret\n")
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    proc = subprocess.Popen([sys.executable, "-m", "facescan.cli", "serve", "--port", str(port), "--workers", "2",
                             "--api-key-file", str(keys), "--max-images", "1", "--log-level", "warning"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            assert proc.poll() is None and time.monotonic() < deadline, "the server did not start"
            try:
                if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        auth = {"Authorization": "Bearer s3cret"}
        r = httpx.post(f"{url}/v1/analyze", files=_files(EXAMPLE), headers=auth, timeout=60)
        assert r.status_code == 200 and len(r.json()["results"][0]["faces"]) == 2
        assert httpx.post(f"{url}/v1/analyze", files=_files(EXAMPLE), timeout=60).status_code == 401
        r = httpx.post(f"{url}/v1/analyze", files=_files(EXAMPLE, EXAMPLE), headers=auth, timeout=60)
        assert r.status_code == 413  # --max-images reached the workers
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        out, _ = proc.communicate(timeout=60)
    assert "with 2 worker(s); API keys required; CORS off" in out
    assert "s3cret" not in out


def test_every_offered_backend_and_detector_answers_a_real_photo(server):
    """The schema's choices with a real photo (random bytes above never reach a model)."""
    from facescan import registry

    for data in [{"backend": name} for name in registry.installed("backend")] + \
            [{"detector": name} for name in registry.installed("detector") if name != "yunet"]:
        r = httpx.post(f"{server}/v1/analyze", files=_files(EXAMPLE), data=data, timeout=120)
        assert r.status_code == 200, (data, r.text)
        assert r.json()["results"][0]["faces"], data
