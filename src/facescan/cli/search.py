"""facescan search: the stored faces nearest to the face in an image."""

from __future__ import annotations

import argparse
import json
import sys

from .common import EXIT_OK, add_store_options


def run(args: argparse.Namespace) -> int:
    from ..pipeline import Analyzer
    from ..store import open_store

    with open_store(args.db, create=False, timeout=args.wait) as store:
        model = store.resolve_model(args.model)
        analyzer = Analyzer(attributes=(), embed=model)
        result = store.search(args.image, k=args.k, face=args.face, analyzer=analyzer)
    n, used = len(result.query_faces), result.used
    note = (f"{args.image}: {n} faces; searching with face {used} (0-based, left to right; "
            + ("the largest; choose another with --face N)" if args.face is None else "--face)")) if n > 1 else None
    if args.json:
        print(json.dumps({"query": args.image, "store": store.name, "model": model,
                          **result.to_dict()}, indent=2))
        if note:
            print(f"facescan: {note}", file=sys.stderr)
        return EXIT_OK
    if note:
        print(note)
    if not result.matches:
        print("no faces in the store")
    from ..identity.verify import CALIBRATIONS

    known = model in CALIBRATIONS
    for rank, m in enumerate(result.matches, 1):
        box = ", ".join(f"{v:.0f}" for v in m.bbox)
        who = "" if m.person_id is None else f"  person {m.person_id}" + (f" ({m.person_name})" if m.person_name else "")
        same = {True: "  same person", False: "", None: "  possibly the same person" if known else ""}[m.same_person]
        print(f"{rank:3d}. distance {m.distance:.3f}{same}  {m.path}  face {m.face_index} [{box}]{who}")
    return EXIT_OK


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("search", help="find the stored faces nearest to a face in an image")
    p.add_argument("image", help="the query image (its largest face is used unless --face N)")
    add_store_options(p)
    p.add_argument("-k", type=int, default=10, help="how many faces to return (default 10)")
    p.add_argument("--face", type=int, metavar="N", help="use face N of the query image (0-based, left to "
                   "right, as facescan verify; default: the largest)")
    p.add_argument("--model", metavar="NAME", help="embedding model (default: the store's; another is refused)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=run)
