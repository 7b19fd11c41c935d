"""Named colours of clothing and hair, measured in CIE Lab from regions around a face.

Each sampled pixel is assigned to the nearest entry of a palette of named shades (several per
colour family: ``navy`` and ``light blue`` are blues); a region's colours are the shares of
its pixels per shade and per family. Lightness counts half in the distance, so a shaded fold
of a red shirt stays red rather than becoming maroon or black.

Regions, relative to the face box (width ``w``, height ``h``, clipped to the image):
upper clothing from ``0.25 h`` to ``1.25 h`` below the face and ``0.55 w`` either side of its
centre; hair a band from ``0.25 h`` above the box to ``0.1 h`` into it, over the middle 70% of
its width.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

# name: (family, RGB of a typical fabric of that name)
PALETTE: dict[str, tuple[str, tuple[int, int, int]]] = {
    "black": ("black", (25, 25, 28)), "charcoal": ("grey", (70, 70, 75)),
    "grey": ("grey", (128, 128, 128)), "silver": ("grey", (185, 185, 190)),
    "white": ("white", (242, 242, 242)),
    "red": ("red", (205, 30, 35)), "maroon": ("red", (115, 20, 30)), "burgundy": ("red", (90, 15, 40)),
    "pink": ("pink", (245, 155, 185)), "hot pink": ("pink", (250, 80, 160)),
    "magenta": ("pink", (200, 30, 150)),
    "orange": ("orange", (245, 130, 30)), "coral": ("orange", (250, 125, 95)),
    "yellow": ("yellow", (245, 220, 40)), "gold": ("yellow", (215, 170, 40)),
    "mustard": ("yellow", (200, 160, 20)),
    "green": ("green", (40, 150, 60)), "dark green": ("green", (20, 80, 35)),
    "lime": ("green", (150, 210, 60)), "olive": ("green", (110, 110, 40)),
    "teal": ("teal", (0, 128, 128)), "turquoise": ("teal", (60, 205, 200)),
    "blue": ("blue", (40, 90, 205)), "light blue": ("blue", (140, 185, 235)),
    "navy": ("blue", (25, 30, 100)),
    "purple": ("purple", (120, 45, 160)), "lavender": ("purple", (185, 155, 225)),
    "brown": ("brown", (115, 70, 40)), "dark brown": ("brown", (70, 45, 30)),
    "tan": ("brown", (195, 150, 100)),
    "beige": ("beige", (225, 205, 170)), "khaki": ("beige", (190, 175, 130)),
    "cream": ("beige", (245, 235, 205)),
}
FAMILIES = tuple(dict.fromkeys(f for f, _ in PALETTE.values()))
# shades one may also call by another family's or shade's name (a little credit)
ALSO_CALLED: dict[str, tuple[str, ...]] = {
    "charcoal": ("black",), "cream": ("white",), "silver": ("white",), "teal": ("blue", "green"),
    "turquoise": ("blue",), "tan": ("beige",), "magenta": ("purple",), "coral": ("pink", "red"),
    "navy": ("black",), "olive": ("khaki",), "lavender": ("pink",), "dark brown": ("black",),
    "mustard": ("brown",), "khaki": ("tan",)}
COLOUR_WORDS: dict[str, str] = {
    **{n: n for n in PALETTE}, **{f: f for f in FAMILIES},
    "gray": "grey", "dark grey": "charcoal", "dark gray": "charcoal", "light grey": "silver",
    "light gray": "silver", "navy blue": "navy", "dark blue": "navy", "sky blue": "light blue",
    "baby blue": "light blue", "pale blue": "light blue", "royal blue": "blue", "crimson": "red",
    "scarlet": "red", "dark red": "maroon", "wine": "burgundy", "violet": "purple",
    "lilac": "lavender", "fuchsia": "magenta", "cyan": "turquoise", "aqua": "turquoise",
    "ivory": "cream", "off white": "cream", "camel": "tan", "golden": "gold", "light green": "lime",
    "salmon": "coral", "peach": "coral", "dark": "dark", "light": "light", "pale": "light",
}
HAIR_PALETTE: dict[str, tuple[int, int, int]] = {
    "black": (30, 25, 25), "dark brown": (60, 42, 32), "brown": (110, 75, 45),
    "blonde": (200, 170, 110), "light blonde": (228, 208, 165), "red": (150, 65, 35),
    "ginger": (195, 95, 45), "grey": (140, 140, 140), "white": (225, 225, 225),
}
HAIR_COLOUR_WORDS: dict[str, str] = {
    "black": "black", "brown": "brown", "brunette": "brown", "dark brown": "brown", "blonde": "blonde",
    "blond": "blonde", "fair": "blonde", "golden": "blonde", "red": "red", "ginger": "red",
    "auburn": "red", "redhead": "red", "grey": "grey", "gray": "grey", "silver": "grey",
    "white": "white", "dark": "dark", "light": "light",
}
HAIR_ACCEPTS = {"black": {"black": 1.0, "dark brown": 0.5}, "brown": {"brown": 1.0, "dark brown": 1.0},
                "blonde": {"blonde": 1.0, "light blonde": 1.0}, "red": {"red": 1.0, "ginger": 1.0},
                "grey": {"grey": 1.0, "white": 0.5}, "white": {"white": 1.0, "grey": 0.5},
                "dark": {"black": 1.0, "dark brown": 1.0, "brown": 0.5},
                "light": {"blonde": 1.0, "light blonde": 1.0, "grey": 1.0, "white": 1.0}}
HAIR_ONLY = {"blonde", "blond", "brunette", "redhead", "ginger", "auburn"}
CLOTHING_WORDS = {"shirt", "tshirt", "tee", "top", "blouse", "sweater", "jumper", "hoodie", "jacket",
                  "coat", "dress", "suit", "vest", "cardigan", "polo", "outfit", "uniform", "tank",
                  "sweatshirt", "jersey", "pullover", "blazer", "clothes", "clothing", "shirts", "tops"}
HAIR_WORDS = {"hair", "haired", "hairs", "hairdo", "hairstyle", "head"}
LIGHTNESS_WEIGHT = 0.5
SHADE_WEIGHT = 0.35    # 'navy' asked, plain blue seen
RELATED_WEIGHT = 0.2   # 'blue' asked, teal seen
MAX_PIXELS = 1600  # pixels sampled per region


# canonical clothing colour of a phrase ('navy blue' -> 'navy'), or None (hair-only words too)
colour_word = COLOUR_WORDS.get


def accepted(name: str, hair: bool = False) -> dict[str, float]:
    """Palette entries that count as ``name``, with weights (1: it is; less: another shade of
    the same family, or a shade one could also call by this name)."""
    if hair:
        return HAIR_ACCEPTS.get(name, {})
    if name in ("dark", "light"):
        lab = _lab_table()[1]
        return {n: 1.0 for n, (lightness, _, _) in zip(PALETTE, lab)
                if (lightness < 40 if name == "dark" else lightness > 75)}
    out = {n: RELATED_WEIGHT for n, names in ALSO_CALLED.items() if name in names}
    if name in FAMILIES:
        out.update({n: 1.0 for n, (f, _) in PALETTE.items() if f == name})
        return out
    family = PALETTE[name][0]
    out.update({n: SHADE_WEIGHT for n, (f, _) in PALETTE.items() if f == family})
    out[name] = 1.0
    return out


def rgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    """(..., 3) uint8 RGB -> (..., 3) float32 CIE Lab (L 0-100), D65."""
    import cv2

    flat = np.asarray(rgb, np.float32).reshape(-1, 1, 3) / 255.0
    return cv2.cvtColor(flat, cv2.COLOR_RGB2Lab).reshape(np.shape(rgb))


@functools.lru_cache(maxsize=2)
def _lab_table(hair: bool = False) -> tuple[tuple[str, ...], np.ndarray]:
    """The palette's (hair: HAIR_PALETTE's) names and their Lab values."""
    names = tuple(HAIR_PALETTE if hair else PALETTE)
    rgb = np.array([HAIR_PALETTE[n] if hair else PALETTE[n][1] for n in names], np.uint8)
    return names, rgb_to_lab(rgb)


def clothing_region(bbox: tuple[float, float, float, float], width: int, height: int
                    ) -> tuple[int, int, int, int] | None:
    x1, y1, x2, y2 = bbox
    w, h, cx = x2 - x1, y2 - y1, (x1 + x2) / 2
    return _clip((cx - 0.55 * w, y2 + 0.25 * h, cx + 0.55 * w, y2 + 1.25 * h), width, height)


def hair_region(bbox: tuple[float, float, float, float], width: int, height: int
                ) -> tuple[int, int, int, int] | None:
    x1, y1, x2, y2 = bbox
    w, h = x2 - x1, y2 - y1
    return _clip((x1 + 0.15 * w, y1 - 0.25 * h, x2 - 0.15 * w, y1 + 0.1 * h), width, height)


def _clip(box: tuple[float, float, float, float], width: int, height: int
          ) -> tuple[int, int, int, int] | None:
    x1, y1 = max(0, round(box[0])), max(0, round(box[1]))
    x2, y2 = min(width, round(box[2])), min(height, round(box[3]))
    if x2 - x1 < 2 or y2 - y1 < 2:
        return None
    return x1, y1, x2, y2


def measure(image: np.ndarray, region: tuple[int, int, int, int] | None, hair: bool = False
            ) -> dict[str, float]:
    """Share of the region's pixels per palette name (hair: HAIR_PALETTE), largest first;
    empty when there is no region (a face at the image's edge)."""
    if region is None:
        return {}
    x1, y1, x2, y2 = region
    pixels = image[y1:y2, x1:x2].reshape(-1, 3)
    if len(pixels) > MAX_PIXELS:
        pixels = pixels[np.linspace(0, len(pixels) - 1, MAX_PIXELS).astype(int)]
    names, table = _lab_table(hair)
    lab = rgb_to_lab(pixels)
    diff = lab[:, None, :] - table[None, :, :]
    diff[..., 0] *= LIGHTNESS_WEIGHT
    nearest = np.argmin((diff ** 2).sum(-1), axis=1)
    counts = np.bincount(nearest, minlength=len(names)) / len(nearest)
    order = np.argsort(-counts)
    return {names[k]: float(counts[k]) for k in order if counts[k] > 0}


def share(shares: dict[str, float], name: str, hair: bool = False) -> float:
    """How much of a measured region is ``name`` (0-1), weighting shades by :func:`accepted`."""
    weights = accepted(name, hair)
    return float(min(1.0, sum(v * weights.get(n, 0.0) for n, v in shares.items())))


def dominant(shares: dict[str, float], hair: bool = False, min_share: float = 0.15,
             top: int = 3) -> list[dict[str, Any]]:
    """The main colours of a region: ``[{"name", "family", "share"}]`` over ``min_share``."""
    if hair:
        return [{"name": n, "share": round(v, 3)} for n, v in list(shares.items())[:top] if v >= min_share]
    families: dict[str, float] = {}
    for n, v in shares.items():
        families[PALETTE[n][0]] = families.get(PALETTE[n][0], 0.0) + v
    out = []
    for fam, v in sorted(families.items(), key=lambda kv: -kv[1])[:top]:
        if v >= min_share:
            shade = max((n for n in shares if PALETTE[n][0] == fam), key=lambda n: shares[n])
            out.append({"name": shade, "family": fam, "share": round(v, 3)})
    return out
