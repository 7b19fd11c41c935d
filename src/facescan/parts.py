"""A resumable Parquet output: a folder of part files, each written whole or not at all.

``facescan analyze --engine ray -o faces.parquet`` makes ``faces.parquet/`` a Parquet data set
(pandas, pyarrow, DuckDB and Spark read the folder as one table) whose rows have exactly the
columns of ``analyze -o x.parquet`` (:data:`facescan.output.FLAT_COLUMNS`). Each part file is
written under a temporary name and renamed when complete, so a killed run leaves only whole
parts. A part's footer metadata lists the inputs it holds (path -> sha256 of the file's bytes):
a re-run reads those footers and skips every input already written with the same content; an
input whose file changed since is dropped from its part and analysed again. Nothing is
duplicated: each input's rows are in exactly one part.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from .errors import ConfigError, require

INPUTS_KEY = b"facescan.inputs"  # footer metadata: JSON {path: sha256 or null}
PREFIX, SUFFIX = "part-", ".parquet"


def file_sha256(path: str) -> str | None:
    """The sha256 of a local file's bytes (None if it cannot be read)."""
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                digest.update(chunk)
    except OSError:
        return None
    return digest.hexdigest()


class PartsFolder:
    """The part files under ``folder`` (made if missing)."""

    def __init__(self, folder: str | os.PathLike) -> None:
        self.pq = require("pyarrow.parquet", "parquet")
        self.folder = Path(folder)
        if self.folder.exists() and not self.folder.is_dir():
            raise ConfigError(f"{self.folder} is a file; --engine ray writes a folder of Parquet parts there: "
                              "give a new name (or remove the file)")
        self.folder.mkdir(parents=True, exist_ok=True)
        for stale in self.folder.glob(".tmp-*"):  # a part a killed run did not finish
            stale.unlink(missing_ok=True)

    def parts(self) -> list[Path]:
        return sorted(self.folder.glob(f"{PREFIX}*{SUFFIX}"))

    def inputs(self, part: Path) -> dict[str, str | None]:
        meta = self.pq.read_schema(part).metadata or {}
        return json.loads(meta.get(INPUTS_KEY, b"{}"))

    def done(self) -> dict[str, str | None]:
        """path -> sha256 (None: the input was missing) of every input already written."""
        out: dict[str, str | None] = {}
        for part in self.parts():
            out.update(self.inputs(part))
        return out

    def write(self, table: Any, inputs: Mapping[str, str | None]) -> Path:
        """Write ``table`` (a pyarrow Table) as a new part holding ``inputs``; atomically."""
        meta = dict(table.schema.metadata or {})
        meta[INPUTS_KEY] = json.dumps(dict(inputs)).encode()
        table = table.replace_schema_metadata(meta)
        name = f"{PREFIX}{uuid.uuid4().hex}{SUFFIX}"
        tmp = self.folder / f".tmp-{name}"
        self.pq.write_table(table, tmp)
        os.replace(tmp, self.folder / name)
        return self.folder / name

    def forget(self, paths: Iterable[str]) -> int:
        """Drop every row of these inputs (each part rewritten atomically); returns the parts changed."""
        pc = require("pyarrow.compute", "parquet")
        gone = set(paths)
        changed = 0
        for part in self.parts():
            inputs = self.inputs(part)
            if not gone & inputs.keys():
                continue
            table = self.pq.read_table(part)
            keep = table.filter(pc.invert(pc.is_in(table.column("path"), value_set=_array(list(gone)))))
            left = {p: s for p, s in inputs.items() if p not in gone}
            part.unlink()  # first: a kill right here makes the next run redo ``left``, never duplicate it
            if left:
                self.write(keep, left)
            changed += 1
        return changed

    def pending(self, paths: list[str]) -> tuple[list[str], int]:
        """The inputs still to do (in order) and how many are skipped. An input already written is
        skipped when its bytes are unchanged (sha256; a URL by path alone), else it is dropped
        from its part and redone."""
        done = self.done()
        todo, changed = [], []
        for path in paths:
            if path not in done:
                todo.append(path)
            elif "://" not in path and file_sha256(path) != done[path]:
                todo.append(path)
                changed.append(path)
        self.forget(changed)
        return todo, len(paths) - len(todo)


def _array(values: list[str]) -> Any:
    pa = require("pyarrow", "parquet")
    return pa.array(values, pa.string())  # type: ignore[attr-defined]
