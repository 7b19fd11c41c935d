"""``ask`` for the hosted VLMs: the set-of-marks question through facescan's shared API clients
(:func:`facescan.vlm.api_engine`: OpenAI-compatible endpoints for ``gpt-4o`` and friends, or
Gemini), so it has the same endpoint and key lookup, retries, response cache and usage
accounting as the attribute backends of the same names. Needs ``pip install 'facescan[api]'``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .. import registry
from ..errors import ConfigError
from ..vlm import VLMOptions, api_engine


def api_model(backend: str) -> tuple[str, str]:
    """(API family, model) of a target backend name: ``gpt-*``, ``openai:MODEL``, ``gemini[:MODEL]``."""
    family, _, model = backend.partition(":")
    if family == "openai" and model:
        return "openai", model
    if backend.startswith("gpt-"):
        return "openai", backend
    if family == "gemini":
        return "gemini", model or registry.load("vlm", "gemini").default
    raise ConfigError(f"unknown target backend {backend!r}: use 'local', 'gpt-4o' (or another "
                      "'gpt-*' model), 'openai:MODEL' for any OpenAI-compatible endpoint, "
                      "'gemini' or 'gemini:MODEL', or pass ask=callable for another VLM")


def api_ask(backend: str, options: VLMOptions | None = None,
            prompt_version: str = "") -> Callable[[np.ndarray, str, dict], str]:
    """An ``ask(image_rgb, prompt, json_schema)`` that returns the model's answer text
    (validated by the caller); failures raise :class:`~facescan.errors.BackendError`."""
    family, model = api_model(backend)
    engine = api_engine(family, model, options or VLMOptions(), prompt_version)

    def ask(image: np.ndarray, prompt: str, schema: dict) -> str:
        return engine.request(image, prompt, schema=schema) or ""

    return ask
