"""Pure normalisers: a model's free-text answer -> a label of a label set, or nothing.

Never guesses. An answer is mapped only when it names exactly one concept of the attribute
(synonyms, case, plurals, underscores and hyphens are accepted); an empty, garbled, truncated
or contradictory answer ("male or female", "20 or 30") gives ``label=None`` and the caller
records it as unparsed, with the raw text kept. Mappings go only where they lose nothing:
"east asian" is ``asian`` in UTKFace's set, but a bare "asian" cannot be split into FairFace's
east/southeast and stays unparsed there.

Ages: one number is an age in years; a range ("20-39", "from 20 to 39", "between 20 and 39",
"30s", "thirties") or a bound ("60+", "more than 60", "over 70", "under 10") is an interval;
the label is the group of the set that holds the whole interval ("more than N" is read as
"N or more", as in FaceScanPaliGemma's "More than 60").
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass

from .. import vocabulary
from ..labels import AGE5, AGE9, FAIRFACE7_TO_UTK5, age_group5, age_group9

# attribute -> (phrase, concept), longest phrases first (they win)
_PHRASES = {attribute: sorted(((p, c) for c, ps in table.items() for p in ps), key=lambda pc: -len(pc[0]))
            for attribute, table in (("gender", vocabulary.GENDER), ("race", vocabulary.RACE),
                                     ("emotion", vocabulary.EMOTION))}

_WORD_NUMBERS = {"teens": 10, **vocabulary.DECADES}
_AGE_WORDS = {"baby": (0, 2), "infant": (0, 2), "newborn": (0, 2), "toddler": (0, 2),
              "teenager": (13, 19), "teen": (13, 19), "adolescent": (13, 19),
              "elderly": (60, math.inf), "senior": (60, math.inf)}
MAX_AGE = vocabulary.MAX_AGE


@dataclass(frozen=True)
class Parsed:
    """What an answer says: a label of the asked set (None: unparsed); for age also the
    years (one number only) and the 5-group when the answer pins one down."""

    label: str | None
    years: float | None = None
    group5: str | None = None


def _clean(text: str, dash: str = " ") -> str:
    text = re.sub("[-\u2013\u2014]", dash, text.lower().replace("_", " "))
    return " " + " ".join(re.sub(r"[^a-z0-9+ ]+", " ", text).split()) + " "


def _concepts(text: str, phrases: list[tuple[str, str]]) -> set[str]:
    """Concepts named in ``text``; a matched phrase is blanked so 'east asian' is not also 'asian'."""
    s, found = _clean(text), set()
    for phrase, concept in phrases:
        token = f" {phrase} "
        while token in s:
            found.add(concept)
            s = s.replace(token, " | ", 1)
    return found


def _map_race(concept: str, labels: tuple[str, ...]) -> str | None:
    if concept in labels:
        return concept
    if "asian" in labels and "others" in labels:  # UTKFace's 5: many-to-one is allowed
        return FAIRFACE7_TO_UTK5.get(concept)
    return None  # e.g. a bare 'asian' asked in FairFace's 7: cannot be split, never guessed


def _group_of(lo: float, hi: float, group: Callable[[float], str]) -> str | None:
    """The group holding the whole interval [lo, hi] (whole years; hi may be inf), if one does."""
    first = group(lo)
    return first if first == group(min(hi, MAX_AGE)) else None


_RANGE = re.compile(r"(?:from |between )?(\d{1,3}) (?:to|and|through) (\d{1,3})")
_LOWER = re.compile(r"(?:more than|over|above|older than|at least) (\d{1,3})|(\d{1,3}) ?(?:\+|plus|"
                    r"and (?:above|over|older)|or (?:more|older|above))")
_UPPER = re.compile(r"(?:less than|under|below|younger than) (\d{1,3})")
_DECADE = re.compile(r"(\d)0 ?s ")


def parse_age_interval(text: str) -> tuple[float, float] | None:
    """The age interval an answer names, or None (nothing, or two that disagree)."""
    s = re.sub(r" ?\+", "+ ", _clean(text, dash=" to "))
    found: list[tuple[float, float]] = []
    for rx, make in ((_RANGE, lambda m: (int(m[1]), int(m[2]))),
                     (_LOWER, lambda m: (int(m[1] or m[2]), math.inf)),
                     (_UPPER, lambda m: (0, int(m[1]) - 1)),
                     (_DECADE, lambda m: (int(m[1]) * 10, int(m[1]) * 10 + 9))):
        for m in rx.finditer(s):
            found.append(make(m))
        s = rx.sub(" | ", s)
    for word, decade in _WORD_NUMBERS.items():
        if f" {word} " in s:
            found.append((decade, decade + 9) if word != "teens" else (13, 19))
            s = s.replace(f" {word} ", " | ")
    for word, span in _AGE_WORDS.items():
        for form in (word, word + "s"):
            if f" {form} " in s:
                found.append(span)
                s = s.replace(f" {form} ", " | ")
    found += [(int(n), int(n)) for n in re.findall(r"(?<![\d.])(\d{1,3})(?![\d.])", s)]
    spans = set(found)
    if len(spans) != 1:
        return None
    lo, hi = spans.pop()
    if lo > hi or lo > MAX_AGE or (hi != math.inf and hi > MAX_AGE):
        return None
    return float(lo), float(hi)


def parse_age(text: str, labels: tuple[str, ...]) -> Parsed:
    span = parse_age_interval(text)
    if span is None:
        return Parsed(None)
    lo, hi = span
    group5 = _group_of(lo, hi, age_group5)
    if labels == AGE5:
        label = group5
    elif labels == AGE9:
        label = _group_of(lo, hi, age_group9)
    else:
        raise ValueError(f"no age parser for the label set {labels}")
    return Parsed(label, years=lo if lo == hi else None, group5=group5)


def normalise(attribute: str, text: str | None, labels: tuple[str, ...]) -> Parsed:
    """Map a free-text answer about ``attribute`` onto ``labels`` (None label: unparsed)."""
    if not text or not text.strip():
        return Parsed(None)
    if attribute == "age":
        return parse_age(text, labels)
    if attribute not in _PHRASES:
        raise ValueError(f"unknown attribute {attribute!r}")
    concepts = _concepts(text, _PHRASES[attribute])
    if len(concepts) != 1:
        return Parsed(None)
    concept = concepts.pop()
    label = _map_race(concept, labels) if attribute == "race" else concept
    return Parsed(label if label in labels else None)


def parse_choice(text: str | None, labels: tuple[str, ...], key: str = "answer") -> str | None:
    """A closed-set (JSON-schema / enum) answer, validated: the label, or None.

    Accepts ``{"answer": "<label>"}`` or a bare label (Gemini's ``text/x.enum`` output, JSON
    string or not); anything else, including a label outside the set, is None.
    """
    if not text:
        return None
    value: object = text.strip()
    try:
        value = json.loads(text)
    except ValueError:
        pass
    if isinstance(value, dict):
        value = value.get(key)
    if isinstance(value, str):
        value = value.strip()
        return value if value in labels else None
    return None


_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,), "array": (list,), "string": (str,), "integer": (int,),
    "number": (int, float), "boolean": (bool,), "null": (type(None),)}


def schema_errors(value: object, schema: dict, where: str = "$") -> list[str]:
    """Where ``value`` breaks ``schema`` (the JSON-schema subset of structured outputs:
    type, enum, const, properties, required, additionalProperties, items, minimum, maximum,
    minItems, maxItems); an empty list means it conforms."""
    errors: list[str] = []
    kind = schema.get("type")
    kinds = kind if isinstance(kind, list) else [kind] if kind else []
    if kinds:
        ok = any(isinstance(value, _JSON_TYPES[k]) and not (k in ("integer", "number") and isinstance(value, bool))
                 for k in kinds if k in _JSON_TYPES)
        if not ok:
            return [f"{where}: expected {'/'.join(kinds)}, got {type(value).__name__}"]
    if "enum" in schema and value not in schema["enum"]:
        errors.append(f"{where}: {value!r} is not one of {schema['enum']}")
    if "const" in schema and value != schema["const"]:
        errors.append(f"{where}: expected {schema['const']!r}")
    if isinstance(value, dict):
        props = schema.get("properties", {})
        errors += [f"{where}: missing {k!r}" for k in schema.get("required", []) if k not in value]
        if schema.get("additionalProperties") is False:
            errors += [f"{where}: unexpected {k!r}" for k in value if k not in props]
        for k, sub in props.items():
            if k in value:
                errors += schema_errors(value[k], sub, f"{where}.{k}")
    if isinstance(value, list):
        if len(value) < schema.get("minItems", 0) or len(value) > schema.get("maxItems", len(value)):
            errors.append(f"{where}: {len(value)} items is out of range")
        if isinstance(schema.get("items"), dict):
            for i, item in enumerate(value):
                errors += schema_errors(item, schema["items"], f"{where}[{i}]")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            errors.append(f"{where}: {value} < {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            errors.append(f"{where}: {value} > {schema['maximum']}")
    return errors
