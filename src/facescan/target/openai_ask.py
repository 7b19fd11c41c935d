"""``ask`` for OpenAI-compatible chat APIs (``gpt-4o`` and friends), with the ``openai`` package.

A small stand-in until facescan's shared VLM clients land: one chat completion with the marked
image as a JPEG data URL and ``response_format`` set to the answer's JSON schema (strict).
The endpoint is ``api_base``, else ``$OPENAI_BASE_URL``, else OpenAI's; the key comes from
``$OPENAI_API_KEY``. Needs ``pip install 'facescan[api]'``.
"""

from __future__ import annotations

import base64
import io
import os
from collections.abc import Callable
from typing import Any

import numpy as np

from ..errors import BackendError, ConfigError, require


def jpeg_data_url(image: np.ndarray, quality: int = 90) -> str:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="JPEG", quality=quality)
    return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def openai_ask(model: str, api_base: str | None = None, api_key: str | None = None,
               timeout: float = 60.0, max_retries: int = 2
               ) -> Callable[[np.ndarray, str, dict], str]:
    """An ``ask(image_rgb, prompt, json_schema)`` that returns the model's answer text."""
    openai: Any = require("openai", "api")
    base = api_base or os.environ.get("OPENAI_BASE_URL") or None
    key = api_key or os.environ.get("OPENAI_API_KEY")
    if not key:
        raise ConfigError(f"backend {model!r} needs an API key: set OPENAI_API_KEY")
    try:
        client = openai.OpenAI(api_key=key, base_url=base, timeout=timeout, max_retries=max_retries)
    except openai.OpenAIError as exc:
        raise ConfigError(f"cannot set up the OpenAI client for {model!r}: {exc}") from exc
    where = base or "the OpenAI API"

    def ask(image: np.ndarray, prompt: str, schema: dict) -> str:
        try:
            response = client.chat.completions.create(
                model=model, temperature=0,
                messages=[{"role": "user", "content": [
                    {"type": "text", "text": prompt},
                    {"type": "image_url", "image_url": {"url": jpeg_data_url(image)}}]}],
                response_format={"type": "json_schema", "json_schema": {
                    "name": "target_answer", "schema": schema, "strict": True}})
        except openai.APIStatusError as exc:
            raise BackendError(f"{model} at {where}: HTTP {exc.status_code}: {exc.message}") from exc
        except openai.OpenAIError as exc:
            raise BackendError(f"{model} at {where}: {exc}") from exc
        if not response.choices:
            raise BackendError(f"{model} at {where}: the response has no choices")
        message = response.choices[0].message
        if getattr(message, "refusal", None):
            raise BackendError(f"{model} at {where} refused: {message.refusal}")
        return message.content or ""

    return ask
