"""In-the-wild augmentation of training crops: what real photos do to a face that data set
chips do not (blur and low resolution, JPEG blocks, noise, low light, grey photos, occlusion,
pose and framing). Every draw comes from the caller's seeded generator, so a run repeats."""

from __future__ import annotations

import math

import cv2
import numpy as np
import torch
import torch.nn.functional as F


def jpeg(crops: np.ndarray, rng: np.random.Generator, share: float = 0.3,
         quality: tuple[int, int] = (20, 90)) -> np.ndarray:
    """A copy of uint8 RGB ``crops`` (N, S, S, 3) with ``share`` of them JPEG-compressed at a
    random quality in ``quality``."""
    out = crops.copy()
    chosen = rng.random(len(crops)) < share
    qualities = rng.integers(quality[0], quality[1] + 1, len(crops))
    for i in np.flatnonzero(chosen):
        ok, buf = cv2.imencode(".jpg", crops[i], [cv2.IMWRITE_JPEG_QUALITY, int(qualities[i])])
        if ok:
            out[i] = cv2.imdecode(buf, cv2.IMREAD_UNCHANGED).reshape(crops[i].shape)
    return out


def augment(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Augment a batch of normalised crops (N, 3, S, S; pixel values (v - 127) / 128); ``gen``
    lives on the crops' device."""
    n, _, size, _ = x.shape
    dev = x.device
    u = torch.rand(n, 16, generator=gen, device=dev)
    x = torch.where((u[:, 0] < 0.5)[:, None, None, None], x.flip(3), x)
    # pose and framing: rotation +-15 degrees, scale 0.85-1.15, shift +-8%
    angle = (u[:, 1] - 0.5) * math.radians(30)
    scale = 0.85 + 0.3 * u[:, 2]
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack([torch.stack([cos, -sin, (u[:, 3] - 0.5) * 0.16], 1),
                         torch.stack([sin, cos, (u[:, 4] - 0.5) * 0.16], 1)], 1)
    x = F.grid_sample(x, F.affine_grid(theta, list(x.shape), align_corners=False), align_corners=False)
    # low resolution: down to 25-70% and back up, on a third of the faces
    small = max(8, int(size * (0.25 + 0.45 * float(u[0, 5]))))
    blurred = F.interpolate(F.interpolate(x, size=small, mode="bilinear", antialias=True, align_corners=False),
                            size=size, mode="bilinear", align_corners=False)
    x = torch.where((u[:, 6] < 0.33)[:, None, None, None], blurred, x)
    # colour: greyscale (a fifth), contrast, brightness, gamma (low light or glare)
    grey = x.mean(1, keepdim=True).expand_as(x)
    x = torch.where((u[:, 7] < 0.2)[:, None, None, None], grey, x)
    contrast = (0.7 + 0.6 * u[:, 8])[:, None, None, None]
    bright = ((u[:, 9] - 0.5) * 0.4)[:, None, None, None]
    x = x * contrast + bright
    gamma = torch.where(u[:, 10] < 0.25, 0.6 + 1.4 * u[:, 11], torch.ones(n, device=dev))[:, None, None, None]
    x = ((x * 128 + 127).clamp(0, 255) / 255) ** gamma * 255
    x = (x - 127) / 128
    # sensor noise on a fifth of the faces
    noise = torch.randn(x.shape, generator=gen, device=dev) * (0.02 + 0.08 * u[:, 12])[:, None, None, None]
    x = x + torch.where((u[:, 13] < 0.2)[:, None, None, None], noise, torch.zeros((), device=dev))
    # occlusion: a grey rectangle (15-40% of the side) on a fifth of the faces
    side = (size * (0.15 + 0.25 * u[:, 14])).long()
    corner = torch.rand(n, 2, generator=gen, device=dev)
    rows = torch.arange(size, device=dev)[None, :]
    top = (corner[:, 0] * (size - side)).long()[:, None]
    left = (corner[:, 1] * (size - side)).long()[:, None]
    inside_r = (rows >= top) & (rows < top + side[:, None])
    inside_c = (rows >= left) & (rows < left + side[:, None])
    box = (inside_r[:, :, None] & inside_c[:, None, :])[:, None] & (u[:, 15] < 0.2)[:, None, None, None]
    fill = (torch.rand(n, 1, 1, 1, generator=gen, device=dev) - 0.5)
    x = torch.where(box, fill.expand_as(x), x)
    return x.contiguous(memory_format=torch.channels_last)
