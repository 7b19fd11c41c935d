"""facescan analyze: faces and their attributes in images, folders or globs."""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path

from .common import (
    EXIT_INPUT_ERRORS,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    add_engine_options,
    add_finding_options,
    add_vlm_options,
    describe_usage,
    embed_help,
    scale_out,
    vlm_options,
)


def _print_summary(result) -> None:
    from ..output import describe
    from ..pipeline import WHOLE_IMAGE

    print(f"{result.path}: " + (f"error: {result.error}" if result.error
                                else f"{len(result.faces)} face(s)"), flush=True)
    for i, face in enumerate(result.faces):
        box = ", ".join(f"{v:.0f}" for v in face.bbox)
        whole = " (no face found: the whole image)" if face.found_by == WHOLE_IMAGE else ""
        print(f"  #{i + 1} [{box}]{whole} {describe(face.attributes)}", flush=True)


def _save_annotated(result, folder: Path, used: set[str]) -> None:
    from PIL import Image

    from ..annotate import annotate
    from ..io import load_image

    stem, k = Path(result.path).stem, 1
    name = stem + ".jpg"
    while name in used:  # same file name in two folders
        name, k = f"{stem}_{k}.jpg", k + 1
    used.add(name)
    Image.fromarray(annotate(load_image(result.path), result)).save(folder / name, quality=92)


def run_engine(args: argparse.Namespace, options: dict, paths: list[str], engine) -> int:
    """--engine ray: Parquet part files in the folder -o NAME.parquet, resumable."""
    from ..errors import ConfigError
    from .common import ray_options

    if not args.output or not args.output.lower().endswith(".parquet"):
        raise ConfigError("--engine ray writes a Parquet data set: give -o NAME.parquet (a folder of part files)")
    if args.annotate or args.embed:
        raise ConfigError("--engine ray writes the Parquet rows only: run --annotate and --embed locally")
    progress = None
    if not args.quiet:
        from tqdm import tqdm

        progress = tqdm(total=len(paths), unit="img", file=sys.stderr, disable=None)
    tally = {"faces": 0, "errors": 0}

    def update(images: int, faces: int, errors: int) -> None:
        tally["faces"] += faces
        tally["errors"] += errors
        if progress is not None:
            progress.update(images)
            progress.set_postfix(tally, refresh=False)

    try:
        counts = engine.analyze_to_parquet(paths, args.output, options, ray_options(args), update)
    except KeyboardInterrupt:
        print(f"\nfacescan: interrupted; the finished parts are in {args.output}: run the same command "
              "again to go on", file=sys.stderr)
        return EXIT_INTERRUPTED
    finally:
        if progress is not None:
            progress.close()
    if not args.quiet:
        print(f"facescan: {counts['images']} images, {counts['faces']} faces, {counts['errors']} errors; "
              f"{counts['skipped']} already in {args.output}", file=sys.stderr)
    return EXIT_INPUT_ERRORS if counts["errors"] else EXIT_OK


def run(args: argparse.Namespace) -> int:
    from ..io import iter_image_paths
    from ..output import open_writer
    from ..pipeline import Analyzer

    options = {"attributes": args.attributes, "backend": args.backend, "detector": args.detector,
               "min_score": args.min_score, "abstain_below": args.abstain_below,
               "backend_options": vlm_options(args), "detect_scales": args.detect_scales,
               "max_faces": args.max_faces, "embed": args.embed, "if_no_face": args.if_no_face}
    paths = list(iter_image_paths(args.paths))
    if not paths:
        print("facescan: no images found in the given paths", file=sys.stderr)
        return EXIT_USAGE
    engine = scale_out(args)
    if engine is not None:
        return run_engine(args, options, paths, engine)
    analyzer = Analyzer(**options)
    writer = open_writer(args.output, sys.stdout) if args.output else None
    annotate_dir = Path(args.annotate) if args.annotate else None
    if annotate_dir:
        annotate_dir.mkdir(parents=True, exist_ok=True)
    used_names: set[str] = set()
    errors = done = faces = 0
    progress = None
    redirect: contextlib.AbstractContextManager = contextlib.nullcontext()
    if not args.quiet:
        from tqdm import tqdm
        from tqdm.contrib.logging import logging_redirect_tqdm

        progress = tqdm(total=len(paths), unit="img", file=sys.stderr, disable=None)
        redirect = logging_redirect_tqdm()  # warnings print above the bar, not through it
    try:
        with redirect:
            for result in analyzer.analyze_many(paths, batch_size=args.batch_size):
                done += 1
                faces += len(result.faces)
                errors += result.error is not None
                if writer:
                    writer.write(result)
                else:
                    _print_summary(result)
                if annotate_dir and result.error is None:
                    _save_annotated(result, annotate_dir, used_names)
                if progress is not None:
                    progress.update(1)
                    progress.set_postfix(faces=faces, errors=errors, refresh=False)
    except KeyboardInterrupt:
        print(f"\nfacescan: interrupted after {done} of {len(paths)} images; "
              "results so far are saved", file=sys.stderr)
        return EXIT_INTERRUPTED
    finally:
        if progress is not None:
            progress.close()
        if writer:
            writer.close()
    if not args.quiet:
        print(f"facescan: {done} images, {faces} faces, {errors} errors", file=sys.stderr)
        usage = analyzer.usage()
        if usage:
            print(f"facescan: {args.backend}: {describe_usage(usage)}", file=sys.stderr)
    return EXIT_INPUT_ERRORS if errors else EXIT_OK


def add_parser(sub: argparse._SubParsersAction) -> None:
    from .. import registry
    from ..pipeline import ALL_ATTRIBUTES, ATTRIBUTES, DEFAULT_BACKEND

    p = sub.add_parser("analyze", help="analyse images, folders (recursively) or globs")
    p.add_argument("paths", nargs="+", help="image files, folders or glob patterns")
    p.add_argument("-o", "--output", help="write records to FILE.jsonl, FILE.csv, FILE.parquet "
                   "or '-' (JSONL on stdout); default: a readable summary on stdout")
    p.add_argument("--annotate", metavar="DIR", help="also save each image with boxes and labels")
    p.add_argument("--attributes", default=",".join(ATTRIBUTES),
                   help=f"comma-separated subset of {','.join(ALL_ATTRIBUTES)} "
                   f"(default: {','.join(ATTRIBUTES)})")
    p.add_argument("--backend", default=DEFAULT_BACKEND, metavar="NAME",
                   help=f"which attribute models to use: {', '.join(registry.names('backend'))}, or a "
                   f"vision-language backend ({', '.join(registry.names('vlm'))}; NAME:ARG; `facescan models` "
                   "lists them all)")
    add_finding_options(p)
    p.add_argument("--embed", nargs="?", const=True, default=False, metavar="MODEL",
                   help=f"also record each face's identity embedding, by MODEL ({embed_help()}); "
                   "in JSONL output only")
    p.add_argument("--abstain-below", type=float, default=0.0, metavar="P",
                   help="label an attribute 'uncertain' when its top probability is below P")
    p.add_argument("--batch-size", type=int, default=16, help="images per inference batch")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar or summary")
    add_vlm_options(p)
    add_engine_options(p)
    p.set_defaults(func=run)

