"""facescan index: add photos (files, folders recursively, globs) to a face store."""

from __future__ import annotations

import argparse
import sys

from .common import (
    EXIT_INPUT_ERRORS,
    EXIT_INTERRUPTED,
    EXIT_OK,
    add_engine_options,
    add_index_options,
    add_store_options,
    scale_out,
)

SHOWN_FAILURES = 20


def _report(summary, store_stats: dict | None, interrupted: bool = False) -> None:
    head = "interrupted: " if interrupted else ""
    print(f"facescan: {head}{summary.done} of {summary.total} photos: {summary.new} new, {summary.skipped} "
          f"already stored, {summary.moved} moved, {summary.failed} failed; {summary.faces} new faces",
          file=sys.stderr)
    for path, error in summary.failures[:SHOWN_FAILURES]:
        print(f"  failed: {error if error.startswith(path) else f'{path}: {error}'}", file=sys.stderr)
    if len(summary.failures) > SHOWN_FAILURES:
        print(f"  ... and {len(summary.failures) - SHOWN_FAILURES} more failures", file=sys.stderr)
    if store_stats:
        print(f"facescan: {store_stats['store']} now holds {store_stats['faces']} faces from "
              f"{store_stats['photos']} photos ({store_stats['embedding_model']} embeddings)", file=sys.stderr)
    if interrupted:
        print("facescan: every finished batch is stored; run the same command again to go on", file=sys.stderr)


def index_paths(store, args: argparse.Namespace):  # -> IndexSummary
    """Index ``args.paths`` into ``store`` with a progress bar and a printed summary."""
    from ..pipeline import Analyzer

    model = store.resolve_model(args.model)
    engine = scale_out(args) if hasattr(args, "engine") else None  # facescan cluster has no --engine
    analyzer = None if engine is not None else \
        Analyzer(embed=model, detect_scales=args.detect_scales, max_faces=args.max_faces)
    progress = None
    if not args.quiet:
        from tqdm import tqdm

        progress = tqdm(unit="photo", file=sys.stderr, disable=None)
    last: list = [None]

    def update(summary) -> None:
        if progress is not None:
            progress.total = summary.total
            progress.n = summary.done
            progress.set_postfix(new=summary.new, faces=summary.faces, failed=summary.failed, refresh=False)
            progress.refresh()
        last[0] = summary

    try:
        if engine is not None:
            from .common import ray_options

            options = {"detect_scales": args.detect_scales, "max_faces": args.max_faces}
            summary = engine.index_into_store(store, args.paths, model, options, ray_options(args), args.db, update)
        else:
            summary = store.index(args.paths, model=model, analyzer=analyzer, batch_size=args.batch_size,
                                  progress=update)
    except KeyboardInterrupt:
        if last[0] is not None:
            _report(last[0], None, interrupted=True)
        raise
    finally:
        if progress is not None:
            progress.close()
    _report(summary, store.stats())
    return summary


def run(args: argparse.Namespace) -> int:
    from ..store import open_store

    with open_store(args.db, create=True, timeout=args.wait) as store:
        try:
            summary = index_paths(store, args)
        except KeyboardInterrupt:
            return EXIT_INTERRUPTED
    return EXIT_INPUT_ERRORS if summary.failed else EXIT_OK


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("index", help="add photos to a face store (recursive, incremental)",
                       description="Detect every face, its attributes and identity embedding, and store "
                       "them. Photos already in the store (same bytes) are skipped; moved ones get "
                       "their new path. Each batch is one transaction: an interrupted run loses nothing.")
    p.add_argument("paths", nargs="+", help="image files, folders (recursively) or glob patterns")
    add_store_options(p)
    add_index_options(p)
    add_engine_options(p)
    p.set_defaults(func=run)
