"""Train facescan's gender / age / race heads on frozen face-api TinyXception features.

Recipe (measured in BENCHMARKS.md, chosen on the validation split):
* crops: YuNet top face, policy ``square:1.2``, 112x112, normalised as face-api does;
* features: the 512-d pooled TinyXception output, of each crop and its mirror image (the
  mirror doubles the training set and is averaged at inference: test-time flip);
* heads: standardise -> Linear(512, 512) -> ReLU -> Dropout(0.3) -> three linear heads:
  gender (2), race (UTKFace 5), age (101 one-year bins, 100 = 100+) trained on Gaussian soft
  labels (sigma 2 years; years = expected value of the bins);
* AdamW, one-cycle lr 2e-3, 40 epochs, batch 256, seed 0.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ..datasets import Sample
from ..labels import GENDER, RACE_UTK5
from ..models.catalog import FACEAPI_MEAN
from .ages import AGE_BINS, soft_age
from .nets import TinyXception

log = logging.getLogger(__name__)



def faceapi_features(backbone: TinyXception, crops: np.ndarray, flip: bool = False,
                     batch: int = 256) -> torch.Tensor:
    mean = torch.tensor(FACEAPI_MEAN).view(1, 3, 1, 1)
    out = []
    with torch.inference_mode():
        for i in range(0, len(crops), batch):
            x = (torch.from_numpy(crops[i:i + batch]).permute(0, 3, 1, 2).float() - mean) / 255
            out.append(backbone(x.flip(3) if flip else x))
    return torch.cat(out)


class Heads(nn.Module):
    def __init__(self, mu: torch.Tensor, sd: torch.Tensor, hidden: int = 512) -> None:
        super().__init__()
        self.register_buffer("mu", mu)
        self.register_buffer("sd", sd)
        self.body = nn.Sequential(nn.Linear(512, hidden), nn.ReLU(), nn.Dropout(0.3))
        self.gender = nn.Linear(hidden, len(GENDER))
        self.race = nn.Linear(hidden, len(RACE_UTK5))
        self.age = nn.Linear(hidden, AGE_BINS)

    def forward(self, feats: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        h = self.body((feats - self.mu) / self.sd)
        return self.gender(h), self.race(h), self.age(h)


def sample_labels(samples: Sequence[Sample]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """UTKFace samples' (gender index, race index among the 5, age in whole years capped at the
    last bin) as three tensors."""
    g = torch.tensor([GENDER.index(str(s.labels["gender"])) for s in samples])
    r = torch.tensor([RACE_UTK5.index(str(s.labels["race"])) for s in samples])
    a = torch.tensor([min(int(s.labels["age"]), AGE_BINS - 1) for s in samples])  # type: ignore[call-overload]
    return g, r, a


def train_heads(feats: torch.Tensor, feats_flip: torch.Tensor, samples: Sequence[Sample],
                epochs: int = 40, seed: int = 0) -> Heads:
    torch.manual_seed(seed)
    g, r, a = sample_labels(samples)
    x = torch.cat([feats, feats_flip])
    g, r, a = torch.cat([g, g]), torch.cat([r, r]), torch.cat([a, a])
    model = Heads(feats.mean(0), feats.std(0) + 1e-6)
    opt = torch.optim.AdamW(model.parameters(), 1e-3, weight_decay=1e-3)
    steps_per_epoch = (len(x) + 255) // 256
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, 2e-3, total_steps=epochs * steps_per_epoch)
    start = time.time()
    for epoch in range(epochs):
        model.train()
        perm = torch.randperm(len(x))
        for i in range(0, len(x), 256):
            idx = perm[i:i + 256]
            lg, lr, la = model(x[idx])
            loss = (F.cross_entropy(lg, g[idx]) + F.cross_entropy(lr, r[idx])
                    - (soft_age(a[idx]) * la.log_softmax(1)).sum(1).mean())
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
        log.info("epoch %d/%d loss %.3f (%.0fs)", epoch + 1, epochs, loss.item(), time.time() - start)
    return model.eval()


class FlipTTAModel(nn.Module):
    """The exported graph: backbone + heads, averaged over the input and its mirror image.

    Input ``crops``: float32 (N, 3, 112, 112), RGB, ``(pixel - FACEAPI_MEAN) / 255``.
    Outputs are log-probabilities (mean of the two views): gender, race, age bins.
    """

    def __init__(self, backbone: TinyXception, heads: Heads) -> None:
        super().__init__()
        self.backbone, self.heads = backbone, heads

    def forward(self, crops: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        n = crops.shape[0]
        outs = self.heads(self.backbone(torch.cat([crops, crops.flip(3)])))
        return tuple((o.log_softmax(1)[:n] + o.log_softmax(1)[n:]) / 2 for o in outs)  # type: ignore[return-value]


def evaluate(model: Heads, feats: torch.Tensor, feats_flip: torch.Tensor,
             samples: Sequence[Sample]) -> dict[str, float]:
    g, r, a = sample_labels(samples)
    with torch.inference_mode():
        o1, o2 = model(feats), model(feats_flip)
        lg, lr, la = ((x.log_softmax(1) + y.log_softmax(1)) / 2 for x, y in zip(o1, o2))
    years = (la.softmax(1) * torch.arange(AGE_BINS)).sum(1)
    return {"gender_accuracy": float((lg.argmax(1) == g).float().mean()),
            "race_accuracy": float((lr.argmax(1) == r).float().mean()),
            "age_mae": float((years - a.float()).abs().mean())}


def export_onnx(model: nn.Module, path: Path, size: int, channels: int, outputs: list[str]) -> None:
    import warnings

    path.parent.mkdir(parents=True, exist_ok=True)
    dummy = torch.zeros(2, channels, size, size)
    with warnings.catch_warnings():  # tracing warns about the (static) padding sizes
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (dummy,), str(path), input_names=["crops"], output_names=outputs,
                          dynamic_axes={"crops": {0: "n"}, **{o: {0: "n"} for o in outputs}},
                          opset_version=17, dynamo=False)
