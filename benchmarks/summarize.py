"""run.sh's result file, and a helper shared by benchmark scripts.

    python benchmarks/summarize.py ROWS.jsonl [UTK_METRICS.json] [FER_METRICS.json]

saves benchmarks/results/bench.json: the rows bench.py printed (accuracy and speed of each
pipeline, one JSON object per line), plus the tables made from `facescan eval`'s metrics.json of
the UTKFace `test` split (targets of issue 3, per group, per class) and of FER2013 PublicTest (per
class); then regenerates BENCHMARKS.md (report.py renders the rows: result_tables.bench).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from report import measured, save, to_blocks, write_report
from result_tables import num, pct


def kid_accuracy(m: dict) -> float:
    """Gender accuracy over ages 0-9 (the 0-2 and 3-9 groups, weighted by size)."""
    groups = m["gender_by_age_group"]["groups"]
    kids = [groups[g] for g in ("0-2", "3-9") if g in groups]
    return sum(k["accuracy"] * k["n"] for k in kids) / max(1, sum(k["n"] for k in kids))


def face_in(faces, box) -> int | None:
    """Index of the first detected face whose centre lies in ``box`` (x1, y1, x2, y2), or None."""
    for i, f in enumerate(faces):
        cx, cy = (f.bbox[0] + f.bbox[2]) / 2, (f.bbox[1] + f.bbox[3]) / 2
        if box[0] <= cx <= box[2] and box[1] <= cy <= box[3]:
            return i
    return None


def group_tables(metrics: dict) -> str:
    """Per-group accuracy from a `facescan eval` metrics.json (UTKFace test split)."""
    out = ["", "### Per group: UTKFace `test` split, from `facescan eval` (fairness)", "",
           ("| backend | gender acc. by race: white / black / asian / indian / others (max gap) | "
            "female recall | male recall | gender acc., ages 0-9 | race acc. female / male | "
            "age MAE 0-2 / 3-9 / 70+ |"), "|---|---|---|---|---|---|---|"]
    for name, m in metrics["backends"].items():
        if "gender" not in m:
            continue
        byr = m["gender_by_race"]["groups"]
        races = " / ".join(pct(byr[r]["accuracy"]) if r in byr else "-"
                           for r in ("white", "black", "asian", "indian", "others"))
        rec = m["gender"]["per_class"]
        kid_acc = kid_accuracy(m)
        race = "-"
        if "race_by_gender" in m:
            rg = m["race_by_gender"]["groups"]
            race = f"{pct(rg['female']['accuracy'])} / {pct(rg['male']['accuracy'])}"
        ages = m.get("age", {}).get("by_age_group", {})
        mae = " / ".join(num(ages.get(g, {}).get("mae"), "{:.1f}") for g in ("0-2", "3-9", "70+"))
        out.append(f"| {name} | {races} ({pct(m['gender_by_race']['max_gap'])}) | "
                   f"{pct(rec['female']['recall'])} | {pct(rec['male']['recall'])} | {pct(kid_acc)} | "
                   f"{race} | {mae} |")
    return "\n".join(out)


def class_tables(metrics: dict, attribute: str, title: str) -> str:
    """Per-class recall and F1, balanced accuracy, macro-F1 and ECE of each backend."""
    rows = {n: m[attribute] for n, m in metrics["backends"].items() if attribute in m}
    if not rows:
        return ""
    labels = next(iter(rows.values()))["labels"]
    out = ["", f"### Per class: {title}", "",
           "| backend | accuracy | balanced acc. | macro-F1 | ECE | " +
           " | ".join(f"{label} recall / F1" for label in labels) + " |",
           "|---" * (5 + len(labels)) + "|"]
    for name, r in rows.items():
        cells = " | ".join(f"{pct(r['per_class'][k]['recall'])} / {pct(r['per_class'][k]['f1'])}" for k in labels)
        out.append(f"| {name} | {pct(r['accuracy'])} | {pct(r['balanced_accuracy'])} | "
                   f"{pct(r['macro_f1'])} | {num(r.get('ece'), '{:.3f}')} | {cells} |")
    return "\n".join(out)


def target_table(utk: dict, fer: dict | None, results: list[dict]) -> str:
    """The default backend against the targets of issue 3 (development data)."""
    m = utk["backends"]["facescan"]
    rec = m["gender"]["per_class"]
    rows = [
        ("gender accuracy", ">= 96%", pct(m["gender"]["accuracy"]), m["gender"]["accuracy"] >= 0.96),
        ("race accuracy (UTKFace 5)", ">= 88%", pct(m["race"]["accuracy"]), m["race"]["accuracy"] >= 0.88),
        ("age MAE", "<= 4.5 years", num(m["age"]["mae"]), m["age"]["mae"] <= 4.5),
        ("age 9-group accuracy", ">= 62%", pct(m["age_group"]["accuracy"]), m["age_group"]["accuracy"] >= 0.62),
        ("age 5-group accuracy", ">= 85%", pct(m["age_group5"]["accuracy"]), m["age_group5"]["accuracy"] >= 0.85),
    ]
    if fer and "emotion" in fer["backends"].get("facescan", {}):
        e = fer["backends"]["facescan"]["emotion"]["accuracy"]
        rows.append(("emotion accuracy (FER2013 PublicTest)", ">= 72%", pct(e), e >= 0.72))
    gap = m["gender_by_race"]["max_gap"]
    diff = abs(rec["female"]["recall"] - rec["male"]["recall"])
    kid = kid_accuracy(m)
    rows += [("gender accuracy gap across the 5 races", "<= 3 points", f"{100 * gap:.1f} points", gap <= 0.03),
             ("female recall - male recall", "<= 2 points", f"{100 * diff:.1f} points", diff <= 0.02),
             ("gender accuracy, ages 0-9", ">= 85%", pct(kid), kid >= 0.85)]
    chips = next((r for r in results if r["task"] == "speed-chips" and r["pipeline"] == "facescan"
                  and "backend" not in r), None)
    if chips:
        rows.append(("faces/s, face chips, all four attributes", ">= 100", f"{chips['faces_per_s']:.0f}",
                     chips["faces_per_s"] >= 100))
    out = ["", "### Targets (issue 3), default backend, development data", "",
           "| measure | target | measured | met |", "|---|---|---|---|"]
    out += [f"| {a} | {b} | {c} | {'yes' if ok else 'no'} |" for a, b, c, ok in rows]
    out.append("\nMeasured values are rounded for display; 'met' compares the unrounded value.")
    return "\n".join(out)


def main() -> None:
    rows = [json.loads(line) for line in Path(sys.argv[1]).read_text().splitlines() if line.strip()]
    utk = fer = None
    if len(sys.argv) > 2 and Path(sys.argv[2]).exists():
        utk = json.loads(Path(sys.argv[2]).read_text())
    if len(sys.argv) > 3 and Path(sys.argv[3]).exists():
        fer = json.loads(Path(sys.argv[3]).read_text())
    groups = ""
    if utk is not None:
        groups = "\n".join([target_table(utk, fer, rows), group_tables(utk),
                             class_tables(utk, "race", "race, UTKFace `test` split"),
                             class_tables(utk, "gender", "gender, UTKFace `test` split")])
    if fer is not None:
        groups += "\n" + class_tables(fer, "emotion", "emotion, FER2013 PublicTest")
    print(save("bench", {"kind": "bench", "meta": measured("bash benchmarks/run.sh"), "rows": rows,
                         "blocks": to_blocks(groups)}))
    write_report()


if __name__ == "__main__":
    main()
