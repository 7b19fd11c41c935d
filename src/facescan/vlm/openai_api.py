"""GPT-4o, or any model behind an OpenAI-compatible chat-completions endpoint (vLLM, Ollama,
LM Studio, ...), through the official ``openai`` client (``pip install 'facescan[api]'``).

The endpoint is, first found: ``--api-base`` / ``VLMOptions.api_base``, ``$OPENAI_BASE_URL``,
``base_url`` in the ``[openai]`` table of the config file, then OpenAI's. The key comes from
``$OPENAI_API_KEY`` or the config file; a non-OpenAI endpoint may need none. Each face crop is
sent as a JPEG data URL with the question; in closed mode the answer is constrained by a JSON
schema (``{"answer": <one of the labels>}``, ``strict``) and still validated on return.

:func:`ask_json` is the general form: one image + prompt + JSON schema -> the validated JSON
object, with the same cache, retries and accounting (for other features, e.g. finding a
described person among numbered marks).
"""

from __future__ import annotations

import base64
import logging
import os
from typing import Any

import numpy as np

from ..errors import BackendError, ConfigError, require
from .options import VLMOptions
from .parse import schema_errors
from .remote import APIEngine, APIFamily, provider_settings, secret

log = logging.getLogger(__name__)

OPENAI_URL = "https://api.openai.com/v1"
MAX_TOKENS = 200


def answer_schema(labels: tuple[str, ...]) -> dict[str, Any]:
    """The closed-set answer: an object with one field, ``answer``, one of ``labels``."""
    return {"type": "object", "properties": {"answer": {"type": "string", "enum": list(labels)}},
            "required": ["answer"], "additionalProperties": False}


class OpenAIEngine(APIEngine):
    provider = "openai"

    def __init__(self, model: str, options: VLMOptions, prompt_version: str = "") -> None:
        require("openai", "api")
        import openai

        settings = provider_settings("openai", options.config)
        endpoint = (options.api_base or os.environ.get("OPENAI_BASE_URL") or settings.get("base_url")
                    or OPENAI_URL).rstrip("/")
        key = secret(("OPENAI_API_KEY",), settings)
        if key is None:
            if endpoint == OPENAI_URL:
                raise ConfigError("gpt-4o needs an API key: set OPENAI_API_KEY, or api_key in the "
                                  "[openai] table of ~/.config/facescan/config.toml; or point "
                                  "--api-base / OPENAI_BASE_URL at an OpenAI-compatible server")
            key = "unused"  # local servers (vLLM, Ollama) accept any key
        super().__init__(model, options, prompt_version, endpoint, key)
        self._client = openai.OpenAI(api_key=key, base_url=endpoint, timeout=options.timeout,
                                     max_retries=0)

    def _send(self, jpeg: bytes, prompt: str, enum: tuple[str, ...] | None,
              schema: dict[str, Any] | None) -> tuple[str | None, int, int]:
        url = "data:image/jpeg;base64," + base64.b64encode(jpeg).decode("ascii")
        kwargs: dict[str, Any] = {}
        if enum is not None:
            schema, name = answer_schema(enum), "facial_attribute"
        else:
            name = "answer"
        if schema is not None:
            kwargs["response_format"] = {"type": "json_schema", "json_schema": {
                "name": name, "strict": True, "schema": schema}}
        response = self._client.chat.completions.create(
            model=self.model, temperature=0, max_tokens=MAX_TOKENS,
            messages=[{"role": "user", "content": [
                {"type": "text", "text": prompt},
                {"type": "image_url", "image_url": {"url": url}}]}],
            **kwargs)
        message = response.choices[0].message if response.choices else None
        text = getattr(message, "content", None)
        usage = response.usage
        return (text, int(getattr(usage, "prompt_tokens", 0) or 0),
                int(getattr(usage, "completion_tokens", 0) or 0))

    def ask_json(self, image: np.ndarray, prompt: str, schema: dict[str, Any]) -> dict[str, Any]:
        """Send one image and prompt, constrained to ``schema``; return the validated object."""
        import json

        text = self.request(image, prompt, schema=schema)
        try:
            value = json.loads(text or "")
        except ValueError as exc:
            raise BackendError(f"{self.model} at {self.endpoint}: the answer is not JSON: "
                             f"{(text or '')[:200]!r}") from exc
        errors = schema_errors(value, schema)
        if errors or not isinstance(value, dict):
            raise BackendError(f"{self.model} at {self.endpoint}: the answer does not match the "
                             f"schema: {'; '.join(errors) or 'not an object'}")
        return value


def ask_json(image: np.ndarray, prompt: str, schema: dict[str, Any], model: str = "gpt-4o",
             options: VLMOptions | None = None, engine: OpenAIEngine | None = None) -> dict[str, Any]:
    """One RGB image + prompt + JSON schema -> the model's validated JSON object.

    Pass ``engine`` (an :class:`OpenAIEngine`) to share one client, cache and usage account
    across calls; else one is made from ``model`` and ``options``. Raises :class:`BackendError`
    when the endpoint fails after retries or the answer does not match the schema.
    """
    engine = engine or OpenAIEngine(model, options or VLMOptions())
    return engine.ask_json(image, prompt, schema)


# the registry's target of this backend (facescan.registry, kind "vlm")
GPT_4O = APIFamily(OpenAIEngine, "gpt-4o")
