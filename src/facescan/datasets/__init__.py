"""Readers for published face data set layouts. Each yields :class:`Sample` in a fixed order.

``split_of`` gives every file a fixed split from its name alone, so training, validation and
the development test set never mix, on any machine, whatever order files are listed in.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ConfigError
from ..labels import EMOTION7, GENDER, RACE_UTK5

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Sample:
    id: str
    path: str
    labels: dict[str, object] = field(default_factory=dict)


def split_of(name: str) -> str:
    """'train' (80%), 'val' (10%) or 'test' (10%), from a stable hash of the file name."""
    bucket = int(hashlib.sha1(name.encode()).hexdigest()[:8], 16) % 10
    return "train" if bucket < 8 else ("val" if bucket == 8 else "test")


_UTK = re.compile(r"^(\d+)_([01])_([0-4])_\d+")


def read_utkface(root: str | Path, split: str | None = None) -> Iterator[Sample]:
    """UTKFace: ``{age}_{gender}_{race}_{datetime}.jpg[.chip.jpg]``; malformed names skipped."""
    root = Path(root)
    if not root.is_dir():
        raise ConfigError(f"UTKFace folder {root} does not exist")
    skipped = 0
    for path in sorted(root.rglob("*.jpg")):
        m = _UTK.match(path.name)
        if not m:
            skipped += 1
            continue
        if split and split_of(path.name) != split:
            continue
        age, gender, race = (int(g) for g in m.groups())
        yield Sample(path.name, str(path), {"age": age, "gender": GENDER[gender],
                                            "race": RACE_UTK5[race]})
    if skipped:
        log.warning("UTKFace %s: skipped %d files with malformed names", root, skipped)


def read_fer2013_folders(root: str | Path, split: str = "test") -> Iterator[Sample]:
    """FER2013 as ``{train,test}/<emotion>/*.jpg`` folders (split: 'train' or 'test')."""
    base = Path(root) / split
    if not base.is_dir():
        raise ConfigError(f"FER2013 folder {base} does not exist (expected {split}/<class>/)")
    for label in EMOTION7:
        for path in sorted((base / label).glob("*")):
            yield Sample(f"{split}/{label}/{path.name}", str(path), {"emotion": label})


DATASETS = ("utkface", "fer2013")


def open_dataset(spec: str, split: str | None = None) -> list[Sample]:
    """Samples of ``KIND:PATH``; e.g. ``utkface:../shared/data/utkface``.

    ``split``: UTKFace — ``all`` (default: every file in the folder) or facescan's fixed
    ``train``/``val``/``test``; FER2013 — ``test`` (default when ``test/`` exists, else
    ``train``), ``train`` or ``all``.
    """
    kind, sep, path = spec.partition(":")
    if not sep or not path:
        raise ConfigError(f"--dataset {spec!r}: expected KIND:PATH, KIND one of {', '.join(DATASETS)}")
    kind = kind.lower()
    if kind == "utkface":
        if split not in (None, "all", "train", "val", "test"):
            raise ConfigError(f"UTKFace split {split!r}: use all, train, val or test")
        return list(read_utkface(path, None if split in (None, "all") else split))
    if kind == "fer2013":
        root = Path(path)
        if split is None:
            split = "test" if (root / "test").is_dir() else "train"
        if split == "all":
            return [s for part in ("train", "test") if (root / part).is_dir()
                    for s in read_fer2013_folders(root, part)]
        if split not in ("train", "test"):
            raise ConfigError(f"FER2013 split {split!r}: use train, test or all")
        return list(read_fer2013_folders(root, split))
    raise ConfigError(f"unknown data set kind {kind!r}; choose one of {', '.join(DATASETS)}")
