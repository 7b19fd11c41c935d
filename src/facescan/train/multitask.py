"""The multi-task network: one EfficientNet-Lite0 pass per face gives gender, race (FairFace's
7), age (101 one-year bins), emotion (the 8 FER+ classes) and appearance (CelebA attributes,
independent yes/no), trained on FairFace train and every labelled face in ``../shared/data``
(see :mod:`.multidata`).

Recipe: ImageNet-initialised backbone (``freeze``: the stem and first blocks left as ImageNet
made them in the first epochs, which halves the CPU cost of a step; the shipped recipe trains
every layer, :mod:`.multitask_recipe`), AdamW with a cosine schedule, then
optional "polish" epochs that train every layer at a tenth of the rate; an exponential moving
average (EMA) of the weights is kept beside them. Each epoch draws a share of every source
(:data:`SHARES`: all of FairFace, a third of FER2013, so no source dominates the batches), each
face supervising the heads it has labels for: race as the set of FairFace races its label allows
(UTKFace "asian" is East or Southeast Asian), age as a year or FairFace's year interval. UTKFace
faces are shown as their chip or in a made-up surrounding (one view per draw); in-the-wild
augmentation: mirror, rotation/scale/shift, brightness/contrast/gamma, greyscale, down-and-up
scaling, noise, JPEG 20-90, occlusion. Deterministic on a CPU with 2 threads (seeded
generators, fixed order); resumable per epoch; ``device="cuda"`` trains on a GPU (same
draws, other arithmetic: not the same weights).
"""

from __future__ import annotations

import copy
import logging
import math
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..attributes import median_years, softmax
from ..labels import AGE9, APPEARANCE, EMOTION8, GENDER, RACE_FAIRFACE7, age_group9
from ..models.catalog import MULTITASK_MEAN, MULTITASK_SCALE
from .ages import AGE_BINS, soft_age
from .augment import augment, jpeg
from .effnet import FEATURES, EfficientNetLite, imagenet_backbone
from .multidata import Part

log = logging.getLogger(__name__)

OUTPUTS = ("gender", "race", "age", "emotion", "appearance")
FROZEN_BLOCKS = 3
THREADS = 2
# share of each source's training faces drawn in one epoch (others: all of them)
SHARES = {"utkface": 0.5, "fer": 0.35}
EMA_DECAY = 0.999


class MultiTaskNet(nn.Module):
    def __init__(self, backbone: EfficientNetLite) -> None:
        super().__init__()
        self.backbone = backbone
        self.dropout = nn.Dropout(0.2)
        self.heads = nn.ModuleDict({"gender": nn.Linear(FEATURES, len(GENDER)),
                                    "race": nn.Linear(FEATURES, len(RACE_FAIRFACE7)),
                                    "age": nn.Linear(FEATURES, AGE_BINS),
                                    "emotion": nn.Linear(FEATURES, len(EMOTION8)),
                                    "appearance": nn.Linear(FEATURES, len(APPEARANCE))})

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        h = self.dropout(self.backbone(x))
        return tuple(self.heads[name](h) for name in OUTPUTS)


def frozen(name: str, blocks: int = FROZEN_BLOCKS) -> bool:
    """Whether parameter ``name`` is frozen in the first epochs: the stem and the first
    ``blocks`` blocks (0: nothing frozen)."""
    return blocks > 0 and (name.startswith(("backbone._conv_stem", "backbone._bn0")) or
                           any(name.startswith(f"backbone._blocks.{i}.") for i in range(blocks)))


def set_train_mode(net: MultiTaskNet, blocks: int = FROZEN_BLOCKS) -> None:
    """Training mode, except the frozen layers' batch norms, which keep their ImageNet statistics."""
    net.train()
    for name, module in net.named_modules():
        if isinstance(module, nn.BatchNorm2d) and frozen(name + ".weight", blocks):
            module.eval()


def to_input(crops: np.ndarray, device: str | torch.device = "cpu") -> torch.Tensor:
    x = torch.from_numpy(crops).to(device).permute(0, 3, 1, 2).float()
    return ((x - MULTITASK_MEAN) * MULTITASK_SCALE).contiguous(memory_format=torch.channels_last)


def _set_nll(logits: torch.Tensor, allowed: torch.Tensor) -> torch.Tensor:
    """Mean negative log-probability of the allowed classes (a 0/1 mask per row)."""
    logp = F.log_softmax(logits, 1)
    return -torch.logsumexp(logp.masked_fill(allowed <= 0, float("-inf")), 1).mean()


def losses(out: Sequence[torch.Tensor], t: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    gender, race, age, emotion, appearance = out
    parts: dict[str, torch.Tensor] = {}

    def soft_ce(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return -(target * F.log_softmax(logits, 1)).sum(1).mean()

    m = t["gender"] >= 0
    if m.any():
        parts["gender"] = F.cross_entropy(gender[m], t["gender"][m], label_smoothing=0.05)
    m = t["race"].sum(1) > 0
    if m.any():  # label smoothing 0.05 as for gender
        parts["race"] = 0.95 * _set_nll(race[m], t["race"][m]) - 0.05 * F.log_softmax(race[m], 1).mean()
    lo, hi = t["age"][:, 0], t["age"][:, 1]
    m = (lo >= 0) & (lo == hi)
    if m.any():  # a known age
        parts["age"] = soft_ce(age[m], soft_age(lo[m], widen=0.05))  # sigma 2 years, 5% of the age past 40
    m = (lo >= 0) & (lo < hi)
    if m.any():  # an age group: the probability of its years
        bins = torch.arange(AGE_BINS, dtype=torch.float32, device=age.device)[None]
        parts["age_group"] = _set_nll(age[m], ((bins >= lo[m, None]) & (bins <= hi[m, None])).float())
    m = t["emotion"].sum(1) > 0
    if m.any():
        parts["emotion"] = soft_ce(emotion[m], t["emotion"][m])
    m = ~torch.isnan(t["appearance"][:, 0])
    if m.any():
        parts["appearance"] = F.binary_cross_entropy_with_logits(appearance[m], t["appearance"][m])
    return parts


_TARGETS = ("gender", "race", "age", "emotion", "appearance")


def _batches(parts: list[Part], rng: np.random.Generator, batch: int) -> list[np.ndarray]:
    """(part, row, view) triples of one epoch (each source's :data:`SHARES` of its faces, drawn
    anew each epoch), shuffled, cut into batches."""
    rows = []
    for k, p in enumerate(parts):
        chosen = rng.permutation(len(p))[:_drawn(p)]
        rows.append(np.stack([np.full(len(chosen), k), chosen, rng.integers(0, len(p.views), len(chosen))], 1))
    order = np.concatenate(rows)
    order = order[rng.permutation(len(order))]
    return [order[i:i + batch] for i in range(0, len(order) - batch + 1, batch)]


def _drawn(part: Part) -> int:
    """How many of ``part``'s faces one epoch draws."""
    return max(1, round(len(part) * SHARES.get(part.name, 1.0)))


def _gather(parts: list[Part], idx: np.ndarray) -> tuple[np.ndarray, dict[str, torch.Tensor]]:
    crops = np.stack([parts[k].views[v][r] for k, r, v in idx])
    t = {name: torch.from_numpy(np.stack([getattr(parts[k], name)[r] for k, r, _ in idx])) for name in _TARGETS}
    return crops, t


def _prepared(parts: list[Part], batches: list[np.ndarray], rng: np.random.Generator):  # type: ignore[no-untyped-def]
    """The batches' crops (a share JPEG-compressed, :func:`.augment.jpeg`) and targets, made in
    order in a background thread while the network trains on the one before."""
    from concurrent.futures import ThreadPoolExecutor

    def make(idx: np.ndarray) -> tuple[np.ndarray, dict[str, torch.Tensor]]:
        crops, t = _gather(parts, idx)
        return jpeg(crops, rng), t

    with ThreadPoolExecutor(1) as pool:
        pending = [pool.submit(make, idx) for idx in batches[:2]]
        for i in range(len(batches)):
            ready = pending.pop(0).result()
            if i + 2 < len(batches):
                pending.append(pool.submit(make, batches[i + 2]))
            yield ready


@torch.no_grad()
def predict(net: nn.Module, crops: np.ndarray, batch: int = 256) -> list[np.ndarray]:
    """Raw outputs (OUTPUTS order) for uint8 crops, in eval mode."""
    net.eval()
    device = next(net.parameters()).device
    outs = [net(to_input(crops[i:i + batch], device)) for i in range(0, len(crops), batch)]
    return [torch.cat(o).cpu().numpy() for o in zip(*outs)]


def part_metrics(outs: Sequence[np.ndarray], part: Part) -> dict[str, float]:
    """Accuracy of each head with labels in ``part``, from raw outputs in OUTPUTS order (of this
    network or its ONNX graph): race counts as right when the top race is one the label allows
    (so UTKFace's "asian" is right as East or Southeast Asian); age as the mean absolute error
    of the median years where the age is known, and as the share of FairFace groups where it
    is a group (the groups of the median years, as the product labels them)."""
    g, r, a, e, ap = outs
    m: dict[str, float] = {}
    has = part.gender >= 0
    if has.any():
        m["gender"] = float((g.argmax(1) == part.gender)[has].mean())
        for k, name in enumerate(GENDER):
            if (has & (part.gender == k)).any():
                m[f"{name}_recall"] = float((g.argmax(1) == k)[part.gender == k].mean())
    has = part.race.sum(1) > 0
    if has.any():
        m["race"] = float(part.race[np.arange(len(r)), r.argmax(1)][has].mean())
    lo, hi = part.age[:, 0], part.age[:, 1]
    years = median_years(softmax(a)) if (lo >= 0).any() else None
    has = (lo >= 0) & (lo == hi)
    if has.any():
        m["age_mae"] = float(np.abs(years - lo)[has].mean())
    has = (lo >= 0) & (lo < hi)
    if has.any():
        said = np.array([AGE9.index(age_group9(math.floor(y + 0.5))) for y in years[has]])
        truth = np.array([AGE9.index(age_group9(y)) for y in lo[has]])
        m["age9"] = float((said == truth).mean())
    has = part.emotion.sum(1) > 0
    if has.any():
        m["emotion"] = float((e.argmax(1) == part.emotion.argmax(1))[has].mean())
    has = ~np.isnan(part.appearance[:, 0])
    if has.any():
        m["appearance"] = float(((ap > 0) == (part.appearance > 0.5))[has].mean())
    return m


def evaluate(net: nn.Module, val: dict[str, Part]) -> dict[str, float]:
    """Development metrics on the validation parts (each view of UTKFace on its own)."""
    m: dict[str, float] = {}
    for name, part in val.items():
        for v, crops in enumerate(part.views if len(part) else []):
            key = name + ("/context" if v else "")
            m.update({f"{key}/{k}": round(x, 4) for k, x in part_metrics(predict(net, crops), part).items()})
    return m


def schedule(step: int, steps_per_epoch: int, epochs: int, refine: int) -> float:
    """Learning-rate factor: warm-up, a cosine decay over ``epochs``, then one warm restart at
    a fifth of the rate decaying over ``refine`` more epochs."""
    first = epochs * steps_per_epoch
    if step < first:
        warm = min(1.0, (step + 1) / min(300, steps_per_epoch))
        return warm * 0.5 * (1 + math.cos(math.pi * min(step / first, 1.0)))
    later = max(1, refine * steps_per_epoch)
    return 0.2 * 0.5 * (1 + math.cos(math.pi * min((step - first) / later, 1.0)))


def polish_schedule(step: int, steps_per_epoch: int, polish: int) -> float:
    """Learning-rate factor of the polish epochs: a short warm-up, then a cosine decay from a
    tenth of the rate over ``polish`` epochs; every further cycle of ``polish`` epochs restarts it
    (a warm restart: more training of the same kind, resumable from the end of the last cycle)."""
    cycle = max(1, polish * steps_per_epoch)
    step %= cycle
    warm = min(1.0, (step + 1) / min(200, steps_per_epoch))
    return warm * 0.1 * 0.5 * (1 + math.cos(math.pi * step / cycle))


def _optimiser(net: MultiTaskNet, lr: float, every_layer: bool, factor, blocks: int):  # type: ignore[no-untyped-def]
    for name, p in net.named_parameters():
        p.requires_grad = every_layer or not frozen(name, blocks)
    opt = torch.optim.AdamW([p for p in net.parameters() if p.requires_grad], lr=lr, weight_decay=1e-4)
    return opt, torch.optim.lr_scheduler.LambdaLR(opt, factor)


@torch.no_grad()
def _ema_update(ema: nn.Module, net: nn.Module, decay: float) -> None:
    pairs = list(zip(ema.state_dict().values(), net.state_dict().values()))
    floats = [(e, p) for e, p in pairs if e.dtype.is_floating_point]
    torch._foreach_lerp_([e for e, _ in floats], [p for _, p in floats], 1 - decay)
    for e, p in pairs:
        if not e.dtype.is_floating_point:
            e.copy_(p)


def _checkpoints(work: Path) -> list[Path]:
    return sorted(work.glob("multitask-epoch-*.pt"), key=lambda p: int(p.stem.rsplit("-", 1)[1]))


def last_epoch(work: Path) -> int:
    """The last epoch checkpointed in ``work`` (0: none)."""
    done = _checkpoints(work)
    return int(done[-1].stem.rsplit("-", 1)[1]) if done else 0


def train(parts: dict[str, dict[str, Part]], work: Path, epochs: int = 5, batch: int = 64,
          lr: float = 1e-3, seed: int = 0, refine: int = 0, polish: int = 0, cycles: int = 1,
          polish_parts: dict[str, dict[str, Part]] | None = None, device: str = "cpu",
          freeze: int = FROZEN_BLOCKS, backbone: str = "lite0") -> tuple[MultiTaskNet, MultiTaskNet]:
    """Train ``epochs`` + ``refine`` epochs (see :func:`schedule`), then ``cycles`` x ``polish`` epochs with
    every layer trainable (:func:`polish_schedule`; the frozen layers' batch norms keep their
    ImageNet statistics) on ``polish_parts`` when given (the same faces cropped at a larger
    size: the network is fully convolutional), or resume from the last
    ``work/multitask-epoch-N.pt``; return the network and the EMA of its weights. ``freeze``: how
    many blocks (after the stem) the first epochs leave as ImageNet made them (0: none);
    ``device``: where to train (``cuda`` on a GPU machine); ``backbone``: ``lite0`` or ``lite2``
    (:data:`.effnet.STAGES`), from ImageNet."""
    torch.manual_seed(seed)
    torch.set_num_threads(THREADS)
    net = MultiTaskNet(imagenet_backbone(backbone)).to(device, memory_format=torch.channels_last)
    ema = copy.deepcopy(net)
    train_parts = list(parts["train"].values())
    steps_per_epoch = sum(_drawn(p) for p in train_parts) // batch
    first = epochs + refine

    def phase(polishing: bool):  # type: ignore[no-untyped-def]
        if polishing:
            return _optimiser(net, lr, True, lambda s: polish_schedule(s, steps_per_epoch, polish), freeze)
        return _optimiser(net, lr, False, lambda s: schedule(s, steps_per_epoch, epochs, refine), freeze)

    opt, sched = phase(False)
    gen = torch.Generator(device).manual_seed(seed)
    start_epoch = 0
    work.mkdir(parents=True, exist_ok=True)
    done = _checkpoints(work)
    if done:
        state = torch.load(done[-1], weights_only=False, map_location="cpu")
        start_epoch = state["epoch"]
        net.load_state_dict(state["net"])
        ema.load_state_dict(state["ema"])
        if start_epoch > first:
            opt, sched = phase(True)
        opt.load_state_dict(state["opt"])
        sched.load_state_dict(state["sched"])
        gen.set_state(state["gen"])
        torch.set_rng_state(state["torch_rng"])
        log.info("resumed after epoch %d (%s)", start_epoch, done[-1])
    for epoch in range(start_epoch, first + polish * cycles):
        if epoch >= first and polish_parts is not None:
            parts, train_parts = polish_parts, list(polish_parts["train"].values())
        if epoch == first:
            opt, sched = phase(True)
        rng = np.random.default_rng([seed, epoch])
        set_train_mode(net, freeze)
        t0, sums, count = time.time(), {}, 0
        for step, (crops, t) in enumerate(_prepared(train_parts, _batches(train_parts, rng, batch), rng)):
            t = {k: v.to(device) for k, v in t.items()}
            parts_loss = losses(net(augment(to_input(crops, device), gen)), t)
            loss = sum(parts_loss.values())
            opt.zero_grad()
            loss.backward()  # type: ignore[union-attr]
            opt.step()
            sched.step()
            _ema_update(ema, net, min(EMA_DECAY, (1 + step + epoch * steps_per_epoch) / (10 + step + epoch * steps_per_epoch)))
            for k, v in parts_loss.items():
                sums[k] = sums.get(k, 0.0) + float(v.detach())
            count += 1
            if step % 100 == 0:
                log.info("epoch %d step %d/%d loss %.3f (%.0fs)", epoch + 1, step, steps_per_epoch,
                         float(loss.detach()), time.time() - t0)
        metrics = evaluate(net, parts["val"])
        ema_metrics = evaluate(ema, parts["val"])
        log.info("epoch %d done in %.0fs; train losses %s; val %s; EMA val %s", epoch + 1, time.time() - t0,
                 {k: round(v / count, 3) for k, v in sums.items()}, metrics, ema_metrics)
        torch.save({"net": net.state_dict(), "ema": ema.state_dict(), "opt": opt.state_dict(),
                    "sched": sched.state_dict(), "gen": gen.get_state(), "torch_rng": torch.get_rng_state(),
                    "epoch": epoch + 1, "val": metrics, "ema_val": ema_metrics}, work / f"multitask-epoch-{epoch + 1}.pt")
    return net.eval(), ema.eval()


def calibrate(net: MultiTaskNet, val: dict[str, Part]) -> dict:
    """Temperatures fitted on the validation parts (every view; race on faces with one FairFace
    race, age on the 9 groups), and the gender offset that brings female and male recall
    together there, added to the gender head's bias (in place)."""
    from .calibrate import balancing_offset, fit_multilabel_temperature, temperature_report

    views = [(p, crops) for p in val.values() if len(p) for crops in p.views]
    outs = {k: np.concatenate(o) for k, o in zip(OUTPUTS, zip(*(predict(net, c) for _, c in views)))}
    truth = {k: np.concatenate([getattr(p, k) for p, _ in views]) for k in OUTPUTS}
    logits, targets = {}, {}
    has = truth["gender"] >= 0
    logits["gender"], targets["gender"] = outs["gender"][has], truth["gender"][has]
    has = truth["race"].sum(1) == 1
    logits["race"], targets["race"] = outs["race"][has], truth["race"][has].argmax(1)
    has = truth["age"][:, 0] >= 0  # a year, or a group's first year: the same 9-group either way
    logits["age"], targets["age"] = outs["age"][has], np.rint(truth["age"][has, 0]).astype(int)
    has = truth["emotion"].sum(1) > 0
    logits["emotion"], targets["emotion"] = outs["emotion"][has], truth["emotion"][has].argmax(1)
    result = temperature_report(logits, targets)
    result["appearance"] = {"temperature": round(fit_multilabel_temperature(outs["appearance"],
                                                                            truth["appearance"]), 3)}
    t = result["gender"]["temperature"]
    offset = balancing_offset((logits["gender"][:, 1] - logits["gender"][:, 0]) / t, targets["gender"] == 1)
    with torch.no_grad():
        net.heads["gender"].bias[1] += offset * t
    result["gender"]["female_offset"] = offset
    return result
