"""FER+ (Microsoft's re-labelling of FER2013: 10 annotators per face), in either form:

* FER+'s own layout: ``FER2013{Train,Valid,Test}/label.csv`` (rows
  ``fer0028638.png,"(0, 0, 48, 48)",votes...``) beside the 48x48 PNGs; ``root`` is the folder
  holding those folders, or one of them;
* FER2013 folders (``train/<emotion>/``, ``test/<emotion>/``) with ``ferplus_votes.csv``
  (``file,ferplus_file,votes...``, ``file`` relative to the FER2013 folder).

Votes are in FER+ order: neutral, happiness, surprise, sadness, anger, disgust, fear, contempt,
unknown, NF. Truth follows the FER+ majority protocol: the most-voted of the ten (a tie goes to
the earlier column); faces whose majority is unknown or NF are skipped. ``votes`` (the 8
emotions' counts, in :data:`facescan.labels.EMOTION8` order) is kept for training on the
distribution. Splits: ``train``, ``val`` (FER+ Valid = FER2013 PublicTest, default), ``test``
(FER+ Test = PrivateTest), ``all``.
"""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

from ..errors import ConfigError
from ..labels import EMOTION8
from .base import Dataset, Sample, check_split, make_dataset, need_dir

# FER+ vote columns -> facescan's names (None: not an emotion)
FERPLUS_COLUMNS = ("neutral", "happy", "surprise", "sad", "angry", "disgust", "fear", "contempt", None, None)
_FOLDERS = {"train": "FER2013Train", "val": "FER2013Valid", "test": "FER2013Test"}
_FER2013 = {"train": "train", "val": "test"}  # FER2013 folder per split (its test = PublicTest)


def ferplus_truth(votes: list[int]) -> tuple[str | None, list[int]]:
    """(majority label or None for unknown/NF, the 8 emotion counts in EMOTION8 order)."""
    top = max(range(len(votes)), key=lambda i: (votes[i], -i))
    counts = dict(zip(FERPLUS_COLUMNS, votes))
    return FERPLUS_COLUMNS[top], [counts[e] for e in EMOTION8]


def _votes(row: list[str], where: str) -> list[int]:
    try:
        votes = [int(v) for v in row]
    except ValueError:
        raise ValueError(where) from None
    if len(votes) != 10 or min(votes) < 0 or not sum(votes):
        raise ValueError(where)
    return votes


def _sample(sid: str, path: Path, votes: list[int], skipped: Counter[str]) -> Sample | None:
    label, counts = ferplus_truth(votes)
    if label is None:
        skipped["majority unknown or not a face"] += 1
        return None
    if not path.is_file():
        skipped["image missing"] += 1
        return None
    return Sample(sid, str(path), {"emotion": label, "votes": counts})


def _from_ferplus(root: Path, parts: list[str], skipped: Counter[str]) -> list[Sample]:
    samples = []
    for part in parts:
        folder = root / _FOLDERS[part] if (root / _FOLDERS[part]).is_dir() else root
        table = folder / "label.csv"
        if folder.name != _FOLDERS[part] or not table.is_file():
            continue
        with open(table, newline="", encoding="utf-8") as fp:
            for row in csv.reader(fp):
                try:
                    votes = _votes(row[2:], "row")
                except (ValueError, IndexError):
                    skipped["malformed row (expected name, box and 10 vote counts)"] += 1
                    continue
                s = _sample(f"{_FOLDERS[part]}/{row[0]}", folder / row[0], votes, skipped)
                samples += [s] if s else []
    return samples


def _from_fer2013(root: Path, parts: list[str], skipped: Counter[str]) -> list[Sample]:
    wanted = {_FER2013[p] for p in parts if p in _FER2013}
    samples = []
    with open(root / "ferplus_votes.csv", newline="", encoding="utf-8") as fp:
        for row in csv.DictReader(fp):
            if row["file"].split("/")[0] not in wanted:
                continue
            try:
                votes = _votes([row[c] for c in list(row)[2:12]], "row")
            except (ValueError, KeyError):
                skipped["malformed row (expected file, ferplus_file and 10 vote counts)"] += 1
                continue
            s = _sample(row["file"], root / row["file"], votes, skipped)
            samples += [s] if s else []
    return samples


def open_ferplus(root: str | Path, split: str | None = None) -> Dataset:
    root = need_dir(Path(root), "FER+")
    split = check_split("FER+", split, ("train", "val", "test", "all"), "val")
    parts = list(_FOLDERS) if split == "all" else [split]
    skipped: Counter[str] = Counter()
    if (root / "ferplus_votes.csv").is_file():
        if split == "test":
            raise ConfigError(f"FER+ {root}: FER2013 folders hold no PrivateTest (FER+ Test) images")
        samples = _from_fer2013(root, parts, skipped)
    elif any((root / f).is_dir() for f in _FOLDERS.values()) or root.name in _FOLDERS.values():
        samples = _from_ferplus(root if root.name not in _FOLDERS.values() else root.parent, parts, skipped)
    else:
        raise ConfigError(f"FER+ {root}: expected FER2013Train/ FER2013Valid/ FER2013Test/ with label.csv, "
                          "or FER2013 folders with ferplus_votes.csv")
    return make_dataset("ferplus", root, split, samples, {"emotion": "affectnet8"}, skipped)
