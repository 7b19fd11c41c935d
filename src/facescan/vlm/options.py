"""The options of the vision-language backends, one frozen dataclass shared by every engine
(kept apart from :mod:`facescan.vlm` so that the engines need not import the package that
builds them)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import ConfigError


@dataclass(frozen=True)
class VLMOptions:
    """Options of the vision-language backends (CLI: ``facescan analyze --help``)."""

    mode: str = "generate"            # generate (paper-faithful) | closed (label set only)
    prompts: str | None = None        # JSON prompt file; default: the paper's prompts
    labels: str | None = None         # e.g. "race=utk5,age=age9"; default: the paper's sets
    device: str = "auto"
    dtype: str = "auto"
    processor: str | None = None      # processor for checkpoints that ship none
    max_new_tokens: int = 20
    api_base: str | None = None       # OpenAI-compatible / Gemini endpoint
    timeout: float = 60.0
    retries: int = 5
    concurrency: int = 4
    cache_dir: str | None = None      # API response cache; default ~/.cache/facescan/api
    cache: bool = True
    config: str | None = None         # key file; default ~/.config/facescan/config.toml

    @classmethod
    def from_mapping(cls, options: Mapping[str, Any] | None) -> VLMOptions:
        options = {k: v for k, v in (options or {}).items() if v is not None}
        known = {f.name for f in dataclasses.fields(cls)}
        bad = sorted(set(options) - known)
        if bad:
            raise ConfigError(f"unknown backend option(s) {bad}; known: {', '.join(sorted(known))}")
        return cls(**options)
