"""The ``facescan`` command line. Exit codes:

    0  every input was analysed (images without faces included)
    1  at least one input could not be read: its record has "error" set, the others are fine
    2  bad usage or configuration (unknown option value, model missing or corrupt)
    130  interrupted (Ctrl-C): everything finished before that is written
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from . import __version__
from .errors import ConfigError, FacescanError

EXIT_OK, EXIT_INPUT_ERRORS, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


def _print_summary(result) -> None:
    from .output import describe

    print(f"{result.path}: " + (f"error: {result.error}" if result.error
                                else f"{len(result.faces)} face(s)"), flush=True)
    for i, face in enumerate(result.faces):
        box = ", ".join(f"{v:.0f}" for v in face.bbox)
        print(f"  #{i + 1} [{box}] {describe(face.attributes)}", flush=True)


def _save_annotated(result, folder: Path, used: set[str]) -> None:
    from PIL import Image

    from .annotate import annotate
    from .io import load_image

    stem, k = Path(result.path).stem, 1
    name = stem + ".jpg"
    while name in used:  # same file name in two folders
        name, k = f"{stem}_{k}.jpg", k + 1
    used.add(name)
    Image.fromarray(annotate(load_image(result.path), result)).save(folder / name, quality=92)


def _add_detect_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--detect-scales", default="auto", metavar="auto|S[,S...]",
                   help="YuNet passes: 'auto' (base scale + a coarse pass for frame-filling faces), or "
                   "multiples of the base scale, e.g. '1,2' to also find faces of 12-24 px (4x slower)")
    p.add_argument("--max-faces", type=int, default=0, metavar="N", help="keep the N best faces (0: all)")


def _analyze(args: argparse.Namespace) -> int:
    from .io import iter_image_paths
    from .output import open_writer
    from .pipeline import Analyzer

    analyzer = Analyzer(args.attributes, backend=args.backend, detector=args.detector,
                        min_score=args.min_score, abstain_below=args.abstain_below,
                        backend_options=_vlm_options(args), detect_scales=args.detect_scales,
                        max_faces=args.max_faces)
    paths = list(iter_image_paths(args.paths))
    if not paths:
        print("facescan: no images found in the given paths", file=sys.stderr)
        return EXIT_USAGE
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
            print(f"facescan: {args.backend}: {_describe_usage(usage)}", file=sys.stderr)
    return EXIT_INPUT_ERRORS if errors else EXIT_OK


def _models(args: argparse.Namespace) -> int:
    from .errors import ModelError
    from .models import all_specs

    rows = []
    for spec in all_specs():
        try:
            spec.verified_path()
            status = "ok"
        except ModelError as exc:
            status = f"ERROR: {exc}"
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
    return EXIT_OK if all(r[5] == "ok" for r in rows) else EXIT_USAGE


def _eval(args: argparse.Namespace) -> int:
    import dataclasses
    import random

    from .datasets import open_dataset
    from .eval.runner import evaluate
    from .pipeline import check_backend, parse_attributes

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
                      backend_options=_vlm_options(args))
    for backend, m in result["backends"].items():
        parts = [f"{k} {m[k]['accuracy']:.1%}" for k in ("gender", "race", "age_group", "age_group5", "emotion")
                 if k in m]
        if "age" in m:  # after gender and race
            parts.insert(sum(k in m for k in ("gender", "race")), f"age MAE {m['age']['mae']:.2f}")
        print(f"{backend}: n={m['n']} " + ", ".join(parts))
        if m.get("usage"):
            print(f"{backend}: {_describe_usage(m['usage'])}")
    print(f"wrote {Path(args.out) / 'predictions.jsonl'} and {Path(args.out) / 'metrics.json'}")
    return EXIT_OK


def _report(args: argparse.Namespace) -> int:
    from .eval.report import html_page, load_runs, markdown

    runs = load_runs(args.runs)
    if args.format == "md":
        text = markdown(runs)
        if args.out:
            Path(args.out).write_text(text, encoding="utf-8")
            print(f"wrote {args.out}")
        else:
            print(text, end="")
        return EXIT_OK
    out = Path(args.out or "report.html")
    out.write_text(html_page(runs), encoding="utf-8")
    print(f"wrote {out}")
    return EXIT_OK


def _train(args: argparse.Namespace) -> int:
    from . import train

    work, out = Path(args.work), Path(args.out)
    needs_data = {"utkface-heads": "UTKFace", "utkface-finetune": "UTKFace", "utkface-stack": "UTKFace",
                  "fer-finetune": "FER2013", "multitask": "shared data (utkface/, celeba/, aaf/, fer2013/)"}
    if args.recipe in needs_data and not args.data:
        raise ConfigError(f"facescan train {args.recipe} needs --data (the {needs_data[args.recipe]} folder)")
    epochs = {"epochs": args.epochs} if args.epochs else {}
    if args.recipe == "multitask":
        report = train.build_multitask(Path(args.data), out, work, seed=args.seed, **epochs)
    elif args.recipe == "utkface-heads":
        report = train.build_utkface_heads(Path(args.data), out, work, seed=args.seed, **epochs)
    elif args.recipe == "utkface-finetune":
        report = train.build_utkface_finetune(Path(args.data), out, work, seed=args.seed, **epochs)
    elif args.recipe == "utkface-stack":
        report = train.build_utkface_stack(Path(args.data), out, work)
    elif args.recipe == "fer-finetune":
        report = train.build_fer_finetune(Path(args.data), out, work, seed=args.seed, **epochs)
    elif args.recipe == "faceapi-original":
        report = train.build_faceapi_original(out, work)
    else:
        report = train.build_fer_emotion(out, work, flip_tta=args.recipe == "fer-emotion-tta")
    print(train.write_report(report, Path(args.report) if args.report else None))
    return EXIT_OK


def _print_target(path: str, record: dict) -> None:
    import json

    from .output import describe
    from .types import Prediction

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


def _target(args: argparse.Namespace) -> int:
    import json

    from .errors import ImageError
    from .pipeline import ALL_ATTRIBUTES, Analyzer
    from .target import find_person

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


def _finetune(args: argparse.Namespace) -> int:
    import dataclasses

    from .vlm.finetune import FinetuneConfig, finetune

    fields = {f.name for f in dataclasses.fields(FinetuneConfig)}
    cfg = FinetuneConfig(**{k: v for k, v in vars(args).items() if k in fields and v is not None})
    report = finetune(cfg, on_step=None if args.quiet else lambda r: print(
        "step {step}: loss {loss:.4f}".format(**r) + (" | val loss {val_loss:.4f}, val accuracy "
                                                       "{val_accuracy:.1%}".format(**r) if "val_loss" in r else ""),
        file=sys.stderr, flush=True))
    print(f"wrote {', '.join(report['saved'].values())}; use: --backend {report['backend']} "
          f"--attributes {cfg.attribute} --vlm-labels {report['vlm_labels']}")
    return EXIT_OK


def _add_finetune_parser(sub: argparse._SubParsersAction) -> None:
    from .pipeline import ATTRIBUTES

    p = sub.add_parser("finetune", help="fine-tune PaliGemma on one attribute (the FaceScanPaliGemma "
                       "recipe; needs facescan[vlm] and, for the real 3B model, a GPU)")
    p.add_argument("--dataset", required=True, help="KIND:PATH, KIND: utkface or fer2013")
    p.add_argument("--attribute", required=True, choices=ATTRIBUTES)
    p.add_argument("--out", required=True, help="output folder (adapter/, merged/ or model/, checkpoints/)")
    p.add_argument("--base", help="base checkpoint: folder or cached hub id (default google/paligemma-3b-pt-224)")
    p.add_argument("--labels", help="label set (default: the data set's; age: age5)")
    p.add_argument("--split", help="training split (default train)")
    p.add_argument("--val-split", help="validation split (default val; fer2013: test)")
    p.add_argument("--method", choices=["lora", "full"], help="LoRA (default) or the whole language model")
    p.add_argument("--lora-r", type=int, help="LoRA rank (default 8)")
    p.add_argument("--lora-alpha", type=int, help="LoRA alpha (default 16)")
    p.add_argument("--device", help="auto (default), cpu, cuda, cuda:1")
    p.add_argument("--dtype", help="auto (bfloat16 on GPU, float32 on CPU), float32, bfloat16")
    p.add_argument("--gradient-checkpointing", action="store_true", default=None,
                   help="recompute activations: less memory, ~30%% slower")
    p.add_argument("--batch-size", type=int, help="images per micro-batch (default 4)")
    p.add_argument("--grad-accum", type=int, help="micro-batches per optimizer step (default 4)")
    p.add_argument("--lr", type=float, help="learning rate (default 2e-5, the paper's)")
    p.add_argument("--warmup-steps", type=int, help="linear warm-up steps (default 0)")
    p.add_argument("--epochs", type=float, help="passes over the training split (default 1)")
    p.add_argument("--max-steps", type=int, help="optimizer steps (overrides --epochs)")
    p.add_argument("--val-every", type=int, help="validate every N optimizer steps (default 100)")
    p.add_argument("--val-samples", type=int, help="validation samples (default 64)")
    p.add_argument("--save-every", type=int, help="checkpoint every N steps (default: --val-every)")
    p.add_argument("--resume", action="store_true", default=None, help="continue from the last checkpoint")
    p.add_argument("--merge", action="store_true", default=None, help="also write the LoRA-merged model")
    p.add_argument("--limit", type=int, help="train on N random samples only")
    p.add_argument("--seed", type=int)
    p.add_argument("--prompts", metavar="FILE", help="JSON prompt file (default: the paper's prompts)")
    p.add_argument("-q", "--quiet", action="store_true", help="no per-step lines")
    p.set_defaults(func=_finetune)


def _vlm_options(args: argparse.Namespace) -> dict[str, object]:
    """The vision-language backend options given on the command line (None: not given)."""
    return {"mode": args.answer, "prompts": args.prompts, "labels": args.vlm_labels,
            "device": args.device, "dtype": args.dtype, "processor": args.processor,
            "max_new_tokens": args.max_new_tokens, "api_base": args.api_base,
            "timeout": args.api_timeout, "retries": args.api_retries,
            "concurrency": args.api_concurrency, "cache_dir": args.api_cache,
            "cache": False if args.no_api_cache else None}


def _describe_usage(usage: dict) -> str:
    cost = "cost unknown" if usage.get("cost_usd") is None else f"~${usage['cost_usd']:.4f}"
    return (f"{usage['requests']} requests ({usage['cached']} answers from the cache, "
            f"{usage['retries']} retries), {usage['prompt_tokens']} prompt + "
            f"{usage['completion_tokens']} completion tokens, {cost}")


def _add_vlm_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("vision-language backends (--backend paligemma:PATH, gpt-4o, ...)")
    g.add_argument("--answer", choices=["generate", "closed"],
                   help="generate: free text mapped onto the label set, as in the paper (default); "
                   "closed: local models score each label, APIs answer from an enum")
    g.add_argument("--prompts", metavar="FILE", help="JSON prompt file (default: the paper's prompts)")
    g.add_argument("--vlm-labels", metavar="A=SET,...", help="label sets, e.g. race=utk5,age=age9 "
                   "(default: race=fairface7, age=age5, emotion=emotion8, as in the paper)")
    g.add_argument("--device", help="local models: auto (default), cpu, cuda, cuda:1, mps")
    g.add_argument("--dtype", help="local models: auto (bfloat16 on GPU, float32 on CPU), float32, "
                   "bfloat16, float16")
    g.add_argument("--processor", help="processor source for checkpoints that ship none "
                   "(default for paligemma: google/paligemma-3b-pt-224)")
    g.add_argument("--max-new-tokens", type=int, help="local models: answer length limit (default 20)")
    g.add_argument("--api-base", metavar="URL", help="OpenAI-compatible or Gemini endpoint "
                   "(default: $OPENAI_BASE_URL, the config file, then the provider's)")
    g.add_argument("--api-timeout", type=float, help="seconds per request (default 60)")
    g.add_argument("--api-retries", type=int, help="retries on 429/5xx/timeouts (default 5)")
    g.add_argument("--api-concurrency", type=int, help="requests in flight at once (default 4)")
    g.add_argument("--api-cache", metavar="DIR", help="response cache (default ~/.cache/facescan/api)")
    g.add_argument("--no-api-cache", action="store_true", help="neither read nor write the cache")


def build_parser() -> argparse.ArgumentParser:
    from .pipeline import ALL_ATTRIBUTES, ATTRIBUTES, BACKENDS, DEFAULT_BACKEND
    from .vlm import NAMES as VLM_NAMES

    parser = argparse.ArgumentParser(prog="facescan", description="Find faces and tell their "
                                     "gender, age, race and emotion, offline.")
    parser.add_argument("--version", action="version", version=f"facescan {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log more")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("analyze", help="analyse images, folders (recursively) or globs")
    p.add_argument("paths", nargs="+", help="image files, folders or glob patterns")
    p.add_argument("-o", "--output", help="write records to FILE.jsonl, FILE.csv, FILE.parquet "
                   "or '-' (JSONL on stdout); default: a readable summary on stdout")
    p.add_argument("--annotate", metavar="DIR", help="also save each image with boxes and labels")
    p.add_argument("--attributes", default=",".join(ATTRIBUTES),
                   help=f"comma-separated subset of {','.join(ALL_ATTRIBUTES)} "
                   f"(default: {','.join(ATTRIBUTES)})")
    p.add_argument("--backend", default=DEFAULT_BACKEND, metavar="NAME",
                   help=f"which attribute models to use: {', '.join(sorted(BACKENDS))}, or a "
                   f"vision-language backend ({', '.join(VLM_NAMES)}; NAME:ARG, see README)")
    p.add_argument("--detector", default="yunet", choices=["yunet", "none"],
                   help="'none' treats each whole image as one face (pre-cropped chips)")
    p.add_argument("--min-score", type=float, default=0.0, help="drop faces below this detector score")
    _add_detect_options(p)
    p.add_argument("--abstain-below", type=float, default=0.0, metavar="P",
                   help="label an attribute 'uncertain' when its top probability is below P")
    p.add_argument("--batch-size", type=int, default=16, help="images per inference batch")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar or summary")
    _add_vlm_options(p)
    p.set_defaults(func=_analyze)

    p = sub.add_parser("eval", help="evaluate backends on a labelled data set")
    p.add_argument("--dataset", required=True, help="KIND:PATH, KIND: fairface, utkface, affectnet, "
                   "fer2013, rafdb, csv, folder (lfw: pairs, not evaluable yet)")
    p.add_argument("--split", help="fairface, affectnet: val (default), train; utkface: all (default), "
                   "train, val, test; fer2013: test (default), train, private, all; rafdb: test "
                   "(default), train, all; csv: a value of its split column; folder: a subfolder")
    p.add_argument("--columns", help="csv data sets: column names, e.g. path=img,emotion=expr")
    p.add_argument("--backend", default=DEFAULT_BACKEND, help="backend name(s), comma-separated")
    p.add_argument("--attributes", default=",".join(ATTRIBUTES))
    p.add_argument("--detector", default="yunet", choices=["yunet", "none"],
                   help="images where yunet finds no face are analysed whole (counted in no_face_rate)")
    p.add_argument("--out", default="eval-run", help="run folder for predictions.jsonl and metrics.json")
    p.add_argument("--limit", type=int, help="evaluate a fixed random subset of N samples")
    p.add_argument("--seed", type=int, default=0, help="seed of the --limit subset")
    p.add_argument("--resume", action="store_true", help="keep predictions already in --out")
    _add_vlm_options(p)
    p.set_defaults(func=_eval)

    p = sub.add_parser("target", help="find the person a description means and report their attributes")
    p.add_argument("image", help="the image (a group photo)")
    p.add_argument("description", help='who, in plain English, e.g. "the man in the blue shirt"')
    p.add_argument("--backend", default="local", help="local (offline, default); gpt-4o (or another "
                   "gpt-* model) or openai:MODEL for any OpenAI-compatible endpoint (OPENAI_API_KEY); "
                   "gemini or gemini:MODEL (GEMINI_API_KEY); the VLMs need facescan[api]")
    p.add_argument("--api-base", help="base URL of the API (default: $OPENAI_BASE_URL for OpenAI-compatible ones)")
    p.add_argument("-o", "--output", help="write the JSON result to FILE.json or '-' (stdout)")
    p.add_argument("--detector", default="yunet", choices=["yunet", "none"])
    p.add_argument("--min-score", type=float, default=0.0, help="drop faces below this detector score")
    _add_detect_options(p)
    p.set_defaults(func=_target)

    p = sub.add_parser("report", help="HTML page or Markdown tables from saved eval runs")
    p.add_argument("runs", nargs="+", metavar="RUN_DIR", help="folders written by facescan eval --out")
    p.add_argument("--out", help="file to write (default: report.html; with --format md: stdout)")
    p.add_argument("--format", choices=["html", "md"], default="html",
                   help="html: one self-contained page with plots (needs facescan[report]); md: tables")
    p.set_defaults(func=_report)

    p = sub.add_parser("models", help="list the models, their licences and sha256 status")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=_models)

    p = sub.add_parser("train", help="rebuild a shipped model (needs facescan[train])")
    p.add_argument("recipe", choices=["multitask", "utkface-stack", "utkface-finetune", "fer-emotion-tta", "utkface-heads",
                                      "fer-emotion", "faceapi-original", "fer-finetune"])
    p.add_argument("--data", help="data folder: the folder holding utkface/, celeba/, aaf/ and fer2013/ "
                   "for multitask; UTKFace for utkface-*; FER2013 (with train/) for fer-finetune")
    p.add_argument("--out", required=True, help="ONNX file to write")
    p.add_argument("--work", default=".facescan-work", help="downloads and feature caches")
    p.add_argument("--epochs", type=int, help="training epochs (default: the recipe's)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--report", help="also write the JSON report here")
    p.set_defaults(func=_train)
    _add_finetune_parser(sub)
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


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
