"""A toy detector, registered by tests/test_registry.py alone (one module + one registry line):
the centre square of the image, half its shorter side, is the one face."""

from __future__ import annotations

import numpy as np

from facescan.detect import Detection


def centre_square(width: int, height: int) -> tuple[float, float, float, float]:
    half = min(width, height) / 4
    return (width / 2 - half, height / 2 - half, width / 2 + half, height / 2 + half)


class CentreSquare:
    name = "toy"

    def detect(self, image: np.ndarray) -> list[Detection]:
        h, w = image.shape[:2]
        return [Detection(centre_square(w, h), 1.0, None, self.name)]
