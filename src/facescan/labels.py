"""Attribute names and label sets, in the order models emit them, and explicit mappings between them.

Every label is lower-case ASCII. Mappings that lose information go one way only: UTKFace's
``asian`` cannot be split into FairFace's ``east_asian`` / ``southeast_asian``, so no function
pretends to.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

# the attributes an Analyzer fills by default, and those asked for by name only
# (``--attributes ...,appearance``: eyeglasses, hat, hair, beard...)
ATTRIBUTES = ("gender", "age", "race", "emotion")
OPTIONAL_ATTRIBUTES = ("appearance",)
ALL_ATTRIBUTES = ATTRIBUTES + OPTIONAL_ATTRIBUTES

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

# appearance attributes (CelebA's, lower-case; "beard" is CelebA's No_Beard negated), each an
# independent yes/no probability
APPEARANCE = ("eyeglasses", "wearing_hat", "black_hair", "blond_hair", "brown_hair", "gray_hair",
              "bald", "bangs", "beard", "mustache", "smiling", "young")

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


def fairface7_races(label: str) -> tuple[str, ...]:
    """The FairFace races a race label covers: itself for one of FairFace's 7, and for one of
    UTKFace's 5 the races that map onto it (``asian``: East and Southeast Asian; ``others``:
    Latino/Hispanic and Middle Eastern)."""
    return tuple(r for r in RACE_FAIRFACE7 if label in (r, FAIRFACE7_TO_UTK5[r]))


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


# ---- tables for reading published data sets and comparing label sets (used by eval) ----

# the paper's "Asian merged" FairFace race (6) and the common 4-class race (White, Black,
# Asian, Indian): Latino/Hispanic, Middle Eastern and UTKFace's "others" have no 4-class label
RACE_FAIRFACE6 = ("white", "black", "latino_hispanic", "asian", "indian", "middle_eastern")
RACE4 = ("white", "black", "asian", "indian")
FAIRFACE7_TO_FAIRFACE6 = {"white": "white", "black": "black", "latino_hispanic": "latino_hispanic",
                          "east_asian": "asian", "southeast_asian": "asian", "indian": "indian",
                          "middle_eastern": "middle_eastern"}
UTK5_TO_RACE4: dict[str, str | None] = {"white": "white", "black": "black", "asian": "asian",
                                        "indian": "indian", "others": None}
FAIRFACE7_TO_RACE4 = {r: UTK5_TO_RACE4[FAIRFACE7_TO_UTK5[r]] for r in RACE_FAIRFACE7}

# how the published files spell labels -> facescan's labels
FAIRFACE_RACE_NAMES = {"White": "white", "Black": "black", "Latino_Hispanic": "latino_hispanic",
                       "East Asian": "east_asian", "Southeast Asian": "southeast_asian",
                       "Indian": "indian", "Middle Eastern": "middle_eastern"}
FAIRFACE_AGE_NAMES = {("more than 70" if g == "70+" else g): g for g in AGE9}
AGE9_TO_AGE5 = {g: age9_to_age5(g) for g in AGE9}

# AffectNet expression ids: 0-7 are EMOTION8; 8 none, 9 uncertain, 10 non-face (not emotions)
AFFECTNET_IDS = dict(enumerate(EMOTION8))
AFFECTNET_SKIPPED_IDS = {8: "none", 9: "uncertain", 10: "non-face"}
# AffectNet's folder names in the common folder-per-class releases
AFFECTNET_FOLDER_NAMES = {"neutral": "neutral", "happy": "happy", "happiness": "happy", "sad": "sad",
                          "sadness": "sad", "surprise": "surprise", "fear": "fear", "disgust": "disgust",
                          "anger": "angry", "angry": "angry", "contempt": "contempt"}
# CK+ Emotion/*_emotion.txt: 0 neutral (not used in the release's files), 1-7 the expressions
CKPLUS_IDS = dict(enumerate(("neutral", "angry", "contempt", "disgust", "fear", "happy", "sad", "surprise")))
# RAF-DB basic: labels 1-7
RAFDB7_TO_FER7 = {1: "surprise", 2: "fear", 3: "disgust", 4: "happy", 5: "sad", 6: "angry", 7: "neutral"}
# AffectNet 8 <-> FER 7: the same names; contempt has no FER2013 counterpart
AFFECTNET8_TO_FER7 = {e: e if e in EMOTION7 else None for e in EMOTION8}
FER7_TO_AFFECTNET8 = {e: e for e in EMOTION7}

# named label sets and the mappings between them (source, target) -> table; None = no label
LABEL_SETS: dict[str, tuple[str, ...]] = {
    "gender": GENDER, "utk5": RACE_UTK5, "fairface7": RACE_FAIRFACE7, "fairface6": RACE_FAIRFACE6,
    "race4": RACE4, "fer7": EMOTION7, "affectnet8": EMOTION8, "age9": AGE9, "age5": AGE5,
}
MAPPINGS: dict[tuple[str, str], dict[str, str | None]] = {
    ("fairface7", "utk5"): FAIRFACE7_TO_UTK5,
    ("fairface7", "fairface6"): FAIRFACE7_TO_FAIRFACE6,
    ("fairface7", "race4"): FAIRFACE7_TO_RACE4,
    ("utk5", "race4"): UTK5_TO_RACE4,
    ("age9", "age5"): AGE9_TO_AGE5,
    ("affectnet8", "fer7"): AFFECTNET8_TO_FER7,
}


def label_set_of(labels: Sequence[str]) -> str | None:
    """The name of the known label set holding exactly these labels (any order), or None."""
    wanted = set(labels)
    return next((name for name, s in LABEL_SETS.items() if set(s) == wanted), None)
