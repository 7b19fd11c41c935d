"""Regenerate BENCHMARKS.md from the result files in benchmarks/results/.

    python benchmarks/report.py            (rewrite BENCHMARKS.md)
    python benchmarks/report.py --check    (exit 1 if BENCHMARKS.md is not what the results give)

The document's outline and prose are ``results/layout.md``: a line ``{{NAME}}`` there becomes the
result file ``results/NAME.json`` rendered (its provenance line, then its tables and notes);
``{{?NAME}}`` the same, or nothing while that file does not exist; ``{{headline}}`` the table of
current numbers taken from several files. Every result file is JSON with a ``meta`` object
(``measured``, ``machine``, ``python``, ``command``, ``seconds``; ``source`` when its rows were
transcribed from an earlier BENCHMARKS.md) and either ``blocks`` (paragraphs and tables, what most
scripts print) or the raw numbers of one ``kind`` that ``result_tables.py`` renders (wild, bench, ann,
store, serve, video). Benchmark scripts save their result here with ``save``/``publish`` and then
call ``write``: no script edits BENCHMARKS.md itself.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import result_tables as tables

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
TARGET = HERE.parent / "BENCHMARKS.md"
PLACEHOLDER = re.compile(r"^\{\{(\??)([\w.-]+)\}\}$")


def machine() -> str:
    """"2 cores (CPU model)" of this machine, as provenance lines name it."""
    info = Path("/proc/cpuinfo")
    lines = info.read_text().splitlines() if info.exists() else []
    cpu = next((line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")),
               platform.processor() or platform.machine())
    return f"{os.cpu_count()} cores ({cpu})"


def measured(command: str, seconds: float | None = None, **extra) -> dict:
    """The ``meta`` of a result measured now, on this machine, by ``command``."""
    meta = {"measured": datetime.date.today().isoformat(), "machine": machine(),
            "python": platform.python_version(), "command": command}
    if seconds is not None:
        meta["seconds"] = round(seconds)
    return meta | extra


def provenance(meta: dict) -> str:
    """"Measured DATE on MACHINE, Python V, by `command` (S s)." (the parts a meta has)."""
    text = f"Measured {meta['measured']}"
    if meta.get("machine"):
        text += f" on {meta['machine']}"
    if meta.get("python"):
        text += f", Python {meta['python']}"
    if meta.get("command"):
        text += f", by `{meta['command']}`"
    if meta.get("seconds") is not None:
        text += f" ({meta['seconds']} s)"
    text += "."
    if meta.get("source"):
        text += f" {meta['source'][:1].upper()}{meta['source'][1:]}."
    return text


def to_blocks(text: str) -> list:
    """Markdown as printed by a script -> blocks: paragraph strings and {"columns", "rows"} tables."""
    blocks, group = [], []
    for line in [*text.strip().splitlines(), ""]:
        if line.strip():
            group.append(line.rstrip())
            continue
        if group and all(g.startswith("|") for g in group):
            cells = [[c.strip() for c in g.strip()[1:-1].split("|")] for g in group]
            blocks.append({"columns": cells[0], "rows": cells[2:]})
        elif group:
            blocks.append("\n".join(group))
        group = []
    return blocks


def load(name: str) -> dict:
    return json.loads((RESULTS / f"{name}.json").read_text())


def save(name: str, result: dict) -> Path:
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n")
    return path


def render_result(result: dict) -> str:
    """One result file as Markdown: provenance line, then its tables and notes."""
    kind = result.get("kind", "blocks")
    parts = [] if kind in tables.OWN_PROVENANCE else [provenance(result["meta"])]
    parts.append(tables.blocks_md(result["blocks"]) if kind == "blocks" else tables.RENDER[kind](result, provenance))
    if result.get("notes"):
        parts.append(tables.blocks_md(result["notes"]))
    return "\n\n".join(p for p in parts if p)


def publish(name: str, meta: dict, text: str, write: str | None) -> None:
    """What a script that prints Markdown does with it: print it; with ``--write FILE`` also save it
    as ``results/NAME.json`` (blocks) and regenerate FILE from every result."""
    print(provenance(meta) + "\n\n" + text)
    if write:
        save(name, {"meta": meta, "blocks": to_blocks(text)})
        write_report(Path(write))


def find(result: dict, row: str, column: str) -> str:
    """The cell of a blocks table whose first cell starts with ``row``, in the column whose header
    starts with ``column`` (the first table having both), without bold marks."""
    for b in result["blocks"]:
        if isinstance(b, str):
            continue
        col = next((i for i, c in enumerate(b["columns"]) if c.startswith(column)), None)
        hit = next((r for r in b["rows"] if r[0].replace("**", "").startswith(row)), None)
        if col is not None and hit is not None:
            return hit[col].replace("**", "")
    raise KeyError(f"no cell {row!r} / {column!r} in {result['meta'].get('command')}")


def render(layout: str | None = None) -> str:
    """The whole BENCHMARKS.md from ``layout`` (default ``results/layout.md``) and the result files."""
    layout = (RESULTS / "layout.md").read_text() if layout is None else layout
    out = []
    for line in layout.splitlines():
        m = PLACEHOLDER.match(line.strip())
        if not m:
            out.append(line)
        elif m.group(2) == "headline":
            out.append(tables.headline(load, find))
        elif m.group(1) and not (RESULTS / f"{m.group(2)}.json").exists():
            continue
        else:
            out.append(render_result(load(m.group(2))))
    return re.sub(r"\n{3,}", "\n\n", "\n".join(out)).rstrip("\n") + "\n"  # (a skipped {{?NAME}})


def write_report(path: Path = TARGET) -> None:
    path.write_text(render())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true", help="only compare with BENCHMARKS.md (exit 1 if it differs)")
    ap.add_argument("--out", default=str(TARGET), help="the file to write (default: BENCHMARKS.md)")
    args = ap.parse_args()
    if args.check:
        same = Path(args.out).exists() and Path(args.out).read_text() == render()
        print(f"{args.out} is {'up to date' if same else 'NOT what benchmarks/results/ give'}")
        sys.exit(0 if same else 1)
    write_report(Path(args.out))


if __name__ == "__main__":
    main()
