"""Development numbers on every labelled set in ../shared/data, beside the previous default.

    python benchmarks/wild_bench.py [--write BENCHMARKS.md] [--backends facescan,facescan-v2,...]
        [--save RAW.json] [--add RESULT.json]

``--write BENCHMARKS.md`` saves benchmarks/results/wild.json (these backends, plus ``--add``'s)
and regenerates BENCHMARKS.md from benchmarks/results/ (report.py; the tables are
result_tables.wild).

Sets, all held out from training (see facescan.train.multidata): FairFace `dev` (facescan's
stratified 10% of FairFace train, never trained on; the folder with every training photo is
$FACESCAN_FAIRFACE, default ../fairface/fair_face beside the checkout: see the README), UTKFace `test` (chips),
CelebA `val` (used to fit the default's temperatures and gender offset) and `test`,
All-Age-Faces published `val` (loose head crops, mostly East Asian, ages 2-80), LFW-a images
with `gender_labels.csv` (`gender_by_identity`; grey real photos), FER2013 PublicTest with FER+
majority labels (8 classes; = FER+ Valid) and with the FER2013 labels (7 classes; an 8-class
model's contempt gives way to its next most probable class). Every image goes through detection
(the face nearest the centre is scored; where none is found the whole image is analysed, as in
`facescan eval` on chip data sets), so these are numbers of the whole product.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import time
from collections.abc import Iterable
from pathlib import Path

import numpy as np
from detect_real import TURN, turn  # benchmarks/ is on sys.path when run as a script
from report import RESULTS, measured, provenance, save, write_report
from result_tables import wild

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("FACESCAN_DATA", ROOT.parent / "shared" / "data"))
FAIRFACE = Path(os.environ.get("FACESCAN_FAIRFACE", ROOT.parent / "fairface" / "fair_face"))
BACKENDS = ("facescan", "facescan-v2", "facescan-v1", "faceapi")
FER7_FROM8 = {"neutral": "neutral", "happy": "happy", "sad": "sad", "surprise": "surprise", "fear": "fear",
              "disgust": "disgust", "angry": "angry"}


def sets() -> dict[str, list[tuple[str, dict]]]:
    """name -> [(image path, truth)]."""
    from facescan.datasets import open_dataset

    def load(spec: str, split: str) -> list[tuple[str, dict]]:
        return [(s.path, s.labels) for s in open_dataset(spec, split)]

    lfw = []
    with open(DATA / "lfw" / "gender_labels.csv", newline="") as fp:
        for row in csv.DictReader(fp):
            if row["gender_by_identity"] in ("male", "female") and (DATA / "lfw" / row["file"]).is_file():
                lfw.append((str(DATA / "lfw" / row["file"]), {"gender": row["gender_by_identity"]}))
    fer7 = load(f"fer2013:{DATA / 'fer2013'}", "test")
    return {"FairFace dev": load(f"fairface:{FAIRFACE}", "dev"),
            "UTKFace test": load(f"utkface:{DATA / 'utkface'}", "test"),
            "CelebA val": load(f"celeba:{DATA / 'celeba'}", "val"),
            "CelebA test": load(f"celeba:{DATA / 'celeba'}", "test"),
            "All-Age-Faces val": load(f"aaf:{DATA / 'aaf'}", "val"),
            "LFW-a": lfw,
            "FER+ PublicTest": load(f"ferplus:{DATA / 'fer2013'}", "val"),
            "FER2013 PublicTest": fer7}


def central(faces: list, width: int, height: int):  # -> Face | None
    return min(faces, key=lambda f: abs(f.bbox[0] + f.bbox[2] - width) + abs(f.bbox[1] + f.bbox[3] - height),
               default=None)


def predict(analyzer, items: Iterable[tuple[str, dict]]) -> list[dict]:
    out = []
    for result in analyzer.analyze_many([p for p, _ in items]):
        face = central(result.faces, result.width or 0, result.height or 0)
        # how far the face is turned (from its landmarks), for the FairFace breakdown
        out.append({} if face is None else {**face.attributes, "turn": turn(face.landmarks)})
    return out


def score(name: str, items: list[tuple[str, dict]], preds: list[dict]) -> dict:
    m: dict = {"n": len(items)}
    g = [(t["gender"], p["gender"].label) for (_, t), p in zip(items, preds) if "gender" in t and "gender" in p]
    if g:
        m["gender"] = np.mean([a == b for a, b in g])
        for sex in ("female", "male"):
            hits = [a == b for a, b in g if a == sex]
            m[f"{sex}_recall"] = np.mean(hits) if hits else None
        kids = [(t["gender"], p["gender"].label) for (_, t), p in zip(items, preds)
                if "gender" in p and 2 <= t.get("age", -1) <= 9]
        if kids:
            m["kids_gender"], m["kids_n"] = np.mean([a == b for a, b in kids]), len(kids)
    r = [(t["race"], p["race"]) for (_, t), p in zip(items, preds) if "race" in t and "race" in p]
    if r:  # as `facescan eval` scores it: a 7-race answer mapped onto UTKFace's 5 on UTKFace; a 5-race
        # model on FairFace scored with the truth mapped onto its 5 ("race5")
        from facescan.eval.mapping import plan

        s = plan("fairface7" if name.startswith("FairFace") else "utk5", list(r[0][1].probs))
        m["race" if s.truth_map is None else "race5"] = np.mean([s.truth(a) == s.pred_from(b.label, b.probs)
                                                                 for a, b in r])
    smiles = [(t["appearance"]["smiling"], p["emotion"].label == "happy") for (_, t), p in zip(items, preds)
              if "smiling" in t.get("appearance", {}) and "emotion" in p]
    if smiles:  # emotion on real colour photos: CelebA's Smiling against the answer "happy"
        m["smile_happy"] = np.mean([a == b for a, b in smiles])
    groups = [(t["age_group"], p["age"]) for (_, t), p in zip(items, preds) if "age_group" in t and "age" in p]
    if groups:
        from facescan.labels import AGE9_TO_AGE5

        m["age9"] = np.mean([a == p.label for a, p in groups])
        m["age5"] = np.mean([AGE9_TO_AGE5[a] == p.group5 for a, p in groups])
        for key, wanted in (("kids_gender", ("0-2", "3-9")), ("old_gender", ("60-69", "70+"))):
            hits = [t["gender"] == p["gender"].label for (_, t), p in zip(items, preds)
                    if t.get("age_group") in wanted and "gender" in p]
            m[key], m[key.split("_")[0] + "_n"] = (np.mean(hits), len(hits)) if hits else (None, 0)
        m["by_turn"] = {}
        for k in [t[0] for t in TURN] + ["no landmarks"]:
            rows = [(t, p) for (_, t), p in zip(items, preds) if p.get("turn") == k and "gender" in p]
            if rows:
                ages = [t["age_group"] == p["age"].label for t, p in rows if "age" in p]
                m["by_turn"][k] = {"n": len(rows), "gender": np.mean([t["gender"] == p["gender"].label for t, p in rows]),
                                   "age9": np.mean(ages) if ages else None}
    a = [(t["age"], p["age"].years) for (_, t), p in zip(items, preds) if "age" in t and "age" in p]
    if a:
        m["age_mae"] = np.mean([abs(x - y) for x, y in a])
    e = [(t["emotion"], p["emotion"]) for (_, t), p in zip(items, preds) if "emotion" in t and "emotion" in p]
    if e:
        if name.startswith("FER2013"):  # 7 classes: an 8-class prediction's mass mapped onto them
            def fer7(pred) -> str:
                probs = {k: v for k, v in pred.probs.items() if k in FER7_FROM8}
                return max(probs, key=probs.__getitem__) if probs else pred.label
            m["emotion"] = np.mean([t == fer7(p) for t, p in e])
        else:
            m["emotion"] = np.mean([t == p.label for t, p in e])
    return m


def run(backends: list[str]) -> dict:
    from facescan import Analyzer

    data = sets()
    result: dict = {}
    for backend in backends:
        start = time.perf_counter()
        analyzer = Analyzer(backend=backend, if_no_face="whole")
        result[backend] = {name: score(name, items, predict(analyzer, items)) for name, items in data.items()}
        result[backend]["seconds"] = time.perf_counter() - start
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--write", help="save results/wild.json and regenerate this file (BENCHMARKS.md) from "
                    "benchmarks/results/")
    ap.add_argument("--backends", default=",".join(BACKENDS))
    ap.add_argument("--save", help="also write the raw results of these backends (JSON) here")
    ap.add_argument("--add", help="results of other backends to put in the tables too: an earlier --save, or a "
                    f"result file such as {RESULTS.name}/wild.json")
    args = ap.parse_args()
    start = time.perf_counter()
    result = run(args.backends.split(","))
    seconds = time.perf_counter() - start
    if args.save:
        Path(args.save).write_text(json.dumps(result, default=float, indent=1))
    if args.add:
        other = json.loads(Path(args.add).read_text())
        added = {k: v for k, v in other.get("backends", other).items() if k not in result}
        result |= added
        seconds += sum(v["seconds"] for v in added.values())
    out = {"kind": "wild", "meta": measured("python benchmarks/wild_bench.py", seconds),
           "backends": json.loads(json.dumps(result, default=float))}
    print(provenance(out["meta"]) + "\n\n" + wild(out))
    if args.write:
        save("wild", out)
        write_report(Path(args.write))


if __name__ == "__main__":
    main()
