"""Identity embeddings: one vector per face in which distance means "same person".

Every embedder takes the whole RGB image and its faces (boxes and 5 landmarks), aligns each face
the way its model was trained, and returns one L2-normalised float32 row per face. Embedders are
registered by name in :data:`EMBEDDERS` ("module:Class", imported only when used, like the
attribute backends); :func:`get_embedder` builds one. Embeddings of different embedders live in
different spaces: compare only vectors of one ``embedding_model``.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from typing import Protocol

import numpy as np

from ..errors import ConfigError
from ..types import Face

# name -> "module:Class" (imported lazily)
EMBEDDERS: dict[str, str] = {
    "sface": "facescan.identity.sface:SFace",  # face + mirror image, averaged
    "sface-fast": "facescan.identity.sface:SFaceFast",  # one pass
    "dlib": "facescan.identity.dlibnet:DlibResNet",  # optional extra 'dlib'
}
DEFAULT_EMBEDDER = "sface"


class Embedder(Protocol):
    name: str
    dim: int

    def embed(self, image: np.ndarray, faces: Sequence[Face]) -> np.ndarray:
        """(len(faces), dim) float32 rows of unit L2 norm, in the order of ``faces``."""
        ...


def check_embedder(name: str | None) -> str:
    """The registered name for ``name`` (None: the default), or a ConfigError."""
    name = DEFAULT_EMBEDDER if name is None else name
    if name not in EMBEDDERS:
        import difflib

        near = difflib.get_close_matches(name, EMBEDDERS, n=1)
        hint = f"; did you mean {near[0]!r}?" if near else ""
        raise ConfigError(f"unknown embedding model {name!r}{hint}; choose one of {', '.join(EMBEDDERS)}")
    return name


def get_embedder(name: str | None = None) -> Embedder:
    """Load the embedder registered as ``name`` (None: :data:`DEFAULT_EMBEDDER`)."""
    module, _, cls = EMBEDDERS[check_embedder(name)].partition(":")
    return getattr(importlib.import_module(module), cls)()


def normalise(x: np.ndarray) -> np.ndarray:
    """Rows scaled to unit L2 norm, as float32 (a zero row stays zero)."""
    x = np.asarray(x, np.float32)
    norm = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.maximum(norm, 1e-12)


def largest_face(faces: Sequence[Face]) -> int:
    """The index of the face with the largest box (the default face of a query or a pair)."""
    return max(range(len(faces)), key=lambda i: (faces[i].bbox[2] - faces[i].bbox[0]) * (faces[i].bbox[3] - faces[i].bbox[1]))
