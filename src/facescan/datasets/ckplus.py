"""CK+ (the extended Cohn-Kanade set: posed expressions, mostly grey 640x490 frames) in its
published layout: ``cohn-kanade-images/S005/001/S005_001_00000011.png`` (one folder per subject
and sequence, frames from neutral to the peak of the expression) and
``Emotion/S005/001/S005_001_00000011_emotion.txt`` for the sequences that carry a validated
label, one number 1-7: anger, contempt, disgust, fear, happy, sadness, surprise (0, neutral,
does not occur there). The label file names the sequence's last frame, the peak.

Splits (CK+ has no official one; these are the usual protocols):

* ``peak`` (default): the labelled last frame of each labelled sequence (327 in the release);
* ``last3``: its last three frames, each with the sequence's label;
* ``neutral``: ``peak`` plus the first frame of each labelled sequence as ``neutral``;
* ``peak6``: ``peak`` without ``contempt`` (the 6 basic emotions some papers report).

The Kaggle "CK+48" copy (48x48 crops in ``anger/`` ... ``surprise/`` folders) is read by the
generic ``folder:`` reader instead.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from ..errors import ConfigError
from ..labels import CKPLUS_IDS
from .base import Dataset, Sample, check_split, image_files, make_dataset, need_dir

SPLITS = ("peak", "last3", "neutral", "peak6")
LABEL_SETS = {"emotion": "affectnet8"}


def _label(path: Path) -> str | None:
    try:
        value = float(path.read_text(encoding="utf-8").split()[0])
    except (OSError, UnicodeDecodeError, ValueError, IndexError):
        return None
    return CKPLUS_IDS.get(int(value)) if value.is_integer() else None


def open_ckplus(root: str | Path, split: str | None = None) -> Dataset:
    """``root``: the folder holding ``cohn-kanade-images/`` and ``Emotion/``."""
    root = need_dir(Path(root), "CK+")
    split = check_split("CK+", split, SPLITS, "peak")
    frames, labels = root / "cohn-kanade-images", root / "Emotion"
    for folder in (frames, labels):
        if not folder.is_dir():
            raise ConfigError(f"CK+ {root}: no {folder.name}/ folder (expected cohn-kanade-images/ and Emotion/)")
    samples, skipped = [], Counter[str]()
    for label_file in sorted(labels.glob("*/*/*_emotion.txt")):
        emotion = _label(label_file)
        if emotion is None:
            skipped["unreadable label file (expected one number 1-7)"] += 1
            continue
        sequence = frames / label_file.parent.relative_to(labels)
        images = image_files(sequence) if sequence.is_dir() else []
        if not images:
            skipped["sequence without frames"] += 1
            continue
        if split == "peak6" and emotion == "contempt":
            continue
        chosen = [(images[-1], emotion)]
        if split == "last3":
            chosen = [(p, emotion) for p in images[-3:]]
        elif split == "neutral" and len(images) > 1:
            chosen.append((images[0], "neutral"))
        samples += [Sample(str(p.relative_to(frames)), str(p), {"emotion": e}) for p, e in chosen]
    if not samples and not skipped:
        raise ConfigError(f"CK+ {root}: no labelled sequence in Emotion/ (expected S*/NNN/*_emotion.txt)")
    return make_dataset("ckplus", root, split, samples, LABEL_SETS, skipped)
