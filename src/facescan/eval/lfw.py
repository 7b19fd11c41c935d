"""``facescan eval --dataset lfw:PATH``: identity embedders on LFW View-2 pairs.

Each image of the pairs is read once (LFW-a is grey: made 3-channel), its face found by YuNet
(the face nearest the image centre: LFW centres the named person) or, when YuNet finds none,
taken as the central box where YuNet puts LFW-a faces on average (counted and reported as
``no_face``). Each embedder embeds every face once; a pair's distance is the cosine distance
of its two embeddings. ``predictions.jsonl`` holds one record per pair and embedder;
``metrics.json`` the View-2 numbers of :func:`facescan.eval.verification.view2`.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..datasets import read_lfw_pairs
from ..types import Face
from .verification import view2

log = logging.getLogger(__name__)

# where YuNet puts the face in a 250x250 LFW-a image on average (fractions of the image side)
CENTRAL_BOX = (76 / 250, 65 / 250, 174 / 250, 195 / 250)


def central_face(image: np.ndarray, detections: Sequence) -> tuple[Face, bool]:
    """The detection nearest the image centre as a Face, or the central box (and True)."""
    h, w = image.shape[:2]
    if not detections:
        x1, y1, x2, y2 = CENTRAL_BOX
        return Face((x1 * w, y1 * h, x2 * w, y2 * h), 0.0, None), True
    d = min(detections, key=lambda d: ((d.bbox[0] + d.bbox[2]) / 2 - w / 2) ** 2
            + ((d.bbox[1] + d.bbox[3]) / 2 - h / 2) ** 2)
    return Face(d.bbox, d.score, d.landmarks), False


def embed_images(paths: Sequence[str], models: Sequence[str], detector: str = "yunet"
                 ) -> tuple[dict[str, np.ndarray], list[str], dict[str, float]]:
    """Per model, an (n, dim) array of the paths' face embeddings (row i: paths[i]); the paths
    whose face was not found; per model, faces embedded per second (alignment included)."""
    from ..detect import make_detector
    from ..identity import get_embedder
    from ..io import load_image

    det = make_detector(detector)
    embedders = {m: get_embedder(m) for m in models}
    rows: dict[str, list[np.ndarray]] = {m: [] for m in models}
    seconds = dict.fromkeys(models, 0.0)
    missed = []
    for i, path in enumerate(paths):
        image = load_image(path)
        face, fallback = central_face(image, det.detect(image))
        if fallback:
            missed.append(path)
        for m, e in embedders.items():
            start = time.perf_counter()
            rows[m].append(e.embed(image, [face])[0])
            seconds[m] += time.perf_counter() - start
        if (i + 1) % 500 == 0:
            log.info("LFW: %d of %d images embedded", i + 1, len(paths))
    speed = {m: len(paths) / s if s else float("nan") for m, s in seconds.items()}
    return {m: np.stack(r) for m, r in rows.items()}, missed, speed


def evaluate_lfw(root: str, models: Sequence[str], out_dir: Path, dataset: str = "",
                 detector: str = "yunet", pairs_file: str | None = None) -> dict[str, Any]:
    """Embed, score every pair with every model, write predictions.jsonl and metrics.json."""
    pairs = read_lfw_pairs(root, pairs_file)
    paths = sorted({p for pair in pairs for p in (pair.path_a, pair.path_b)})
    index = {p: i for i, p in enumerate(paths)}
    vectors, missed, speed = embed_images(paths, models, detector)
    a = np.array([index[p.path_a] for p in pairs])
    b = np.array([index[p.path_b] for p in pairs])
    same = np.array([p.same for p in pairs])
    fold = np.array([p.fold for p in pairs])
    out_dir.mkdir(parents=True, exist_ok=True)
    by_model = {}
    with open(out_dir / "predictions.jsonl", "w", encoding="utf-8") as fp:
        for m in models:
            v = vectors[m]
            dist = 1.0 - np.einsum("ij,ij->i", v[a], v[b])
            fp.writelines(json.dumps({"id": k, "backend": m, "fold": pair.fold, "same": pair.same,
                                      "distance": round(float(d), 6), "a": pair.path_a, "b": pair.path_b}) + "\n"
                          for k, (pair, d) in enumerate(zip(pairs, dist)))
            by_model[m] = {**view2(dist, same, fold), "faces_per_s": speed[m], "dim": int(v.shape[1])}
    result = {"task": "verification", "dataset": dataset or f"lfw:{root}",
              "dataset_info": {"kind": "lfw", "root": str(root), "pairs": len(pairs), "images": len(paths),
                               "folds": len(set(fold.tolist())), "no_face": len(missed),
                               "no_face_images": missed,
                               "no_face_note": "embedded from the central box where YuNet puts LFW-a faces"},
              "n_samples": len(pairs), "detector": detector, "backend": models[0],
              **by_model[models[0]], "backends": by_model}
    (out_dir / "metrics.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return result
