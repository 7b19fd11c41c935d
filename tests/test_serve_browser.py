"""The web page in a real browser: Playwright driving Debian's chromium (not `playwright install`,
which downloads a browser) against a real uvicorn. Skips without chromium, fails instead under
FACESCAN_REQUIRE_DATA=1 (CI installs it in .ci/run)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from serve_helpers import EXAMPLE, live_server, need_serve_deps

need_serve_deps()
pytest.importorskip("playwright", reason="the browser tests need: pip install -e '.[test]'")

import httpx

from facescan.output import describe
from facescan.serve import Settings
from facescan.types import Prediction

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.skip("no chromium found (Debian: apt-get install chromium; .ci/run does)")
    return found


@pytest.fixture(scope="module")
def server():
    with live_server(Settings()) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    executable = _chromium()
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=executable, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, server):
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    page = context.new_page()
    page.goto(server + "/")
    yield page
    context.close()


def _save(page, tmp_path: Path, name: str) -> None:
    page.screenshot(path=str(tmp_path / name), full_page=True)
    if os.environ.get("FACESCAN_ARTIFACTS"):
        folder = Path(os.environ["FACESCAN_ARTIFACTS"])
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copy(tmp_path / name, folder / name)


def test_page_draws_the_api_answer(page, server, tmp_path):
    api = httpx.post(f"{server}/v1/analyze", files=[("images", (EXAMPLE.name, EXAMPLE.read_bytes()))],
                     timeout=60).json()["results"][0]
    page.set_input_files("#photo", str(EXAMPLE))
    page.wait_for_selector("#faces tbody tr")
    page.wait_for_function("document.getElementById('preview').complete")
    drawn = page.eval_on_selector_all(".box", "els => els.map(e => { const r = e.getBoundingClientRect(); "
                                      "return {bbox: e.dataset.bbox, label: e.textContent, "
                                      "rect: [r.left, r.top, r.right, r.bottom]}; })")
    img = page.eval_on_selector("#preview", "e => { const r = e.getBoundingClientRect(); "
                                "return [r.left, r.top, r.width / e.naturalWidth]; }")
    assert len(drawn) == len(api["faces"]) == 2
    for i, (box, face) in enumerate(zip(drawn, api["faces"])):
        assert [float(v) for v in box["bbox"].split(",")] == face["bbox"]
        attrs = {k: Prediction(v["label"], v["score"], v["probs"], v.get("years"), v.get("group5"))
                 for k, v in face["attributes"].items()}
        assert box["label"] == f"#{i + 1} {describe(attrs)}"  # the text of the CLI's annotated images
        left, top, scale = img
        in_image = [(box["rect"][0] - left) / scale, (box["rect"][1] - top) / scale,
                    (box["rect"][2] - left) / scale, (box["rect"][3] - top) / scale]
        assert in_image == pytest.approx(face["bbox"], abs=3)  # drawn where the face is, in image pixels
    rows = page.eval_on_selector_all("#faces tbody tr", "rows => rows.map(r => r.children[1].textContent)")
    assert rows == [", ".join(str(round(v)) for v in f["bbox"]) for f in api["faces"]]
    assert page.text_content("#status") == f"{EXAMPLE.name}: 2 face(s)"
    _save(page, tmp_path, "serve_analyze.png")


def test_page_target_and_verify(page, server, tmp_path):
    page.set_input_files("#photo", str(EXAMPLE))
    page.wait_for_selector("#faces tbody tr")
    page.fill("#description", "the person on the right")
    page.click("#target-go")
    page.wait_for_selector(".box.target")
    api = httpx.post(f"{server}/v1/target", files=[("image", (EXAMPLE.name, EXAMPLE.read_bytes()))],
                     data={"description": "the person on the right"}, timeout=60).json()
    assert page.get_attribute(".box.target", "data-face") == str(api["match"]["number"]) == "2"
    assert page.text_content("#target-result") == f"{api['status']}: {api['message']}"
    assert page.get_attribute("tr.target", "data-face") == "2"
    _save(page, tmp_path, "serve_target.png")

    page.set_input_files("#photo-a", str(EXAMPLE))
    page.set_input_files("#photo-b", str(EXAMPLE))
    page.click("#verify-go")
    page.wait_for_selector("#verify-result[data-same]")
    assert page.get_attribute("#verify-result", "data-same") == "true"
    assert page.text_content("#verify-result").startswith("same person (probability 1.00): cosine distance 0.000")


def test_page_shows_errors(page, tmp_path):
    bad = tmp_path / "notes.txt"
    bad.write_text("not a photo")
    page.set_input_files("#photo", str(bad))
    page.wait_for_selector("#error:not([hidden])")
    assert page.text_content("#error") == "415: notes.txt: not an image Pillow can read (unknown or corrupt format)"
    assert page.locator("#faces").is_hidden()
