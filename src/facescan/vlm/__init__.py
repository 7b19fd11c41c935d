"""Vision-language backends, registered by name (``--backend NAME[:ARG]``).

=========================  ===================================================  =========
name                       ARG                                                  extra
=========================  ===================================================  =========
``paligemma[:SRC]``        checkpoint folder, cached hub id, adapter folder,    ``vlm``
                           or ``race=SRC;gender=SRC;...`` (one per attribute)
``facescan-paligemma``     the four published FaceScanPaliGemma models          ``vlm``
``[:DIR]``                 (hub cache), or DIR holding FaceScanPaliGemma_Race...
``florence-2[:SRC]``       as paligemma                                         ``vlm``
``llava[:SRC]``            as paligemma (LLaVA 1.5 and LLaVA-NeXT)              ``vlm``
``gpt-4o[:MODEL]``         model name on an OpenAI-compatible endpoint          ``api``
``gemini[:MODEL]``         Gemini model name                                    ``api``
=========================  ===================================================  =========

Importing this package imports nothing heavy; each backend imports its libraries on use.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from .options import VLMOptions

LOCAL_FAMILIES = {"paligemma": "google/paligemma-3b-mix-224",
                  "florence-2": "florence-community/Florence-2-large",
                  "llava": "llava-hf/llava-v1.6-mistral-7b-hf"}
API_FAMILIES = {"gpt-4o": "gpt-4o", "openai": "gpt-4o", "gemini": "gemini-2.5-flash"}
FACESCAN_PALIGEMMA = {a: f"NYUAD-ComNets/FaceScanPaliGemma_{a.capitalize()}"
                      for a in ("race", "gender", "age", "emotion")}
NAMES = (*LOCAL_FAMILIES, "facescan-paligemma", *API_FAMILIES)


def is_vlm_backend(name: str) -> bool:
    return name.partition(":")[0].lower() in NAMES


def _sources(family: str, arg: str) -> dict[str, str] | str:
    """One source for every attribute, or attribute -> source."""
    if family == "facescan-paligemma":
        if not arg:
            return dict(FACESCAN_PALIGEMMA)
        return {a: str(Path(arg) / hub.split("/")[1]) for a, hub in FACESCAN_PALIGEMMA.items()}
    if "=" not in arg:
        return arg or LOCAL_FAMILIES[family]
    mapping: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in arg.split(";"))):
        attr, _, src = part.partition("=")
        attr = attr.strip().lower()
        if attr not in FACESCAN_PALIGEMMA or not src.strip():
            raise ConfigError(f"backend {family}:{arg}: expected ATTRIBUTE=SOURCE;... with "
                              f"attributes {', '.join(FACESCAN_PALIGEMMA)}")
        mapping[attr] = src.strip()
    return mapping


def api_engine(family: str, model: str, options: VLMOptions, prompt_version: str = ""):
    """The client of an API family: ``gemini``, else an OpenAI-compatible endpoint."""
    if family == "gemini":
        from .gemini import GeminiEngine

        return GeminiEngine(model, options, prompt_version)
    from .openai_api import OpenAIEngine

    return OpenAIEngine(model, options, prompt_version)


def make_backend(name: str, attributes: Sequence[str], options: Mapping[str, Any] | VLMOptions | None = None):
    """Build the named backend for ``attributes`` (those it cannot give are left out)."""
    from .backend import VLMBackend
    from .prompts import load_prompts, parse_label_sets

    opts = options if isinstance(options, VLMOptions) else VLMOptions.from_mapping(options)
    family, _, arg = name.partition(":")
    family = family.lower()
    if family not in NAMES:
        raise ConfigError(f"unknown VLM backend {name!r}; choose one of {', '.join(NAMES)}")
    prompts = load_prompts(opts.prompts)
    label_sets = parse_label_sets(opts.labels)
    engines: dict[str, Any] = {}
    if family in API_FAMILIES:
        engine = api_engine(family, arg or API_FAMILIES[family], opts, prompts.version)
        engines = {a: engine for a in attributes}
    else:
        from .hf import load_model

        hf_family = "paligemma" if family == "facescan-paligemma" else family
        sources = _sources(family, arg)
        wanted = {a: (sources if isinstance(sources, str) else sources.get(a)) for a in attributes}
        loaded: dict[str, Any] = {}
        for attr, src in wanted.items():
            if src is None:
                continue
            if src not in loaded:
                loaded[src] = load_model(src, hf_family, opts.device, opts.dtype, opts.processor,
                                         opts.max_new_tokens)
            engines[attr] = loaded[src]
    return VLMBackend(engines, label_sets, prompts, opts.mode)


__all__ = ["NAMES", "VLMOptions", "is_vlm_backend", "make_backend"]
