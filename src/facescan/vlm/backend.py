"""The attribute backend built on vision-language models: face crops in, Predictions out.

An :class:`Engine` asks one model one question about many crops. It answers in one of two
modes: ``generate`` (paper-faithful: free text, mapped onto the label set by
:mod:`facescan.vlm.parse`; unmappable answers are recorded as unparsed) or ``closed`` (local
models score every candidate label's log-likelihood -> a probability distribution; API
models are constrained to the label set by a JSON schema / enum, and the answer is still
validated). :class:`VLMBackend` turns the answers into the same :class:`Prediction` type
the ONNX models give, so ``facescan analyze`` and ``facescan eval`` treat both alike.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from ..errors import ConfigError
from ..labels import AGE5, AGE9, age9_to_age5
from ..types import Prediction
from .parse import normalise, parse_choice
from .prompts import LABEL_SETS, PromptSet

log = logging.getLogger(__name__)

MODES = ("generate", "closed")
UNPARSED = "unparsed"


@dataclass(frozen=True)
class Answer:
    """One model answer: its raw text, and for closed-set scoring every label's log-likelihood."""

    text: str
    logliks: dict[str, float] | None = None


class Engine(Protocol):
    """One model that answers a question about each of several face crops (RGB uint8)."""

    name: str

    def answer(self, crops: list[np.ndarray], question: str, attribute: str,
               labels: tuple[str, ...], closed: bool) -> list[Answer]: ...


@dataclass
class Usage:
    """Requests and tokens of one run; ``cost_usd`` is None where the price is unknown."""

    requests: int = 0
    cached: int = 0
    retries: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float | None = 0.0

    def add(self, other: Usage) -> None:
        self.requests += other.requests
        self.cached += other.cached
        self.retries += other.retries
        self.prompt_tokens += other.prompt_tokens
        self.completion_tokens += other.completion_tokens
        self.cost_usd = None if self.cost_usd is None or other.cost_usd is None \
            else self.cost_usd + other.cost_usd

    def to_dict(self) -> dict[str, Any]:
        return {"requests": self.requests, "cached": self.cached, "retries": self.retries,
                "prompt_tokens": self.prompt_tokens, "completion_tokens": self.completion_tokens,
                "cost_usd": None if self.cost_usd is None else round(self.cost_usd, 6)}


def _age_fields(label: str, labels: tuple[str, ...]) -> str:
    return label if labels == AGE5 else age9_to_age5(label)


def to_prediction(attribute: str, answer: Answer, labels: tuple[str, ...], closed: bool,
                  version: str) -> Prediction:
    """One answer -> one Prediction over ``labels`` (or an unparsed one, raw text kept)."""
    if answer.logliks is not None:  # closed-set scoring: a distribution over the whole set
        z = np.array([answer.logliks[x] for x in labels], dtype=np.float64)
        p = np.exp(z - z.max())
        p /= p.sum()
        probs = dict(zip(labels, map(float, p)))
        top = labels[int(p.argmax())]
        group5 = None
        if attribute == "age":
            by5: dict[str, float] = {}
            for x, v in probs.items():
                by5[_age_fields(x, labels)] = by5.get(_age_fields(x, labels), 0.0) + v
            group5 = max(by5, key=by5.__getitem__)
        return Prediction(top, probs[top], probs, group5=group5, raw=answer.text,
                          prompt_version=version)
    if closed:
        label = parse_choice(answer.text, labels)
        years = None
        group5 = _age_fields(label, labels) if attribute == "age" and label else None
    else:
        parsed = normalise(attribute, answer.text, labels)
        label, years, group5 = parsed.label, parsed.years, parsed.group5
    if label is None:
        return Prediction(UNPARSED, 0.0, {}, years=years, group5=group5, raw=answer.text,
                          unparsed=True, prompt_version=version)
    return Prediction(label, 1.0, {}, years=years, group5=group5, raw=answer.text,
                      prompt_version=version)


@dataclass
class VLMBackend:
    """Fills attributes of face crops with vision-language engines (one per attribute, or one
    shared). ``label_sets`` names each attribute's label set (see ``prompts.LABEL_SETS``)."""

    engines: Mapping[str, Engine]
    label_sets: Mapping[str, str]
    prompts: PromptSet = field(default_factory=PromptSet)
    mode: str = "generate"
    crop: str = "square:1.5"
    input_size: int = 448

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ConfigError(f"answer mode {self.mode!r}: choose {' or '.join(MODES)}")
        for attr in self.engines:
            labels = LABEL_SETS[self.label_sets[attr]]
            if attr == "age" and labels not in (AGE5, AGE9):
                raise ConfigError(f"age needs the age5 or age9 label set, not {self.label_sets[attr]}")

    @property
    def provides(self) -> tuple[str, ...]:
        return tuple(self.engines)

    def predict(self, crops: np.ndarray, attributes: tuple[str, ...]) -> list[dict[str, Prediction]]:
        results: list[dict[str, Prediction]] = [{} for _ in range(len(crops))]
        if not len(crops):
            return results
        closed = self.mode == "closed"
        for attr in attributes:
            if attr not in self.engines:
                continue
            labels = LABEL_SETS[self.label_sets[attr]]
            question = self.prompts.question(attr, labels)
            answers = self.engines[attr].answer(list(crops), question, attr, labels, closed)
            for result, answer in zip(results, answers):
                result[attr] = to_prediction(attr, answer, labels, closed, self.prompts.version)
        return results

    def usage(self) -> dict[str, Any]:
        """Token and cost accounting of the API engines (empty for local models)."""
        total, seen = Usage(), False
        for engine in {id(e): e for e in self.engines.values()}.values():
            u = getattr(engine, "usage", None)
            if isinstance(u, Usage):
                total.add(u)
                seen = True
        return total.to_dict() if seen else {}

