"""API backends (OpenAI-compatible, Gemini) against a local HTTP server: request bodies,
schema constraints, retries, timeouts, the response cache, accounting and key hygiene."""

import base64
import json
import logging
import time
from pathlib import Path

import numpy as np
import pytest
from werkzeug import Response

from facescan import cli
from facescan.errors import BackendError
from facescan.vlm import VLMOptions, make_backend
from facescan.vlm.openai_api import OpenAIEngine, ask_json
from facescan.vlm.remote import retry_after

ROOT = Path(__file__).resolve().parents[1]
KEY = "sk-test-DO-NOT-LEAK-1234567890"
CROP = np.random.default_rng(1).integers(0, 256, (64, 64, 3), dtype=np.uint8)
CHAT = "/v1/chat/completions"


def chat(content, prompt_tokens=120, completion_tokens=4):
    return {"id": "c1", "object": "chat.completion", "created": 0, "model": "gpt-4o",
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": content}}],
            "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                      "total_tokens": prompt_tokens + completion_tokens}}


@pytest.fixture()
def env(monkeypatch, tmp_path):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    monkeypatch.setenv("FACESCAN_CONFIG", str(tmp_path / "no-config.toml"))
    return tmp_path


def options(httpserver, tmp_path, **kw):
    return {"api_base": httpserver.url_for("/v1"), "cache_dir": str(tmp_path / "cache"), **kw}


def test_openai_closed_request_body_and_accounting(httpserver, env):
    httpserver.expect_oneshot_request(CHAT, method="POST").respond_with_json(chat('{"answer": "female"}'))
    backend = make_backend("gpt-4o", ("gender",), options(httpserver, env, mode="closed"))
    [face] = backend.predict(CROP[None], ("gender",))
    assert face["gender"].label == "female" and face["gender"].raw == '{"answer": "female"}'
    [(request, _)] = httpserver.log
    assert request.headers["Authorization"] == f"Bearer {KEY}"
    body = request.get_json()
    assert body["model"] == "gpt-4o" and body["temperature"] == 0
    text, image = body["messages"][0]["content"]
    assert text == {"type": "text", "text": "what is the gender of the person in the image?"}
    url = image["image_url"]["url"]
    assert url.startswith("data:image/jpeg;base64,")
    assert base64.b64decode(url.split(",", 1)[1])[:3] == b"\xff\xd8\xff"  # a JPEG
    fmt = body["response_format"]
    assert fmt["type"] == "json_schema" and fmt["json_schema"]["strict"] is True
    assert fmt["json_schema"]["schema"]["properties"]["answer"]["enum"] == ["male", "female"]
    usage = backend.usage()
    assert usage["requests"] == 1 and usage["prompt_tokens"] == 120 and usage["completion_tokens"] == 4
    assert usage["cost_usd"] == pytest.approx((120 * 2.5 + 4 * 10) / 1e6)


def test_enum_answer_outside_the_set_is_unparsed_not_trusted(httpserver, env):
    httpserver.expect_request(CHAT).respond_with_json(chat('{"answer": "robot"}'))
    backend = make_backend("gpt-4o", ("gender",), options(httpserver, env, mode="closed"))
    pred = backend.predict(CROP[None], ("gender",))[0]["gender"]
    assert pred.unparsed and pred.raw == '{"answer": "robot"}'


def test_429_honours_retry_after_then_succeeds(httpserver, env):
    httpserver.expect_ordered_request(CHAT).respond_with_json(
        {"error": {"message": "slow down"}}, status=429, headers={"Retry-After": "3"})
    httpserver.expect_ordered_request(CHAT).respond_with_json(chat("A woman."))
    engine = OpenAIEngine("gpt-4o", VLMOptions(**options(httpserver, env)))
    sleeps = []
    engine.retrier.sleep = sleeps.append
    [answer] = engine.answer([CROP], "q?", "gender", ("male", "female"), closed=False)
    assert answer.text == "A woman." and sleeps == [3.0]
    assert engine.usage.retries == 1 and engine.usage.requests == 1 and len(httpserver.log) == 2


def test_500_is_retried_with_backoff_then_fails_clearly(httpserver, env):
    httpserver.expect_request(CHAT).respond_with_json({"error": {"message": "boom"}}, status=500)
    engine = OpenAIEngine("gpt-4o", VLMOptions(**options(httpserver, env, retries=2)))
    sleeps = []
    engine.retrier.sleep = sleeps.append
    with pytest.raises(BackendError, match=r"HTTP 500.*after 3 tries"):
        engine.request(CROP, "q?")
    assert sleeps == [0.5, 1.0] and len(httpserver.log) == 3


def test_400_is_not_retried(httpserver, env):
    httpserver.expect_request(CHAT).respond_with_json({"error": {"message": f"bad key {KEY}"}}, status=401)
    engine = OpenAIEngine("gpt-4o", VLMOptions(**options(httpserver, env)))
    with pytest.raises(BackendError, match="HTTP 401") as info:
        engine.request(CROP, "q?")
    assert KEY not in str(info.value) and len(httpserver.log) == 1


def test_timeout_gives_a_model_error(httpserver, env):
    def slow(request):
        time.sleep(1.0)
        return Response(json.dumps(chat("late")), content_type="application/json")

    httpserver.expect_request(CHAT).respond_with_handler(slow)
    engine = OpenAIEngine("gpt-4o", VLMOptions(**options(httpserver, env, timeout=0.2, retries=0)))
    with pytest.raises(BackendError, match="timed out"):
        engine.request(CROP, "q?")
    deadline = time.monotonic() + 5  # let the slow handler finish before the next test
    while not httpserver.log and time.monotonic() < deadline:
        time.sleep(0.05)


def test_cache_hit_sends_no_request_and_costs_nothing(httpserver, env):
    httpserver.expect_oneshot_request(CHAT).respond_with_json(chat("male"))
    first = make_backend("gpt-4o", ("gender",), options(httpserver, env))
    assert first.predict(CROP[None], ("gender",))[0]["gender"].label == "male"
    again = make_backend("gpt-4o", ("gender",), options(httpserver, env))  # a new run, same cache
    assert again.predict(CROP[None], ("gender",))[0]["gender"].label == "male"
    assert len(httpserver.log) == 1
    assert again.usage() == {"requests": 0, "cached": 1, "retries": 0, "prompt_tokens": 0,
                             "completion_tokens": 0, "cost_usd": 0.0}
    assert not any(KEY in p.read_text() for p in (env / "cache").rglob("*.json"))


def test_cli_analyze_gpt4o_via_openai_base_url_never_leaks_the_key(httpserver, env, monkeypatch,
                                                                  caplog, capsys):
    answers = {"gender": "She is a woman.", "race": "Middle Eastern", "age group": "from 20 to 39",
               "emotion": "smiling"}

    def reply(request):
        question = request.get_json()["messages"][0]["content"][0]["text"]
        text = next(a for k, a in answers.items() if f"the {k} of" in question)
        return Response(json.dumps(chat(text)), content_type="application/json")

    httpserver.expect_request(CHAT).respond_with_handler(reply)
    monkeypatch.setenv("OPENAI_BASE_URL", httpserver.url_for("/v1"))
    caplog.set_level(logging.DEBUG)
    out = env / "faces.jsonl"
    code = cli.main(["-v", "analyze", str(ROOT / "examples/two_portraits.jpg"), "--backend", "gpt-4o",
                     "-o", str(out), "--api-cache", str(env / "cache"), "--api-concurrency", "3"])
    assert code == cli.EXIT_OK
    record = json.loads(out.read_text())
    assert len(record["faces"]) == 2 and len(httpserver.log) == 8  # 2 faces x 4 questions
    attrs = record["faces"][0]["attributes"]
    assert attrs["gender"]["label"] == "female" and attrs["race"]["label"] == "middle_eastern"
    assert attrs["age"]["label"] == attrs["age"]["group5"] == "20-39"
    assert attrs["emotion"]["label"] == "happy" and attrs["emotion"]["raw"] == "smiling"
    err = capsys.readouterr().err
    assert "8 requests" in err
    assert KEY not in out.read_text() and KEY not in caplog.text and KEY not in err


def test_ask_json_returns_validated_objects(httpserver, env):
    schema = {"type": "object", "additionalProperties": False, "required": ["mark"],
              "properties": {"mark": {"type": "integer", "minimum": 1}}}
    httpserver.expect_ordered_request(CHAT).respond_with_json(chat('{"mark": 2}'))
    httpserver.expect_ordered_request(CHAT).respond_with_json(chat('{"mark": 0}'))
    opts = VLMOptions(**options(httpserver, env))
    assert ask_json(CROP, "which mark?", schema, options=opts) == {"mark": 2}
    body = httpserver.log[0][0].get_json()
    assert body["response_format"]["json_schema"]["schema"] == schema
    with pytest.raises(BackendError, match="does not match the schema"):
        ask_json(CROP, "which mark, again?", schema, options=opts)


def test_gemini_request_is_pinned_to_v1beta_with_an_enum(httpserver, env, monkeypatch):
    monkeypatch.setenv("GEMINI_API_KEY", KEY)
    path = "/v1beta/models/gemini-2.5-flash:generateContent"
    httpserver.expect_request(path, method="POST").respond_with_json({
        "candidates": [{"content": {"role": "model", "parts": [{"text": "female"}]}, "finishReason": "STOP"}],
        "usageMetadata": {"promptTokenCount": 300, "candidatesTokenCount": 1, "totalTokenCount": 301}})
    backend = make_backend("gemini", ("gender",), options(httpserver, env, mode="closed",
                                                          api_base=httpserver.url_for("")))
    pred = backend.predict(CROP[None], ("gender",))[0]["gender"]
    assert pred.label == "female"
    [(request, _)] = httpserver.log
    assert request.headers["x-goog-api-key"] == KEY
    body = request.get_json()
    parts = body["contents"][0]["parts"]
    inline = parts[0]["inlineData"]
    assert inline.get("mimeType", inline.get("mime_type")) == "image/jpeg"
    assert base64.urlsafe_b64decode(inline["data"])[:3] == b"\xff\xd8\xff"
    assert parts[1]["text"] == "what is the gender of the person in the image?"
    config = body["generationConfig"]
    assert config["responseMimeType"] == "text/x.enum"
    assert config["responseSchema"]["enum"] == ["male", "female"]
    assert backend.usage()["prompt_tokens"] == 300


def test_retry_after_reads_seconds_and_dates_and_ignores_garbage():
    assert retry_after({"retry-after": "2"}) == 2.0
    assert retry_after({"retry-after-ms": "1500", "retry-after": "9"}) == 1.5
    assert retry_after({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}) == 0.0  # in the past
    assert retry_after({"retry-after": "soon"}) is None
    assert retry_after({"retry-after": ""}) is None
    assert retry_after(None) is None
