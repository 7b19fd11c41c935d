"""facescan eval: backends scored on a labelled data set."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import ConfigError
from .common import (
    EXIT_OK,
    LOCAL_ENGINE,
    add_detector_option,
    add_engine_options,
    add_vlm_options,
    describe_usage,
    embed_help,
    scale_out,
    vlm_options,
)


def run_verification(args: argparse.Namespace) -> int:
    """LFW View-2 pairs: identity embedders, not attribute backends."""
    from ..eval.lfw import evaluate_lfw
    from ..identity import check_embedder

    models = [check_embedder(m.strip()) for m in (args.model or "").split(",") if m.strip()] or [check_embedder(None)]
    path = args.dataset.partition(":")[2]
    result = evaluate_lfw(path, models, Path(args.out), dataset=args.dataset, detector=args.detector)
    info = result["dataset_info"]
    print(f"LFW View-2: {info['pairs']} pairs in {info['folds']} folds, {info['images']} images, "
          f"no face found in {info['no_face']} (central box used)")
    for model, m in result["backends"].items():
        tar = m["tar_at_far"][0]
        note = "" if tar["meaningful"] else f" (only {tar['n_negatives']} different pairs: no false accept allowed)"
        print(f"{model}: accuracy {m['accuracy']:.2%} ± {m['accuracy_std']:.2%} (std over folds), "
              f"ROC AUC {m['roc_auc']:.4f}, TAR {tar['tar']:.2%} at FAR {tar['far']:g}{note}, "
              f"{m['faces_per_s']:.1f} faces/s")
    print(f"wrote {Path(args.out) / 'predictions.jsonl'} and {Path(args.out) / 'metrics.json'}")
    return EXIT_OK


def run(args: argparse.Namespace) -> int:
    import dataclasses
    import random

    from ..datasets import open_dataset
    from ..eval.runner import evaluate
    from ..pipeline import check_backend, parse_attributes

    if args.dataset.partition(":")[0].lower() == "lfw":
        if args.engine != LOCAL_ENGINE:
            raise ConfigError(f"--engine {args.engine} scores attribute backends; LFW pairs (identity) run locally")
        return run_verification(args)
    engine, scaled = None, scale_out(args)
    if scaled is not None:
        from .common import ray_options

        engine = scaled.predict_samples(ray_options(args))
    columns = dict(kv.split("=", 1) for kv in args.columns.split(",") if "=" in kv) if args.columns else None
    dataset = open_dataset(args.dataset, args.split, columns)
    samples = dataset.samples
    if args.limit and args.limit < len(samples):  # a fixed subsample, whatever the file order
        samples = sorted(random.Random(args.seed).sample(samples, args.limit), key=lambda s: s.id)
        dataset = dataclasses.replace(dataset, samples=samples)
    backends = [b.strip() for b in args.backend.split(",") if b.strip()]
    if not backends:
        raise ConfigError(f"no backend named in --backend {args.backend!r}")
    for backend in backends:
        check_backend(backend)
    if not samples:
        raise ConfigError(f"no samples found in {args.dataset}")
    result = evaluate(dataset, backends, Path(args.out), parse_attributes(args.attributes),
                      detector=args.detector, resume=args.resume, dataset=args.dataset,
                      backend_options=vlm_options(args), engine=engine)
    for backend, m in result["backends"].items():
        parts = [f"{k} {m[k]['accuracy']:.1%}" for k in ("gender", "race", "age_group", "age_group5", "emotion")
                 if k in m]
        if "age" in m:  # after gender and race
            parts.insert(sum(k in m for k in ("gender", "race")), f"age MAE {m['age']['mae']:.2f}")
        print(f"{backend}: n={m['n']} " + ", ".join(parts))
        if m.get("usage"):
            print(f"{backend}: {describe_usage(m['usage'])}")
    print(f"wrote {Path(args.out) / 'predictions.jsonl'} and {Path(args.out) / 'metrics.json'}")
    return EXIT_OK


def add_parser(sub: argparse._SubParsersAction) -> None:
    from ..datasets import DATASETS
    from ..pipeline import ATTRIBUTES, DEFAULT_BACKEND

    p = sub.add_parser("eval", help="evaluate backends on a labelled data set")
    p.add_argument("--dataset", required=True, help=f"KIND:PATH, KIND: {', '.join(DATASETS)}; lfw (View-2 "
                   "pairs: scores identity embedders, see --model); layouts: docs/evaluation.md")
    p.add_argument("--split", help="fairface, affectnet: val (default), train; fairface also dev, fit; utkface: all "
                   "(default), train, val, test; fer2013: test (default), train, private, all; rafdb: test "
                   "(default), train, all; ckplus: peak (default), last3, neutral, peak6; csv: a value of its "
                   "split column; folder: a subfolder; the others: docs/evaluation.md")
    p.add_argument("--columns", help="csv data sets: column names, e.g. path=img,emotion=expr")
    p.add_argument("--backend", default=DEFAULT_BACKEND, help="backend name(s), comma-separated")
    p.add_argument("--attributes", default=",".join(ATTRIBUTES))
    p.add_argument("--model", help=f"lfw: identity embedder(s), comma-separated ({embed_help()})")
    add_detector_option(p, "; images where it finds no face are analysed whole (counted in no_face_rate)")
    p.add_argument("--out", default="eval-run", help="run folder for predictions.jsonl and metrics.json")
    p.add_argument("--limit", type=int, help="evaluate a fixed random subset of N samples")
    p.add_argument("--seed", type=int, default=0, help="seed of the --limit subset")
    p.add_argument("--resume", action="store_true", help="keep predictions already in --out")
    add_vlm_options(p)
    add_engine_options(p)
    p.set_defaults(func=run)

