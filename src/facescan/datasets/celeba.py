"""CelebA aligned faces: ``img_align_celeba/NNNNNN.jpg`` and ``list_attr_celeba.txt`` (a count
line, a header of the 40 attribute names, then ``file`` and 40 values of 1 / -1).

Splits: the published ``list_eval_partition.txt`` (``file 0|1|2`` = train/val/test) when it is
there, else facescan's fixed 80/10/10 split by a hash of the file name; or ``all``. Truth:
``gender`` from ``Male``, and ``appearance``: every attribute as a bool under its
lower-case name (``eyeglasses``, ``wearing_hat``, ...).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from ..errors import ConfigError
from .base import Dataset, Sample, check_split, make_dataset, need_dir, need_file, split_of

SPLITS = ("train", "val", "test", "all")
_PARTITION = {"0": "train", "1": "val", "2": "test"}


def _partition(root: Path) -> dict[str, str] | None:
    path = root / "list_eval_partition.txt"
    if not path.is_file():
        return None
    rows = (line.split() for line in path.read_text(encoding="utf-8").splitlines())
    return {r[0]: _PARTITION.get(r[1], "") for r in rows if len(r) == 2}


def open_celeba(root: str | Path, split: str | None = None) -> Dataset:
    root = need_dir(Path(root), "CelebA")
    split = check_split("CelebA", split, SPLITS, "test")
    table = need_file(root / "list_attr_celeba.txt", "CelebA attributes")
    lines = table.read_text(encoding="utf-8").splitlines()
    if len(lines) < 2:
        raise ConfigError(f"CelebA {table}: expected a count line and a header line")
    names = [n.lower() for n in lines[1].split()]
    if "male" not in names:
        raise ConfigError(f"CelebA {table}: the header has no 'Male' attribute")
    partition = _partition(root)
    images = root / "img_align_celeba"
    samples, skipped = [], Counter[str]()
    for line in lines[2:]:
        parts = line.split()
        if not parts:
            continue
        if len(parts) != len(names) + 1 or any(v not in ("1", "-1") for v in parts[1:]):
            skipped[f"malformed line (expected a file name and {len(names)} values of 1/-1)"] += 1
            continue
        name = parts[0]
        part = partition.get(name, "") if partition is not None else split_of(name)
        if split != "all" and part != split:
            continue
        path = images / name
        if not path.is_file():
            skipped["image missing"] += 1
            continue
        values = {n: v == "1" for n, v in zip(names, parts[1:])}
        samples.append(Sample(name, str(path), {"gender": "male" if values["male"] else "female",
                                                "appearance": values}))
    return make_dataset("celeba", root, split, samples, {"gender": "gender"}, skipped)
