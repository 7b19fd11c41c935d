"""The local vision-language backends (``--backend paligemma[:SRC]``, ``florence-2``, ``llava``,
``facescan-paligemma``): which checkpoint each loads when no ``:SRC`` is given, and how ``SRC``
names one source for every attribute or one per attribute (``race=SRC;gender=SRC;...``).
Registered by name in :mod:`facescan.registry` (kind ``"vlm"``); the models load through
:func:`facescan.vlm.hf.load_model` (extra ``vlm``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from .options import VLMOptions

ATTRIBUTES = ("race", "gender", "age", "emotion")


@dataclass(frozen=True)
class LocalFamily:
    """A family of local checkpoints: the architecture :func:`~facescan.vlm.hf.load_model`
    builds and the checkpoint used when the backend name gives none."""

    architecture: str
    default: str

    def sources(self, arg: str) -> dict[str, str] | str:
        """One source for every attribute, or attribute -> source."""
        if "=" not in arg:
            return arg or self.default
        mapping: dict[str, str] = {}
        for part in filter(None, (p.strip() for p in arg.split(";"))):
            attr, _, src = part.partition("=")
            attr = attr.strip().lower()
            if attr not in ATTRIBUTES or not src.strip():
                raise ConfigError(f"backend {self.architecture}:{arg}: expected ATTRIBUTE=SOURCE;... with "
                                  f"attributes {', '.join(ATTRIBUTES)}")
            mapping[attr] = src.strip()
        return mapping

    def engines(self, arg: str, attributes: Sequence[str], options: VLMOptions,
                prompt_version: str = "") -> dict[str, Any]:
        """The engine of each attribute (one per distinct source); attributes without a source
        are left out."""
        from .hf import load_model

        sources = self.sources(arg)
        wanted = {a: (sources if isinstance(sources, str) else sources.get(a)) for a in attributes}
        loaded: dict[str, Any] = {}
        engines: dict[str, Any] = {}
        for attr, src in wanted.items():
            if src is None:
                continue
            if src not in loaded:
                loaded[src] = load_model(src, self.architecture, options.device, options.dtype,
                                         options.processor, options.max_new_tokens)
            engines[attr] = loaded[src]
        return engines


@dataclass(frozen=True)
class FaceScanPaliGemmaFamily(LocalFamily):
    """The four published FaceScanPaliGemma models, one per attribute: from the hub cache, or
    from a folder holding ``FaceScanPaliGemma_Race`` and its siblings."""

    def sources(self, arg: str) -> dict[str, str] | str:
        hub = {a: f"{self.default}_{a.capitalize()}" for a in ATTRIBUTES}
        if not arg:
            return hub
        return {a: str(Path(arg) / src.split("/")[1]) for a, src in hub.items()}


PALIGEMMA = LocalFamily("paligemma", "google/paligemma-3b-mix-224")
FLORENCE_2 = LocalFamily("florence-2", "florence-community/Florence-2-large")
LLAVA = LocalFamily("llava", "llava-hf/llava-v1.6-mistral-7b-hf")
FACESCAN_PALIGEMMA = FaceScanPaliGemmaFamily("paligemma", "NYUAD-ComNets/FaceScanPaliGemma")
