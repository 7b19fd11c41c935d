"""facescan target: colour measurement, the local scorer on synthetic face records, the scene
composer (tests/synth/scenes.py), the CLI end to end on a composed photo, and the set-of-marks VLM backend against a
local HTTP server."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest
from PIL import Image
from synth.scenes import compose_scene, make_description, true_matches

import facescan
from facescan import cli
from facescan.errors import BackendError
from facescan.labels import AGE9, EMOTION7, RACE_UTK5
from facescan.target import parse_description
from facescan.target.colors import clothing_region, dominant, measure, share
from facescan.target.marks import answer_schema, build_prompt, draw_marks, target_vlm, validate_answer
from facescan.target.score import head_pose, target_local
from facescan.types import Face, Prediction

SHIRTS = {"red": (200, 30, 35), "navy": (15, 20, 110), "beige": (222, 204, 168), "teal": (0, 120, 125)}


def _pred(labels, top, p=0.9, years=None):
    rest = (1 - p) / (len(labels) - 1)
    probs = {k: (p if k == top else rest) for k in labels}
    return Prediction(top, p, probs, years, None)


def _face(x, gender="male", age="30-39", race="white", emotion="neutral", p=0.9, size=80, y=100):
    gender_probs = {"male": p, "female": 1 - p} if gender == "male" else {"male": 1 - p, "female": p}
    attrs = {"gender": Prediction(gender, p, gender_probs), "age": _pred(AGE9, age, p, 35.0),
             "race": _pred(RACE_UTK5, race, p), "emotion": _pred(EMOTION7, emotion, p)}
    eye = size * 0.4
    marks = ((x + size / 2 - eye / 2, y + size * 0.4), (x + size / 2 + eye / 2, y + size * 0.4),
             (x + size / 2, y + size * 0.6), (x + size * 0.35, y + size * 0.8), (x + size * 0.65, y + size * 0.8))
    return Face((float(x), float(y), float(x + size), float(y + size)), 0.9, marks, attrs)


def _scene(shirts, size=80, y=100, width=800, height=400):
    """A grey image with a shaded, noisy shirt of each colour under each face slot."""
    rng = np.random.default_rng(0)
    img = np.full((height, width, 3), 120.0) + rng.normal(0, 5, (height, width, 3))
    xs = [40 + i * (width - 80) // len(shirts) for i in range(len(shirts))]
    for x, name in zip(xs, shirts):
        top, bottom = y + size + 5, min(height, y + size * 3)
        shade = np.linspace(1.05, 0.8, bottom - top)[:, None, None]
        img[top:bottom, x - size // 2:x + size + size // 2] = np.asarray(SHIRTS[name]) * shade
    return np.clip(img, 0, 255).astype(np.uint8), xs


# --- colour measurement ---------------------------------------------------------------------------

@pytest.mark.parametrize("name,family", [("red", "red"), ("navy", "blue"), ("beige", "beige"), ("teal", "teal")])
def test_clothing_colour_is_measured_below_the_face(name, family):
    img, xs = _scene([name])
    region = clothing_region((xs[0], 100, xs[0] + 80, 180), img.shape[1], img.shape[0])
    shares = measure(img, region)
    main = dominant(shares)[0]
    assert main["family"] == family and main["share"] > 0.8
    assert share(shares, family) > 0.8


def test_colour_regions_are_clipped_and_may_be_missing():
    img = np.zeros((100, 100, 3), np.uint8)
    assert clothing_region((10, 20, 90, 99), 100, 100) is None  # face at the bottom edge
    assert measure(img, None) == {}
    region = clothing_region((-30, 0, 40, 40), 100, 100)
    assert region[0] == 0 and region[3] <= 100


def test_head_pose_from_landmarks():
    frontal = ((40, 50), (60, 50), (50, 60), (42, 70), (58, 70))
    yaw, roll = head_pose(frontal)
    assert abs(yaw) < 1 and abs(roll) < 1
    turned = ((40, 50), (60, 50), (57, 60), (42, 70), (58, 70))
    tilted = ((40, 45), (60, 55), (50, 60), (42, 70), (58, 70))
    assert head_pose(turned)[0] > 20 and head_pose(tilted)[1] > 20
    assert head_pose(None) is None


# --- the local scorer on synthetic face records ----------------------------------------------------

def test_scorer_finds_the_described_person_with_attributes_and_measurements():
    img, xs = _scene(["red", "navy", "beige"])
    faces = [_face(xs[0], "male"), _face(xs[1], "female", "60-69"), _face(xs[2], "female", "20-29", "black")]
    result = target_local(img, faces, parse_description("the elderly woman in the blue top"))
    assert result.status == "match" and result.match.index == 1
    record = result.to_dict()
    assert record["match"]["number"] == 2 and record["match"]["bbox"] == list(faces[1].bbox)
    assert [c["kind"] for c in record["constraints"]] == ["age", "gender", "clothing_color"]
    assert all(c["matched"] for c in record["constraints"])
    assert record["person"]["attributes"]["gender"]["label"] == "female"
    phys = record["person"]["physical"]
    assert phys["clothing_colors"][0]["family"] == "blue" and phys["position"]["rank_from_left"] == 2
    assert phys["head_pose"]["facing"] == "frontal"
    assert record["candidates"][0]["index"] == 1 and len(record["candidates"]) == 3
    json.dumps(record)


def test_position_is_relative_to_people_who_fit_the_rest():
    img, xs = _scene(["red", "red", "red", "red"])
    faces = [_face(xs[0], "male"), _face(xs[1], "female"), _face(xs[2], "male"), _face(xs[3], "female")]
    assert target_local(img, faces, parse_description("the woman on the left")).match.index == 1
    assert target_local(img, faces, parse_description("the man on the right")).match.index == 2
    assert target_local(img, faces, parse_description("second from the left")).match.index == 1
    assert target_local(img, faces, parse_description("the rightmost person")).match.index == 3


def test_front_means_the_largest_face():
    img, _ = _scene(["red", "red", "red"], width=900)
    faces = [_face(50, size=60), _face(350, size=110, y=60), _face(650, size=60)]
    result = target_local(img, faces, parse_description("the person in front"))
    assert result.status == "match" and result.match.index == 1


def test_statuses_are_explicit():
    img, xs = _scene(["red", "navy", "red"])
    faces = [_face(xs[0], "female"), _face(xs[1], "male"), _face(xs[2], "female")]
    ambiguous = target_local(img, faces, parse_description("the woman in red"))
    assert ambiguous.status == "ambiguous" and ambiguous.match is not None
    assert set(ambiguous.tied) | {ambiguous.match.index} == {0, 2}
    nobody = target_local(img, faces, parse_description("the person in the yellow shirt"))
    assert nobody.status == "no_match" and nobody.match is None and nobody.candidates
    assert "yellow" in nobody.message
    contradictory = target_local(img, faces, parse_description("the man who is a woman"))
    assert contradictory.status == "contradictory" and contradictory.to_dict()["contradictions"]
    garbage = target_local(img, faces, parse_description("qwerty uiop"))
    assert garbage.status == "not_understood" and garbage.to_dict()["not_understood"] == ["qwerty", "uiop"]
    assert target_local(img, [], parse_description("the man")).status == "no_faces"
    unsure = target_local(img, [_face(xs[0], "male", p=0.55), _face(xs[1], "male", p=0.6)],
                          parse_description("the man"))
    assert unsure.status == "ambiguous"


def test_negation_flips_a_constraint():
    img, xs = _scene(["red", "navy"])
    faces = [_face(xs[0], emotion="happy"), _face(xs[1], emotion="neutral")]
    assert target_local(img, faces, parse_description("the one not smiling")).match.index == 1
    assert target_local(img, faces, parse_description("the person not in red")).match.index == 1


# --- the composed-image generator ----------------------------------------------------------------

@pytest.fixture(scope="module")
def utk_test(utkface_dir):
    from facescan.datasets import read_utkface

    return list(read_utkface(utkface_dir, "test"))[:300]


def test_composer_is_deterministic_and_labels_are_right(utk_test):
    a, b = compose_scene(utk_test, 4, seed=7), compose_scene(utk_test, 4, seed=7)
    assert np.array_equal(a.image, b.image) and a.people == b.people
    assert not np.array_equal(a.image, compose_scene(utk_test, 4, seed=8).image)
    by_id = {s.id: s for s in utk_test}
    for p in a.people:
        truth = by_id[p.id].labels
        assert (p.age, p.gender, p.race) == (truth["age"], truth["gender"], truth["race"])
    assert [p.box[0] for p in a.people] == sorted(p.box[0] for p in a.people)
    for p in a.people:  # the shirt is drawn below the face, in its colour's family
        region = clothing_region(p.box, a.image.shape[1], a.image.shape[0])
        assert share(measure(a.image, region), p.shirt) > 0.6, p


def test_generated_descriptions_fit_only_their_target(utk_test):
    import random

    scene = compose_scene(utk_test, 5, seed=3)
    rng = random.Random(3)
    for k in (1, 2, 3):
        target, text, kinds = make_description(scene, k, rng)
        assert len(kinds) == k and true_matches(text, scene.people) == [target]
    assert true_matches("the person in the purple shirt", scene.people) == [
        i for i, p in enumerate(scene.people) if p.shirt == "purple"]


# --- the CLI end to end ------------------------------------------------------------------------

def test_cli_target_finds_the_described_person(utk_test, tmp_path, capsys):
    scene = compose_scene(utk_test, 4, seed=11)
    target = next(i for i, p in enumerate(scene.people)
                  if [q.shirt for q in scene.people].count(p.shirt) == 1)
    person = scene.people[target]
    noun = "man" if person.gender == "male" else "woman"
    path = tmp_path / "group.jpg"
    Image.fromarray(scene.image).save(path, quality=92)
    out = tmp_path / "result.json"
    assert cli.main(["target", str(path), f"the {noun} in the {person.shirt} shirt", "-o", str(out)]) == 0
    record = json.loads(out.read_text())
    assert record["status"] in ("match", "ambiguous") and record["path"] == str(path)
    x1, _, x2, _ = record["match"]["bbox"]
    assert person.box[0] <= (x1 + x2) / 2 <= person.box[2]
    assert set(record["person"]["attributes"]) == {"gender", "age", "race", "emotion", "appearance"}
    assert cli.main(["target", str(path), "the person in the yellow shirt zzz"]) == 0
    printed = capsys.readouterr().out
    assert "zzz" in printed and ("no_match" in printed or "yellow" in printed)
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(path.read_bytes()[:200])  # a truncated JPEG: an input error, exit code 1
    assert cli.main(["target", str(broken), "the man"]) == cli.EXIT_INPUT_ERRORS
    assert "broken.jpg" in capsys.readouterr().err


# --- the set-of-marks VLM backend --------------------------------------------------------------

def test_marks_prompt_schema_and_validation():
    img = np.zeros((200, 300, 3), np.uint8)
    marked = draw_marks(img, [(10, 40, 60, 100), (150, 40, 200, 100)])
    assert marked.shape == img.shape and marked.any() and not img.any()
    assert "the man" in build_prompt("the man", 2) and "1 to 2" in build_prompt("the man", 2)
    schema = answer_schema(3)
    assert schema["properties"]["person"]["enum"] == [0, 1, 2, 3]
    good = {"person": 2, "ambiguous": False, "gender": "female", "age_group": "30-39", "race": "indian",
            "emotion": "happy", "clothing_color": "red", "hair_color": "black", "reason": "red top"}
    assert validate_answer(good, 3) == (good, None)
    assert validate_answer(json.dumps(good), 3)[0] == good
    for bad, why in [("{not json", "not JSON"), ("[1, 2]", "not an object"),
                     ({**good, "person": 4}, "not one of the boxes"), ({**good, "person": "2"}, "box number"),
                     ({k: v for k, v in good.items() if k != "race"}, "lacks"),
                     ({**good, "race": "martian"}, "race 'martian'"), ({**good, "ambiguous": "no"}, "true or false")]:
        answer, error = validate_answer(bad, 3)
        assert answer is None and why in error, (bad, error)


def test_vlm_invalid_answer_is_a_status_with_the_raw_answer():
    img, xs = _scene(["red", "navy"])
    faces = [_face(xs[0]), _face(xs[1])]
    result = target_vlm(img, faces, "the man", lambda *a: '{"person": 9}', "fake")
    assert result.status == "invalid_answer" and result.match is None and result.raw == '{"person": 9}'
    assert target_vlm(img, [], "the man", lambda *a: {}, "fake").status == "no_faces"


class _Server:
    """A local OpenAI-compatible chat endpoint that records requests and answers a fixed reply."""

    def __init__(self, reply, status=200):
        self.requests = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                outer.requests.append((self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                payload = json.dumps({"id": "x", "object": "chat.completion", "created": 0, "model": body["model"],
                                      "choices": [{"index": 0, "finish_reason": "stop", "message": {
                                          "role": "assistant", "content": json.dumps(reply)}}]}
                                     if status == 200 else {"error": {"message": "boom"}}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def test_gpt4o_backend_against_a_local_server(group_photo, analyzer, monkeypatch):
    pytest.importorskip("openai")  # in the test extra: CI has it
    image, places = group_photo
    reply = {"person": 3, "ambiguous": False, "gender": "male", "age_group": "20-29",
             "race": "east_asian", "emotion": "neutral", "clothing_color": "none", "hair_color": "black",
             "reason": "third box"}
    server = _Server(reply)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    try:
        result = facescan.find_person(image, "the third person", backend="gpt-4o", analyzer=analyzer,
                                      api_base=server.url)
    finally:
        server.close()
    assert result.status == "match" and result.match.index == 2
    x1, _, x2, _ = result.match.bbox
    assert places[2][0] <= (x1 + x2) / 2 <= places[2][2]
    record = result.to_dict()
    assert record["person"]["attributes"]["race_utk5"] == "asian"
    assert record["prompt_version"] == "target-marks-v1"
    (path, headers, body), = server.requests
    assert path == "/v1/chat/completions" and headers["authorization"] == "Bearer sk-test"
    assert body["model"] == "gpt-4o"
    fmt = body["response_format"]
    assert fmt["type"] == "json_schema" and fmt["json_schema"]["strict"] is True
    assert fmt["json_schema"]["schema"]["properties"]["person"]["enum"] == [0, 1, 2, 3, 4]
    text, picture = body["messages"][0]["content"]
    assert "the third person" in text["text"]
    assert picture["image_url"]["url"].startswith("data:image/jpeg;base64,")


def test_openai_backend_http_errors_and_missing_key(monkeypatch):
    pytest.importorskip("openai")
    from facescan.target.api_ask import api_ask
    from facescan.vlm import VLMOptions

    server = _Server({}, status=500)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    try:
        ask = api_ask("gpt-4o", VLMOptions(api_base=server.url, retries=0, cache=False))
        with pytest.raises(BackendError, match="HTTP 500"):
            ask(np.zeros((20, 20, 3), np.uint8), "which?", answer_schema(1))
    finally:
        server.close()
    monkeypatch.delenv("OPENAI_API_KEY")
    with pytest.raises(facescan.ConfigError, match="OPENAI_API_KEY"):
        api_ask("gpt-4o")
    with pytest.raises(facescan.ConfigError, match="unknown target backend"):
        facescan.find_person(np.zeros((20, 20, 3), np.uint8), "x", backend="llava")


def test_gemini_backend_against_a_local_server(group_photo, analyzer, httpserver, monkeypatch):
    pytest.importorskip("google.genai")  # in the test extra: CI has it
    image, places = group_photo
    reply = {"person": 2, "ambiguous": False, "gender": "female", "age_group": "30-39",
             "race": "white", "emotion": "happy", "clothing_color": "none", "hair_color": "brown",
             "reason": "second box"}
    httpserver.expect_request("/v1beta/models/gemini-2.5-flash:generateContent", method="POST").respond_with_json({
        "candidates": [{"content": {"role": "model", "parts": [{"text": json.dumps(reply)}]}, "finishReason": "STOP"}],
        "usageMetadata": {"promptTokenCount": 900, "candidatesTokenCount": 40, "totalTokenCount": 940}})
    monkeypatch.setenv("GEMINI_API_KEY", "g-test")
    result = facescan.find_person(image, "the second person from the left", backend="gemini", analyzer=analyzer,
                                  api_base=httpserver.url_for("").rstrip("/"))
    assert result.status == "match" and result.match.index == 1 and result.backend == "gemini"
    x1, _, x2, _ = result.match.bbox
    assert places[1][0] <= (x1 + x2) / 2 <= places[1][2]
    assert result.to_dict()["person"]["attributes"]["gender"] == "female"
    [(request, _)] = httpserver.log
    assert request.headers["x-goog-api-key"] == "g-test"
    body = request.get_json()
    picture, question = body["contents"][0]["parts"]
    assert picture["inlineData"]["data"] and "the second person from the left" in question["text"]
    config = body["generationConfig"]
    assert config["responseMimeType"] == "application/json"
    assert config["responseJsonSchema"]["properties"]["person"]["enum"] == [0, 1, 2, 3, 4]


def test_target_backend_names():
    from facescan.target.api_ask import api_model

    assert api_model("gpt-4o") == ("openai", "gpt-4o")
    assert api_model("gpt-4o-mini") == ("openai", "gpt-4o-mini")
    assert api_model("openai:qwen2.5-vl") == ("openai", "qwen2.5-vl")
    assert api_model("gemini") == ("gemini", "gemini-2.5-flash")
    assert api_model("gemini:gemini-2.5-pro") == ("gemini", "gemini-2.5-pro")
    for bad in ("llava", "openai:", "gpt4o"):
        with pytest.raises(facescan.ConfigError, match="unknown target backend"):
            api_model(bad)


def test_find_person_without_an_analyzer_uses_every_attribute(group_photo):
    from facescan.target import find_person

    canvas, _ = group_photo
    result = find_person(canvas, "the person on the left")
    assert result.status in ("match", "ambiguous")
    assert set(result.person["attributes"]) == {"gender", "age", "race", "emotion", "appearance"}
