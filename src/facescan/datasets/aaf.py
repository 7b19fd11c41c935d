"""All-Age-Faces: ``original images/NNNNNAxx.jpg`` (age ``xx`` in the name) and
``image sets/{train,val}.txt`` (lines ``name gender``, 0 female, 1 male). ``root`` is the
``All-Age-Faces Dataset`` folder or a folder holding it. Splits: the published ``train`` and
``val`` (default), or ``all``.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from ..labels import age_group9
from .base import Dataset, Sample, check_split, make_dataset, need_dir

_NAME = re.compile(r"^\d+A(\d+)\.\w+$")
_GENDER = {"0": "female", "1": "male"}


def open_aaf(root: str | Path, split: str | None = None) -> Dataset:
    root = need_dir(Path(root), "All-Age-Faces")
    if not (root / "image sets").is_dir() and (root / "All-Age-Faces Dataset").is_dir():
        root = root / "All-Age-Faces Dataset"
    split = check_split("All-Age-Faces", split, ("train", "val", "all"), "val")
    sets = need_dir(root / "image sets", "All-Age-Faces (expected 'image sets/train.txt')")
    images = need_dir(root / "original images", "All-Age-Faces images")
    samples, skipped = [], Counter[str]()
    for part in ("train", "val") if split == "all" else (split,):
        table = sets / f"{part}.txt"
        if not table.is_file():
            skipped[f"{table.name} missing"] += 1
            continue
        for line in table.read_text(encoding="utf-8").splitlines():
            parts = line.split()
            if not parts:
                continue
            m = _NAME.match(parts[0]) if len(parts) == 2 else None
            if m is None or parts[1] not in _GENDER:
                skipped["malformed line (expected 'NNNNNAxx.jpg 0|1')"] += 1
                continue
            path = images / parts[0]
            if not path.is_file():
                skipped["image missing"] += 1
                continue
            age = int(m.group(1))
            samples.append(Sample(parts[0], str(path), {"gender": _GENDER[parts[1]], "age": age,
                                                        "age_group": age_group9(age)}))
    return make_dataset("aaf", root, split, samples, {"gender": "gender", "age_group": "age9"}, skipped)
