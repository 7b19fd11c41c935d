"""MkDocs hook: pages whose one source lives outside docs/ are copied into the site at build time.

- the model cards, ``src/facescan/models/cards/*.md`` (shipped in the package), as ``cards/NAME.md``;
- ``BENCHMARKS.md`` and ``CHANGELOG.md`` (at the repository's root), as ``benchmarks.md`` and
  ``changelog.md``.

Nothing is written into docs/: the files are added to the build's file list only.
"""

from __future__ import annotations

from pathlib import Path

from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parents[1]
CARDS = ROOT / "src" / "facescan" / "models" / "cards"
ROOT_PAGES = {"BENCHMARKS.md": "benchmarks.md", "CHANGELOG.md": "changelog.md"}


def on_files(files: Files, config) -> Files:
    for card in sorted(CARDS.glob("*.md")):
        files.append(File.generated(config, f"cards/{card.name}", abs_src_path=str(card)))
    for name, uri in ROOT_PAGES.items():
        files.append(File.generated(config, uri, abs_src_path=str(ROOT / name)))
    return files
