"""Run a backend over a data set and write ``predictions.jsonl`` then ``metrics.json``.

Predictions are appended and flushed one sample at a time, keyed by (backend, sample id), so
``resume=True`` skips what a killed run already wrote (a torn last line is ignored and redone).
Metrics are computed from the saved predictions only.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from ..datasets import Sample
from ..labels import AGE5, AGE9, EMOTION7, FAIRFACE7_TO_UTK5, GENDER, RACE_UTK5, age_group5, age_group9
from . import metrics as M

log = logging.getLogger(__name__)


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
        t["age_group"] = age_group9(float(t["age"]))  # type: ignore[arg-type]
        t["age_group5"] = age_group5(float(t["age"]))  # type: ignore[arg-type]
    return t


def predict(samples: Sequence[Sample], backend: str, path: Path, done: dict[tuple[str, str], dict],
            attributes: Sequence[str], detector: str = "yunet",
            backend_options: Mapping[str, Any] | None = None,
            usage: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Predictions of ``backend`` for every sample: those in ``done`` are reused, the others are
    made and appended to ``path`` (and to ``done``) one by one. API backends' requests, tokens
    and cost go into ``usage``."""
    from ..pipeline import Analyzer

    todo = [s for s in samples if (backend, s.id) not in done]
    log.info("%s: %d samples, %d already done", backend, len(samples), len(samples) - len(todo))
    if todo:
        analyzer = Analyzer(attributes, backend=backend, detector=detector, whole_image_fallback=True,
                            backend_options=backend_options)
        with open(path, "a", encoding="utf-8") as fp:
            start = time.perf_counter()
            for sample, result in zip(todo, analyzer.analyze_many([s.path for s in todo])):
                now = time.perf_counter()
                rec: dict[str, Any] = {"id": sample.id, "backend": backend, "truth": _truth(sample),
                                       "error": result.error, "latency_ms": round((now - start) * 1000, 2)}
                start = now
                if result.faces:
                    face = max(result.faces, key=lambda f: f.score)
                    rec["face_found"] = face.score > 0
                    rec["prediction"] = {k: p.to_dict() for k, p in face.attributes.items()}
                else:
                    rec["face_found"] = False
                    rec["prediction"] = {}
                fp.write(json.dumps(rec) + "\n")
                fp.flush()
                done[(backend, sample.id)] = rec
        if usage is not None:
            usage.update(analyzer.usage())
    return [done[(backend, s.id)] for s in samples]


LABELS = {"gender": GENDER, "race": RACE_UTK5, "emotion": EMOTION7,
          "age_group": AGE9, "age_group5": AGE5}


def compute_metrics(records: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Per-attribute metrics of one backend's records (the truths decide what is scored)."""
    recs = list(records)
    out: dict[str, Any] = {"n": len(recs),
                           "no_face_rate": sum(not r.get("face_found") for r in recs) / max(1, len(recs))}
    if recs:
        out["ms_per_image"] = sum(r["latency_ms"] for r in recs) / len(recs)

    def pred(r, attr):
        p = r["prediction"]
        if attr in ("age_group", "age_group5"):
            a = p.get("age")
            if a is None:
                return None
            return (a["label"] if a["label"] in AGE9 else None) if attr == "age_group" else a.get("group5")
        label = p.get(attr, {}).get("label")
        # vision-language backends may answer in FairFace's 7 races: scored in UTKFace's 5
        return FAIRFACE7_TO_UTK5.get(label, label) if attr == "race" else label

    for attr, labels in LABELS.items():
        scored = [r for r in recs if attr in r["truth"]]
        if not scored or not any(attr.split("_")[0] in r["prediction"] for r in scored):
            continue
        truth = [r["truth"][attr] for r in scored]
        guess = [pred(r, attr) for r in scored]
        if attr == "age_group" and all(g is None for g in guess):
            continue  # a backend answering in the 5 groups only: no 9-group metric
        res = M.classification(truth, guess, labels)
        # answers a vision-language backend gave that map onto no label (scored as wrong)
        unparsed = sum(bool(r["prediction"].get(attr.split("_")[0], {}).get("unparsed")) for r in scored)
        if unparsed or any("raw" in r["prediction"].get(attr.split("_")[0], {}) for r in scored):
            res["unparsed"], res["unparsed_rate"] = unparsed, unparsed / len(scored)
        if attr in ("gender", "race", "emotion"):
            conf = [r["prediction"][attr]["score"] for r in scored if attr in r["prediction"]]
            hit = [pred(r, attr) == r["truth"][attr] for r in scored if attr in r["prediction"]]
            res["ece"] = M.expected_calibration_error(conf, hit)
        out[attr] = res
    truths = {k for r in recs for k in r["truth"]}
    made = {k for r in recs for k in r["prediction"]}
    out["not_produced"] = sorted(k for k in truths & {"gender", "race", "emotion", "age"} if k not in made)
    aged = [r for r in recs if "age" in r["truth"]]
    if aged and any("age" in r["prediction"] for r in aged):
        def mae(rs: list[dict[str, Any]]) -> dict[str, Any]:
            return M.regression([float(r["truth"]["age"]) for r in rs],
                                [r["prediction"].get("age", {}).get("years") for r in rs])

        out["age"] = mae(aged)
        groups = {g: [r for r in aged if r["truth"]["age_group"] == g] for g in AGE9}
        out["age"]["by_age_group"] = {g: mae(rs) for g, rs in groups.items() if rs}
    both = [r for r in recs if "gender" in r["truth"] and "race" in r["truth"]]
    if both and "gender" in out:
        truth = [r["truth"]["gender"] for r in both]
        guess = [pred(r, "gender") for r in both]
        out["gender_by_race"] = M.group_accuracy(truth, guess, [r["truth"]["race"] for r in both])
        out["gender_by_age_group"] = M.group_accuracy(truth, guess, [r["truth"]["age_group"] for r in both])
    if both and "race" in out:
        out["race_by_gender"] = M.group_accuracy([r["truth"]["race"] for r in both],
                                                 [pred(r, "race") for r in both],
                                                 [r["truth"]["gender"] for r in both])
    return out


def evaluate(samples: Sequence[Sample], backends: Sequence[str], out_dir: Path,
             attributes: Sequence[str], detector: str = "yunet", resume: bool = False,
             dataset: str = "", backend_options: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Predict with each backend, then write and return ``metrics.json``.

    The top-level attribute keys are the first backend's; ``backends`` holds every backend's.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "predictions.jsonl"
    done = _load_done(path) if resume else {}
    # (re)write what is kept, without a torn tail, so appends start on a fresh line
    path.write_text("".join(json.dumps(r) + "\n" for r in done.values()), encoding="utf-8")
    by_backend = {}
    for backend in backends:
        usage: dict[str, Any] = {}
        records = predict(samples, backend, path, done, attributes, detector, backend_options, usage)
        by_backend[backend] = compute_metrics(records)
        if usage:
            by_backend[backend]["usage"] = usage
    result = {"dataset": dataset, "n_samples": len(samples), "detector": detector,
              **by_backend[backends[0]], "backend": backends[0], "backends": by_backend}
    (out_dir / "metrics.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return result
