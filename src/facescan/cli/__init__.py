"""The ``facescan`` command line: one module per command. Exit codes:

    0  every input was analysed (images without faces included)
    1  at least one input could not be read: its record has "error" set, the others are fine
    2  bad usage or configuration (unknown option value, model missing or corrupt)
    130  interrupted (Ctrl-C): everything finished before that is written
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from .. import __version__
from ..errors import FacescanError
from . import (
    analyze,
    cluster,
    evaluate,
    finetune,
    forget,
    index,
    models,
    report,
    search,
    serve,
    target,
    train,
    verify,
    video,
)
from .common import EXIT_INPUT_ERRORS, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE

__all__ = ["EXIT_INPUT_ERRORS", "EXIT_INTERRUPTED", "EXIT_OK", "EXIT_USAGE", "build_parser", "main"]

COMMANDS = (analyze, evaluate, target, report, models, train, finetune, verify, index, search, cluster, forget,
            serve, video)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="facescan", description="Find faces and tell their "
                                     "gender, age, race and emotion, offline.")
    parser.add_argument("--version", action="version", version=f"facescan {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log more")
    sub = parser.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        command.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="facescan: %(levelname)s: %(message)s")
    try:
        return int(args.func(args))
    except FacescanError as exc:
        print(f"facescan: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("\nfacescan: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
