"""The recipe of the default attribute model: the multi-task EfficientNet-Lite0 (or -Lite2)
(:mod:`.multitask`) trained, its weights chosen, calibrated, exported and quantised
(``facescan train multitask``)."""

from __future__ import annotations

import logging
import time
from pathlib import Path

from ..models.catalog import MULTITASK_CROP, MULTITASK_POLISH_SIZE, MULTITASK_SIZE
from .context import CONTEXT_SEED
from .report import sha256

log = logging.getLogger(__name__)

# the recipe's training settings (facescan.train.multitask.train): epochs before polishing, faces
# per step, peak learning rate, blocks left frozen in the first epochs (0: none), backbone
EPOCHS, BATCH, LR, FREEZE, BACKBONE = 13, 128, 1.4e-3, 0, "lite0"


def run_name(epochs: int, refine: int, polish: int, cycles: int, size: int, seed: int,
             batch: int = BATCH, lr: float = LR, freeze: int = FREEZE, backbone: str = BACKBONE) -> str:
    """The work folder of a run: its settings that differ from the recipe's, in the name."""
    extra = {"c": cycles if cycles > 1 else None, "x": size if size != MULTITASK_SIZE else None,
             "b": batch if batch != BATCH else None, "lr": lr if lr != LR else None,
             "f": freeze if freeze != FREEZE else None, "n": backbone if backbone != BACKBONE else None}
    return f"multitask-e{epochs}r{refine}p{polish}" + "".join(f"{k}{v}" for k, v in extra.items() if v is not None) + f"-s{seed}"


def build_multitask(data: Path, out: Path, work: Path, epochs: int = EPOCHS, seed: int = 0, refine: int = 0,
                    polish: int = 4, fairface: Path | None = None,
                    polish_size: int = MULTITASK_POLISH_SIZE, cycles: int = 2, device: str = "cpu",
                    batch: int = BATCH, lr: float = LR, freeze: int = FREEZE, backbone: str = BACKBONE) -> dict:
    """The multi-task EfficientNet-Lite0 or -Lite2 (``backbone``; facescan.train.multitask) on
    FairFace train (the folder ``fairface`` holding ``fairface_label_train.csv`` and ``train/``;
    default ``data/fairface``) and every labelled face in ``data`` (the folder holding utkface/,
    celeba/, aaf/, fer2013/).
    Of the trained weights and their moving average, the one with the better FairFace
    validation (mean of gender, race and age-group accuracy) is kept; then calibrated on the
    validation parts (facescan.train.multitask.calibrate), exported to float32 ONNX and
    quantised to static int8 (calibrated on 128 validation crops per source). The first epochs
    see 112-pixel crops, the polish epochs ``polish_size`` ones (the input size of the model made);
    ``cycles`` repeats the polish epochs' schedule (warm restarts); ``device``, ``batch``, ``lr``
    and ``freeze`` as :func:`.multitask.train` takes them.
    Checkpoints in ``work/`` :func:`run_name` make a killed run resumable (crops of a phase
    already done are not made again)."""
    from . import multitask as mt
    from .multidata import load_parts

    start = time.time()
    size = polish_size if polish else MULTITASK_SIZE
    run = work / run_name(epochs, refine, polish, cycles, size, seed, batch, lr, freeze, backbone)
    parts = load_parts(data, work, MULTITASK_CROP, size, CONTEXT_SEED, fairface=fairface)
    first = parts
    if size != MULTITASK_SIZE and mt.last_epoch(run) < epochs + refine:
        first = load_parts(data, work, MULTITASK_CROP, MULTITASK_SIZE, CONTEXT_SEED, fairface=fairface)
    trained, ema = mt.train(first, run, epochs=epochs, seed=seed, refine=refine, polish=polish, cycles=cycles,
                            polish_parts=parts if first is not parts else None, device=device, batch=batch,
                            lr=lr, freeze=freeze, backbone=backbone)
    report = finish(trained.cpu(), ema.cpu(), parts, run, out, size)
    report["seconds"] = round(time.time() - start)
    return report


def finish(trained, ema, parts: dict, run: Path, out: Path, size: int) -> dict:  # type: ignore[no-untyped-def]
    """Keep the trained weights or their moving average, whichever is better on FairFace
    validation; calibrate, export to float32 ONNX in ``run`` and quantise into ``out``."""
    import numpy as np

    from . import multitask as mt
    from .heads import export_onnx
    from .quantize import quantize_int8

    scores = {}
    for name, candidate in (("trained", trained), ("ema", ema)):
        m = mt.part_metrics(mt.predict(candidate, parts["val"]["fairface"].views[0]), parts["val"]["fairface"])
        scores[name] = round(float(np.mean([m.get(k, 0.0) for k in ("gender", "race", "age9")])), 4)
    chosen = max(scores, key=lambda k: scores[k])
    net = ema if chosen == "ema" else trained
    log.info("FairFace validation (mean of gender, race, age9): %s; keeping %s", scores, chosen)
    before = mt.evaluate(net, parts["val"])
    calibration = mt.calibrate(net, parts["val"])
    fp32 = run / "multitask-fp32.onnx"
    export_onnx(net.eval(), fp32, size, 3, list(mt.OUTPUTS))
    calib = np.concatenate([parts["val"][k].views[0][:128] for k in sorted(parts["val"])])
    quantize_int8(fp32, out, [np.ascontiguousarray(mt.to_input(calib[i:i + 32]).numpy()) for i in range(0, len(calib), 32)])
    return {"model": str(out), "sha256": sha256(out), "float32": {"model": str(fp32), "sha256": sha256(fp32)},
            "weights": {"kept": chosen, "fairface_val_mean": scores},
            "val_before_offset": before, "val": mt.evaluate(net, parts["val"]), "calibration": calibration,
            "n_train": {k: len(p) for k, p in parts["train"].items()},
            "n_val": {k: len(p) for k, p in parts["val"].items()}}
