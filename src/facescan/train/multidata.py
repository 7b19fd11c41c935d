"""The training data of the multi-task model: every labelled face in ``../shared/data``, cropped
as the product crops faces at run time, with per-sample targets for the heads it has labels for.

| source | train | val (never trained on) | supervises |
|---|---|---|---|
| UTKFace | fixed 80% split | fixed 10% split | gender, race, age; as a chip and in context |
| CelebA | fixed 80% split | fixed 10% split | gender, appearance; race from the teacher |
| All-Age-Faces | published train, less 10% | that 10% (by name hash) | gender, age; race from the teacher |
| FER2013 + FER+ votes | train folders, less 10% | that 10% | emotion (the 8-class vote distribution) |

Test splits (UTKFace/CelebA ``test``, All-Age-Faces' published ``val``, FER2013 PublicTest) and
LFW are never read here. The teacher is the shipped stacked model (fine-tuned TinyXception +
SFace): its race probabilities on faces that have no race label carry SFace's race signal
into the new network (distillation).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..datasets import Sample, open_dataset, split_of
from ..labels import APPEARANCE, EMOTION8, GENDER, RACE_UTK5

log = logging.getLogger(__name__)

AGE_BINS = 101
TEACHER = "facescan-utkface-stacked"


@dataclass
class Part:
    """One source's faces of one split: crops (one array per view) and targets; -1 or NaN rows
    mean "no label"."""

    name: str
    views: list[np.ndarray]
    gender: np.ndarray  # int64, index in GENDER or -1
    race: np.ndarray  # int64, index in RACE_UTK5 or -1
    age: np.ndarray  # float32 years or -1
    emotion: np.ndarray  # float32 (N, 8) vote shares in EMOTION8 order, zeros if none
    appearance: np.ndarray  # float32 (N, len(APPEARANCE)) 0/1, NaN if none
    race_soft: np.ndarray  # float32 (N, 5) teacher probabilities, zeros if none
    samples: list[Sample] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.gender)


def _sources(data: Path) -> dict[str, dict[str, list[Sample]]]:
    """source -> split ('train'/'val') -> samples."""
    def halves(samples: list[Sample]) -> dict[str, list[Sample]]:
        return {"train": [s for s in samples if split_of(s.id) != "val"],
                "val": [s for s in samples if split_of(s.id) == "val"]}

    return {
        "utkface": {s: open_dataset(f"utkface:{data / 'utkface'}", s).samples for s in ("train", "val")},
        "celeba": {s: open_dataset(f"celeba:{data / 'celeba'}", s).samples for s in ("train", "val")},
        "aaf": halves(open_dataset(f"aaf:{data / 'aaf'}", "train").samples),
        "fer": halves(open_dataset(f"ferplus:{data / 'fer2013'}", "train").samples),
    }


def _targets(name: str, samples: list[Sample], views: list[np.ndarray], race_soft: np.ndarray | None) -> Part:
    n = len(samples)
    gender = np.array([GENDER.index(s.labels["gender"]) if "gender" in s.labels else -1 for s in samples])
    race = np.array([RACE_UTK5.index(s.labels["race"]) if "race" in s.labels else -1 for s in samples])
    age = np.array([min(float(s.labels["age"]), AGE_BINS - 1) if "age" in s.labels else -1.0 for s in samples],
                   np.float32)
    emotion = np.zeros((n, len(EMOTION8)), np.float32)
    appearance = np.full((n, len(APPEARANCE)), np.nan, np.float32)
    for i, s in enumerate(samples):
        if "votes" in s.labels:
            v = np.asarray(s.labels["votes"], np.float32)
            emotion[i] = v / max(v.sum(), 1.0)
        if "appearance" in s.labels:
            a = dict(s.labels["appearance"])
            a["beard"] = not a["no_beard"]
            appearance[i] = [float(a[k]) for k in APPEARANCE]
    soft = race_soft if race_soft is not None else np.zeros((n, len(RACE_UTK5)), np.float32)
    return Part(name, views, gender.astype(np.int64), race.astype(np.int64), age, emotion, appearance,
                soft.astype(np.float32), list(samples))


def _teacher_race(samples: list[Sample], detector, work: Path) -> np.ndarray:
    from ..attributes import OnnxAttributeModel
    from ..models import get_spec
    from .features import build_crops, cache_key

    spec = get_spec(TEACHER)
    crops = build_crops(samples, detector, spec.crop, spec.input_size, work / "cache")
    key = cache_key(samples, detector, spec.crop, spec.input_size, spec.sha256)
    cache = work / "cache" / f"teacher-{key}.npy"
    if cache.exists():
        return np.load(cache)
    model = OnnxAttributeModel(spec)
    preds = model.predict(crops, ("race",))
    out = np.array([[p["race"].probs[r] for r in RACE_UTK5] for p in preds], np.float32)
    np.save(cache, out)
    return out


def load_parts(data: Path, work: Path, policy: str, size: int, context_seed: int,
               limit: int | None = None) -> dict[str, dict[str, Part]]:
    """split -> source -> Part. ``limit`` keeps the first N samples of each (for smoke tests)."""
    from ..detect import YuNet
    from .features import build_crops

    detector = YuNet()
    out: dict[str, dict[str, Part]] = {"train": {}, "val": {}}
    for source, splits in _sources(data).items():
        for split, samples in splits.items():
            samples = samples[:limit] if limit else samples
            views = [build_crops(samples, detector, policy, size, work / "cache")]
            if source == "utkface":  # UTKFace chips are tight: also pasted into a surrounding
                views.append(build_crops(samples, detector, policy, size, work / "cache",
                                         context_seed=context_seed))
            soft = _teacher_race(samples, detector, work) if source in ("celeba", "aaf") else None
            out[split][source] = _targets(source, samples, views, soft)
            log.info("%s %s: %d faces", source, split, len(samples))
    return out
