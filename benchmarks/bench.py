"""Accuracy and speed of one pipeline; prints one JSON object (run.sh collects them).

    python benchmarks/bench.py PIPELINE accuracy-utkface|accuracy-fer|speed-chips|speed-groups [KEY=VALUE]

Data: ../shared/data (or $FACESCAN_DATA). UTKFace accuracy uses facescan's fixed 'test' split
(10% of the files, never used for training or model choice); FER2013 uses PublicTest.
When a pipeline finds no face in a face chip, it counts as wrong (and in `missed`), and is left
out of the age MAE: the MAE is over found faces, the accuracies over all images. Age groups are
the model's own group labels where it gives them, else the groups of its estimated years.
"""

from __future__ import annotations

import json
import os
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from pipelines import PIPELINES

from facescan.labels import age_group5, age_group9

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("FACESCAN_DATA", ROOT.parent / "shared" / "data"))


def utk_test_samples():
    from facescan.datasets import read_utkface

    return list(read_utkface(DATA / "utkface", "test"))


def accuracy_utkface(batch):
    samples = utk_test_samples()
    preds = batch([s.path for s in samples])
    out: dict = {"n": len(samples), "missed": sum(p is None for p in preds)}
    for attr in ("gender", "race"):
        if any(p and attr in p for p in preds):
            out[attr] = float(np.mean([bool(p) and p.get(attr) == s.labels[attr]
                                       for p, s in zip(preds, samples)]))
    aged = [(p, s.labels["age"]) for p, s in zip(preds, samples) if p and "age" in p]
    if aged:
        out["age_mae"] = float(np.mean([abs(p["age"] - t) for p, t in aged]))
        for key, to_group in (("age_group9", age_group9), ("age_group5", age_group5)):
            hits = [p.get(key, to_group(p["age"])) == to_group(t) for p, t in aged]
            out[key] = sum(hits) / len(samples)
    return out


def accuracy_fer(batch):
    from facescan.datasets import read_fer2013_folders

    samples = list(read_fer2013_folders(DATA / "fer2013", "test"))
    preds = batch([s.path for s in samples])
    return {"n": len(samples), "missed": sum(p is None for p in preds),
            "emotion": float(np.mean([bool(p) and p["emotion"] == s.labels["emotion"]
                                      for p, s in zip(preds, samples)]))}


def compose_groups(folder: Path, count: int = 40, seed: int = 0) -> tuple[list[str], int]:
    """Group photos (1280x720 JPEG) of 3-8 real UTKFace chips on a noisy background."""
    from PIL import Image

    rng = random.Random(seed)
    chips = [s.path for s in utk_test_samples()]
    paths, total = [], 0
    for i in range(count):
        n = rng.randint(3, 8)
        total += n
        canvas = np.random.default_rng(i).integers(60, 200, (720, 1280, 3), dtype=np.uint8)
        for j, chip in enumerate(rng.sample(chips, n)):
            size = rng.randint(90, 150)
            face = np.asarray(Image.open(chip).convert("RGB").resize((size, size)))
            x = 20 + j * 155 + rng.randint(0, 5)
            y = rng.randint(100, 720 - size - 100)
            canvas[y:y + size, x:x + size] = face
        path = folder / f"group{i:03d}.jpg"
        Image.fromarray(canvas).save(path, quality=90)
        paths.append(str(path))
    return paths, total


def speed(batch, one, paths, true_faces=None):
    batch(paths[:8])  # warm-up
    start = time.perf_counter()
    preds = batch(paths)
    seconds = time.perf_counter() - start
    faces = sum((p or {}).get("n_faces", 0) for p in preds)
    latencies = []
    for path in paths[:200]:
        t = time.perf_counter()
        one(path)
        latencies.append((time.perf_counter() - t) * 1000)
    return {"images": len(paths), "faces": faces, "true_faces": true_faces or len(paths),
            "seconds": seconds,
            "images_per_s": len(paths) / seconds, "faces_per_s": faces / seconds,
            "p50_ms": float(np.percentile(latencies, 50)), "p95_ms": float(np.percentile(latencies, 95)),
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def main() -> None:
    name, task = sys.argv[1], sys.argv[2]
    kwargs = dict(arg.split("=", 1) for arg in sys.argv[3:])  # e.g. detector=none
    batch, one = PIPELINES[name](**kwargs)
    if task == "accuracy-utkface":
        result = accuracy_utkface(batch)
    elif task == "accuracy-fer":
        result = accuracy_fer(batch)
    elif task == "speed-chips":
        result = speed(batch, one, [s.path for s in utk_test_samples()][:1000])
    elif task == "speed-groups":
        with tempfile.TemporaryDirectory() as tmp:
            result = speed(batch, one, *compose_groups(Path(tmp)))
    else:
        raise SystemExit(f"unknown task {task}")
    print(json.dumps({"pipeline": name, "task": task, **kwargs, **result}))


if __name__ == "__main__":
    main()
