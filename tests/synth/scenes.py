"""Synthetic group photos for testing and benchmarking ``facescan target``.

Real labelled face chips (UTKFace) are pasted side by side on a smooth, noisy background, each
above a "shirt": a filled torso shape in a named colour, shaded top to bottom and across, with
folds and pixel noise. Descriptions are generated from the TRUE labels with 1-3 attributes
(gender, age group, race, shirt colour, position) and kept only when, read by the same parser
the local backend uses, exactly the target fits them. Everything is seeded: the same seed gives
the same scenes, pixel for pixel.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np

from facescan.labels import age_group5
from facescan.target.colors import PALETTE, accepted
from facescan.target.parse import Constraint, parse_description
from facescan.target.score import POSITIONAL, layout, position_score
from facescan.types import Face

# the generator's own shirt colours (CSS-like values, not the measurement palette's)
SHIRT_COLOURS: dict[str, tuple[int, int, int]] = {
    "red": (220, 25, 30), "blue": (30, 70, 215), "green": (35, 140, 50), "yellow": (250, 215, 10),
    "orange": (250, 140, 0), "purple": (125, 10, 130), "pink": (250, 165, 195), "black": (18, 18, 18),
    "white": (245, 245, 245), "grey": (125, 125, 125), "brown": (120, 70, 35), "navy": (10, 15, 115),
    "maroon": (125, 5, 10), "beige": (220, 200, 160), "teal": (0, 125, 125),
}
RACE_WORD = {"white": "white", "black": "black", "asian": "Asian", "indian": "Indian"}
AGE_WORD = {"0-9": ("little", "child"), "10-19": ("teenage", "teenager"), "20-39": ("young", "young adult"),
            "40-59": ("middle-aged", "middle-aged person"), "60+": ("elderly", "elderly person")}
KINDS = ("gender", "age", "race", "colour", "position")
WIDTH, HEIGHT = 1280, 720


@dataclass(frozen=True)
class Person:
    id: str
    age: int
    gender: str
    race: str
    shirt: str
    box: tuple[int, int, int, int]  # where the chip was pasted (x1, y1, x2, y2)


@dataclass(frozen=True)
class Scene:
    image: np.ndarray
    people: tuple[Person, ...]  # left to right


def _background(rng: np.random.Generator) -> np.ndarray:
    grey = rng.uniform(90, 170)
    a, b = grey + rng.uniform(-20, 20, 3), grey + rng.uniform(-20, 20, 3)
    t = np.linspace(0, 1, WIDTH)[None, :, None]
    img = a * (1 - t) + b * t + rng.normal(0, 6, (HEIGHT, WIDTH, 3))
    return img


def _shirt(img: np.ndarray, cx: float, top: float, size: int, rgb: tuple[int, int, int],
           rng: np.random.Generator) -> None:
    import cv2

    bottom = min(HEIGHT, int(top + 1.5 * size))
    half_top, half_bottom = 0.6 * size, 0.78 * size
    poly = np.array([[cx - half_top, top + 0.25 * size], [cx - 0.3 * size, top], [cx + 0.3 * size, top],
                     [cx + half_top, top + 0.25 * size], [cx + half_bottom, bottom],
                     [cx - half_bottom, bottom]], np.int32)
    mask = np.zeros((HEIGHT, WIDTH), np.uint8)
    cv2.fillPoly(mask, [poly], 1)
    ys, xs = np.nonzero(mask)
    vertical = 1.05 - 0.25 * (ys - top) / max(1.0, bottom - top)
    across = 1.0 - 0.15 * ((xs - cx) / half_bottom) ** 2
    folds = 1.0 - 0.12 * (np.sin((xs - cx) / size * rng.uniform(6, 12) + rng.uniform(0, 6)) > 0.8)
    colour = np.asarray(rgb, float) + rng.uniform(-12, 12, 3)
    shade = (vertical * across * folds)[:, None]
    img[ys, xs] = colour[None, :] * shade + rng.normal(0, 7, (len(ys), 3))


def compose_scene(samples: list, n: int, seed: int) -> Scene:
    """A WIDTHxHEIGHT scene of ``n`` people drawn from UTKFace ``samples`` (Sample objects)."""
    from facescan.io import load_image

    rng = np.random.default_rng(seed)
    pick = random.Random(seed)
    chosen = pick.sample(samples, n)
    colours = _shirt_colours(pick, n)
    img = _background(rng)
    slot = WIDTH / n
    people = []
    for k, (sample, colour) in enumerate(zip(chosen, colours)):
        size = int(min(150, slot * 0.6) * rng.uniform(0.85, 1.12))
        cx = slot * (k + 0.5) + rng.uniform(-0.06, 0.06) * slot
        y = int(rng.uniform(30, HEIGHT - 2.45 * size - 5))
        x = int(cx - size / 2)
        _shirt(img, cx, y + 0.92 * size, size, SHIRT_COLOURS[colour], rng)
        import cv2

        chip = cv2.resize(load_image(sample.path), (size, size), interpolation=cv2.INTER_AREA)
        img[y:y + size, x:x + size] = chip
        labels = sample.labels
        people.append(Person(sample.id, int(labels["age"]), str(labels["gender"]), str(labels["race"]),
                             colour, (x, y, x + size, y + size)))
    return Scene(np.clip(img, 0, 255).astype(np.uint8), tuple(people))


def _shirt_colours(pick: random.Random, n: int) -> list[str]:
    """Colours for n shirts; repeats allowed (so colour is not always unique), but never two
    shades of one family (navy and blue) in one scene."""
    out: list[str] = []
    for _ in range(n):
        used = {PALETTE[c][0]: c for c in out}
        options = [c for c in SHIRT_COLOURS if used.get(PALETTE[c][0], c) == c]
        if out and pick.random() < 0.25:
            options = out
        out.append(pick.choice(options))
    return out


def holds(c: Constraint, p: Person) -> bool:
    """Whether a non-positional constraint holds for a person's TRUE labels."""
    if c.kind == "gender":
        ok = p.gender == c.value
    elif c.kind == "age":
        ok = (c.low or 0) <= p.age <= (c.high if c.high is not None else 200)
    elif c.kind == "race":
        ok = p.race in c.labels
    elif c.kind == "clothing_color":
        ok = accepted(c.value).get(p.shirt, 0.0) >= 1.0
    else:
        raise ValueError(f"no truth for {c.kind}")
    return ok != c.negated


def true_matches(text: str, people: tuple[Person, ...]) -> list[int]:
    """Indices of the people who fit ``text`` by their true labels (parser semantics)."""
    query = parse_description(text)
    cx, size = layout([Face(tuple(float(v) for v in p.box), 1.0) for p in people])  # type: ignore[arg-type]
    base = [float(all(holds(c, p) for c in query.constraints if c.kind not in POSITIONAL)) for p in people]
    fit = []
    for i in range(len(people)):
        ok = base[i] == 1.0 and all(position_score(c, i, cx, size, base) > 0.97
                                    for c in query.constraints if c.kind in POSITIONAL)
        if ok:
            fit.append(i)
    return fit


def describe(p: Person, kinds: tuple[str, ...], rng: random.Random) -> str:
    """A description of person ``p`` naming the attributes ``kinds``."""
    group = age_group5(p.age)
    adult = p.age >= 20
    noun = ("man" if adult else "boy") if p.gender == "male" else ("woman" if adult else "girl")
    words = []
    if "age" in kinds:
        adjective, alone = AGE_WORD[group]
        if "gender" in kinds:
            words += [adjective, noun]
        else:
            words += alone.split()
    elif "gender" in kinds:
        words.append(noun)
    if "race" in kinds:
        words.insert(1 if "age" in kinds and "gender" in kinds else 0, RACE_WORD[p.race])
    if not any(k in kinds for k in ("age", "gender")):
        words.append("person")
    phrases = []
    if "colour" in kinds:
        phrases.append(rng.choice(["in the {} shirt", "wearing a {} top", "in {}", "in a {} t-shirt"])
                       .format(p.shirt))
    if "position" in kinds:
        phrases.append(rng.choice(["on the left", "on the right", "second from the left",
                                   "in the middle"]))
    rng.shuffle(phrases)
    return " ".join([rng.choice(["the", "The", ""])] + words + phrases).strip()


def make_description(scene: Scene, k: int, rng: random.Random, tries: int = 60
                     ) -> tuple[int, str, tuple[str, ...]] | None:
    """(target index, text, kinds) naming ``k`` attributes that only the target has, or None."""
    n = len(scene.people)
    for _ in range(tries):
        target = rng.randrange(n)
        p = scene.people[target]
        allowed = [kk for kk in KINDS if not (kk == "race" and p.race not in RACE_WORD)]
        if len(allowed) < k:
            continue
        kinds = tuple(rng.sample(allowed, k))
        text = describe(p, kinds, rng)
        if true_matches(text, scene.people) == [target]:
            return target, text, kinds
    return None
