"""facescan models: the shipped models, their licences and sha256 status; and every name that
an option picks (backends, detectors, embedders, ...), from :mod:`facescan.registry`."""

from __future__ import annotations

import argparse

from .common import EXIT_OK, EXIT_USAGE


def print_names(as_json: bool) -> None:
    """Every registered name by kind, with its help text and the extra it needs."""
    from .. import registry

    if as_json:
        import json

        print(json.dumps({kind: [e.to_dict() for e in registry.entries(kind)] for kind in registry.KINDS},
                         indent=2))
        return
    rows = [(e.kind, e.name, (e.extra + ("" if e.installed else " (not installed)")) if e.extra else "-", e.help)
            for kind in registry.KINDS for e in registry.entries(kind)]
    header = ("kind", "name", "extra", "help")
    widths = [max(len(r[i]) for r in rows + [header]) for i in range(3)]
    for r in [header] + rows:
        print("  ".join(v.ljust(w) for v, w in zip(r, widths)) + "  " + r[3])


def run(args: argparse.Namespace) -> int:
    if args.names:
        print_names(args.json)
        return EXIT_OK
    from ..errors import ModelError
    from ..models import all_specs

    rows = []
    for spec in all_specs():
        try:
            spec.verified_path()
            status = "ok"
        except ModelError as exc:
            optional = spec.extra and not _installed(spec.package)
            status = f"optional: pip install 'facescan[{spec.extra}]'" if optional else f"ERROR: {exc}"
        rows.append((spec.name, spec.task, ",".join(spec.attributes) or "-", spec.licence,
                     spec.sha256[:12], status))
    if args.json:
        import json

        print(json.dumps([{"name": s.name, "task": s.task, "attributes": list(s.attributes),
                           "package": s.package, "path": s.path, "sha256": s.sha256,
                           "licence": s.licence, "source": s.source,
                           "training_data": s.training_data, "input_size": s.input_size,
                           "crop": s.crop, "status": r[-1]}
                          for s, r in zip(all_specs(), rows)], indent=2))
    else:
        header = ("name", "task", "attributes", "licence", "sha256", "status")
        widths = [max(len(str(r[i])) for r in rows + [header]) for i in range(5)]
        for r in [header] + rows:
            print("  ".join(str(v).ljust(w) for v, w in zip(r, widths)) + "  " + str(r[5]))
        print()
        print_names(False)
    return EXIT_USAGE if any(r[5].startswith("ERROR") for r in rows) else EXIT_OK


def _installed(package: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(package) is not None


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("models", help="list the models, their licences and sha256 status, and the names "
                       "each option takes (backends, detectors, embedders, vision-language backends, stores, "
                       "engines)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--names", action="store_true", help="only the names each option takes, by kind, with "
                   "their help and the extra each needs (with --json: {kind: [{name, target, help, extra, "
                   "installed}]})")
    p.set_defaults(func=run)

