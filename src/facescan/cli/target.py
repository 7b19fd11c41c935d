"""facescan target: the person a description means, and their attributes."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .common import EXIT_INPUT_ERRORS, EXIT_OK, add_finding_options


def _print_target(path: str, record: dict) -> None:
    import json

    from ..output import describe
    from ..types import Prediction

    match = record["match"]
    head = f"{path}: {record['description']!r} -> {record['status']}: {record['message']}"
    print(head, flush=True)
    for c in record["constraints"]:
        score = "not measured" if c.get("score") is None else f"{c['score']:.2f}"
        mark = {True: "matched", False: "NOT matched", None: "?"}[c.get("matched")]
        neg = "not " if c.get("negated") else ""
        print(f"  {mark}: {c['kind']} {neg}{c['value']} ({c['words']!r}) {score}", flush=True)
    for key in ("not_understood", "unsupported", "contradictions"):
        if record.get(key):
            print(f"  {key.replace('_', ' ')}: " + ", ".join(map(str, record[key])), flush=True)
    person = record.get("person")
    if match and person:
        attrs = {k: Prediction(v["label"], v.get("score", 1.0), v.get("probs", {}), v.get("years"),
                               v.get("group5"))
                 for k, v in person["attributes"].items() if isinstance(v, dict)}
        box = ", ".join(f"{v:.0f}" for v in match["bbox"])
        print(f"  #{match['number']} [{box}] " + (describe(attrs) if attrs else json.dumps(person["attributes"])))
        phys = person["physical"]
        colours = ", ".join(f"{c['name']} {c['share']:.0%}" for c in phys["clothing_colors"]) or "-"
        pose = phys["head_pose"]
        print(f"     clothing: {colours} | hair: {phys['hair_color'] or '-'} | "
              f"{phys['position']['horizontal']}, {phys['position']['depth']}"
              + (f" | {pose['facing']}" if pose else ""), flush=True)
    others = [c for c in record["candidates"] if not match or c["index"] != match["index"]][:4]
    if others:
        print("  others: " + ", ".join(f"#{c['number']} {c['score']:.2f}" for c in others), flush=True)


def run(args: argparse.Namespace) -> int:
    import json

    from ..errors import ImageError
    from ..pipeline import ALL_ATTRIBUTES, Analyzer
    from ..target import find_person

    analyzer = Analyzer(ALL_ATTRIBUTES, detector=args.detector, min_score=args.min_score,
                        detect_scales=args.detect_scales, max_faces=args.max_faces)
    try:
        result = find_person(args.image, args.description, backend=args.backend, analyzer=analyzer,
                             api_base=args.api_base)
    except ImageError as exc:  # the input, not the usage, is at fault: exit code 1 as for analyze
        print(f"facescan: error: {exc}", file=sys.stderr)
        return EXIT_INPUT_ERRORS
    record = {"path": args.image, **result.to_dict()}
    if args.output == "-":
        print(json.dumps(record, ensure_ascii=False))
    elif args.output:
        Path(args.output).write_text(json.dumps(record, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        print(f"{args.image}: {result.status}: {result.message} (written to {args.output})")
    else:
        _print_target(args.image, record)
    return EXIT_OK


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("target", help="find the person a description means and report their attributes")
    p.add_argument("image", help="the image (a group photo)")
    p.add_argument("description", help='who, in plain English, e.g. "the man in the blue shirt"')
    p.add_argument("--backend", default="local", help="local (offline, default); gpt-4o (or another "
                   "gpt-* model) or openai:MODEL for any OpenAI-compatible endpoint (OPENAI_API_KEY); "
                   "gemini or gemini:MODEL (GEMINI_API_KEY); the VLMs need facescan[api]")
    p.add_argument("--api-base", help="base URL of the API (default: $OPENAI_BASE_URL for OpenAI-compatible ones)")
    p.add_argument("-o", "--output", help="write the JSON result to FILE.json or '-' (stdout)")
    add_finding_options(p, if_no_face=False)
    p.set_defaults(func=run)

