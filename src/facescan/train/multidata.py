"""The training data of the multi-task model: FairFace train and every labelled face in
``../shared/data``, cropped as the product crops faces at run time, with per-sample targets for
the heads it has labels for.

| source | train | val (never trained on) | supervises |
|---|---|---|---|
| FairFace train | the listed photos less `dev` (split `fit`) | split `dev`: a stratified 10% (race x gender x age) | gender, race (7), age (9 groups as year intervals) |
| UTKFace | fixed 80% split | fixed 10% split | gender, race (UTK-5 as sets of FairFace-7), age; as a chip and in context |
| CelebA | fixed 80% split | fixed 10% split | gender, appearance |
| All-Age-Faces | published train, less 10% | that 10% (by name hash) | gender, age |
| FER2013 + FER+ votes | train folders, less 10% | that 10% | emotion (the 8-class vote distribution) |

Test splits (UTKFace/CelebA ``test``, All-Age-Faces' published ``val``, FER2013 PublicTest),
LFW and FairFace's own validation photos are never read here.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..datasets import Sample, open_dataset, split_of
from ..labels import AGE9, AGE9_START, APPEARANCE, EMOTION8, GENDER, RACE_FAIRFACE7, fairface7_races
from .ages import AGE_BINS

log = logging.getLogger(__name__)

# FairFace's age groups as year intervals (first, last year; "70+" up to the last bin)
AGE9_YEARS = {g: (s, (AGE9_START[i + 1] - 1) if i + 1 < len(AGE9) else AGE_BINS - 1)
              for i, (g, s) in enumerate(zip(AGE9, AGE9_START))}


@dataclass
class Part:
    """One source's faces of one split: crops (one array per view) and targets; -1, NaN or
    all-zero rows mean "no label"."""

    name: str
    views: list[np.ndarray]
    gender: np.ndarray  # int64, index in GENDER or -1
    race: np.ndarray  # float32 (N, 7): 1 for each FairFace race the label allows, zeros if none
    age: np.ndarray  # float32 (N, 2): first and last year the label allows (equal for a known age), -1 if none
    emotion: np.ndarray  # float32 (N, 8) vote shares in EMOTION8 order, zeros if none
    appearance: np.ndarray  # float32 (N, len(APPEARANCE)) 0/1, NaN if none
    samples: list[Sample] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.gender)


def _sources(data: Path) -> dict[str, dict[str, list[Sample]]]:
    """source -> split ('train'/'val') -> samples, for the sets in ``data`` (shared/data)."""
    def halves(samples: list[Sample]) -> dict[str, list[Sample]]:
        return {"train": [s for s in samples if split_of(s.id) != "val"],
                "val": [s for s in samples if split_of(s.id) == "val"]}

    return {
        "utkface": {s: open_dataset(f"utkface:{data / 'utkface'}", s).samples for s in ("train", "val")},
        "celeba": {s: open_dataset(f"celeba:{data / 'celeba'}", s).samples for s in ("train", "val")},
        "aaf": halves(open_dataset(f"aaf:{data / 'aaf'}", "train").samples),
        "fer": halves(open_dataset(f"ferplus:{data / 'fer2013'}", "train").samples),
    }


def _targets(name: str, samples: list[Sample], views: list[np.ndarray]) -> Part:
    n = len(samples)
    gender = np.array([GENDER.index(s.labels["gender"]) if "gender" in s.labels else -1 for s in samples], np.int64)
    race = np.zeros((n, len(RACE_FAIRFACE7)), np.float32)
    age = np.full((n, 2), -1.0, np.float32)
    emotion = np.zeros((n, len(EMOTION8)), np.float32)
    appearance = np.full((n, len(APPEARANCE)), np.nan, np.float32)
    for i, s in enumerate(samples):
        labels = s.labels
        if "race" in labels:
            race[i, [RACE_FAIRFACE7.index(r) for r in fairface7_races(labels["race"])]] = 1
        if "age" in labels:
            age[i] = min(float(labels["age"]), AGE_BINS - 1)
        elif "age_group" in labels:
            age[i] = AGE9_YEARS[labels["age_group"]]
        if "votes" in labels:
            v = np.asarray(labels["votes"], np.float32)
            emotion[i] = v / max(v.sum(), 1.0)
        if "appearance" in labels:
            a = dict(labels["appearance"])
            a["beard"] = not a["no_beard"]
            appearance[i] = [float(a[k]) for k in APPEARANCE]
    return Part(name, views, gender, race, age, emotion, appearance, list(samples))


def load_parts(data: Path, work: Path, policy: str, size: int, context_seed: int,
               fairface: Path | None = None, limit: int | None = None) -> dict[str, dict[str, Part]]:
    """split -> source -> Part. ``fairface`` is the folder holding ``fairface_label_train.csv``
    and ``train/`` (default ``data/fairface``); ``limit`` keeps the first N samples of each
    (for smoke tests)."""
    from ..detect import YuNet
    from .features import build_crops

    detector = YuNet()
    cache = work / "cache"
    out: dict[str, dict[str, Part]] = {"train": {}, "val": {}}
    for split, part in (("train", "fit"), ("val", "dev")):
        samples = open_dataset(f"fairface:{fairface or data / 'fairface'}", part).samples[:limit]
        out[split]["fairface"] = _targets("fairface", samples, [build_crops(samples, detector, policy, size, cache)])
    for source, splits in _sources(data).items():
        for split, samples in splits.items():
            samples = samples[:limit] if limit else samples
            views = [build_crops(samples, detector, policy, size, cache)]
            if source == "utkface":  # UTKFace chips are tight: also pasted into a surrounding
                views.append(build_crops(samples, detector, policy, size, cache, context_seed=context_seed))
            out[split][source] = _targets(source, samples, views)
    for split, parts in out.items():
        log.info("%s: %s", split, {k: len(p) for k, p in parts.items()})
    return out
