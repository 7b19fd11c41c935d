"""facescan forget: delete photos or a person's faces from a face store, for good."""

from __future__ import annotations

import argparse

from .common import EXIT_INPUT_ERRORS, EXIT_OK, add_store_options


def run(args: argparse.Namespace) -> int:
    from ..store import open_store

    with open_store(args.db, create=False, timeout=args.wait) as store:
        done = store.forget(path=args.path, person=args.person)
        if args.path is not None and done.photos == 0:
            print(f"facescan: nothing stored at or under {args.path}")
            return EXIT_INPUT_ERRORS
        what = f"{done.photos} photo(s), {done.faces} face(s)" if args.path else f"person {args.person}: {done.faces} face(s)"
        from ..store import is_postgres

        where = ("deleted and vacuumed (PostgreSQL does not zero freed space: VACUUM FULL facescan.faces "
                 "rewrites the table)" if is_postgres(args.db) else "overwritten in the store's files")
        print(f"facescan: forgot {what} from {store.name}; their embeddings are {where}")
    return EXIT_OK


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("forget", help="delete photos or a person's faces from a face store, for good")
    add_store_options(p)
    target = p.add_mutually_exclusive_group(required=True)
    target.add_argument("--path", metavar="P", help="a photo, or a folder: every stored photo under it")
    target.add_argument("--person", type=int, metavar="ID", help="every face of this person, and the name")
    p.set_defaults(func=run)
