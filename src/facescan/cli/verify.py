"""facescan verify: are the faces of two images the same person?"""

from __future__ import annotations

import argparse
import json
import sys

from .common import EXIT_INPUT_ERRORS, EXIT_OK, add_name_option


def run(args: argparse.Namespace) -> int:
    from ..errors import ImageError
    from ..identity.verify import verify_faces
    from ..pipeline import Analyzer

    analyzer = Analyzer((), detector="yunet", embed=args.model or True)
    try:
        faces = [analyzer.analyze(path) for path in (args.image_a, args.image_b)]
        result = verify_faces(faces[0], faces[1], args.face_a, args.face_b, (args.image_a, args.image_b))
    except ImageError as exc:  # unreadable, no face, no face number N: the input's fault
        print(f"facescan: error: {exc}", file=sys.stderr)
        return EXIT_INPUT_ERRORS
    if args.json:
        record = result.to_dict()
        record["a"]["path"], record["b"]["path"] = args.image_a, args.image_b
        print(json.dumps(record, indent=2))
        return EXIT_OK
    verdict = "same person" if result.same else "different people"
    print(f"{verdict} (probability {result.probability:.2f}): cosine distance {result.distance:.3f} "
          f"{'<=' if result.same else '>'} threshold {result.threshold:.3f} [{result.model}]")
    for path, index, count, given in ((args.image_a, result.index_a, result.faces_a, args.face_a),
                                      (args.image_b, result.index_b, result.faces_b, args.face_b)):
        how = "as asked" if given is not None else ("the only one" if count == 1 else "the largest")
        print(f"  {path}: face {index} of {count} ({how})")
    return EXIT_OK


def add_parser(sub: argparse._SubParsersAction) -> None:
    from ..identity import DEFAULT_EMBEDDER

    p = sub.add_parser("verify", help="are the faces of two images the same person?")
    p.add_argument("image_a", metavar="A", help="first image")
    p.add_argument("image_b", metavar="B", help="second image")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--face-a", type=int, metavar="N", help="face N of A (0-based, left to right; default: largest)")
    p.add_argument("--face-b", type=int, metavar="N", help="face N of B (0-based, left to right; default: largest)")
    add_name_option(p, "--model", "embedder", None, f"identity embedder (default {DEFAULT_EMBEDDER})")
    p.set_defaults(func=run)
