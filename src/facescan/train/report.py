"""What a recipe reports: the files it wrote with their sha256, compared with the shipped files
they rebuild (the catalog's pinned sha256), printed and saved as JSON."""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path

log = logging.getLogger(__name__)

# the catalog entry each recipe's file is shipped as (mtcnn's report names its three files)
SHIPPED_AS = {"multitask": "facescan-multitask", "utkface-stack": "facescan-utkface-stacked",
              "utkface-finetune": "facescan-utkface-finetuned", "utkface-heads": "facescan-utkface-heads",
              "fer-emotion-tta": "fer-mini-xception-tta", "fer-emotion": "fer-mini-xception",
              "faceapi-original": "faceapi-age-gender"}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def compare_with_shipped(report: dict, recipe: str) -> dict:
    """Add to each file of ``recipe``'s ``report`` the shipped file it rebuilds (its catalog name
    and pinned sha256) and whether the new file is identical to it, bit for bit (a rebuild on
    another CPU type differs in the last bits and reaches the same metrics within noise)."""
    from ..models.catalog import MODELS

    entries = report["models"].items() if "models" in report else [(SHIPPED_AS.get(recipe), report)]
    for name, entry in entries:
        if name in MODELS:
            spec = MODELS[name]
            same = entry["sha256"] == spec.sha256
            entry["shipped"] = {"name": name, "sha256": spec.sha256, "identical": same}
            log.info("%s: %s the shipped %s (sha256 %s...)", entry.get("model") or entry["path"],
                     "identical to" if same else "differs from", name, spec.sha256[:12])
    return report


def write_report(report: dict, path: Path | None) -> str:
    text = json.dumps(report, indent=2)
    if path:
        path.write_text(text + "\n")
    return text
