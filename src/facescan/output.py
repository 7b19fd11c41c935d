"""Writers for results (JSONL, CSV, Parquet) and annotated images.

Each writer takes one :class:`ImageResult` at a time and flushes it, so an interrupted run
keeps every finished image. JSONL holds one record per image (the public schema); CSV and
Parquet hold one row per face (an image without faces, or with an error, has one row with the
face columns empty).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import IO, Any, Protocol

from .errors import ConfigError, require
from .types import ImageResult

FLAT_COLUMNS = ("path", "error", "face", "x1", "y1", "x2", "y2", "score", "found_by",
                "gender", "gender_score", "age_years", "age_group", "age_group5", "age_score",
                "race", "race_score", "emotion", "emotion_score", "appearance", "appearance_score")


def flat_rows(result: ImageResult) -> list[dict[str, Any]]:
    """One dict per face with the FLAT_COLUMNS keys (one row of Nones if no face)."""
    if not result.faces:
        return [{c: None for c in FLAT_COLUMNS} | {"path": result.path, "error": result.error}]
    rows = []
    for i, face in enumerate(result.faces):
        row: dict[str, Any] = {c: None for c in FLAT_COLUMNS}
        row.update(path=result.path, error=result.error, face=i, score=round(face.score, 4), found_by=face.found_by)
        row.update(zip(("x1", "y1", "x2", "y2"), (round(v, 1) for v in face.bbox)))
        for name, pred in face.attributes.items():
            key = "age_group" if name == "age" else name
            row[key] = pred.label
            row[f"{name}_score"] = round(pred.score, 4)
            if name == "age":
                row["age_years"] = None if pred.years is None else round(pred.years, 2)
                row["age_group5"] = pred.group5
        rows.append(row)
    return rows


def flat_schema():  # -> pyarrow.Schema
    """The Parquet schema of :data:`FLAT_COLUMNS` (needs pyarrow: the ``parquet`` extra)."""
    pa = require("pyarrow", "parquet")
    text, num, integer = pa.string(), pa.float64(), pa.int32()  # type: ignore[attr-defined]
    types = {"face": integer, "x1": num, "y1": num, "x2": num, "y2": num, "score": num,
             "gender_score": num, "age_years": num, "age_score": num, "race_score": num,
             "emotion_score": num, "appearance_score": num}
    return pa.schema([(c, types.get(c, text)) for c in FLAT_COLUMNS])  # type: ignore[attr-defined]


class Writer(Protocol):
    def write(self, result: ImageResult) -> None: ...
    def close(self) -> None: ...


class JsonlWriter:
    def __init__(self, fp: IO[str], close: bool = True) -> None:
        self._fp, self._close = fp, close

    def write(self, result: ImageResult) -> None:
        self._fp.write(json.dumps(result.to_dict(), ensure_ascii=False) + "\n")
        self._fp.flush()

    def close(self) -> None:
        if self._close:
            self._fp.close()


class CsvWriter:
    def __init__(self, path: Path) -> None:
        self._fp = open(path, "w", newline="", encoding="utf-8")  # noqa: SIM115 (closed by close())
        self._csv = csv.DictWriter(self._fp, FLAT_COLUMNS)
        self._csv.writeheader()

    def write(self, result: ImageResult) -> None:
        self._csv.writerows(flat_rows(result))
        self._fp.flush()

    def close(self) -> None:
        self._fp.close()


class ParquetWriter:
    """Buffers rows and writes a row group every ``rows_per_group`` rows (and at close)."""

    def __init__(self, path: Path, rows_per_group: int = 256) -> None:
        pa = require("pyarrow", "parquet")
        pq = require("pyarrow.parquet", "parquet")
        self._schema = flat_schema()
        self._pa = pa
        self._writer = pq.ParquetWriter(str(path), self._schema)  # type: ignore[attr-defined]
        self._rows: list[dict[str, Any]] = []
        self._per_group = rows_per_group

    def write(self, result: ImageResult) -> None:
        self._rows.extend(flat_rows(result))
        if len(self._rows) >= self._per_group:
            self._flush()

    def _flush(self) -> None:
        if self._rows:
            self._writer.write_table(self._pa.Table.from_pylist(self._rows, self._schema))
            self._rows = []

    def close(self) -> None:
        self._flush()
        self._writer.close()


def open_writer(target: str, stdout: IO[str]) -> Writer:
    """A writer for ``target``: '-' (JSONL on stdout) or a path ending .jsonl/.json/.csv/.parquet."""
    if target == "-":
        return JsonlWriter(stdout, close=False)
    path = Path(target)
    suffix = path.suffix.lower()
    if suffix not in (".jsonl", ".json", ".ndjson", ".csv", ".parquet"):
        raise ConfigError(f"--output {target}: use a name ending in .jsonl, .csv or .parquet, or '-'")
    if path.parent and not path.parent.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".csv":
        return CsvWriter(path)
    if suffix == ".parquet":
        return ParquetWriter(path)
    return JsonlWriter(open(path, "w", encoding="utf-8"))


def describe(face_attrs: dict[str, Any]) -> str:
    """A short text for one face, e.g. 'female 0.97 | 27y, group 20-29 | white 0.80 | happy 0.91'."""
    parts = []
    for name, pred in face_attrs.items():
        if name == "age" and pred.years is not None:
            parts.append(f"{pred.years:.0f}y, group {pred.label}")
        elif name == "appearance":
            parts.append(pred.label)
        else:
            parts.append(f"{pred.label} {pred.score:.2f}")
    return " | ".join(parts)
