"""Gender accuracy on real photos with context: LFW-a, labels from first names.

    python benchmarks/lfw_gender.py [--write BENCHMARKS.md]

LFW-a images (250x250, grey, the face in the middle with hair, shoulders and background around
it) are the only real photos in ../shared/data; they carry no gender labels. Here each person's
first name is looked up in gender-guesser's name list (`pip install gender-guesser==0.4.0`;
GPL-3.0, used only to label this benchmark, not a facescan dependency); names it calls only
"male" or "female" are kept ("mostly_", "andy" and unknown ones are left out). Such labels are
noisy (a few names are used for both) and people with many photos count many times. Each
backend analyses every kept image with detection; the face nearest the centre is scored.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from summarize import provenance, replace_section  # benchmarks/ is on sys.path when run as a script

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("FACESCAN_DATA", ROOT.parent / "shared" / "data"))
BEGIN, END = "<!-- lfw:begin -->", "<!-- lfw:end -->"
BACKENDS = ("facescan", "facescan-fast", "faceapi")


def labelled() -> tuple[list[tuple[Path, str]], int]:
    """(image, gender) for the images whose first name has a clear gender; and how many images."""
    import gender_guesser.detector

    names = gender_guesser.detector.Detector(case_sensitive=False)
    paths = sorted((DATA / "lfw").glob("*/*.jpg"))
    guesses = [(path, names.get_gender(path.parent.name.split("_")[0])) for path in paths]
    return [(path, g) for path, g in guesses if g in ("male", "female")], len(paths)


def run() -> tuple[dict, int, int]:
    from facescan import Analyzer

    items, total = labelled()
    result = {}
    for backend in BACKENDS:
        analyzer = Analyzer(["gender"], backend=backend)
        right = {"male": [0, 0], "female": [0, 0]}  # [correct, total] per true label
        for path, truth in items:
            faces = analyzer.analyze(path)
            right[truth][1] += 1
            if faces:
                f = min(faces, key=lambda f: abs(f.bbox[0] + f.bbox[2] - 250) + abs(f.bbox[1] + f.bbox[3] - 250))
                right[truth][0] += f.attributes["gender"].label == truth
        result[backend] = right
    return result, len(items), total


def table(result: dict, n: int, total: int, seconds: float) -> str:
    out = [f"{provenance('python benchmarks/lfw_gender.py', seconds)} {n} of {total} LFW-a images kept.", "",
           "| backend | gender accuracy | female recall | male recall |", "|---|---|---|---|"]
    for backend, right in result.items():
        hit = right["male"][0] + right["female"][0]
        out.append(f"| {backend} | {100 * hit / n:.1f}% | {100 * right['female'][0] / right['female'][1]:.1f}% "
                   f"({right['female'][1]}) | {100 * right['male'][0] / right['male'][1]:.1f}% ({right['male'][1]}) |")
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--write", help="replace the section between the lfw markers in this file")
    args = ap.parse_args()
    start = time.perf_counter()
    result, n, total = run()
    text = table(result, n, total, time.perf_counter() - start)
    print(text)
    if args.write:
        replace_section(Path(args.write), BEGIN, END, text)


if __name__ == "__main__":
    main()
