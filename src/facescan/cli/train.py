"""facescan train: rebuild a shipped model (needs facescan[train])."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import ConfigError
from .common import EXIT_OK


def run(args: argparse.Namespace) -> int:
    from ..train import converted, multitask_recipe, utkface
    from ..train.report import compare_with_shipped, write_report

    work, out = Path(args.work), Path(args.out)
    needs_data = {"utkface-heads": "UTKFace", "utkface-finetune": "UTKFace", "utkface-stack": "UTKFace",
                  "multitask": "shared data (utkface/, celeba/, aaf/, fer2013/, fairface/)"}
    if args.recipe in needs_data and not args.data:
        raise ConfigError(f"facescan train {args.recipe} needs --data (the {needs_data[args.recipe]} folder)")
    epochs = {"epochs": args.epochs} if args.epochs else {}
    if args.recipe == "multitask":
        given = {"polish": args.polish, "polish_size": args.polish_size or None, "cycles": args.polish_cycles or None,
                 "batch": args.batch, "lr": args.lr, "freeze": args.freeze,
                 "backbone": args.backbone}  # None: the recipe's
        report = multitask_recipe.build_multitask(Path(args.data), out, work, seed=args.seed,
                                                  fairface=Path(args.fairface) if args.fairface else None,
                                                  device=args.device, **epochs,
                                                  **{k: v for k, v in given.items() if v is not None})
    elif args.recipe == "utkface-heads":
        report = utkface.build_utkface_heads(Path(args.data), out, work, seed=args.seed, **epochs)
    elif args.recipe == "utkface-finetune":
        report = utkface.build_utkface_finetune(Path(args.data), out, work, seed=args.seed, **epochs)
    elif args.recipe == "utkface-stack":
        report = utkface.build_utkface_stack(Path(args.data), out, work)
    elif args.recipe == "mtcnn":
        report = converted.build_mtcnn(out)
    elif args.recipe == "faceapi-original":
        report = converted.build_faceapi_original(out, work)
    else:
        report = converted.build_fer_emotion(out, work, flip_tta=args.recipe == "fer-emotion-tta")
    print(write_report(compare_with_shipped(report, args.recipe), Path(args.report) if args.report else None))
    return EXIT_OK


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="rebuild a shipped model (needs facescan[train])")
    p.add_argument("recipe", choices=["multitask", "utkface-stack", "utkface-finetune", "fer-emotion-tta", "utkface-heads",
                                      "fer-emotion", "faceapi-original", "mtcnn"])
    p.add_argument("--data", help="data folder: the folder holding utkface/, celeba/, aaf/ and fer2013/ "
                   "for multitask; UTKFace for utkface-*")
    p.add_argument("--fairface", help="multitask: the FairFace folder holding fairface_label_train.csv and "
                   "train/ with every training photo (default: DATA/fairface, which holds 200 of them)")
    p.add_argument("--out", required=True, help="ONNX file to write (mtcnn: the folder for its three files)")
    p.add_argument("--work", default=".facescan-work", help="downloads and feature caches")
    p.add_argument("--epochs", type=int, help="training epochs (default: the recipe's)")
    p.add_argument("--polish", type=int, help="multitask: epochs with every layer trained at a tenth of the "
                   "rate after --epochs (default: the recipe's)")
    p.add_argument("--polish-size", type=int, help="multitask: input size of the polish epochs and of the "
                   "shipped model (default: the recipe's, 112, as the first epochs)")
    p.add_argument("--polish-cycles", type=int, help="multitask: run the --polish epochs' schedule this many "
                   "times (warm restarts; default: the recipe's)")
    p.add_argument("--batch", type=int, help="multitask: faces per training step (default: the recipe's, 128)")
    p.add_argument("--lr", type=float, help="multitask: peak learning rate (default: the recipe's, 1.4e-3)")
    p.add_argument("--freeze", type=int, help="multitask: blocks after the stem left as ImageNet made them "
                   "in the first epochs (default: the recipe's, 0: every layer trained from the start)")
    p.add_argument("--backbone", choices=["lite0", "lite2"], help="multitask: EfficientNet-Lite0 (the recipe's) or "
                   "-Lite2 (1.1x wider, 1.2x deeper: ~1.2x the time of a training step at 112 px), from ImageNet")
    p.add_argument("--device", default="cpu", help="multitask: where to train: cpu (default), or cuda on a GPU machine "
                   "(the default recipe: ~7 minutes of training on one H200, ~5 hours on 2 CPU cores)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--report", help="also write the JSON report here")
    p.set_defaults(func=run)
