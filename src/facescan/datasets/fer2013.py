"""FER2013, in either published form:

* folders ``train/<emotion>/*.jpg`` and ``test/<emotion>/*.jpg`` (test = PublicTest), and
* the original ``fer2013.csv``: ``emotion,pixels,Usage``; ``emotion`` 0-6 in FER2013's order
  (angry, disgust, fear, happy, sad, surprise, neutral), ``pixels`` 2,304 space-separated grey
  values of a 48x48 image (decoded in memory), ``Usage`` Training / PublicTest / PrivateTest.

Splits: ``train``, ``test`` (PublicTest, the usual validation split; default), ``private``
(PrivateTest, CSV only) and ``all``.
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from ..errors import ConfigError
from ..labels import EMOTION7
from .base import Dataset, Sample, check_split, image_files, make_dataset, need_dir

SPLITS = ("train", "test", "private", "all")
_USAGE = {"train": "Training", "test": "PublicTest", "private": "PrivateTest"}
LABEL_SETS = {"emotion": "fer7"}


def read_fer2013_folders(root: str | Path, split: str = "test") -> Iterator[Sample]:
    """FER2013 as ``{train,test}/<emotion>/*.jpg`` folders (split: 'train' or 'test')."""
    base = need_dir(Path(root) / split, f"FER2013 (expected {split}/<emotion>/)")
    for label in EMOTION7:
        folder = base / label
        for path in image_files(folder) if folder.is_dir() else []:
            yield Sample(f"{split}/{label}/{path.name}", str(path), {"emotion": label})


def read_fer2013_csv(path: str | Path, split: str = "test") -> tuple[list[Sample], Counter[str]]:
    """Samples of ``fer2013.csv`` whose Usage matches ``split`` (or every row for 'all'), with
    the count of rows skipped because their pixels or label could not be read."""
    wanted = None if split == "all" else _USAGE[split]
    samples, skipped = [], Counter[str]()
    with open(path, newline="", encoding="utf-8") as fp:
        reader = csv.DictReader(fp)
        missing = {"emotion", "pixels", "Usage"} - set(reader.fieldnames or ())
        if missing:
            raise ConfigError(f"FER2013 {path}: missing column(s) {sorted(missing)} "
                              "(expected emotion,pixels,Usage)")
        for row_no, row in enumerate(reader):
            if wanted and row["Usage"] != wanted:
                continue
            try:
                label = EMOTION7[int(row["emotion"])]
                pixels = np.array(row["pixels"].split(), dtype=np.uint8)
                image = pixels.reshape(48, 48)
            except (ValueError, IndexError):
                skipped["unreadable row (label not 0-6 or not 48x48 pixels)"] += 1
                continue
            samples.append(Sample(f"{row['Usage']}/{row_no:05d}", "", {"emotion": label}, image))
    return samples, skipped


def open_fer2013(root: str | Path, split: str | None = None) -> Dataset:
    """``root``: the folder with ``train/`` ``test/``, or ``fer2013.csv`` or a folder holding it."""
    root = Path(root)
    csv_path = root if root.suffix == ".csv" else root / "fer2013.csv"
    if csv_path.is_file():
        split = check_split("FER2013", split, SPLITS, "test")
        samples, skipped = read_fer2013_csv(csv_path, split)
        return make_dataset("fer2013", csv_path, split, samples, LABEL_SETS, skipped)
    need_dir(root, "FER2013 (expected train/<emotion>/, test/<emotion>/ or fer2013.csv)")
    split = check_split("FER2013", split, ("train", "test", "all"),
                        "test" if (root / "test").is_dir() else "train")
    parts = [p for p in ("train", "test") if (root / p).is_dir()] if split == "all" else [split]
    samples = [s for part in parts for s in read_fer2013_folders(root, part)]
    return make_dataset("fer2013", root, split, samples, LABEL_SETS)
