"""The FaceScanPaliGemma recipe: fine-tune PaliGemma to answer one attribute question.

As in the paper: base ``google/paligemma-3b-pt-224``, the question
"what is the {attribute} of the person in the image?", the label as the answer (the
processor's ``suffix``: loss on the answer and end-of-sequence tokens only), lr 2e-5, one model
per attribute. LoRA (on the language model's attention and MLP projections) or full
fine-tuning of the language model (the vision tower and projector stay frozen), gradient
accumulation, optional gradient checkpointing, validation loss and closed-set accuracy every
``val_every`` optimizer steps, and checkpoints (trainable weights, optimizer, scheduler, data
position, RNG) that ``resume=True`` continues from exactly.

Writes ``OUT/adapter`` (LoRA; with ``merge`` also ``OUT/merged``) or ``OUT/model`` (full), each
with its processor and loadable by ``--backend paligemma:OUT/...``, plus
``OUT/facescan_finetune.json`` (settings, label set, prompt version, validation history).
"""

from __future__ import annotations

import json
import logging
import math
import random
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ConfigError, require
from ..labels import age_group5, age_group9
from .prompts import LABEL_SETS, SETS_FOR, label_text, load_prompts

log = logging.getLogger(__name__)

LORA_TARGETS = r".*language_model.*\.(q_proj|k_proj|v_proj|o_proj|gate_proj|up_proj|down_proj)"


@dataclass
class FinetuneConfig:
    dataset: str                      # KIND:PATH, as facescan eval
    attribute: str                    # gender, age, race or emotion
    out: str
    base: str = "google/paligemma-3b-pt-224"
    labels: str | None = None         # label set name; default: the data set's own
    split: str = "train"
    val_split: str | None = None      # default: val (utkface), test (fer2013)
    method: str = "lora"              # lora | full
    lora_r: int = 8
    lora_alpha: int = 16
    lora_dropout: float = 0.05
    device: str = "auto"
    dtype: str = "auto"
    gradient_checkpointing: bool = False
    batch_size: int = 4
    grad_accum: int = 4
    lr: float = 2e-5
    weight_decay: float = 0.0
    warmup_steps: int = 0
    epochs: float = 1.0
    max_steps: int | None = None      # optimizer steps; default: from epochs
    val_every: int = 100
    val_samples: int = 64
    save_every: int | None = None     # default: val_every
    keep_checkpoints: int = 2
    resume: bool = False
    merge: bool = False
    limit: int | None = None          # use only N training samples
    seed: int = 0
    prompts: str | None = None


def _label_set(cfg: FinetuneConfig, kind: str) -> str:
    if cfg.attribute not in SETS_FOR:
        raise ConfigError(f"attribute {cfg.attribute!r}: choose one of {', '.join(SETS_FOR)}")
    default = {"race": "utk5", "age": "age5", "gender": "gender",
               "emotion": "emotion7" if kind == "fer2013" else "emotion8"}[cfg.attribute]
    name = cfg.labels or default
    if name not in SETS_FOR[cfg.attribute]:
        raise ConfigError(f"label set {name!r} does not fit {cfg.attribute}; "
                          f"choose {', '.join(SETS_FOR[cfg.attribute])}")
    return name


def _target(sample: Any, attribute: str, set_name: str) -> str | None:
    labels = sample.labels
    if attribute == "age":
        if "age" not in labels:
            return None
        years = float(labels["age"])
        return age_group5(years) if set_name == "age5" else age_group9(years)
    value = labels.get(attribute)
    return value if isinstance(value, str) and value in LABEL_SETS[set_name] else None


def examples(samples: Any, attribute: str, set_name: str) -> list[tuple[str | np.ndarray, str]]:
    """(image source, label) pairs: the path, or the pixels of data sets that ship them
    (FER2013's CSV); samples without this attribute are skipped."""
    return [(s.source, t) for s in samples if (t := _target(s, attribute, set_name)) is not None]


def load_examples(cfg: FinetuneConfig, split: str, set_name: str) -> list[tuple[str | np.ndarray, str]]:
    """The (image source, label) pairs of a split."""
    from ..datasets import open_dataset

    pairs = examples(open_dataset(cfg.dataset, split), cfg.attribute, set_name)
    if not pairs:
        raise ConfigError(f"{cfg.dataset} split {split!r} has no samples labelled with {cfg.attribute}")
    return pairs


def _schedule(total: int, warmup: int) -> Callable[[int], float]:
    def factor(step: int) -> float:  # linear warm-up, then linear decay to 0 (HF Trainer's)
        if step < warmup:
            return (step + 1) / warmup
        return max(0.0, (total - step) / max(1, total - warmup))
    return factor


def _checkpoints(out: Path) -> list[Path]:
    return sorted((out / "checkpoints").glob("step-*"), key=lambda p: int(p.name.split("-")[1]))


def finetune(cfg: FinetuneConfig, on_step: Callable[[dict[str, Any]], None] | None = None) -> dict[str, Any]:
    """Run the recipe; returns the report written to ``OUT/facescan_finetune.json``."""
    require("torch", "vlm")
    if cfg.method == "lora":
        require("peft", "vlm")
    import torch

    from ..io import load_image
    from .hf import load_model

    if cfg.method not in ("lora", "full"):
        raise ConfigError(f"method {cfg.method!r}: choose lora or full")
    kind = cfg.dataset.partition(":")[0].lower()
    set_name = _label_set(cfg, kind)
    labels = LABEL_SETS[set_name]
    prompts = load_prompts(cfg.prompts)
    question = prompts.question(cfg.attribute, labels)
    train = load_examples(cfg, cfg.split, set_name)
    if cfg.limit:
        train = random.Random(cfg.seed).sample(train, min(cfg.limit, len(train)))
    val = load_examples(cfg, cfg.val_split or ("test" if kind == "fer2013" else "val"), set_name)
    val = random.Random(cfg.seed + 1).sample(val, min(cfg.val_samples, len(val)))
    val_crops = [load_image(source) for source, _ in val]  # decoded once, used at every validation
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)

    torch.manual_seed(cfg.seed)
    engine = load_model(cfg.base, "paligemma", cfg.device, cfg.dtype)
    model = engine.model
    if cfg.method == "lora":
        from peft import LoraConfig, get_peft_model

        model = get_peft_model(model, LoraConfig(r=cfg.lora_r, lora_alpha=cfg.lora_alpha,
                                                 lora_dropout=cfg.lora_dropout, target_modules=LORA_TARGETS))
    else:
        for name, p in model.named_parameters():
            p.requires_grad = "language_model" in name
    if cfg.gradient_checkpointing:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    engine.model = model
    trainable = [p for p in model.parameters() if p.requires_grad]
    log.info("fine-tuning %s (%s): %d trainable parameters, %d training / %d validation samples",
             cfg.base, cfg.method, sum(p.numel() for p in trainable), len(train), len(val))

    per_epoch = max(1, len(train) // (cfg.batch_size * cfg.grad_accum))
    total = cfg.max_steps or max(1, math.ceil(per_epoch * cfg.epochs))
    optimizer = torch.optim.AdamW(trainable, lr=cfg.lr, weight_decay=cfg.weight_decay)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, _schedule(total, cfg.warmup_steps))
    step, history = 0, []
    if cfg.resume and _checkpoints(out):
        last = _checkpoints(out)[-1]
        state = torch.load(last / "state.pt", map_location=engine.device, weights_only=False)
        named = dict(model.named_parameters())
        with torch.no_grad():
            for name, value in state["trainable"].items():
                named[name].copy_(value)
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        step, history = state["step"], state["history"]
        torch.set_rng_state(state["rng"].cpu())  # map_location moved it to the model's device
        if state.get("cuda_rng") is not None and torch.cuda.is_available():
            torch.cuda.set_rng_state_all([s.cpu() for s in state["cuda_rng"]])
        log.info("resumed from %s (step %d)", last, step)

    def batches(position: int):
        """Micro-batches from ``position`` on, in a fixed order per epoch."""
        per = len(train) // cfg.batch_size or 1
        while True:
            epoch, offset = divmod(position, per)
            order = np.random.default_rng(cfg.seed + epoch).permutation(len(train))
            idx = order[offset * cfg.batch_size:(offset + 1) * cfg.batch_size]
            if len(idx) == 0:
                idx = order[:cfg.batch_size]
            yield [train[i] for i in idx]
            position += 1

    def make_batch(crops: list[np.ndarray], ys: list[str]) -> Any:
        text = engine.prompt(question)
        return engine.inputs(crops, [text] * len(crops), suffix=[label_text(y) for y in ys])

    def validate() -> dict[str, Any]:
        model.eval()
        losses, right = [], 0
        ys = [y for _, y in val]
        with torch.no_grad():
            for i in range(0, len(val), cfg.batch_size):
                batch = make_batch(val_crops[i:i + cfg.batch_size], ys[i:i + cfg.batch_size])
                losses.append(float(model(**batch).loss))
            for crop, y in zip(val_crops, ys):
                scores = engine.score([crop], question, labels)[0]
                right += max(scores, key=scores.__getitem__) == y
        model.train()
        return {"val_loss": sum(losses) / len(losses), "val_accuracy": right / len(val)}

    stream = batches(step * cfg.grad_accum)
    model.train()
    save_every = cfg.save_every or cfg.val_every
    started = time.perf_counter()
    while step < total:
        loss_sum = 0.0
        for _ in range(cfg.grad_accum):
            pairs = next(stream)
            crops = [load_image(source) for source, _ in pairs]
            loss = model(**make_batch(crops, [y for _, y in pairs])).loss / cfg.grad_accum
            loss.backward()
            loss_sum += float(loss.detach())
        torch.nn.utils.clip_grad_norm_(trainable, 1.0)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        step += 1
        record: dict[str, Any] = {"step": step, "loss": loss_sum, "lr": scheduler.get_last_lr()[0],
                                  "seconds": round(time.perf_counter() - started, 2)}
        if step % cfg.val_every == 0 or step == total:
            record.update(validate())
            log.info("step %d/%d: %s", step, total, record)
        history.append(record)
        if on_step:
            on_step(record)
        if step % save_every == 0 and step < total:
            folder = out / "checkpoints" / f"step-{step:06d}"
            folder.mkdir(parents=True, exist_ok=True)
            torch.save({"trainable": {n: p.detach() for n, p in model.named_parameters() if p.requires_grad},
                        "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
                        "step": step, "history": history, "rng": torch.get_rng_state(),
                        "cuda_rng": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None},
                       folder / "state.pt")
            for old in _checkpoints(out)[:-cfg.keep_checkpoints]:
                for f in old.iterdir():
                    f.unlink()
                old.rmdir()

    model.eval()
    if cfg.gradient_checkpointing:
        model.gradient_checkpointing_disable()
    saved = {}
    target = out / ("adapter" if cfg.method == "lora" else "model")
    model.save_pretrained(target)
    engine.processor.save_pretrained(target)
    saved[cfg.method] = str(target)
    if cfg.method == "lora" and cfg.merge:
        merged = model.merge_and_unload()
        merged.save_pretrained(out / "merged")
        engine.processor.save_pretrained(out / "merged")
        saved["merged"] = str(out / "merged")
    report = {"config": asdict(cfg), "label_set": set_name, "labels": list(labels),
              "prompt_version": prompts.version, "question": question, "steps": step,
              "train_samples": len(train), "val_samples": len(val), "saved": saved,
              "backend": f"paligemma:{saved.get('merged', saved[cfg.method])}",
              "vlm_labels": f"{cfg.attribute}={set_name}", "history": history}
    (out / "facescan_finetune.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return report
