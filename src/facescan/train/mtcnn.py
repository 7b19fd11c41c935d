"""MTCNN's three networks (Zhang et al. 2016: P-Net, R-Net, O-Net), rebuilt here from their
published layer shapes, loaded with the weights that ship inside the pinned PyPI wheel
``facenet-pytorch==2.6.0`` (MIT) and exported to ONNX for :mod:`facescan.detect.mtcnn`.

facenet-pytorch itself does not import here (it needs torchvision), so its three ``.pt`` state
dicts are read straight from the installed files and checked by sha256. Each exported graph takes
RGB pixels 0..255 (NCHW float32) and does MTCNN's normalisation ``(x - 127.5) / 128`` itself; it
returns the face probability (softmax over [not face, face], the second), the box regression
``(dx1, dy1, dx2, dy2)`` as fractions of the box side and, for O-Net, the 5 landmarks as
fractions of the box (5 x values, then 5 y values).

The weights were converted from TensorFlow, whose dense layers read a feature map flattened
as (width, height, channel); the dense weights are re-ordered once here so that the graph
flattens in PyTorch's (channel, height, width) order with no transpose at run time.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import torch
from torch import nn

# sha256 of the state dicts inside facenet-pytorch 2.6.0
WEIGHTS = {
    "pnet": "a2a71925e0b9996a42f63e47efc1ca19043e69558b5c523b978d611dfae49c8f",
    "rnet": "bbb937de72efc9ef83b186c49f5f558467a1d7e3453a8ece0d71a886633f6a86",
    "onet": "165bfbe42940416ccfb977545cf0e976d5bf321f67083ae2aaaa5c764280118d",
}

# layers in order: ("conv", out channels, kernel) | ("pool", kernel, stride) | ("dense", out);
# each conv and each dense but the heads is followed by a PReLU. Pools round up (ceil mode).
LAYERS = {
    "pnet": [("conv", 10, 3), ("pool", 2, 2), ("conv", 16, 3), ("conv", 32, 3)],
    "rnet": [("conv", 28, 3), ("pool", 3, 2), ("conv", 48, 3), ("pool", 3, 2), ("conv", 64, 2),
             ("dense", 128)],
    "onet": [("conv", 32, 3), ("pool", 3, 2), ("conv", 64, 3), ("pool", 3, 2), ("conv", 64, 3),
             ("pool", 2, 2), ("conv", 128, 2), ("dense", 256)],
}
# the input side each network is trained for (P-Net is fully convolutional: any size)
INPUT = {"pnet": 12, "rnet": 24, "onet": 48}
# heads: output name -> width; P-Net's are 1x1 convolutions over its feature map
HEADS = {"pnet": {"prob": 2, "reg": 4}, "rnet": {"prob": 2, "reg": 4},
         "onet": {"prob": 2, "reg": 4, "marks": 10}}


class Stage(nn.Module):
    """One MTCNN network built from :data:`LAYERS`; layers are named as in facenet-pytorch's
    state dicts (conv1, prelu1, pool1, ..., dense4 / conv4_1 ...) so they load by name."""

    def __init__(self, kind: str) -> None:
        super().__init__()
        self.kind, self.order = kind, []
        channels, side, i = 3, INPUT[kind], 0
        for op, *args in LAYERS[kind]:
            i += op != "pool"  # pools share the number of the convolution before them
            if op == "conv":
                self._add(f"conv{i}", nn.Conv2d(channels, args[0], args[1]))
                self._add(f"prelu{i}", nn.PReLU(args[0]))
                channels, side = args[0], side - args[1] + 1
            elif op == "pool":
                self._add(f"pool{i}", nn.MaxPool2d(args[0], args[1], ceil_mode=True))
                side = -(-(side - args[0]) // args[1]) + 1
            else:
                self._add(f"flatten{i}", nn.Flatten())
                self._add(f"dense{i}", nn.Linear(channels * side * side, args[0]))
                self._add(f"prelu{i}", nn.PReLU(args[0]))
                channels = args[0]
        n = i + 1
        self.heads = []
        for j, (name, width) in enumerate(HEADS[kind].items(), start=1):
            layer = nn.Conv2d(channels, width, 1) if kind == "pnet" else nn.Linear(channels, width)
            prefix = "conv" if kind == "pnet" else "dense"
            setattr(self, f"{prefix}{n}_{j}", layer)
            self.heads.append((name, layer))

    def _add(self, name: str, layer: nn.Module) -> None:
        setattr(self, name, layer)
        self.order.append(layer)

    def forward(self, rgb: torch.Tensor) -> tuple[torch.Tensor, ...]:
        x = (rgb - 127.5) * 0.0078125
        for layer in self.order:
            x = layer(x)
        out = []
        for name, layer in self.heads:
            y = layer(x)
            out.append(torch.softmax(y, dim=1)[:, 1:2] if name == "prob" else y)
        return tuple(out)


def _tf_dense_to_torch(weight: torch.Tensor, channels: int, side: int) -> torch.Tensor:
    """Dense weights that read a (width, height, channel) flattening, re-ordered to read
    PyTorch's (channel, height, width) one."""
    out = weight.shape[0]
    return weight.reshape(out, side, side, channels).permute(0, 3, 2, 1).reshape(out, -1).contiguous()


def load_stage(kind: str) -> Stage:
    """A network with facenet-pytorch's weights (from the installed wheel, sha256 checked)."""
    import hashlib
    from importlib import metadata

    from ..errors import ModelError

    try:
        path = Path(str(metadata.distribution("facenet-pytorch").locate_file(f"facenet_pytorch/data/{kind}.pt")))
    except metadata.PackageNotFoundError:
        raise ModelError("facescan train mtcnn needs facenet-pytorch==2.6.0: "
                         "pip install --no-deps facenet-pytorch==2.6.0") from None
    if not path.is_file() or hashlib.sha256(path.read_bytes()).hexdigest() != WEIGHTS[kind]:
        raise ModelError(f"{path}: missing or not the file of facenet-pytorch 2.6.0 (sha256 differs)")
    state = torch.load(path, map_location="cpu", weights_only=True)
    net = Stage(kind)
    for name, module in net.named_children():
        if isinstance(module, nn.Linear) and name.startswith("dense") and "_" not in name:
            feat = module.in_features
            channels = [m for m in net.order if isinstance(m, nn.Conv2d)][-1].out_channels
            side = round((feat / channels) ** 0.5)
            state[f"{name}.weight"] = _tf_dense_to_torch(state[f"{name}.weight"], channels, side)
    net.load_state_dict(state)
    return net.eval()


def export(out_dir: Path) -> dict[str, Path]:
    """Write ``mtcnn-pnet.onnx``, ``mtcnn-rnet.onnx``, ``mtcnn-onet.onnx`` into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {}
    for kind in ("pnet", "rnet", "onet"):
        net = load_stage(kind)
        names = list(HEADS[kind])
        side = INPUT[kind]
        axes = {"rgb": {0: "n", 2: "h", 3: "w"} if kind == "pnet" else {0: "n"}}
        axes.update({o: {0: "n", 2: "h", 3: "w"} if kind == "pnet" else {0: "n"} for o in names})
        path = out_dir / f"mtcnn-{kind}.onnx"
        with torch.no_grad(), warnings.catch_warnings():  # the exporter's deprecation notices
            warnings.simplefilter("ignore")
            torch.onnx.export(net, (torch.zeros(2, 3, side, side),), str(path), input_names=["rgb"],
                              output_names=names, dynamic_axes=axes, opset_version=17, dynamo=False)
        paths[kind] = path
    return paths
