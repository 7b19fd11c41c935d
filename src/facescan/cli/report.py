"""facescan report: an HTML page or Markdown tables from saved eval runs."""

from __future__ import annotations

import argparse
from pathlib import Path

from .common import EXIT_OK


def run(args: argparse.Namespace) -> int:
    from ..eval.report import html_page, load_runs, markdown

    runs = load_runs(args.runs)
    if args.format == "md":
        text = markdown(runs)
        if args.out:
            Path(args.out).write_text(text, encoding="utf-8")
            print(f"wrote {args.out}")
        else:
            print(text, end="")
        return EXIT_OK
    out = Path(args.out or "report.html")
    out.write_text(html_page(runs), encoding="utf-8")
    print(f"wrote {out}")
    return EXIT_OK


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("report", help="HTML page or Markdown tables from saved eval runs")
    p.add_argument("runs", nargs="+", metavar="RUN_DIR", help="folders written by facescan eval --out")
    p.add_argument("--out", help="file to write (default: report.html; with --format md: stdout)")
    p.add_argument("--format", choices=["html", "md"], default="html",
                   help="html: one self-contained page with plots (needs facescan[report]); md: tables")
    p.set_defaults(func=run)

