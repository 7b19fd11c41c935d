"""facescan finetune: the FaceScanPaliGemma recipe (needs facescan[vlm])."""

from __future__ import annotations

import argparse
import sys

from .common import EXIT_OK


def run(args: argparse.Namespace) -> int:
    import dataclasses

    from ..vlm.finetune import FinetuneConfig, finetune

    fields = {f.name for f in dataclasses.fields(FinetuneConfig)}
    cfg = FinetuneConfig(**{k: v for k, v in vars(args).items() if k in fields and v is not None})
    report = finetune(cfg, on_step=None if args.quiet else lambda r: print(
        "step {step}: loss {loss:.4f}".format(**r) + (" | val loss {val_loss:.4f}, val accuracy "
                                                       "{val_accuracy:.1%}".format(**r) if "val_loss" in r else ""),
        file=sys.stderr, flush=True))
    print(f"wrote {', '.join(report['saved'].values())}; use: --backend {report['backend']} "
          f"--attributes {cfg.attribute} --vlm-labels {report['vlm_labels']}")
    return EXIT_OK


def add_parser(sub: argparse._SubParsersAction) -> None:
    from ..pipeline import ATTRIBUTES

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
    p.set_defaults(func=run)
