"""What every reader returns: :class:`Sample` (one labelled image, as a file or as pixels in
memory) and :class:`Dataset` (the samples in a fixed order, which label set each attribute
uses, and how many entries of the published files were skipped and why)."""

from __future__ import annotations

import hashlib
import logging
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ConfigError
from ..io import IMAGE_EXTENSIONS

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Sample:
    """One labelled image. ``path`` names the file; data sets that ship pixels (FER2013's CSV)
    leave it empty and carry ``image`` (a uint8 array, grey or RGB) instead. ``labels`` uses
    facescan's label names (``facescan.labels``): ``gender``, ``race``, ``age`` (years),
    ``age_group`` (FairFace 9), ``emotion``."""

    id: str
    path: str
    labels: dict[str, Any] = field(default_factory=dict)
    image: np.ndarray | None = field(default=None, compare=False, repr=False)

    @property
    def source(self) -> str | np.ndarray:
        """What to hand to the Analyzer: the pixels if present, else the path."""
        return self.image if self.image is not None else self.path


@dataclass
class Dataset:
    """Samples of one split of one data set, sorted by id.

    ``label_sets`` names the label set of each attribute's truth (``facescan.labels.LABEL_SETS``;
    e.g. ``{"race": "fairface7"}``), so an evaluation knows which mapping it needs.
    ``skipped`` counts published entries that are not usable samples, by reason.
    """

    kind: str
    root: str
    split: str
    samples: list[Sample]
    label_sets: dict[str, str] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.samples)

    def __iter__(self) -> Iterator[Sample]:
        return iter(self.samples)

    def __getitem__(self, i: int) -> Sample:
        return self.samples[i]

    def info(self) -> dict[str, Any]:
        """JSON-ready description, stored in metrics.json."""
        return {"kind": self.kind, "root": self.root, "split": self.split, "n": len(self.samples),
                "label_sets": dict(self.label_sets), "skipped": dict(self.skipped)}


def make_dataset(kind: str, root: str | Path, split: str, samples: list[Sample],
                 label_sets: dict[str, str], skipped: Counter[str] | dict[str, int] | None = None) -> Dataset:
    """A Dataset with samples sorted by id; logs a warning for every kind of skipped entry."""
    skipped = warn_skipped(kind, root, skipped or {})
    ids = [s.id for s in samples]
    if len(set(ids)) != len(ids):
        dup = next(i for i, c in Counter(ids).items() if c > 1)
        raise ConfigError(f"{kind} {root}: sample id {dup!r} appears twice")
    return Dataset(kind, str(root), split, sorted(samples, key=lambda s: s.id), label_sets, skipped)


def warn_skipped(kind: str, root: str | Path, skipped: dict[str, int]) -> dict[str, int]:
    """Log one warning per reason entries were skipped; return the non-zero counts."""
    skipped = {k: v for k, v in skipped.items() if v}
    for reason, count in sorted(skipped.items()):
        log.warning("%s %s: skipped %d entries (%s)", kind, root, count, reason)
    return skipped


def split_of(name: str) -> str:
    """'train' (80%), 'val' (10%) or 'test' (10%), from a stable hash of the file name."""
    bucket = int(hashlib.sha1(name.encode()).hexdigest()[:8], 16) % 10
    return "train" if bucket < 8 else ("val" if bucket == 8 else "test")


def check_split(kind: str, split: str | None, allowed: tuple[str, ...], default: str) -> str:
    """``split`` or the default; a ConfigError naming the choices when it is unknown."""
    if split is None:
        return default
    if split not in allowed:
        raise ConfigError(f"{kind} split {split!r}: use {', '.join(allowed)}")
    return split


def need_dir(path: Path, what: str) -> Path:
    if not path.is_dir():
        raise ConfigError(f"{what}: folder {path} does not exist")
    return path


def need_file(path: Path, what: str) -> Path:
    if not path.is_file():
        raise ConfigError(f"{what}: file {path} does not exist")
    return path


def image_files(folder: Path) -> list[Path]:
    """Image files directly in ``folder``, sorted by name."""
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS)


def normalise(value: str) -> str:
    """'East Asian' -> 'east_asian', ' Happy ' -> 'happy'."""
    return "_".join(value.strip().lower().split())
