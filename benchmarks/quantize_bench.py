"""Does int8 pay for the default model? The recipe's float32 graph vs the shipped static int8
(QDQ, per-channel weights, calibrated on 128 validation crops per source) vs dynamic int8:
validation accuracy and faces/s.

    FACESCAN_DATA=../shared/data python benchmarks/quantize_bench.py [--work .facescan-work] [--write BENCHMARKS.md]

Reads the float32 graph and the validation crops that `facescan train multitask --data
../shared/data --work WORK` left in WORK (crops missing there are cut again).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np
from report import measured, publish  # benchmarks/ is on sys.path when run as a script

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("FACESCAN_DATA", ROOT.parent / "shared" / "data"))


def _session(path: Path):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 2
    options.log_severity_level = 3
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def _input(crops: np.ndarray, spec) -> np.ndarray:
    return np.ascontiguousarray(((crops.astype(np.float32) - spec.mean[0]) * spec.scale).transpose(0, 3, 1, 2))


def metrics(session, parts: dict, spec) -> dict:
    """The recipe's validation metrics (facescan.train.multitask.part_metrics) of an ONNX graph."""
    from facescan.train.multitask import part_metrics

    out: dict = {}
    for name, part in parts.items():
        crops = part.views[0]
        res = [session.run(None, {"crops": _input(crops[i:i + 64], spec)}) for i in range(0, len(crops), 64)]
        found = part_metrics([np.concatenate(x) for x in zip(*res)], part)
        out.update({f"{name} {k.replace('age_mae', 'age MAE')}": v for k, v in found.items() if k != "appearance"})
    return out


def speed(session, crops: np.ndarray, spec) -> float:
    x = _input(crops[:32], spec)
    session.run(None, {"crops": x})
    start, n = time.perf_counter(), 0
    while time.perf_counter() - start < 5:
        session.run(None, {"crops": x})
        n += 32
    return n / (time.perf_counter() - start)


def main() -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from facescan.models import get_spec
    from facescan.models.catalog import MULTITASK_CROP, MULTITASK_SIZE
    from facescan.train.context import CONTEXT_SEED
    from facescan.train.multidata import load_parts

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--write", help="save results/quantize.json and regenerate this file (BENCHMARKS.md) from benchmarks/results/")
    ap.add_argument("--work", default=str(ROOT / ".facescan-work"), help="the recipe's --work folder")
    args = ap.parse_args()
    fp32 = Path(args.work) / "multitask-e5r3p6-s0" / "multitask-fp32.onnx"
    if not fp32.is_file():
        raise SystemExit(f"{fp32} not found: run `facescan train multitask --data ../shared/data ...` first")
    start = time.perf_counter()
    spec = get_spec("facescan-multitask")
    val = load_parts(DATA, Path(args.work), MULTITASK_CROP, MULTITASK_SIZE, CONTEXT_SEED)["val"]
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        dynamic = Path(tmp) / "dynamic.onnx"
        quantize_dynamic(str(fp32), str(dynamic), weight_type=QuantType.QInt8)
        for name, path in (("float32 (recipe)", fp32), ("int8 static (shipped)", spec.verified_path()),
                           ("int8 dynamic", dynamic)):
            session = _session(path)
            rows[name] = (metrics(session, val, spec), speed(session, val["utkface"].views[0][:256], spec),
                          path.stat().st_size / 1e6)
    keys = list(next(iter(rows.values()))[0])
    meta = measured("python benchmarks/quantize_bench.py", time.perf_counter() - start)
    lines = ["| model | MB | faces/s (net only, batch 32) | " + " | ".join(keys) + " |",
             "|---|---|---|" + "---|" * len(keys)]
    for name, (m, fps, mb) in rows.items():
        cells = [f"{m[k]:.2f}" if "MAE" in k else f"{100 * m[k]:.1f}%" for k in keys]
        lines.append(f"| {name} | {mb:.1f} | {fps:.0f} | " + " | ".join(cells) + " |")
    publish("quantize", meta, "\n".join(lines), args.write)


if __name__ == "__main__":
    main()
