"""Development numbers on every labelled set in ../shared/data, beside the previous default.

    python benchmarks/wild_bench.py [--write BENCHMARKS.md] [--backends facescan,facescan-v2,...]

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
from summarize import provenance, publish

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("FACESCAN_DATA", ROOT.parent / "shared" / "data"))
FAIRFACE = Path(os.environ.get("FACESCAN_FAIRFACE", ROOT.parent / "fairface" / "fair_face"))
BEGIN, END = "<!-- wild:begin -->", "<!-- wild:end -->"
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


def _pct(v) -> str:
    return "-" if v is None else f"{100 * v:.1f}"


def table(result: dict, seconds: float) -> str:
    names = [n for n in next(iter(result.values())) if n != "seconds"]
    out = [f"{provenance('python benchmarks/wild_bench.py', seconds)}", "",
           "Gender accuracy % (female recall / male recall):", "",
           "| backend | " + " | ".join(n for n in names if not n.startswith("FER")) + " | ages 2-9 (AAF val + UTK test) |",
           "|---|" + "---|" * (len(names) - 1)]
    for backend, res in result.items():
        cells = []
        for n in names:
            if n.startswith("FER"):
                continue
            m = res[n]
            cells.append(f"{_pct(m.get('gender'))} ({_pct(m.get('female_recall'))} / {_pct(m.get('male_recall'))})")
        kids = [res[n] for n in ("All-Age-Faces val", "UTKFace test") if "kids_gender" in res[n]]
        k = sum(x["kids_gender"] * x["kids_n"] for x in kids) / max(1, sum(x["kids_n"] for x in kids))
        out.append(f"| {backend} | " + " | ".join(cells) + f" | {_pct(k) if kids else '-'} |")
    out += ["", "Race, age and emotion:", "",
            "| backend | UTKFace race % | UTKFace age MAE | All-Age-Faces age MAE | FER+ 8-class % | FER2013 7-class % | s |",
            "|---|---|---|---|---|---|---|"]
    def num(res: dict, n: str, k: str) -> str:
        v = res[n].get(k)
        return "-" if v is None else f"{v:.2f}"

    for backend, res in result.items():
        out.append(f"| {backend} | {_pct(res['UTKFace test'].get('race'))} | {num(res, 'UTKFace test', 'age_mae')} | "
                   f"{num(res, 'All-Age-Faces val', 'age_mae')} | {_pct(res['FER+ PublicTest'].get('emotion'))} | "
                   f"{_pct(res['FER2013 PublicTest'].get('emotion'))} | {res['seconds']:.0f} |")
    if "FairFace dev" in names:
        out += ["", ("FairFace `dev` (the paper's benchmark's own photos; facescan's split of FairFace train, never "
                "trained on): race % on FairFace's 7 (a UTKFace-5 model: the truth mapped to its 5, in brackets), "
                "age-group accuracy %, gender % of children and of people 60+:"), "",
                "| backend | race | age 9 groups | age 5 groups | gender 0-9 | gender 60+ |", "|---|---|---|---|---|---|"]
        for backend, res in result.items():
            f = res["FairFace dev"]
            race = _pct(f["race"]) if "race" in f else f"({_pct(f.get('race5'))})"
            out.append(f"| {backend} | {race} | {_pct(f.get('age9'))} | {_pct(f.get('age5'))} | "
                       f"{_pct(f.get('kids_gender'))} | {_pct(f.get('old_gender'))} |")
        out += ["", ("The same photos by how far the face is turned (from the landmarks of the face analysed, as "
                     "in `benchmarks/detect_real.py`): gender % / age-group %:"), "",
                "| backend | " + " | ".join(f"{t[0]}" for t in TURN) + " | no landmarks |", "|---|---|---|---|---|"]
        for backend, res in result.items():
            by = res["FairFace dev"].get("by_turn", {})
            out.append(f"| {backend} | " + " | ".join(
                f"{_pct(by[k]['gender'])} / {_pct(by[k]['age9'])} (n={by[k]['n']})" if k in by else "-"
                for k in [t[0] for t in TURN] + ["no landmarks"]) + " |")
    smile = [res["CelebA test"].get("smile_happy") for res in result.values()]
    if any(v is not None for v in smile):
        out += ["", "Emotion on real colour photos, CelebA `test`: the share of faces where \"happy\" agrees with "
                "CelebA's `Smiling` label: " + ", ".join(f"{b} {_pct(v)}%" for b, v in zip(result, smile)) + "."]
    counts = ", ".join(f"{n} {next(iter(result.values()))[n]['n']}" for n in names)
    out += ["", f"Images: {counts}."]
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--write", help="replace the section between the wild markers in this file")
    ap.add_argument("--backends", default=",".join(BACKENDS))
    ap.add_argument("--save", help="also write the raw results (JSON) here")
    ap.add_argument("--add", help="raw results of other backends (an earlier --save) to put in the tables too")
    args = ap.parse_args()
    start = time.perf_counter()
    result = run(args.backends.split(","))
    seconds = time.perf_counter() - start
    if args.save:
        Path(args.save).write_text(json.dumps(result, default=float, indent=1))
    if args.add:
        added = {k: v for k, v in json.loads(Path(args.add).read_text()).items() if k not in result}
        result |= added
        seconds += sum(v["seconds"] for v in added.values())
    text = table(result, seconds)
    publish(text, args.write, BEGIN, END)


if __name__ == "__main__":
    main()
