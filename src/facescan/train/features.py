"""Crops and frozen-backbone features for training, cached on disk.

Crops come from the same detector and crop policy the shipped model uses at run time (the
top-scoring face; the whole image when nothing is found, counted), so training sees what the
product will see.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..align import crop_face
from ..datasets import Sample
from ..detect import Detector
from ..io import load_image
from .context import in_context

log = logging.getLogger(__name__)


def cache_key(samples: Sequence[Sample], detector: Detector, *extra: object) -> str:
    """Key of a cache of what ``detector`` makes of ``samples``: the files (resolved, so a
    relative and an absolute data path share it), the source of the detection, context and
    cropping code (a change there means new crops: reused old ones made the multi-task model's
    rebuild differ), and ``extra``."""
    import inspect
    import sys

    from .. import align
    from ..detect import base
    from . import context

    code = "".join(inspect.getsource(m) for m in (sys.modules[type(detector).__module__], base, align, context))
    text = "\n".join(str(Path(s.path).resolve()) for s in samples) + code + "|".join(map(str, extra))
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def build_crops(samples: Sequence[Sample], detector: Detector, policy: str, size: int,
                cache_dir: Path | None = None, context_seed: int | None = None) -> np.ndarray:
    """uint8 array (N, size, size, 3) of face crops, cached under ``cache_dir``.

    With ``context_seed``, each face is first pasted into a random surrounding
    (:func:`facescan.train.context.in_context`; the background photo is another sample's),
    where it is detected and cropped; faces the detector misses there are cropped from the
    plain image."""
    key = cache_key(samples, detector, detector.name, policy, size, context_seed)
    cache = cache_dir / f"crops-{key}.npy" if cache_dir else None
    if cache is not None and cache.exists():
        return np.load(cache)
    out = np.zeros((len(samples), size, size, 3), np.uint8)
    missed = 0
    for i, s in enumerate(samples):
        image = load_image(s.path)
        if context_seed is not None:
            rng = np.random.default_rng([context_seed, i])
            other = load_image(samples[int(rng.integers(len(samples)))].path)
            placed = in_context(image, other, detector, rng)
            if placed is not None:
                out[i] = crop_face(placed[0], placed[1], placed[2], policy, size)
                continue
        found = detector.detect(image)
        if found:
            d = found[0]
            out[i] = crop_face(image, d.bbox, d.landmarks, policy, size)
        else:
            missed += 1
            h, w = image.shape[:2]
            out[i] = crop_face(image, (0, 0, w, h), None, "square:1.0", size)
        if (i + 1) % 2000 == 0:
            log.info("cropped %d/%d", i + 1, len(samples))
    if missed:
        log.warning("no face found in %d of %d images: used the whole image", missed, len(samples))
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        np.save(cache, out)
    return out
