"""Readers for published face data set layouts, one module per layout. Each gives a
:class:`Dataset` of :class:`Sample` in a fixed order (sorted by id), which label set each
attribute's truth uses, and how many published entries were skipped and why.

``open_dataset("KIND:PATH", split)`` is the entry point (``facescan eval --dataset``).
``split_of`` gives every file a fixed split from its name alone, so training, validation and
the development test set never mix, on any machine, whatever order files are listed in.
"""

from __future__ import annotations

from collections.abc import Callable

from ..errors import ConfigError
from .aaf import open_aaf
from .affectnet import open_affectnet
from .base import Dataset, Sample, split_of
from .celeba import open_celeba
from .ckplus import open_ckplus
from .fairface import open_fairface
from .fer2013 import open_fer2013, read_fer2013_csv, read_fer2013_folders
from .ferplus import open_ferplus
from .generic import open_csv, open_folder
from .lfw import Pair, read_lfw_pairs
from .rafdb import open_rafdb
from .utkface import open_utkface, read_utkface

__all__ = ["DATASETS", "Dataset", "Pair", "Sample", "open_dataset", "read_fer2013_csv",
           "read_fer2013_folders", "read_lfw_pairs", "read_utkface", "split_of"]

# kind -> reader (each reader's module says which --split values it knows)
DATASETS: dict[str, Callable[..., Dataset]] = {
    "fairface": open_fairface, "utkface": open_utkface, "affectnet": open_affectnet,
    "fer2013": open_fer2013, "ferplus": open_ferplus, "rafdb": open_rafdb, "celeba": open_celeba,
    "aaf": open_aaf, "ckplus": open_ckplus, "csv": open_csv, "folder": open_folder,
}
VERIFICATION = {"lfw"}  # pair data sets: scored with identity embedders (facescan.eval.lfw)


def open_dataset(spec: str, split: str | None = None, columns: dict[str, str] | None = None) -> Dataset:
    """Samples of ``KIND:PATH``; e.g. ``utkface:../shared/data/utkface``, ``fairface:FairFace``,
    ``csv:labels.csv``. ``columns`` renames the columns of a ``csv`` data set."""
    kinds = ", ".join([*DATASETS, *VERIFICATION])
    kind, sep, path = spec.partition(":")
    if not sep or not path:
        raise ConfigError(f"--dataset {spec!r}: expected KIND:PATH, KIND one of {kinds}")
    kind = kind.lower()
    if kind in VERIFICATION:
        pairs = read_lfw_pairs(path)
        raise ConfigError(f"{kind} ({path}, {len(pairs)} pairs) is a face-verification benchmark of "
                          "pairs, not labelled samples: `facescan eval --dataset lfw:PATH` scores identity "
                          "embedders on it (read the pairs with facescan.datasets.read_lfw_pairs)")
    if kind not in DATASETS:
        raise ConfigError(f"unknown data set kind {kind!r}; choose one of {kinds}")
    if columns and kind != "csv":
        raise ConfigError(f"--columns applies to csv data sets only, not {kind}")
    reader = DATASETS[kind]
    return reader(path, split, columns) if kind == "csv" else reader(path, split)
