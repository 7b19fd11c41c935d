"""Options and helpers shared by several commands."""

from __future__ import annotations

import argparse
from typing import Any

from .. import registry
from ..errors import ConfigError

EXIT_OK, EXIT_INPUT_ERRORS, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
LOCAL_ENGINE = "local"  # --engine: this process


def registered(kind: str):  # -> an argparse type
    """An argparse ``type=`` taking one name of ``kind`` from :mod:`facescan.registry` (a wrong
    one is a usage error with the registry's "did you mean" message)."""
    def name(value: str) -> str:
        try:
            return registry.entry(kind, value).name
        except ConfigError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    name.__name__ = registry.KINDS[kind]
    return name


def names_help(kind: str) -> str:
    """Each registered name of ``kind`` with its help text (and the extra it needs)."""
    return "; ".join(f"{e.name}: {e.help}" + (f" (needs facescan[{e.extra}])" if e.extra else "")
                     for e in registry.entries(kind)).replace("%", "%%")


def add_name_option(p: Any, flag: str, kind: str, default: str | None, help: str = "", **kwargs: Any) -> None:
    """``flag`` taking one registered name of ``kind``: its choices and their help from the registry."""
    p.add_argument(flag, default=default, type=registered(kind), help=help or names_help(kind),
                   metavar="{" + ",".join(registry.names(kind)) + "}", **kwargs)


def add_detector_option(p: argparse.ArgumentParser, more_help: str = "") -> None:
    add_name_option(p, "--detector", "detector", "yunet", names_help("detector") + more_help)


def embed_help() -> str:
    """The embedders, for the help of an option naming one."""
    from ..identity import DEFAULT_EMBEDDER

    return f"{', '.join(registry.names('embedder'))}; default {DEFAULT_EMBEDDER}"


def scale_out(args: argparse.Namespace) -> Any:
    """The engine module that ``--engine`` names (its extra checked), or None for this process."""
    return None if args.engine == LOCAL_ENGINE else registry.load("engine", args.engine)


def add_detect_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--detect-scales", default="auto", metavar="auto|S[,S...]",
                   help="YuNet passes: 'auto' (base scale, a coarse pass for frame-filling faces and, where "
                   "small faces are seen, a look at 2.5x), or multiples of the base scale, e.g. '1,2' "
                   "(4x slower; finds more cut, rotated and covered faces)")
    p.add_argument("--max-faces", type=int, default=0, metavar="N", help="keep the N best faces (0: all)")


def add_if_no_face_option(p: argparse.ArgumentParser) -> None:
    from ..pipeline import IF_NO_FACE

    p.add_argument("--if-no-face", choices=IF_NO_FACE, default="skip",
                   help="an image (or frame) where the detector finds no face: 'skip' gives no face (default); "
                   "'whole' analyses the whole image as one face, with score 0 and found_by 'whole-image' "
                   "(for inputs that are already face crops: a data set chip, a passport photo)")


def add_finding_options(p: argparse.ArgumentParser, if_no_face: bool = True) -> None:
    """How faces are found: --detector, --min-score, --detect-scales, --max-faces (and --if-no-face)."""
    add_detector_option(p)
    p.add_argument("--min-score", type=float, default=0.0, help="drop faces below this detector score")
    add_detect_options(p)
    if if_no_face:
        add_if_no_face_option(p)


def add_index_options(p: argparse.ArgumentParser) -> None:
    """What indexing photos into a store takes (facescan index, and cluster with photos)."""
    p.add_argument("--model", metavar="NAME", help="embedding model (default: the store's, or the default "
                   "embedder for a new store); one store holds one model's embeddings")
    p.add_argument("--batch-size", type=int, default=16, help="photos per batch (one transaction each)")
    add_detect_options(p)
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")


def add_store_options(p: argparse.ArgumentParser, required: bool = True) -> None:
    p.add_argument("--db", required=required, metavar="DB", help="the store: a SQLite file (e.g. faces.db) or "
                   "postgresql://user@host:port/dbname (needs facescan[postgres])")
    p.add_argument("--wait", type=float, default=10.0, metavar="S",
                   help="seconds to wait for a store another process has locked (default 10)")


def vlm_options(args: argparse.Namespace) -> dict[str, object]:
    """The vision-language backend options given on the command line (None: not given)."""
    return {"mode": args.answer, "prompts": args.prompts, "labels": args.vlm_labels,
            "device": args.device, "dtype": args.dtype, "processor": args.processor,
            "max_new_tokens": args.max_new_tokens, "api_base": args.api_base,
            "timeout": args.api_timeout, "retries": args.api_retries,
            "concurrency": args.api_concurrency, "cache_dir": args.api_cache,
            "cache": False if args.no_api_cache else None}


def describe_usage(usage: dict) -> str:
    cost = "cost unknown" if usage.get("cost_usd") is None else f"~${usage['cost_usd']:.4f}"
    return (f"{usage['requests']} requests ({usage['cached']} answers from the cache, "
            f"{usage['retries']} retries), {usage['prompt_tokens']} prompt + "
            f"{usage['completion_tokens']} completion tokens, {cost}")


def add_vlm_options(p: argparse.ArgumentParser) -> None:
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


def add_engine_options(p: argparse.ArgumentParser) -> None:
    """--engine ray and its options (facescan analyze / index / eval)."""
    g = p.add_argument_group("scale-out (--engine ray; needs facescan[ray])")
    add_name_option(g, "--engine", "engine", LOCAL_ENGINE)
    g.add_argument("--ray-address", metavar="ADDR", help="an existing Ray cluster (HOST:6379, ray://HOST:10001); "
                   "default: $RAY_ADDRESS, else a new local cluster on 127.0.0.1")
    g.add_argument("--actors", type=int, metavar="N", help="actors, each holding one loaded Analyzer "
                   "(default: the cluster's CPUs less one)")
    g.add_argument("--actor-cpus", type=float, metavar="C", help="CPUs reserved per actor, may be a fraction "
                   "(default: (cluster CPUs - 1) / N, at most 1)")
    g.add_argument("--actor-gpus", type=float, default=0.0, metavar="G",
                   help="GPUs per actor, may be a fraction (needs onnxruntime-gpu on the workers)")


def ray_options(args: argparse.Namespace):  # -> facescan.engines.ray.RayOptions
    from ..engines.ray import RayOptions

    if args.actors is not None and args.actors < 1:
        from ..errors import ConfigError

        raise ConfigError(f"--actors must be at least 1, got {args.actors}")
    return RayOptions(address=args.ray_address, actors=args.actors, actor_cpus=args.actor_cpus,
                      actor_gpus=args.actor_gpus, batch_size=getattr(args, "batch_size", 16))
