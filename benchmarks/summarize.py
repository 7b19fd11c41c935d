"""Turn benchmarks/results.jsonl into the tables between the markers in BENCHMARKS.md."""

from __future__ import annotations

import datetime
import json
import os
import platform
import sys
from pathlib import Path

BEGIN, END = "<!-- results:begin -->", "<!-- results:end -->"


def pct(v):
    return "-" if v is None else f"{100 * v:.1f}%"


def num(v, fmt="{:.2f}"):
    return "-" if v is None else fmt.format(v)


def kid_accuracy(m: dict) -> float:
    """Gender accuracy over ages 0-9 (the 0-2 and 3-9 groups, weighted by size)."""
    groups = m["gender_by_age_group"]["groups"]
    kids = [groups[g] for g in ("0-2", "3-9") if g in groups]
    return sum(k["accuracy"] * k["n"] for k in kids) / max(1, sum(k["n"] for k in kids))


def replace_section(path: Path, begin: str, end: str, body: str) -> None:
    """Put ``body`` between the ``begin`` and ``end`` markers of ``path`` (a new file: just them)."""
    doc = path.read_text() if path.exists() else f"# Benchmarks\n\n{begin}\n{end}\n"
    if begin not in doc or end not in doc:
        sys.exit(f"{path} has no {begin} ... {end} section")
    head, rest = doc.split(begin, 1)
    path.write_text(head + begin + "\n" + body + "\n" + end + rest.split(end, 1)[1])


def publish(text: str, write: str | None, begin: str, end: str) -> None:
    """Print a benchmark's section, and put it between its markers in ``write`` if given."""
    print(text)
    if write:
        replace_section(Path(write), begin, end, text)


def provenance(command: str, seconds: float | None = None) -> str:
    """"Measured DATE on N cores (CPU), Python V, by `command` (S s)": the first line of a section."""
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines() if Path("/proc/cpuinfo").exists() else []
    cpu = next((line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")),
               platform.processor() or platform.machine())
    took = f" ({seconds:.0f} s)" if seconds is not None else ""
    return (f"Measured {datetime.date.today()} on {os.cpu_count()} cores ({cpu}), "
            f"Python {platform.python_version()}, by `{command}`{took}.")


def face_in(faces, box) -> int | None:
    """Index of the first detected face whose centre lies in ``box`` (x1, y1, x2, y2), or None."""
    for i, f in enumerate(faces):
        cx, cy = (f.bbox[0] + f.bbox[2]) / 2, (f.bbox[1] + f.bbox[3]) / 2
        if box[0] <= cx <= box[2] and box[1] <= cy <= box[3]:
            return i
    return None


def label(r):
    extra = "".join(f", {k}={r[k]}" for k in ("backend", "detector") if k in r)
    return f"{r['pipeline']}{extra}"


def tables(rows: list[dict]) -> str:
    utk = [r for r in rows if r["task"] == "accuracy-utkface"
           and any(k in r for k in ("gender", "race", "age_mae"))]
    fer = [r for r in rows if r["task"] == "accuracy-fer"]
    out = ["### Accuracy: UTKFace, facescan's fixed `test` split (1,914 chips)", "",
           "| pipeline | gender | race (5) | age MAE (years) | age 9-group | age 5-group | no face found |",
           "|---|---|---|---|---|---|---|"]
    for r in utk:
        out.append(f"| {label(r)} | {pct(r.get('gender'))} | {pct(r.get('race'))} | "
                   f"{num(r.get('age_mae'))} | {pct(r.get('age_group9'))} | {pct(r.get('age_group5'))} "
                   f"| {r['missed']} |")
    out += ["", "### Accuracy: FER2013 PublicTest (3,589 faces, 48x48 grey)", "",
            "| pipeline | emotion (7) | no face found |", "|---|---|---|"]
    for r in fer:
        out.append(f"| {label(r)} | {pct(r['emotion'])} | {r['missed']} |")
    for task, title in (("speed-chips", "1,000 UTKFace chips (200x200 JPEG, one face each)"),
                        ("speed-groups", "40 composed group photos (1280x720 JPEG, 3-8 faces)")):
        speed = [r for r in rows if r["task"] == task]
        if not speed:
            continue
        ours = next((r for r in speed if r["pipeline"] == "facescan"), None)
        out += ["", f"### Speed: {title}", "",
                ("| pipeline | faces found | faces/s (batch) | images/s (batch) | p50 ms/image | "
                 "p95 ms/image | peak RSS MB | facescan faces/s ÷ this |"), "|---|---|---|---|---|---|---|---|"]
        for r in speed:
            ratio = f"{ours['faces_per_s'] / r['faces_per_s']:.2f}x" if ours and r["faces_per_s"] else "-"
            found = f"{r['faces']}/{r.get('true_faces', r['images'])}"
            out.append(f"| {label(r)} | {found} | {r['faces_per_s']:.1f} | {r['images_per_s']:.1f} | "
                       f"{r['p50_ms']:.1f} | {r['p95_ms']:.1f} | {r['peak_rss_mb']:.0f} | {ratio} |")
    return "\n".join(out)


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
    target = Path(sys.argv[2])
    utk = fer = None
    if len(sys.argv) > 3 and Path(sys.argv[3]).exists():
        utk = json.loads(Path(sys.argv[3]).read_text())
    if len(sys.argv) > 4 and Path(sys.argv[4]).exists():
        fer = json.loads(Path(sys.argv[4]).read_text())
    groups = ""
    if utk is not None:
        groups = "\n".join([target_table(utk, fer, rows), group_tables(utk),
                             class_tables(utk, "race", "race, UTKFace `test` split"),
                             class_tables(utk, "gender", "gender, UTKFace `test` split")])
    if fer is not None:
        groups += "\n" + class_tables(fer, "emotion", "emotion, FER2013 PublicTest")
    header = provenance("bash benchmarks/run.sh") + "\n\n"
    replace_section(target, BEGIN, END, f"{header}{tables(rows)}\n{groups}")
    print(tables(rows) + "\n" + groups)


if __name__ == "__main__":
    main()
