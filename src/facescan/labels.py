"""Label sets, in the order models emit them, and explicit mappings between them.

Every label is lower-case ASCII. Mappings that lose information go one way only: UTKFace's
``asian`` cannot be split into FairFace's ``east_asian`` / ``southeast_asian``, so no function
pretends to.
"""

from __future__ import annotations

import math

GENDER = ("male", "female")

# FairFace's 9 age groups and the paper's 5; (label, first year, last year)
AGE9 = ("0-2", "3-9", "10-19", "20-29", "30-39", "40-49", "50-59", "60-69", "70+")
AGE5 = ("0-9", "10-19", "20-39", "40-59", "60+")
AGE9_START = (0, 3, 10, 20, 30, 40, 50, 60, 70)
AGE5_START = (0, 10, 20, 40, 60)

RACE_UTK5 = ("white", "black", "asian", "indian", "others")
RACE_FAIRFACE7 = ("white", "black", "latino_hispanic", "east_asian", "southeast_asian",
                  "indian", "middle_eastern")

# FER2013's 7 emotions in the order of the FER2013 files and of models trained on them
EMOTION7 = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
# AffectNet's 8 in AffectNet's expression-id order (0..7)
EMOTION8 = ("neutral", "happy", "sad", "surprise", "fear", "disgust", "angry", "contempt")

# FairFace 7 -> UTKFace 5: many-to-one, documented in the README
FAIRFACE7_TO_UTK5 = {
    "white": "white",
    "black": "black",
    "latino_hispanic": "others",
    "east_asian": "asian",
    "southeast_asian": "asian",
    "indian": "indian",
    "middle_eastern": "others",
}


def _group(years: float, starts: tuple[int, ...], labels: tuple[str, ...]) -> str:
    """Fractional years are floored first (a 2.9-year-old is 2), as ages are counted."""
    if math.isnan(years) or years < 0:
        raise ValueError(f"age must be a non-negative number of years, got {years!r}")
    return labels[sum(1 for s in starts if int(years) >= s) - 1]


def age_group9(years: float) -> str:
    """FairFace group of an age in years; e.g. 2.9 -> '0-2', 3 -> '3-9', 75 -> '70+'."""
    return _group(years, AGE9_START, AGE9)


def age_group5(years: float) -> str:
    """The paper's 5 groups; e.g. 9.5 -> '0-9', 39.9 -> '20-39', 60 -> '60+'."""
    return _group(years, AGE5_START, AGE5)


def age9_to_age5(label: str) -> str:
    """Map a FairFace 9-group label onto the paper's 5 groups (each 9-group fits in one)."""
    start = AGE9_START[AGE9.index(label)]
    return age_group5(start)
