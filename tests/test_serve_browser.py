"""The web page in a real browser: Playwright driving Debian's chromium (not `playwright install`,
which downloads a browser) against a real uvicorn. Skips without chromium, fails instead under
FACESCAN_REQUIRE_DATA=1 (CI installs it in .ci/run)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
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
    page.wait_for_selector("#boxes[data-placed]", state="attached")
    drawn = page.eval_on_selector_all(".box", "els => els.map(e => { const r = e.getBoundingClientRect(); "
                                      "const label = document.querySelector('.label[data-face=\"' + e.dataset.face + "
                                      "'\"]'); return {bbox: e.dataset.bbox, label: [...label.children].map(s => "
                                      "s.textContent), rect: [r.left, r.top, r.right, r.bottom]}; })")
    img = page.eval_on_selector("#preview", "e => { const r = e.getBoundingClientRect(); "
                                "return [r.left, r.top, r.width / e.naturalWidth]; }")
    assert len(drawn) == len(api["faces"]) == 2
    for i, (box, face) in enumerate(zip(drawn, api["faces"])):
        assert [float(v) for v in box["bbox"].split(",")] == face["bbox"]
        attrs = {k: Prediction(v["label"], v["score"], v["probs"], v.get("years"), v.get("group5"))
                 for k, v in face["attributes"].items()}
        first, *rest = describe(attrs).split(" | ")
        assert box["label"] == [f"#{i + 1} {first}", *rest]  # the lines of the CLI's annotated images
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


def _labels(page) -> list[list[float]]:
    """Each label's rectangle in displayed pixels, relative to the photo's top left corner."""
    page.wait_for_selector("#boxes[data-placed]", state="attached")
    return page.evaluate("""() => {
        const img = document.getElementById('preview').getBoundingClientRect();
        return [...document.querySelectorAll('#boxes .label')].map(e => { const r = e.getBoundingClientRect();
            return [r.left - img.left, r.top - img.top, r.right - img.left, r.bottom - img.top]; }); }""")


def _crowd(utk_samples, path: Path) -> None:
    """Twelve real faces (UTKFace test chips at 154 px) in three tight rows on a wider grey photo
    that the page shows scaled down: a label under a face would cover the face below it."""
    import cv2
    from PIL import Image

    from facescan.io import load_image

    canvas = np.full((868, 1400, 3), 120, np.uint8)
    for i, sample in enumerate(utk_samples[:12]):
        x, y = 350 + (i % 4) * 175, 154 + (i // 4) * 182
        canvas[y:y + 154, x:x + 154] = cv2.resize(load_image(sample.path), (154, 154), interpolation=cv2.INTER_AREA)
    Image.fromarray(canvas).save(path, quality=92)


def test_labels_of_a_crowd_do_not_overlap_and_follow_the_cli_placement(page, utk_samples, tmp_path):
    from facescan.annotate import layout

    photo = tmp_path / "crowd.jpg"
    _crowd(utk_samples, photo)
    page.set_input_files("#photo", str(photo))
    labels = _labels(page)
    boxes, sizes, width, height, scale = page.evaluate("""() => {
        const img = document.getElementById('preview'), s = img.clientWidth / img.naturalWidth;
        return [[...document.querySelectorAll('.box')].map(e => e.dataset.bbox.split(',').map(v => Number(v) * s)),
                [...document.querySelectorAll('#boxes .label')].map(e => [e.offsetWidth, e.offsetHeight]),
                img.clientWidth, img.clientHeight, s]; }""")
    assert len(boxes) == len(labels) >= 11
    # the photo is crowded: a label at its box's bottom (the old page) would cover another face
    below = [(b[0], b[3], b[0] + w, b[3] + h) for b, (w, h) in zip(boxes, sizes)]
    assert any(_overlap(r, b) > 0 for i, r in enumerate(below) for j, b in enumerate(boxes) if i != j)
    for i, a in enumerate(labels):
        assert -0.5 <= a[0] and a[2] <= width + 0.5 and -0.5 <= a[1] and a[3] <= height + 0.5  # inside the photo
        for b in labels[i + 1:]:
            assert _overlap(a, b) < 1, (a, b)  # no two labels overlap (sub-pixel rounding aside)
    # where facescan's annotated images put them (facescan.annotate.layout), in displayed pixels
    assert labels == [pytest.approx(list(r), abs=1) for r in layout(boxes, sizes, width, height)]
    assert 0.5 < scale < 1  # drawn scaled down, as the layout is done for the displayed size
    _save(page, tmp_path, "serve_crowd.png")


def _overlap(a, b) -> float:
    return max(0.0, min(a[2], b[2]) - max(a[0], b[0])) * max(0.0, min(a[3], b[3]) - max(a[1], b[1]))


def test_if_no_face_choice_is_sent_with_the_request(page, tmp_path):
    from PIL import Image

    grey = tmp_path / "grey.png"
    Image.fromarray(np.full((90, 120, 3), 128, np.uint8)).save(grey)
    page.set_input_files("#photo", str(grey))
    page.wait_for_function("document.getElementById('status').textContent.endsWith('face(s)')")
    assert page.text_content("#status") == "grey.png: 0 face(s)"  # the default: skip
    page.select_option("#if-no-face", "whole")  # analysed again with the new choice
    page.wait_for_selector(".box")
    assert page.text_content("#status") == "grey.png: 1 face(s)"
    assert page.get_attribute(".box", "data-found-by") == "whole-image"
    assert page.get_attribute(".box", "data-bbox") == "0,0,120,90"
    page.select_option("#if-no-face", "skip")
    page.wait_for_function("document.querySelectorAll('.box').length === 0 && "
                           "document.getElementById('status').textContent === 'grey.png: 0 face(s)'")
