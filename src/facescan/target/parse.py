"""Plain English description of one person -> constraints. Pure functions, no models.

``parse_description("the elderly woman in the red top")`` gives three constraints (age 60+,
gender female, clothing colour red). Word order, articles, punctuation and case do not matter;
words the parser does not know are returned in ``not_understood``, words it knows but facescan
cannot measure (``tall``, ``tie``, ``tattoo``) in ``unsupported``, and constraints that
cannot all hold (``"the man ... woman"``, ``"a child in his fifties"``) in ``contradictions``.

Age words map onto the model's groups: ``baby`` 0-2, ``child``/``kid`` 0-9, ``teenager`` 10-19
(the paper's 10-19 group), ``young adult`` 20-39, ``middle-aged`` 40-59, ``elderly``/``old``
60+; ``boy``/``girl`` are also 0-19; decades (``in her thirties``, ``30s``, ``early 40s``),
numbers (``about 40`` = 35-45, ``40 years old`` = 38-42, ``over 60``, ``between 20 and 30``).
Looks (``glasses``/``sunglasses``, ``hat``/``cap``, ``beard``, ``moustache``, ``bald``,
``bangs``) become ``appearance`` constraints, checked by models with the appearance attribute.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from .. import vocabulary
from ..labels import FAIRFACE7_TO_UTK5, fairface7_races
from .colors import CLOTHING_WORDS, COLOUR_WORDS, HAIR_COLOUR_WORDS, HAIR_ONLY, HAIR_WORDS, accepted

MAX_AGE = vocabulary.MAX_AGE


@dataclass(frozen=True)
class Constraint:
    """One condition on the person. ``value`` is canonical (``female``, ``30-39``, ``asian``,
    ``navy``, ``left``, ``left:2`` for second from the left, ``front``); ``labels`` are the
    model labels it accepts (race: UTKFace 5; age: ``low``/``high`` years instead)."""

    kind: str
    value: str
    words: str
    labels: tuple[str, ...] = ()
    low: float | None = None
    high: float | None = None
    negated: bool = False

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "value": self.value, "words": self.words}
        if self.negated:
            out["negated"] = True
        return out


@dataclass(frozen=True)
class Query:
    text: str
    constraints: tuple[Constraint, ...] = ()
    not_understood: tuple[str, ...] = ()
    unsupported: tuple[str, ...] = ()
    contradictions: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "constraints": [c.to_dict() for c in self.constraints],
                "not_understood": list(self.not_understood), "unsupported": list(self.unsupported),
                "contradictions": list(self.contradictions)}


def _words(spec: str) -> dict[str, str]:
    """'a b|c' -> {'a b': key, 'c': key} helper input: 'key: phrase, phrase; key: ...'."""
    out = {}
    for part in spec.split(";"):
        key, _, phrases = part.partition(":")
        for phrase in phrases.split(","):
            if phrase.strip():
                out[phrase.strip()] = key.strip()
    return out


GENDER_WORDS = vocabulary.by_phrase(vocabulary.GENDER)
# words that also say something about age (years, inclusive)
AGE_WORDS: dict[str, tuple[int, int]] = {
    "baby": (0, 2), "infant": (0, 2), "newborn": (0, 1), "toddler": (1, 3),
    "child": (0, 9), "kid": (0, 9), "little": (0, 9), "boy": (0, 19), "girl": (0, 19),
    "teenager": (10, 19), "teen": (10, 19), "teenage": (10, 19), "adolescent": (10, 19),
    "teens": (10, 19), "youngster": (5, 19), "young adult": (20, 39), "young": (0, 39),
    "adult": (18, MAX_AGE), "middle aged": (40, 59), "middle age": (40, 59), "mature": (40, MAX_AGE),
    "older": (50, MAX_AGE), "old": (60, MAX_AGE), "elderly": (60, MAX_AGE), "senior": (60, MAX_AGE),
    "aged person": (60, MAX_AGE), "pensioner": (60, MAX_AGE), "grandfather": (50, MAX_AGE),
    "grandpa": (50, MAX_AGE), "grandmother": (50, MAX_AGE), "grandma": (50, MAX_AGE),
    "granny": (50, MAX_AGE),
}
DECADES = vocabulary.DECADES


def _race_labels(concept: str) -> tuple[str, ...]:
    """The model labels a race concept accepts, in UTKFace's 5 and FairFace's 7, so it scores
    with a model of either set (a bare "asian" is East or Southeast Asian)."""
    return tuple(dict.fromkeys([FAIRFACE7_TO_UTK5.get(concept, concept), *fairface7_races(concept)]))


# race phrase -> (FairFace-style value, the labels it accepts); "other" is not a race here
RACE_WORDS: dict[str, tuple[str, tuple[str, ...]]] = {
    phrase: (concept, _race_labels(concept))
    for phrase, concept in vocabulary.by_phrase(vocabulary.RACE, skip=("others",)).items()}
EMOTION_WORDS = vocabulary.by_phrase(vocabulary.EMOTION)
APPEARANCE_WORDS = vocabulary.by_phrase(vocabulary.APPEARANCE)
UNSUPPORTED = {"smirking", "smirk", "tall", "short", "fat", "thin", "slim", "sitting", "standing",
               "holding", "tie", "scarf", "headscarf", "hijab", "earrings", "necklace", "makeup", "tattoo",
               "pants", "trousers", "jeans", "skirt", "shoes"}
PERSON_NOUNS = {"person", "people", "one", "someone", "somebody", "individual", "human", "figure",
                "face", "man", "men", "woman", "women", "guy", "lady", "girl", "boy", "child", "kid",
                "baby", "teenager", "teen", "adult", "gentleman", "senior", "toddler", "infant"}
FILLER = set("""the a an this that these those who whom which whose is are was be being been
    with wearing wears wear dressed in on at of and to by as one person people someone somebody
    individual human figure face picture photo image photograph looking looks look seems seem
    appears appear very quite really rather kind sort pretty bit somewhat please find show me
    select pick identify i want mean their them they it its there here has have having got
    clothes clothing colour color coloured colored shade tone group standing sits sitting stands
    side position place end row part seen visible for like t does""".split())  # noqa: SIM905
ORDINALS = {"first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4, "4th": 4,
            "fifth": 5, "5th": 5, "sixth": 6, "6th": 6, "seventh": 7, "7th": 7, "eighth": 8, "8th": 8}
SIDES = _words("left: left, leftmost, far left, left hand; right: right, rightmost, far right, "
               "right hand; middle: middle, centre, center, central, centermost, centremost")
DEPTHS = _words("front: front, foreground, closest, nearest, closer; "
                "back: back, background, behind, farthest, furthest, rear, further")
NEGATIONS = {"not", "no", "non", "without", "isnt", "isn", "doesn", "never"}
_SKIPPABLE = {"a", "an", "the", "very", "in", "wearing", "dressed", "t", "is", "look", "looking"}
# gender words that also imply an age: dropped when the description gives an age of its own
IMPLIED_AGE = {"boy", "girl", "grandfather", "grandpa", "grandmother", "grandma", "granny"}
APPROX = {"about", "around", "roughly", "approximately", "circa", "approx", "~", "maybe", "nearly"}
OVER = {"over", "above", "older than", "more than", "at least"}
UNDER = {"under", "below", "younger than", "less than", "at most"}
YEARS = {"year", "years", "yr", "yrs", "yo", "y/o", "old"}
_COLOUR_PHRASES = set(COLOUR_WORDS) | set(HAIR_COLOUR_WORDS)


def _normalise(text: str) -> list[str]:
    text = text.lower().replace("\u2019", "'").replace("\u2013", "-").replace("\u2014", " ")
    text = re.sub(r"\bt-?shirts?\b", "tshirt", text)
    text = re.sub(r"\b(\d+)\s*(?:-|to)\s*(\d+)\b", r"\1 until \2", text)
    text = re.sub(r"'s\b", "", text)
    text = re.sub(r"(\d+)\s*\+", r"\1 plus", text)
    text = re.sub(r"\b(\d+)'?s\b", r"\1s", text)  # 30's -> 30s
    text = re.sub(r"[^a-z0-9~/ ]+", " ", text.replace("-", " ").replace("_", " "))
    return text.split()


@dataclass
class _Parse:
    tokens: list[str]
    used: list[bool] = field(default_factory=list)
    found: list[tuple[int, Constraint]] = field(default_factory=list)
    unsupported: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.used = [False] * len(self.tokens)

    def phrase_at(self, i: int, table: dict | set, longest: int = 3) -> str | None:
        for n in range(longest, 0, -1):
            if i + n <= len(self.tokens) and not any(self.used[i:i + n]):
                phrase = " ".join(self.tokens[i:i + n])
                if phrase in table:
                    return phrase
        return None

    def take(self, i: int, n: int) -> str:
        for k in range(i, i + n):
            self.used[k] = True
        return " ".join(self.tokens[i:i + n])

    def negated(self, i: int) -> bool:
        """A negation right before position i (articles and 'in'/'wearing' may stand between)."""
        for k in range(i - 1, max(-1, i - 4), -1):
            if self.tokens[k] in NEGATIONS:
                return True
            if self.tokens[k] not in _SKIPPABLE:
                return False
        return False

    def add(self, i: int, c: Constraint) -> None:
        if self.negated(i):
            c = Constraint(c.kind, c.value, c.words, c.labels, c.low, c.high, True)
        self.found.append((i, c))


def _age(words: str, low: float, high: float) -> Constraint:
    value = f"{low:g}+" if high >= MAX_AGE else f"{low:g}-{high:g}"
    return Constraint("age", value, words, low=float(low), high=float(high))


def _numbers(p: _Parse) -> None:
    """Ages written with numbers or decades, before single words are looked up."""
    t = p.tokens
    for i, tok in enumerate(t):
        if p.used[i]:
            continue
        prev = " ".join(t[max(0, i - 2):i])
        prev1 = t[i - 1] if i else ""
        nxt = t[i + 1] if i + 1 < len(t) else ""
        m = re.fullmatch(r"(\d{1,3})(s?)", tok)
        decade = DECADES.get(tok)
        if decade is not None or (m and m.group(2) and int(m.group(1)) % 10 == 0):
            start = decade if decade is not None else int(m.group(1))  # type: ignore[union-attr]
            lo, hi, k = start, start + 9, i
            if prev1 in ("early", "mid", "late"):
                lo, hi = {"early": (start, start + 3), "mid": (start + 3, start + 6),
                          "late": (start + 6, start + 9)}[prev1]
                k = i - 1
            p.add(k, _age(p.take(k, i - k + 1), lo, hi))
            continue
        if not m or m.group(2):
            continue
        n = int(m.group(1))
        if n > MAX_AGE:
            continue
        start = i
        if nxt == "until" and i + 2 < len(t) and t[i + 2].isdigit():
            lo, hi, end = n, int(t[i + 2]), i + 3
            if prev1 == "between":
                start = i - 1
        elif nxt == "and" and prev1 == "between" and i + 2 < len(t) and t[i + 2].isdigit():
            lo, hi, end, start = n, int(t[i + 2]), i + 3, i - 1
        elif nxt == "plus":
            lo, hi, end = n, MAX_AGE, i + 2
        elif (i >= 2 and prev in OVER) or prev1 in OVER:
            start = i - (2 if i >= 2 and prev in OVER else 1)
            lo, hi, end = n + 1, MAX_AGE, i + 1
        elif (i >= 2 and prev in UNDER) or prev1 in UNDER:
            start = i - (2 if i >= 2 and prev in UNDER else 1)
            lo, hi, end = 0, max(0, n - 1), i + 1
        elif prev1 in APPROX:
            lo, hi, end, start = max(0, n - 5), n + 5, i + 1, i - 1
        else:
            lo, hi, end = max(0, n - 2), n + 2, i + 1
            if prev1 in ("aged", "age", "agd"):
                start = i - 1
        while end < len(t) and t[end] in YEARS:
            end += 1
        words = p.take(start, end - start).replace(" until ", "-").replace(" plus", "+")
        p.add(start, _age(words, min(lo, hi), max(lo, hi)))


def _positions(p: _Parse) -> None:
    t = p.tokens
    for i, tok in enumerate(t):
        if p.used[i] or tok not in ORDINALS:
            continue
        j = i + 1
        if j < len(t) and t[j] in PERSON_NOUNS:
            j += 1
        if j < len(t) and t[j] == "from":
            j += 1
        while j < len(t) and t[j] in ("the", "a"):
            j += 1
        side = SIDES.get(t[j]) if j < len(t) else None
        if side in ("left", "right"):
            words = p.take(i, j - i + 1)
            p.add(i, Constraint("position", f"{side}:{ORDINALS[tok]}", words))


def _colour_target(p: _Parse, i: int, n: int) -> str:
    """'hair' or 'clothing' for a colour word at tokens[i:i+n], from the nouns around it."""
    t = p.tokens
    after = [w for w in t[i + n:i + n + 3] if w not in ("and", "or", "colored", "coloured")]
    for w in after[:2]:
        if w in HAIR_WORDS:
            return "hair"
        if w in CLOTHING_WORDS or w in PERSON_NOUNS:
            return "clothing"
    before = t[max(0, i - 2):i]
    if any(w in HAIR_WORDS for w in before):
        return "hair"
    return "clothing"


def parse_description(text: str) -> Query:
    """Parse ``text`` into a :class:`Query` (never raises for any string)."""
    p = _Parse(_normalise(text or ""))
    t = p.tokens
    _numbers(p)
    _positions(p)
    i = 0
    while i < len(t):
        if p.used[i]:
            i += 1
            continue
        nxt = t[i + 1] if i + 1 < len(t) else ""
        race = p.phrase_at(i, RACE_WORDS)
        colour = p.phrase_at(i, _COLOUR_PHRASES)
        if race and colour == race:  # white / black: race before a person noun, else colour
            colour = None if nxt in PERSON_NOUNS or nxt in GENDER_WORDS else colour
            race = None if colour else race
        if colour:
            n = len(colour.split())
            words = p.take(i, n)
            kind = "hair" if words in HAIR_ONLY else _colour_target(p, i, n)
            name = (HAIR_COLOUR_WORDS if kind == "hair" else COLOUR_WORDS).get(words)
            if name is None:  # e.g. 'navy hair': colour no hair has
                p.unsupported.append(words + (" hair" if kind == "hair" else ""))
            else:
                p.add(i, Constraint(f"{kind}_color", name, words))
            i += n
            continue
        if race:
            value, labels = RACE_WORDS[race]
            p.add(i, Constraint("race", value, p.take(i, len(race.split())), labels))
            i += len(race.split())
            continue
        phrase = p.phrase_at(i, AGE_WORDS)
        if phrase:
            lo, hi = AGE_WORDS[phrase]
            if phrase in GENDER_WORDS:
                p.add(i, Constraint("gender", GENDER_WORDS[phrase], phrase))
            p.add(i, _age(p.take(i, len(phrase.split())), lo, hi))
            i += len(phrase.split())
            continue
        for table, kind in ((GENDER_WORDS, "gender"), (EMOTION_WORDS, "emotion"), (SIDES, "position"),
                            (DEPTHS, "depth"), (APPEARANCE_WORDS, "appearance")):
            phrase = p.phrase_at(i, table)
            if phrase:
                value = table[phrase]
                if kind == "position" and value != "middle":
                    value += ":1"
                p.add(i, Constraint(kind, value, p.take(i, len(phrase.split()))))
                i += len(phrase.split())
                break
        else:
            phrase = p.phrase_at(i, UNSUPPORTED, 1)
            if phrase:
                p.unsupported.append(p.take(i, 1))
            i += 1
    unknown = [w for w, u in zip(t, p.used) if not u and w not in FILLER and w not in NEGATIONS
               and w not in CLOTHING_WORDS and w not in HAIR_WORDS and w not in PERSON_NOUNS
               and w not in ("from", "until", "plus", "early", "mid", "late", "between", "aged", "age")
               and w not in YEARS and w not in APPROX]
    found = [c for _, c in sorted(p.found, key=lambda x: x[0])]
    if any(c.kind == "age" and c.words not in IMPLIED_AGE for c in found):
        found = [c for c in found if not (c.kind == "age" and c.words in IMPLIED_AGE)]
    # pronouns repeat the gender (``the woman ... her``): keep one constraint per (kind, value)
    seen: set[tuple[str, str, bool]] = set()
    constraints = []
    for c in found:
        key = (c.kind, c.value, c.negated)
        if key not in seen:
            seen.add(key)
            constraints.append(c)
    return Query(text, tuple(constraints), tuple(dict.fromkeys(unknown)), tuple(p.unsupported),
                 tuple(find_contradictions(constraints)))


def find_contradictions(constraints: list[Constraint]) -> list[str]:
    """Human-readable reasons why ``constraints`` cannot all hold for one person."""
    out = []
    pos = [c for c in constraints if not c.negated]
    for kind in ("gender", "emotion", "position", "depth"):  # one value each (appearance: any number)
        values = [c for c in pos if c.kind == kind]
        if len({c.value for c in values}) > 1:
            out.append(f"{kind}: " + " vs ".join(f"{c.value} ({c.words!r})" for c in values))
    for kind in ("race", "hair_color"):
        values = [c for c in pos if c.kind == kind]
        sets = [set(c.labels) if kind == "race" else set(accepted(c.value, hair=True)) for c in values]
        if values and set.intersection(*sets) == set():
            out.append(f"{kind}: " + " vs ".join(f"{c.value} ({c.words!r})" for c in values))
    ages = [c for c in pos if c.kind == "age"]
    if ages and max(c.low or 0.0 for c in ages) > min(c.high or 0.0 for c in ages):
        out.append("age: " + " vs ".join(f"{c.value} ({c.words!r})" for c in ages))
    for c in constraints:
        if c.negated and any(d.kind == c.kind and d.value == c.value for d in pos):
            out.append(f"{c.kind}: {c.value} and not {c.value}")
    return out
