"""Any labelled images: a CSV table, or one folder per class.

CSV (``csv:FILE``): one row per image; the image column is ``path`` (or ``file``, ``image``,
``filename``), relative to the CSV's folder unless absolute; label columns are named after the
attribute they hold: ``gender``, ``race``, ``age`` (years), ``age_group``, ``emotion``; an
optional ``split`` column selects rows with ``--split``. Other names can be given as
``columns={"path": "img", "emotion": "expr"}`` (CLI: ``--columns path=img,emotion=expr``).

Folders (``folder:DIR``): ``DIR/<class>/*.jpg``, or ``DIR/<split>/<class>/*.jpg``; the
attribute is the one whose label set holds every class name (e.g. ``happy``, ``sad`` ... ->
emotion).

Labels are matched case-insensitively with spaces as underscores, against facescan's label
sets (``facescan.labels.LABEL_SETS``); an attribute's label set is the smallest one holding
every value seen. Rows with a value outside it, or a missing image, are skipped and counted.
"""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..labels import AFFECTNET_FOLDER_NAMES, FAIRFACE_AGE_NAMES, LABEL_SETS
from .base import Dataset, Sample, image_files, make_dataset, need_dir, need_file, normalise

PATH_COLUMNS = ("path", "file", "image", "filename")
ATTRIBUTE_COLUMNS = ("gender", "race", "age", "age_group", "emotion")
# which label sets an attribute's values may come from, smallest first
CANDIDATES = {"gender": ("gender",), "race": ("race4", "utk5", "fairface6", "fairface7"),
              "emotion": ("fer7", "affectnet8"), "age_group": ("age9", "age5")}
ALIASES = {"m": "male", "man": "male", "f": "female", "woman": "female",
           **{normalise(k): v for k, v in FAIRFACE_AGE_NAMES.items()},
           **{k: v for k, v in AFFECTNET_FOLDER_NAMES.items() if k != v}}


def _label(value: str) -> str:
    v = normalise(value)
    return ALIASES.get(v, v)


def infer_label_set(attribute: str, values: set[str], where: str) -> str:
    """The smallest candidate label set holding every value (a ConfigError if none does)."""
    for name in CANDIDATES[attribute]:
        if values <= set(LABEL_SETS[name]):
            return name
    known = ", ".join(f"{n}: {' '.join(LABEL_SETS[n])}" for n in CANDIDATES[attribute])
    raise ConfigError(f"{where}: {attribute} labels {sorted(values)} fit no label set ({known})")


def _truth_key(attribute: str, label_set: str) -> str:
    return "age_group5" if label_set == "age5" else attribute


def open_csv(path: str | Path, split: str | None = None, columns: dict[str, str] | None = None) -> Dataset:
    table = need_file(Path(path), "CSV data set")
    with open(table, newline="", encoding="utf-8") as fp:
        reader = csv.DictReader(fp)
        header = list(reader.fieldnames or [])
        rows = list(reader)
    columns = dict(columns or {})
    bad = sorted(set(columns) - {"path", "split", *ATTRIBUTE_COLUMNS})
    if bad:
        raise ConfigError(f"--columns: unknown key(s) {bad}; use path, split, {', '.join(ATTRIBUTE_COLUMNS)}")
    path_col = columns.get("path") or next((c for c in PATH_COLUMNS if c in header), None)
    if path_col is None or path_col not in header:
        raise ConfigError(f"CSV {table}: no image column (one of {', '.join(PATH_COLUMNS)}, or "
                          f"--columns path=NAME); columns are {header}")
    attrs = {a: columns.get(a, a) for a in ATTRIBUTE_COLUMNS if columns.get(a, a) in header}
    if not attrs:
        raise ConfigError(f"CSV {table}: no label column ({', '.join(ATTRIBUTE_COLUMNS)}, or "
                          f"--columns ATTRIBUTE=NAME); columns are {header}")
    split_col = columns.get("split", "split")
    if split is not None and split != "all":
        if split_col not in header:
            raise ConfigError(f"CSV {table}: --split {split} needs a '{split_col}' column")
        rows = [r for r in rows if r[split_col].strip() == split]
    skipped: Counter[str] = Counter()
    sets = {a: infer_label_set(a, {_label(r[c]) for r in rows if r[c].strip()}, f"CSV {table}")
            for a, c in attrs.items() if a != "age"}
    samples = []
    for row in rows:
        labels: dict[str, Any] = {}
        bad_age = False
        for attr, col in attrs.items():
            raw = row[col].strip()
            if not raw:
                continue
            if attr == "age":
                try:
                    labels["age"] = float(raw)
                except ValueError:
                    bad_age = True
                    break
            else:
                labels[_truth_key(attr, sets[attr])] = _label(raw)
        image = Path(row[path_col].strip())
        image = image if image.is_absolute() else table.parent / image
        if bad_age:
            skipped["age is not a number"] += 1
        elif not labels:
            skipped["no usable label"] += 1
        elif not image.is_file():
            skipped["image file missing"] += 1
        else:
            samples.append(Sample(row[path_col].strip(), str(image), labels))
    label_sets = {_truth_key(a, s): s for a, s in sets.items()}
    return make_dataset("csv", table, split or "all", samples, label_sets, skipped)


def open_folder(root: str | Path, split: str | None = None) -> Dataset:
    root = need_dir(Path(root), "folder data set")
    base = need_dir(root / split, f"folder data set split {split!r}") if split and split != "all" else root
    classes = {p.name: _label(p.name) for p in sorted(base.iterdir()) if p.is_dir()}
    if not classes:
        raise ConfigError(f"folder data set {base}: no class folders (expected {base}/<class>/*.jpg)")
    where = f"folder data set {base}"
    fits = [(a, s) for a in CANDIDATES for s in CANDIDATES[a] if set(classes.values()) <= set(LABEL_SETS[s])]
    if not fits:
        known = "; ".join(n + ": " + " ".join(v) for n, v in LABEL_SETS.items())
        raise ConfigError(f"{where}: class folders {sorted(classes)} fit no known label set ({known})")
    attr, label_set = fits[0]
    key = _truth_key(attr, label_set)
    samples = [Sample(f"{name}/{p.name}", str(p), {key: label})
               for name, label in classes.items() for p in image_files(base / name)]
    return make_dataset("folder", base, split or "all", samples, {key: label_set})
