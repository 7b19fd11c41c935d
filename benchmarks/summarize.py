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
                "| pipeline | faces found | faces/s (batch) | images/s (batch) | p50 ms/image | "
                "p95 ms/image | peak RSS MB | facescan faces/s ÷ this |", "|---|---|---|---|---|---|---|---|"]
        for r in speed:
            ratio = f"{ours['faces_per_s'] / r['faces_per_s']:.2f}x" if ours and r["faces_per_s"] else "-"
            found = f"{r['faces']}/{r.get('true_faces', r['images'])}"
            out.append(f"| {label(r)} | {found} | {r['faces_per_s']:.1f} | {r['images_per_s']:.1f} | "
                       f"{r['p50_ms']:.1f} | {r['p95_ms']:.1f} | {r['peak_rss_mb']:.0f} | {ratio} |")
    return "\n".join(out)


def group_tables(metrics: dict) -> str:
    """Per-group accuracy from a `facescan eval` metrics.json (UTKFace test split)."""
    out = ["", "### Per group: UTKFace `test` split, from `facescan eval` (fairness)", "",
           "| backend | gender acc. by race: white / black / asian / indian / others (max gap) | "
           "female recall | male recall | gender acc., ages 0-9 | race acc. female / male | "
           "age MAE 0-2 / 3-9 / 70+ |", "|---|---|---|---|---|---|---|"]
    for name, m in metrics["backends"].items():
        if "gender" not in m:
            continue
        byr = m["gender_by_race"]["groups"]
        races = " / ".join(pct(byr[r]["accuracy"]) if r in byr else "-"
                           for r in ("white", "black", "asian", "indian", "others"))
        rec = m["gender"]["per_class"]
        kids = [m["gender_by_age_group"]["groups"][g] for g in ("0-2", "3-9")
                if g in m["gender_by_age_group"]["groups"]]
        kid_acc = sum(k["accuracy"] * k["n"] for k in kids) / max(1, sum(k["n"] for k in kids))
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


def main() -> None:
    rows = [json.loads(line) for line in Path(sys.argv[1]).read_text().splitlines() if line.strip()]
    target = Path(sys.argv[2])
    groups = ""
    if len(sys.argv) > 3 and Path(sys.argv[3]).exists():
        groups = group_tables(json.loads(Path(sys.argv[3]).read_text()))
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                if line.startswith("model name")), platform.processor())
    header = (f"Measured {datetime.date.today()} on {os.cpu_count()} cores ({cpu}), "
              f"Python {platform.python_version()}, by `bash benchmarks/run.sh`.\n\n")
    body = f"{BEGIN}\n{header}{tables(rows)}\n{groups}\n{END}"
    text = target.read_text() if target.exists() else f"# Benchmarks\n\n{BEGIN}\n{END}\n"
    start, end = text.index(BEGIN), text.index(END) + len(END)
    target.write_text(text[:start] + body + text[end:])
    print(tables(rows) + "\n" + groups)


if __name__ == "__main__":
    main()
