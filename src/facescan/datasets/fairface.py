"""FairFace: ``fairface_label_train.csv`` / ``fairface_label_val.csv`` with columns
``file,age,gender,race,service_test``; ``file`` is relative to the data set folder
(``train/1.jpg``, ``val/1.jpg``), ``age`` a group string (``0-2`` ... ``60-69``,
``more than 70``), ``gender`` Male/Female, ``race`` one of 7 (White, Black, Latino_Hispanic,
East Asian, Southeast Asian, Indian, Middle Eastern). Splits: ``val`` (default), ``train``.
"""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

from ..errors import ConfigError
from ..labels import FAIRFACE_AGE_NAMES, FAIRFACE_RACE_NAMES, GENDER
from .base import Dataset, Sample, check_split, make_dataset, need_dir, need_file

COLUMNS = ("file", "age", "gender", "race")


def open_fairface(root: str | Path, split: str | None = None) -> Dataset:
    root = need_dir(Path(root), "FairFace")
    split = check_split("FairFace", split, ("val", "train"), "val")
    table = need_file(root / f"fairface_label_{split}.csv", "FairFace labels")
    samples, skipped = [], Counter[str]()
    with open(table, newline="", encoding="utf-8") as fp:
        reader = csv.DictReader(fp)
        missing = set(COLUMNS) - set(reader.fieldnames or ())
        if missing:
            raise ConfigError(f"FairFace {table}: missing column(s) {sorted(missing)} "
                              f"(expected {','.join(COLUMNS)},service_test)")
        for row in reader:
            gender = row["gender"].strip().lower()
            race = FAIRFACE_RACE_NAMES.get(row["race"].strip())
            age = FAIRFACE_AGE_NAMES.get(row["age"].strip())
            if gender not in GENDER or race is None or age is None:
                skipped["unknown gender, race or age label"] += 1
                continue
            path = root / row["file"].strip()
            if not path.is_file():
                skipped["image file missing"] += 1
                continue
            labels = {"gender": gender, "race": race, "age_group": age}
            if row.get("service_test") is not None:
                labels["service_test"] = row["service_test"].strip().lower() == "true"
            samples.append(Sample(row["file"].strip(), str(path), labels))
    return make_dataset("fairface", root, split, samples,
                        {"gender": "gender", "race": "fairface7", "age_group": "age9"}, skipped)
