"""RAF-DB basic: ``EmoLabel/list_patition_label.txt`` (sic), lines ``train_00001.jpg 5``,
labels 1-7 = surprise, fear, disgust, happiness, sadness, anger, neutral; the aligned 100x100
faces are ``Image/aligned/train_00001_aligned.jpg``. Splits: ``test`` (default), ``train``,
``all``. The label file may also sit directly in the data set folder.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from ..errors import ConfigError
from ..labels import RAFDB7_TO_FER7
from .base import Dataset, Sample, check_split, make_dataset, need_dir

LIST_NAME = "list_patition_label.txt"


def open_rafdb(root: str | Path, split: str | None = None) -> Dataset:
    root = need_dir(Path(root), "RAF-DB basic")
    split = check_split("RAF-DB", split, ("test", "train", "all"), "test")
    table = next((p for p in (root / "EmoLabel" / LIST_NAME, root / LIST_NAME) if p.is_file()), None)
    if table is None:
        raise ConfigError(f"RAF-DB: {root}/EmoLabel/{LIST_NAME} does not exist")
    images = root / "Image" / "aligned"
    samples, skipped = [], Counter[str]()
    for line_no, line in enumerate(table.read_text(encoding="utf-8").splitlines(), 1):
        parts = line.split()
        if not parts:
            continue
        if len(parts) != 2 or not parts[1].isdigit() or int(parts[1]) not in RAFDB7_TO_FER7:
            skipped["malformed line (expected 'name.jpg LABEL', LABEL 1-7)"] += 1
            continue
        name, label = parts[0], RAFDB7_TO_FER7[int(parts[1])]
        if split != "all" and not name.startswith(split + "_"):
            continue
        stem, _, ext = name.rpartition(".")
        path = images / f"{stem}_aligned.{ext}"
        if not path.is_file():
            skipped["aligned image missing"] += 1
            continue
        samples.append(Sample(name, str(path), {"emotion": label}))
    return make_dataset("rafdb", root, split, samples, {"emotion": "fer7"}, skipped)
