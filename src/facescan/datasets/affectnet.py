"""AffectNet (8 expressions: neutral, happy, sad, surprise, fear, disgust, anger, contempt), in
either published form:

* the annotation CSVs ``training.csv`` / ``validation.csv`` (columns ``subDirectory_filePath,
  face_x,face_y,face_width,face_height,facial_landmarks,expression,valence,arousal``) with the
  images under ``Manually_Annotated_Images/`` (or directly under the data set folder);
  ``expression`` ids 0-7 are the 8 emotions; 8 none, 9 uncertain and 10 non-face are not
  emotions: they are skipped and counted;
* folder-per-class: ``train/<class>/``, ``val/<class>/`` (or the classes directly in the
  folder), classes named (``anger``, ``contempt``, ``happy`` ...) or by id (``0`` ... ``7``).

Splits: ``val`` (default; the published validation set, the usual test set), ``train``.
"""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

from ..errors import ConfigError
from ..labels import AFFECTNET_FOLDER_NAMES, AFFECTNET_IDS, AFFECTNET_SKIPPED_IDS
from .base import Dataset, Sample, check_split, image_files, make_dataset, need_dir

CSV_NAMES = {"train": "training.csv", "val": "validation.csv"}
FOLDER_NAMES = {"train": ("train", "train_set", "training"), "val": ("val", "val_set", "validation", "test")}
LABEL_SETS = {"emotion": "affectnet8"}


def _expression(value: str) -> tuple[str | None, str]:
    """(emotion, "") for an expression id or class name, else (None, why it is skipped)."""
    value = value.strip()
    if value.isdigit():
        i = int(value)
        if i in AFFECTNET_IDS:
            return AFFECTNET_IDS[i], ""
        return None, f"expression {AFFECTNET_SKIPPED_IDS.get(i, 'id ' + value)}"
    label = AFFECTNET_FOLDER_NAMES.get(value.lower())
    return label, "" if label else f"unknown class {value!r}"


def _from_csv(root: Path, table: Path, skipped: Counter[str]) -> list[Sample]:
    samples = []
    bases = (root / "Manually_Annotated_Images", root)
    with open(table, newline="", encoding="utf-8") as fp:
        reader = csv.DictReader(fp)
        if not {"subDirectory_filePath", "expression"} <= set(reader.fieldnames or ()):
            raise ConfigError(f"AffectNet {table}: expected columns subDirectory_filePath,...,expression")
        for row in reader:
            label, why = _expression(row["expression"])
            if label is None:
                skipped[why] += 1
                continue
            rel = row["subDirectory_filePath"].strip()
            path = next((b / rel for b in bases if (b / rel).is_file()), None)
            if path is None:
                skipped["image file missing"] += 1
                continue
            samples.append(Sample(rel, str(path), {"emotion": label}))
    return samples


def _from_folders(base: Path, skipped: Counter[str]) -> list[Sample]:
    """Samples of ``base/<class>/``, their ids ``<base>/<class>/<file>``."""
    samples = []
    for folder in sorted(p for p in base.iterdir() if p.is_dir()):
        files = image_files(folder)
        label, why = _expression(folder.name)
        if label is None:
            skipped[why] += len(files)
            continue
        samples += [Sample(f"{base.name}/{folder.name}/{p.name}", str(p), {"emotion": label}) for p in files]
    return samples


def open_affectnet(root: str | Path, split: str | None = None) -> Dataset:
    root = need_dir(Path(root), "AffectNet")
    split = check_split("AffectNet", split, ("val", "train"), "val")
    skipped: Counter[str] = Counter()
    table = root / CSV_NAMES[split]
    if table.is_file():
        samples = _from_csv(root, table, skipped)
    else:
        base = next((root / n for n in FOLDER_NAMES[split] if (root / n).is_dir()), None)
        if base is None and any(_expression(p.name)[0] for p in root.iterdir() if p.is_dir()):
            base = root  # class folders directly in the data set folder
        if base is None:
            raise ConfigError(f"AffectNet {root}: found neither {CSV_NAMES[split]} nor "
                              f"{'/'.join(FOLDER_NAMES[split][:2])}/<class>/ folders")
        samples = _from_folders(base, skipped)
    return make_dataset("affectnet", root, split, samples, LABEL_SETS, skipped)
