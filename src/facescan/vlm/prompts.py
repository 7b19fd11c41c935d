"""Prompt templates and label sets of the vision-language backends.

The defaults are the paper's (AlDahoul et al. 2024, and the FaceScanPaliGemma model cards):
``"what is the {race|gender|age group|emotion} of the person in the image?"``, asked about one
face crop, answered over the paper's label sets (FairFace's 7 races, the 5 age groups,
AffectNet's 8 emotions). Every prediction records the :attr:`PromptSet.version` it was made
with, so results from different prompts are never mixed up silently.

A prompt file (JSON) overrides any template and names its own version::

    {"version": "short-v1", "templates": {"race": "Race of this person? One of: {labels}."}}

``{labels}`` in a template is replaced by the label set, comma-separated. Without a
``version`` the file's version is ``custom-`` + the first 8 hex digits of its sha256.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ConfigError
from ..labels import ATTRIBUTES
from ..labels import LABEL_SETS as _NAMED_SETS

# named label sets a VLM backend can answer over: facescan.labels' sets, plus the names the
# command line gives the emotion sets (emotion8: AffectNet's 8, emotion7: FER2013's 7)
LABEL_SETS: dict[str, tuple[str, ...]] = {**_NAMED_SETS, "emotion8": _NAMED_SETS["affectnet8"],
                                          "emotion7": _NAMED_SETS["fer7"]}
# which named sets fit which attribute
SETS_FOR = {"gender": ("gender",), "race": ("fairface7", "utk5"), "age": ("age5", "age9"),
            "emotion": ("emotion8", "emotion7")}
# the paper's label sets: the defaults of every VLM backend
PAPER_LABELS = {"gender": "gender", "race": "fairface7", "age": "age5", "emotion": "emotion8"}

PAPER_VERSION = "paper-v1"
PAPER_TEMPLATES = {
    "race": "what is the race of the person in the image?",
    "gender": "what is the gender of the person in the image?",
    "age": "what is the age group of the person in the image?",
    "emotion": "what is the emotion of the person in the image?",
}


def label_text(label: str) -> str:
    """How a label is written to or expected from a model: 'east_asian' -> 'east asian'."""
    return label.replace("_", " ")


def parse_label_sets(value: str | Mapping[str, str] | None) -> dict[str, str]:
    """``"race=utk5,age=age9"`` (or a dict) on top of the paper's sets -> attribute: set name."""
    out = dict(PAPER_LABELS)
    if not value:
        return out
    items = value.items() if isinstance(value, Mapping) else (
        part.partition("=")[::2] for part in value.split(",") if part.strip())
    for attr, name in items:
        attr, name = attr.strip().lower(), name.strip().lower()
        if attr not in SETS_FOR or name not in SETS_FOR[attr]:
            choices = "; ".join(f"{a}={'|'.join(s)}" for a, s in SETS_FOR.items())
            raise ConfigError(f"label set {attr}={name!r} is unknown; choose from {choices}")
        out[attr] = name
    return out


@dataclass(frozen=True)
class PromptSet:
    """One question template per attribute, and the version stored with every answer."""

    version: str = PAPER_VERSION
    templates: dict[str, str] = field(default_factory=lambda: dict(PAPER_TEMPLATES))

    def question(self, attribute: str, labels: tuple[str, ...]) -> str:
        template = self.templates[attribute]
        return template.replace("{labels}", ", ".join(label_text(x) for x in labels))

    @classmethod
    def from_file(cls, path: str | Path) -> PromptSet:
        path = Path(path)
        try:
            raw = path.read_bytes()
            data = json.loads(raw)
        except (OSError, ValueError) as exc:
            raise ConfigError(f"prompt file {path}: cannot read it as JSON ({exc})") from exc
        templates = data.get("templates") if isinstance(data, dict) else None
        if not isinstance(templates, dict) or not templates:
            raise ConfigError(f"prompt file {path}: expected {{\"version\": ..., \"templates\": "
                              f"{{\"race\": \"...\", ...}}}}")
        bad = [k for k, v in templates.items() if k not in ATTRIBUTES or not isinstance(v, str) or not v]
        if bad:
            raise ConfigError(f"prompt file {path}: bad template(s) for {bad}; attributes are "
                              f"{', '.join(ATTRIBUTES)} and each template is a non-empty string")
        version = data.get("version") or "custom-" + hashlib.sha256(raw).hexdigest()[:8]
        return cls(str(version), {**PAPER_TEMPLATES, **templates})


def load_prompts(path: str | Path | None) -> PromptSet:
    """The paper's prompts, or those of a JSON prompt file."""
    return PromptSet() if path is None else PromptSet.from_file(path)
