"""UTKFace: labels in the file names, ``{age}_{gender}_{race}_{datetime}.jpg[.chip.jpg]``
(gender 0 male, 1 female; race 0 white, 1 black, 2 asian, 3 indian, 4 others).

A few published names miss a field: they are skipped, counted and warned about. Splits are
facescan's fixed 80/10/10 ``train``/``val``/``test`` by a hash of the file name, or ``all``.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from ..labels import GENDER, RACE_UTK5
from .base import Dataset, Sample, check_split, make_dataset, need_dir, split_of, warn_skipped

_NAME = re.compile(r"^(\d+)_([01])_([0-4])_\d+")
SPLITS = ("all", "train", "val", "test")


def _scan(root: Path, split: str | None, skipped: Counter[str]) -> Iterator[Sample]:
    for path in sorted(root.rglob("*.jpg")):
        m = _NAME.match(path.name)
        if not m:
            skipped["malformed file name"] += 1
            continue
        if split and split_of(path.name) != split:
            continue
        age, gender, race = (int(g) for g in m.groups())
        yield Sample(path.name, str(path), {"age": age, "gender": GENDER[gender], "race": RACE_UTK5[race]})


def read_utkface(root: str | Path, split: str | None = None) -> Iterator[Sample]:
    """UTKFace samples in name order (``split``: None for all, or train/val/test); malformed
    names are skipped with a warning."""
    skipped: Counter[str] = Counter()
    yield from _scan(need_dir(Path(root), "UTKFace"), split, skipped)
    warn_skipped("UTKFace", root, skipped)


def open_utkface(root: str | Path, split: str | None = None) -> Dataset:
    split = check_split("UTKFace", split, SPLITS, "all")
    skipped: Counter[str] = Counter()
    samples = list(_scan(need_dir(Path(root), "UTKFace"), None if split == "all" else split, skipped))
    return make_dataset("utkface", root, split, samples,
                        {"gender": "gender", "race": "utk5", "age_group": "age9"}, skipped)
