"""Partial fine-tuning of the face-api TinyXception on UTKFace (gender, race, age together).

The trunk (entry flow, and the middle blocks before ``FIRST_TRAINED``) stays frozen; its
output (128x14x14) is computed once for each crop and its mirror image and cached in float16.
The rest of the network (the later middle blocks, the exit flow) and the heads are trained,
which on 2 CPU cores costs ~3 ms per image and pass instead of ~20 ms for the whole network.
"""

from __future__ import annotations

import copy
import logging
import time
from collections.abc import Sequence

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ..datasets import Sample
from ..labels import GENDER, RACE_UTK5
from ..models.catalog import FACEAPI_MEAN
from .ages import AGE_BINS, soft_age
from .heads import sample_labels
from .nets import TinyXception

log = logging.getLogger(__name__)


# fine-tuning starts at this middle block (0 or 1); everything before it stays frozen
FIRST_TRAINED = 0


def trunk(net: TinyXception, x: torch.Tensor, first_trained: int = FIRST_TRAINED) -> torch.Tensor:
    out = F.relu(net.conv_in(x))
    for block in (net.reduction_block_0, net.reduction_block_1, net.main_block_0)[:2 + first_trained]:
        out = block(out)
    return out


def trunk_features(net: TinyXception, crops: np.ndarray, flip: bool, batch: int = 256,
                   first_trained: int = FIRST_TRAINED) -> torch.Tensor:
    mean = torch.tensor(FACEAPI_MEAN).view(1, 3, 1, 1)
    out = []
    with torch.inference_mode():
        for i in range(0, len(crops), batch):
            x = (torch.from_numpy(crops[i:i + batch]).permute(0, 3, 1, 2).float() - mean) / 255
            out.append(trunk(net, x.flip(3) if flip else x, first_trained).half())
    return torch.cat(out)


class Top(nn.Module):
    """Trainable part: the middle blocks from ``first_trained`` on, the exit flow, and three
    heads on the pooled 512-d feature."""

    def __init__(self, net: TinyXception, dropout: float = 0.3, first_trained: int = FIRST_TRAINED) -> None:
        super().__init__()
        if first_trained == 0:
            self.main_block_0 = copy.deepcopy(net.main_block_0)
        self.main_block_1 = copy.deepcopy(net.main_block_1)
        self.exit_reduction = copy.deepcopy(net.exit_reduction)
        self.exit_separable = copy.deepcopy(net.exit_separable)
        self.dropout = nn.Dropout(dropout)
        self.gender = nn.Linear(512, len(GENDER))
        self.race = nn.Linear(512, len(RACE_UTK5))
        self.age = nn.Linear(512, AGE_BINS)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        if hasattr(self, "main_block_0"):
            x = self.main_block_0(x)
        out = self.exit_reduction(self.main_block_1(x))
        feat = self.dropout(F.relu(self.exit_separable(out)).mean(dim=(2, 3)))
        return self.gender(feat), self.race(feat), self.age(feat)


class FullModel(nn.Module):
    """Exported graph: frozen trunk + trained top, averaged over the input and its mirror.

    Input float32 (N, 3, 112, 112) normalised as face-api; outputs log-probabilities."""

    def __init__(self, net: TinyXception, top: Top, first_trained: int = FIRST_TRAINED) -> None:
        super().__init__()
        self.net, self.top, self.first_trained = net, top, first_trained

    def forward(self, crops: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        n = crops.shape[0]
        outs = self.top(trunk(self.net, torch.cat([crops, crops.flip(3)]), self.first_trained))
        return tuple((o.log_softmax(1)[:n] + o.log_softmax(1)[n:]) / 2 for o in outs)  # type: ignore[return-value]


def predict_top(top: Top, feats: torch.Tensor, feats_flip: torch.Tensor, batch: int = 512):
    """The (gender, race, age) log-probabilities of ``top`` on trunk features, averaged with
    those of the mirrored crops (``feats_flip``), ``batch`` rows at a time."""
    top.eval()
    outs = []
    with torch.inference_mode():
        for i in range(0, len(feats), batch):
            a = top(feats[i:i + batch].float())
            b = top(feats_flip[i:i + batch].float())
            outs.append([(x.log_softmax(1) + y.log_softmax(1)) / 2 for x, y in zip(a, b)])
    return [torch.cat(parts) for parts in zip(*outs)]


def evaluate_top(top: Top, feats, feats_flip, samples: Sequence[Sample]) -> dict[str, float]:
    return metrics(predict_top(top, feats, feats_flip), sample_labels(samples))


def metrics(outputs: Sequence[torch.Tensor], labels: Sequence[torch.Tensor]) -> dict[str, float]:
    """Accuracies and age MAE of :func:`predict_top`'s (gender, race, age) outputs against
    :func:`facescan.train.heads.sample_labels`."""
    lg, lr, la = outputs
    g, r, a = labels
    years = (la.exp() / la.exp().sum(1, keepdim=True) * torch.arange(AGE_BINS)).sum(1)
    return {"gender_accuracy": float((lg.argmax(1) == g).float().mean()),
            "race_accuracy": float((lr.argmax(1) == r).float().mean()),
            "age_mae": float((years - a.float()).abs().mean())}


def train_top(net: TinyXception, train: Sequence[tuple[torch.Tensor, torch.Tensor]], samples: Sequence[Sample],
              val: Sequence[tuple[torch.Tensor, torch.Tensor]] = (), val_samples: Sequence[Sample] = (),
              epochs: int = 12, batch: int = 64, lr: float = 1e-3, seed: int = 0,
              first_trained: int = FIRST_TRAINED) -> Top:
    """Train on one or more versions of every training face (``train``: per version, the trunk
    features of the faces and of their mirror images); each epoch sees every version of every
    face once, mirrored or not at random. Keeps the epoch with the best validation score,
    averaged over the versions in ``val``."""
    torch.manual_seed(seed)
    labels = sample_labels(samples)
    n, views = len(samples), [x for pair in train for x in pair]  # view 2v: version v, 2v+1: mirrored
    top = Top(net, first_trained=first_trained)
    heads = [p for name, p in top.named_parameters() if name.split(".")[0] in ("gender", "race", "age")]
    body = [p for name, p in top.named_parameters() if name.split(".")[0] not in ("gender", "race", "age")]
    opt = torch.optim.AdamW([{"params": body, "lr": lr / 3}, {"params": heads, "lr": lr}],
                            weight_decay=5e-3)
    per_epoch = n * len(train)
    steps = epochs * ((per_epoch + batch - 1) // batch)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, [lr / 3, lr], total_steps=steps, pct_start=0.15)
    best, best_state = -1e9, copy.deepcopy(top.state_dict())
    start = time.time()
    for epoch in range(epochs):
        top.train()
        order = torch.randperm(per_epoch)
        view = 2 * (order // n) + torch.randint(0, 2, (per_epoch,))
        face = order % n
        for i in range(0, per_epoch, batch):
            v, f = view[i:i + batch], face[i:i + batch]
            x = torch.stack([views[int(a)][int(b)] for a, b in zip(v, f)]).float()
            g, r, a = (t[f] for t in labels)
            lg, lr_, la = top(x)
            loss = (F.cross_entropy(lg, g, label_smoothing=0.05)
                    + F.cross_entropy(lr_, r, label_smoothing=0.05)
                    - (soft_age(a) * la.log_softmax(1)).sum(1).mean())
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
        if val:
            ms = [evaluate_top(top, *pair, val_samples) for pair in val]
            m = {k: sum(x[k] for x in ms) / len(ms) for k in ms[0]}
            score = m["gender_accuracy"] + m["race_accuracy"] - m["age_mae"] / 20
            log.info("epoch %d/%d %s (%.0fs)", epoch + 1, epochs,
                     [{k: round(v, 4) for k, v in x.items()} for x in ms], time.time() - start)
            if score > best:
                best, best_state = score, copy.deepcopy(top.state_dict())
        else:
            log.info("epoch %d/%d (%.0fs)", epoch + 1, epochs, time.time() - start)
    if val:
        top.load_state_dict(best_state)
    return top.eval()
