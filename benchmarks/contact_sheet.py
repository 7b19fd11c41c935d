"""A contact sheet of one attribute's errors, from the predictions `facescan eval` saved: the
most confident wrong answers first (they show what a model has learned wrong, where the
doubtful ones show only what is hard), each photo with its truth and the answer.

    facescan eval --dataset fairface:DIR --split dev --backend facescan --out runs/ff-dev
    python benchmarks/contact_sheet.py runs/ff-dev/predictions.jsonl --dataset fairface:DIR --split dev \\
        --attribute gender --out gender-errors.jpg [--backend facescan] [--n 60] [--truth female]

The attribute is gender, race, emotion or age_group (the answer's 9-group label); with --truth
only the errors on photos of that true label are shown. Prints how many errors there were.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from PIL import Image, ImageDraw

THUMB, COLS, TEXT = 128, 10, 30


def errors(predictions: Path, attribute: str, backend: str | None, truth: str | None) -> list[dict]:
    """The records whose answer for ``attribute`` differs from the truth, most confident first."""
    key = "age" if attribute == "age_group" else attribute
    out = []
    for line in predictions.read_text(encoding="utf-8").splitlines():
        rec = json.loads(line)
        if backend and rec["backend"] != backend or attribute not in rec["truth"]:
            continue
        if truth and rec["truth"][attribute] != truth:
            continue
        pred = (rec.get("prediction") or {}).get(key)
        if pred is None or pred["label"] != rec["truth"][attribute]:
            out.append({"id": rec["id"], "truth": rec["truth"][attribute],
                        "said": pred["label"] if pred else "no face", "score": pred["score"] if pred else 1.0})
    return sorted(out, key=lambda e: -e["score"])


def sheet(found: list[dict], paths: dict[str, str], n: int) -> Image.Image:
    shown = found[:n]
    rows = max(1, -(-len(shown) // COLS))
    canvas = Image.new("RGB", (COLS * THUMB, rows * (THUMB + TEXT)), "white")
    draw = ImageDraw.Draw(canvas)
    for k, e in enumerate(shown):
        x, y = (k % COLS) * THUMB, (k // COLS) * (THUMB + TEXT)
        with Image.open(paths[e["id"]]) as im:
            canvas.paste(im.convert("RGB").resize((THUMB, THUMB)), (x, y))
        draw.text((x + 2, y + THUMB + 1), f"true {e['truth']}"[:22], fill="black")
        draw.text((x + 2, y + THUMB + 14), f"said {e['said']} {e['score']:.2f}"[:22], fill="firebrick")
    return canvas


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("predictions", type=Path)
    ap.add_argument("--dataset", required=True, help="the data set spec given to facescan eval")
    ap.add_argument("--split")
    ap.add_argument("--attribute", required=True, choices=["gender", "race", "emotion", "age_group"])
    ap.add_argument("--backend")
    ap.add_argument("--truth", help="only photos with this true label")
    ap.add_argument("--n", type=int, default=60)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    from facescan.datasets import open_dataset

    paths = {s.id: s.path for s in open_dataset(args.dataset, args.split)}
    found = errors(args.predictions, args.attribute, args.backend, args.truth)
    sheet(found, paths, args.n).save(args.out, quality=90)
    print(f"{len(found)} errors; the {min(args.n, len(found))} most confident in {args.out}")


if __name__ == "__main__":
    main()
