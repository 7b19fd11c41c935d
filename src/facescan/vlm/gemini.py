"""Gemini through the ``google-genai`` client (``pip install 'facescan[api]'``).

The key comes from ``$GEMINI_API_KEY`` / ``$GOOGLE_API_KEY`` or the ``[gemini]`` table of the
config file; ``--api-base`` (or ``base_url`` there) points at another endpoint. The API version
is pinned to ``v1beta`` (the client's default changed between releases). Each crop is sent as
inline JPEG data; in closed mode the answer is constrained with ``text/x.enum`` to the labels
and still validated.
"""

from __future__ import annotations

from typing import Any

from ..errors import ConfigError, require
from .options import VLMOptions
from .remote import APIEngine, APIFamily, provider_settings, secret

API_VERSION = "v1beta"
GEMINI_URL = "https://generativelanguage.googleapis.com"
MAX_TOKENS = 200


class GeminiEngine(APIEngine):
    provider = "gemini"

    def __init__(self, model: str, options: VLMOptions, prompt_version: str = "") -> None:
        require("google.genai", "api")
        from google import genai
        from google.genai import types

        settings = provider_settings("gemini", options.config)
        key = secret(("GEMINI_API_KEY", "GOOGLE_API_KEY"), settings)
        endpoint = (options.api_base or settings.get("base_url") or GEMINI_URL).rstrip("/")
        if key is None:
            raise ConfigError("gemini needs an API key: set GEMINI_API_KEY (or GOOGLE_API_KEY), or "
                              "api_key in the [gemini] table of ~/.config/facescan/config.toml")
        super().__init__(model, options, prompt_version, endpoint, key)
        self._types = types
        http = types.HttpOptions(base_url=endpoint, api_version=API_VERSION,
                                 timeout=int(options.timeout * 1000),
                                 retry_options=types.HttpRetryOptions(attempts=1))
        self._client = genai.Client(api_key=key, http_options=http)

    def _send(self, jpeg: bytes, prompt: str, enum: tuple[str, ...] | None,
              schema: dict[str, Any] | None) -> tuple[str | None, int, int]:
        types = self._types
        config: dict[str, Any] = {"temperature": 0.0, "max_output_tokens": MAX_TOKENS}
        if enum is not None:
            config.update(response_mime_type="text/x.enum",
                          response_schema={"type": "STRING", "enum": list(enum)})
        elif schema is not None:
            config.update(response_mime_type="application/json", response_json_schema=schema)
        response = self._client.models.generate_content(
            model=self.model,
            contents=[types.Part.from_bytes(data=jpeg, mime_type="image/jpeg"), prompt],
            config=types.GenerateContentConfig(**config))
        meta = response.usage_metadata
        try:
            text = response.text
        except (ValueError, AttributeError):  # blocked or empty candidates
            text = None
        return (text, int(getattr(meta, "prompt_token_count", 0) or 0),
                int(getattr(meta, "candidates_token_count", 0) or 0))


# the registry's target of this backend (facescan.registry, kind "vlm")
GEMINI = APIFamily(GeminiEngine, "gemini-2.5-flash")
