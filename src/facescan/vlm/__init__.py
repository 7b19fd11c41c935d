"""Vision-language backends, chosen by name (``--backend NAME[:ARG]``): local models
(``paligemma``, ``facescan-paligemma``, ``florence-2``, ``llava``: :mod:`.local`, extra ``vlm``) and
hosted APIs (``gpt-4o``, ``openai``, ``gemini``: extra ``api``). The names, what their ``ARG``
means and the extra each needs are registered in :mod:`facescan.registry` (kind ``"vlm"``;
``facescan models`` lists them).

Importing this package imports nothing heavy; each backend imports its libraries on use.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .. import registry
from .options import VLMOptions


def is_vlm_backend(name: str) -> bool:
    """Whether ``name`` (``NAME[:ARG]``) names a vision-language backend of :mod:`facescan.registry`."""
    return name.partition(":")[0].lower() in registry.names("vlm")


def api_engine(family: str, model: str, options: VLMOptions, prompt_version: str = ""):
    """The client of an API backend (``gpt-4o``, ``openai``, ``gemini``) for ``model`` (empty:
    the backend's default model)."""
    api = registry.load("vlm", family)
    return api.engine(model or api.default, options, prompt_version)


def make_backend(name: str, attributes: Sequence[str], options: Mapping[str, Any] | VLMOptions | None = None):
    """Build the named backend for ``attributes`` (those it cannot give are left out)."""
    from .backend import VLMBackend
    from .prompts import load_prompts, parse_label_sets

    opts = options if isinstance(options, VLMOptions) else VLMOptions.from_mapping(options)
    family, _, arg = name.partition(":")
    maker = registry.load("vlm", family.lower())
    prompts = load_prompts(opts.prompts)
    label_sets = parse_label_sets(opts.labels)
    engines = maker.engines(arg, attributes, opts, prompts.version)
    return VLMBackend(engines, label_sets, prompts, opts.mode)


__all__ = ["VLMOptions", "api_engine", "is_vlm_backend", "make_backend"]
