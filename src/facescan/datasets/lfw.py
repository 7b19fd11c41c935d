"""LFW View 2 ``pairs.txt``: a first line ``folds<TAB>pairs-per-half``, then per fold that
many matched lines ``name i j`` followed by as many mismatched lines ``name1 i name2 j``;
images at ``<root>/<name>/<name>_<i:04d>.jpg``. LFW is a face-verification benchmark: it has
pairs, not attribute labels, so it is read as :class:`Pair`\\ s, not samples."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..errors import ConfigError
from .base import need_dir


@dataclass(frozen=True)
class Pair:
    fold: int
    path_a: str
    path_b: str
    same: bool


def _image(root: Path, name: str, number: str) -> str:
    return str(root / name / f"{name}_{int(number):04d}.jpg")


def read_lfw_pairs(root: str | Path, pairs_file: str | Path | None = None) -> list[Pair]:
    """Every pair of ``pairs.txt`` (``root/pairs.txt`` unless given), in file order."""
    root = need_dir(Path(root), "LFW")
    table = Path(pairs_file) if pairs_file else root / "pairs.txt"
    if not table.is_file():
        raise ConfigError(f"LFW: {table} does not exist (expected the View 2 pairs.txt)")
    lines = [line.split() for line in table.read_text(encoding="utf-8").splitlines() if line.strip()]
    try:
        folds, per_half = int(lines[0][0]), int(lines[0][1])
    except (IndexError, ValueError):
        raise ConfigError(f"LFW {table}: first line must be 'folds<TAB>pairs-per-half'") from None
    if len(lines) - 1 != folds * 2 * per_half:
        raise ConfigError(f"LFW {table}: header promises {folds} x 2 x {per_half} pairs, "
                          f"found {len(lines) - 1} lines")
    pairs = []
    for k, parts in enumerate(lines[1:]):
        fold, same = k // (2 * per_half), (k % (2 * per_half)) < per_half
        if same and len(parts) == 3:
            a, b = _image(root, parts[0], parts[1]), _image(root, parts[0], parts[2])
        elif not same and len(parts) == 4:
            a, b = _image(root, parts[0], parts[1]), _image(root, parts[2], parts[3])
        else:
            raise ConfigError(f"LFW {table} line {k + 2}: expected "
                              f"{'name i j' if same else 'name1 i name2 j'}, got {' '.join(parts)!r}")
        pairs.append(Pair(fold, a, b, same))
    return pairs
