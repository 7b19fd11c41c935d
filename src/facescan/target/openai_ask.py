"""``ask`` for OpenAI-compatible chat APIs (``gpt-4o`` and friends): the set-of-marks question
through facescan's shared OpenAI client (:class:`facescan.vlm.openai_api.OpenAIEngine`), so it
has the same endpoint and key lookup, retries, response cache and usage accounting as the
``gpt-4o`` attribute backend. Needs ``pip install 'facescan[api]'``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..vlm import VLMOptions


def openai_ask(model: str, options: VLMOptions | None = None,
               prompt_version: str = "") -> Callable[[np.ndarray, str, dict], str]:
    """An ``ask(image_rgb, prompt, json_schema)`` that returns the model's answer text
    (validated by the caller); failures raise :class:`~facescan.errors.BackendError`."""
    from ..vlm.openai_api import OpenAIEngine

    engine = OpenAIEngine(model, options or VLMOptions(), prompt_version)

    def ask(image: np.ndarray, prompt: str, schema: dict) -> str:
        return engine.request(image, prompt, schema=schema) or ""

    return ask
