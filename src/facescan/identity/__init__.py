"""Identity embeddings: one vector per face in which distance means "same person".

Every embedder takes the whole RGB image and its faces (boxes and 5 landmarks), aligns each face
the way its model was trained, and returns one L2-normalised float32 row per face. Embedders are
registered by name in :mod:`facescan.registry` (kind ``"embedder"``: "module:Class", imported
only when used); :func:`get_embedder` builds one. Embeddings of different embedders live in
different spaces: compare only vectors of one ``embedding_model``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np

from .. import registry
from ..types import Face

DEFAULT_EMBEDDER = "sface"


class Embedder(Protocol):
    name: str
    dim: int

    def embed(self, image: np.ndarray, faces: Sequence[Face]) -> np.ndarray:
        """(len(faces), dim) float32 rows of unit L2 norm, in the order of ``faces``."""
        ...


def check_embedder(name: str | None) -> str:
    """The registered name for ``name`` (None: the default), or a ConfigError."""
    return registry.entry("embedder", DEFAULT_EMBEDDER if name is None else name).name


def get_embedder(name: str | None = None) -> Embedder:
    """Load the embedder registered as ``name`` (None: :data:`DEFAULT_EMBEDDER`)."""
    return registry.load("embedder", check_embedder(name))()


def normalise(x: np.ndarray) -> np.ndarray:
    """Rows scaled to unit L2 norm, as float32 (a zero row stays zero)."""
    x = np.asarray(x, np.float32)
    norm = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.maximum(norm, 1e-12)


def largest_face(faces: Sequence[Face]) -> int:
    """The index of the face with the largest box (the default face of a query or a pair)."""
    return max(range(len(faces)), key=lambda i: (faces[i].bbox[2] - faces[i].bbox[0]) * (faces[i].bbox[3] - faces[i].bbox[1]))
