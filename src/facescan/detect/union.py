"""``--detector yunet+mtcnn``: YuNet (automatic scales, without its rescue) and MTCNN on every
photo, their boxes merged by the rule of YuNet's passes (:func:`.base.merge`: one box per face,
the best-scoring one, keeping its ``found_by``). Slower than either; for photos where faces are
missed: profiles beside frontal faces in photos over 640 px (the default adds MTCNN only where
YuNet found no face, or small faces in a photo up to 640 px)."""

from __future__ import annotations

import numpy as np

from .base import Detection, merge
from .mtcnn import MTCNN
from .yunet import YuNet


class YuNetAndMTCNN:
    name = "yunet+mtcnn"

    def __init__(self, max_faces: int = 0) -> None:
        self.yunet, self.mtcnn, self.max_faces = YuNet(rescue=False), MTCNN(), max_faces

    def detect(self, image: np.ndarray) -> list[Detection]:
        return merge(self.yunet.detect(image) + self.mtcnn.detect(image), self.max_faces)
