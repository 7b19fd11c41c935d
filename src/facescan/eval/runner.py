"""Run backends over a data set and write ``predictions.jsonl`` then ``metrics.json``.

Predictions are appended and flushed one batch at a time, keyed by (backend, sample id), so
``resume=True`` skips what a killed run already wrote (a torn last line is ignored and redone).
Metrics are computed from the saved predictions only (:mod:`.scoring`).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from ..datasets import Dataset, Sample
from ..labels import AGE9_TO_AGE5, age_group5, age_group9
from .scoring import compute_metrics

__all__ = ["compute_metrics", "evaluate", "predict"]

log = logging.getLogger(__name__)
BATCH = 16
# runs batches elsewhere (an engine): (samples, Analyzer options) -> batches of
# (sample, ImageResult, latency_ms, batch size)
Engine = Callable[[Sequence[Sample], Mapping[str, Any]], Iterator[list[tuple[Sample, Any, float, int]]]]


def _load_done(path: Path) -> dict[tuple[str, str], dict[str, Any]]:
    done: dict[tuple[str, str], dict[str, Any]] = {}
    if not path.exists():
        return done
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            rec = json.loads(line)
        except json.JSONDecodeError:
            continue  # torn last line of a killed run: that sample is redone
        done[(rec["backend"], rec["id"])] = rec
    return done


def _truth(sample: Sample) -> dict[str, Any]:
    t = dict(sample.labels)
    if "age" in t:
        t.setdefault("age_group", age_group9(float(t["age"])))
        t.setdefault("age_group5", age_group5(float(t["age"])))
    elif "age_group" in t:  # FairFace: groups only
        t.setdefault("age_group5", AGE9_TO_AGE5[t["age_group"]])
    return t


def _record(sample: Sample, backend: str, result: Any, latency_ms: float, batch: int) -> dict[str, Any]:
    rec: dict[str, Any] = {"id": sample.id, "backend": backend, "truth": _truth(sample),
                           "error": result.error, "latency_ms": round(latency_ms, 3), "batch": batch}
    if result.faces:
        face = max(result.faces, key=lambda f: f.score)
        rec["face_found"] = face.score > 0
        rec["prediction"] = {k: p.to_dict() for k, p in face.attributes.items()}
    else:
        rec["face_found"] = False
        rec["prediction"] = {}
    return rec


def _local_batches(samples: Sequence[Sample], options: Mapping[str, Any],
                   usage: dict[str, Any] | None) -> Iterator[list[tuple[Sample, Any, float, int]]]:
    from ..pipeline import Analyzer

    analyzer = Analyzer(**options)
    for i in range(0, len(samples), BATCH):
        chunk = samples[i:i + BATCH]
        start = time.perf_counter()
        results = list(analyzer.analyze_many([s.source for s in chunk], batch_size=BATCH))
        each = (time.perf_counter() - start) * 1000 / len(chunk)
        yield [(sample, result, each, len(chunk)) for sample, result in zip(chunk, results)]
    if usage is not None:
        usage.update(analyzer.usage())


def predict(samples: Sequence[Sample], backend: str, path: Path, done: dict[tuple[str, str], dict],
            attributes: Sequence[str], detector: str = "yunet",
            backend_options: Mapping[str, Any] | None = None,
            usage: dict[str, Any] | None = None, engine: Engine | None = None) -> list[dict[str, Any]]:
    """Predictions of ``backend`` for every sample: those in ``done`` are reused, the others are
    made in batches of 16 and appended to ``path`` (and to ``done``) batch by batch.

    ``latency_ms`` of a record is its batch's wall time (loading, detection, every model)
    divided by the batch size. API backends' requests, tokens and cost go into ``usage``.
    ``engine`` (e.g. :func:`facescan.engines.ray.predict_samples`) runs the batches elsewhere:
    (samples, Analyzer options) -> batches of (sample, ImageResult, latency_ms, batch size).
    """
    todo = [s for s in samples if (backend, s.id) not in done]
    log.info("%s: %d samples, %d already done", backend, len(samples), len(samples) - len(todo))
    if todo:
        options = {"attributes": attributes, "backend": backend, "detector": detector,
                   "if_no_face": "whole", "backend_options": backend_options}
        batches = _local_batches(todo, options, usage) if engine is None else engine(todo, options)
        with open(path, "a", encoding="utf-8") as fp:
            for chunk in batches:
                for sample, result, each, size in chunk:
                    rec = _record(sample, backend, result, each, size)
                    fp.write(json.dumps(rec) + "\n")
                    done[(backend, sample.id)] = rec
                fp.flush()
    return [done[(backend, s.id)] for s in samples]


def evaluate(data: Dataset, backends: Sequence[str], out_dir: Path,
             attributes: Sequence[str], detector: str = "yunet", resume: bool = False,
             dataset: str = "", backend_options: Mapping[str, Any] | None = None,
             engine: Engine | None = None) -> dict[str, Any]:
    """Predict with each backend, then write and return ``metrics.json``.

    The top-level attribute keys are the first backend's; ``backends`` holds every backend's.
    """
    samples = data.samples
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "predictions.jsonl"
    done = _load_done(path) if resume else {}
    # (re)write what is kept, without a torn tail, so appends start on a fresh line
    path.write_text("".join(json.dumps(r) + "\n" for r in done.values()), encoding="utf-8")
    by_backend = {}
    for backend in backends:
        usage: dict[str, Any] = {}
        records = predict(samples, backend, path, done, attributes, detector, backend_options, usage, engine)
        by_backend[backend] = compute_metrics(records, data.label_sets)
        if usage:
            by_backend[backend]["usage"] = usage
    result = {"dataset": dataset, "dataset_info": {**data.info(), "n": len(samples)}, "n_samples": len(samples),
              "detector": detector, "attributes": list(attributes),
              **by_backend[backends[0]], "backend": backends[0], "backends": by_backend}
    (out_dir / "metrics.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return result
