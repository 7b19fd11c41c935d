"""FairFace: ``fairface_label_train.csv`` / ``fairface_label_val.csv`` with columns
``file,age,gender,race,service_test``; ``file`` is relative to the data set folder
(``train/1.jpg``, ``val/1.jpg``), ``age`` a group string (``0-2`` ... ``60-69``,
``more than 70``), ``gender`` Male/Female, ``race`` one of 7 (White, Black, Latino_Hispanic,
East Asian, Southeast Asian, Indian, Middle Eastern). Splits: ``val`` (default), ``train``,
and facescan's own two parts of ``train``: ``dev`` (a stratified 10%: within each
race x gender x age stratum, the photos ordered by a hash of their name, every tenth; never
trained on) and ``fit`` (the rest, which the default model trains on).
"""

from __future__ import annotations

import csv
import hashlib
from collections import Counter, defaultdict
from pathlib import Path

from ..errors import ConfigError
from ..labels import FAIRFACE_AGE_NAMES, FAIRFACE_RACE_NAMES, GENDER
from .base import Dataset, Sample, check_split, make_dataset, need_dir, need_file

COLUMNS = ("file", "age", "gender", "race")


def open_fairface(root: str | Path, split: str | None = None) -> Dataset:
    root = need_dir(Path(root), "FairFace")
    split = check_split("FairFace", split, ("val", "train", "dev", "fit"), "val")
    table = need_file(root / f"fairface_label_{'val' if split == 'val' else 'train'}.csv", "FairFace labels")
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
            labels = {"gender": gender, "race": race, "age_group": age}
            if row.get("service_test") is not None:
                labels["service_test"] = row["service_test"].strip().lower() == "true"
            samples.append(Sample(row["file"].strip(), str(root / row["file"].strip()), labels))
    if split in ("dev", "fit"):  # drawn from every listed photo, so a partial copy has the same split
        dev = set(dev_indices(samples))
        samples = [s for i, s in enumerate(samples) if (i in dev) == (split == "dev")]
    present = [s for s in samples if Path(s.path).is_file()]
    if len(present) < len(samples):
        skipped["image file missing"] += len(samples) - len(present)
    return make_dataset("fairface", root, split, present,
                        {"gender": "gender", "race": "fairface7", "age_group": "age9"}, skipped)


DEV_SHARE = 10  # one in DEV_SHARE photos of each race x gender x age stratum is in ``dev``


def dev_indices(samples: list[Sample]) -> list[int]:
    """Indices of the FairFace train ``samples`` in facescan's ``dev`` split (see the module)."""
    strata: dict[tuple, list[int]] = defaultdict(list)
    for i, s in enumerate(samples):
        strata[(s.labels["race"], s.labels["gender"], s.labels["age_group"])].append(i)
    dev: list[int] = []
    for members in strata.values():
        members.sort(key=lambda i: hashlib.sha1(samples[i].id.encode()).hexdigest())
        dev += members[DEV_SHARE // 2::DEV_SHARE]
    return sorted(dev)
