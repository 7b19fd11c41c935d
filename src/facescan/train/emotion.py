"""Fine-tuning the FER2013 mini-Xception on facescan's own crops, with augmentation.

Training crops are made by the run-time pipeline (YuNet on the upscaled 48x48 image, policy
``square:1.0``, whole image when no face is found), so training and use agree. Validation is
carved from FER2013 train by facescan's fixed file-name split ('val' bucket, 10%); PublicTest
is never used for training or model choice.
"""

from __future__ import annotations

import copy
import logging
import math
import time
from collections.abc import Sequence

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ..datasets import Sample
from ..labels import EMOTION7
from .nets import MiniXception

log = logging.getLogger(__name__)

LUMA = torch.tensor([0.299, 0.587, 0.114])


def to_input(crops: np.ndarray) -> torch.Tensor:
    """uint8 (N, 64, 64, 3) RGB -> float (N, 1, 64, 64) in [-1, 1], as the ModelSpec says."""
    gray = torch.from_numpy(crops).float() @ LUMA
    return (gray / 127.5 - 1.0)[:, None]


def augment(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Random mirror, rotation (+-10 deg), scale (0.9-1.1) and shift (+-6%), in one warp."""
    n = x.shape[0]
    angle = (torch.rand(n, generator=gen) - 0.5) * math.radians(20)
    scale = 0.9 + 0.2 * torch.rand(n, generator=gen)
    flip = torch.where(torch.rand(n, generator=gen) < 0.5, -1.0, 1.0)
    shift = (torch.rand(n, 2, generator=gen) - 0.5) * 0.12
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack([torch.stack([cos * flip, -sin, shift[:, 0]], 1),
                         torch.stack([sin * flip, cos, shift[:, 1]], 1)], 1)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, padding_mode="border", align_corners=False)


class FlipTTA(nn.Module):
    """Exported graph: mean log-probabilities of the crop and its mirror image."""

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net

    def forward(self, crops: torch.Tensor) -> torch.Tensor:
        n = crops.shape[0]
        out = self.net(torch.cat([crops, crops.flip(3)])).log_softmax(1)
        return (out[:n] + out[n:]) / 2


def predict_logprobs(net: nn.Module, x: torch.Tensor, batch: int = 512) -> torch.Tensor:
    tta = FlipTTA(net).eval()
    with torch.inference_mode():
        return torch.cat([tta(x[i:i + batch]) for i in range(0, len(x), batch)])


def labels_of(samples: Sequence[Sample]) -> torch.Tensor:
    return torch.tensor([EMOTION7.index(str(s.labels["emotion"])) for s in samples])


def finetune(net: MiniXception, x: torch.Tensor, y: torch.Tensor, x_val: torch.Tensor,
             y_val: torch.Tensor, epochs: int = 15, batch: int = 128, lr: float = 1e-3,
             seed: int = 0) -> MiniXception:
    """AdamW + one-cycle, label smoothing 0.1; returns the last epoch's weights.

    Validation accuracy is logged but not used to pick an epoch: the starting weights were
    trained on all of FER2013 train, validation part included, so early epochs would look best.
    """
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    net = copy.deepcopy(net)
    opt = torch.optim.AdamW(net.parameters(), lr, weight_decay=1e-4)
    steps = epochs * ((len(x) + batch - 1) // batch)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, lr, total_steps=steps, pct_start=0.2)
    start = time.time()
    for epoch in range(epochs):
        net.train()
        perm = torch.randperm(len(x), generator=gen)
        for i in range(0, len(x), batch):
            idx = perm[i:i + batch]
            loss = F.cross_entropy(net(augment(x[idx], gen)), y[idx], label_smoothing=0.1)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
        acc = float((predict_logprobs(net, x_val).argmax(1) == y_val).float().mean())
        log.info("epoch %d/%d val accuracy %.4f (%.0fs)", epoch + 1, epochs, acc, time.time() - start)
    return net.eval()
