"""Static int8 quantisation of an exported float32 graph (onnxruntime's QDQ format, per-channel
int8 weights, uint8 activations with MinMax ranges calibrated on real crops). Deterministic: the
same float32 graph and calibration crops give the same bytes."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def quantize_int8(fp32: Path, out: Path, calibration: list[np.ndarray], input_name: str = "crops") -> None:
    """Write the int8 version of ``fp32`` to ``out``; ``calibration`` is a list of model-ready
    input batches (float32 NCHW)."""
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self.batches = iter([{input_name: batch} for batch in calibration])

        def get_next(self):  # type: ignore[no-untyped-def]
            return next(self.batches, None)

    out.parent.mkdir(parents=True, exist_ok=True)
    quantize_static(str(fp32), str(out), Reader(), quant_format=QuantFormat.QDQ, per_channel=True,
                    weight_type=QuantType.QInt8, activation_type=QuantType.QUInt8)
