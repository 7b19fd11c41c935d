"""facescan cluster: group the faces of a store (or of photos) by person, name people."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import tempfile
from pathlib import Path

from ..errors import ConfigError
from .common import EXIT_OK, add_index_options, add_store_options


def _names(values: list[str]) -> dict[int, str]:
    out = {}
    for value in values:
        pid, sep, name = value.partition("=")
        if not sep or not pid.strip().isdigit() or not name.strip():
            raise ConfigError(f"--name {value!r}: expected PERSON_ID=NAME, e.g. --name 3='Ada Lovelace'")
        out[int(pid)] = name.strip()
    return out


def _line(person) -> str:
    s = person.summary
    parts = [f"person {person.id}" + (f" ({person.name})" if person.name else ""),
             f"{person.faces} face(s) in {len(person.photos)} photo(s)"]
    if "gender" in s:
        parts.append(f"{s['gender']['label']} {s['gender']['share']:.0%}")
    if "age" in s:
        parts.append(f"{s['age']['median_years']:.0f}y")
    if "race" in s:
        parts.append(f"{s['race']['label']} {s['race']['score']:.2f}")
    example = person.photos[0] + (f" (+{len(person.photos) - 1} more)" if len(person.photos) > 1 else "")
    return " | ".join(parts) + f"\n    {example}"


def run(args: argparse.Namespace) -> int:
    from ..store import open_store
    from ..store.people import cluster_store

    if not args.paths and not args.db:
        raise ConfigError("facescan cluster needs photos (PATH...) or a store (--db DB), or both")
    names = _names(args.name)
    with tempfile.TemporaryDirectory() as tmp, \
            open_store(args.db or str(Path(tmp) / "faces.db"), create=True, timeout=args.wait) as store:
        if args.paths:
            from .index import index_paths

            index_paths(store, args)
        found = cluster_store(store, threshold=args.threshold, method=args.method, recluster=args.recluster)
        for pid, name in names.items():
            store.name_person(pid, name)
        found = [dataclasses.replace(p, name=names[p.id]) if p.id in names else p for p in found]
        record = {"store": store.name if args.db else None, "embedding_model": store.model,
                  "method": args.method, "people": [p.to_dict() for p in found]}
    if args.output == "-":
        print(json.dumps(record, ensure_ascii=False))
        return EXIT_OK
    if args.output:
        Path(args.output).write_text(json.dumps(record, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    shown = found if args.all else [p for p in found if p.faces > 1 or p.name]
    for person in shown:
        print(_line(person))
    alone = len(found) - len(shown)
    print(f"facescan: {len(found)} people" + (f" ({alone} seen once, not shown: --all)" if alone else "")
          + (f"; written to {args.output}" if args.output else ""), file=sys.stderr)
    return EXIT_OK


def add_parser(sub: argparse._SubParsersAction) -> None:
    from ..identity.cluster import METHODS

    p = sub.add_parser("cluster", help="group faces by person (a store, photos, or both); name people",
                       description="Faces already given a person keep it; new faces join the nearest "
                       "person or form new people. With --db the people (and names) are saved in the "
                       "store; photos given without --db are clustered in a temporary store.")
    p.add_argument("paths", nargs="*", help="photos to index first (files, folders, globs)")
    add_store_options(p, required=False)
    p.add_argument("-o", "--output", help="write the people as JSON to FILE or '-' (stdout)")
    p.add_argument("--method", choices=METHODS, default="whispers",
                   help="whispers (default: Chinese whispers, scales to big stores), agglomerative or "
                   "hdbscan (these two need facescan[cluster])")
    p.add_argument("--threshold", type=float, help="cosine distance under which two faces are the same "
                   "person (default: chosen on LFW-a for the store's embedding model)")
    p.add_argument("--recluster", action="store_true", help="cluster every face again (named people keep "
                   "their name: it goes to the group holding most of their faces)")
    p.add_argument("--name", action="append", default=[], metavar="ID=NAME", help="name a person (repeatable)")
    p.add_argument("--all", action="store_true", help="also list people seen once")
    add_index_options(p)
    p.set_defaults(func=run)
