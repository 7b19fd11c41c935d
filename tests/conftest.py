"""Shared fixtures. Real data comes from ../shared/data (or $FACESCAN_DATA): tests that need it
skip with a reason when it is absent, unless FACESCAN_REQUIRE_DATA=1 (CI), where every skip is a
failure and tests needing what CI cannot have are deselected by marker (ci_gates.py)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from store_fixtures import *

pytest_plugins = ["pytester", "ci_gates"]

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("FACESCAN_DATA", ROOT.parent / "shared" / "data"))


def _data_dir(name: str) -> Path:
    path = DATA / name
    if not path.is_dir():
        pytest.skip(f"real data not found at {path} (set FACESCAN_DATA to the shared data folder)")
    return path


@pytest.fixture(scope="session")
def utkface_dir() -> Path:
    return _data_dir("utkface")


@pytest.fixture(scope="session")
def fer_dir() -> Path:
    return _data_dir("fer2013")


@pytest.fixture(scope="session")
def lfw_dir() -> Path:
    return _data_dir("lfw")


@pytest.fixture(scope="session")
def celeba_dir() -> Path:
    return _data_dir("celeba")


@pytest.fixture(scope="session")
def fairface_dir() -> Path:
    return _data_dir("fairface")


@pytest.fixture(scope="session")
def aaf_dir() -> Path:
    return _data_dir("aaf")


@pytest.fixture(scope="session")
def ferplus_dir() -> Path:
    return _data_dir("ferplus")


@pytest.fixture(scope="session")
def utk_samples(utkface_dir: Path):
    """40 UTKFace chips from the 'test' split, a fixed spread of ages 5-80."""
    from facescan.datasets import read_utkface

    samples = [s for s in read_utkface(utkface_dir, "test") if 5 <= int(s.labels["age"]) <= 80]
    return samples[:: max(1, len(samples) // 40)][:40]


@pytest.fixture(scope="session")
def analyzer():
    from facescan import Analyzer

    return Analyzer()


@pytest.fixture(scope="session")
def group_photo(utk_samples) -> tuple[np.ndarray, list[tuple[int, int, int, int]]]:
    """Four real UTKFace chips pasted on a grey 900x400 canvas, with where they were put."""
    from facescan.io import load_image

    canvas = np.full((400, 900, 3), 128, np.uint8)
    places = []
    for i, sample in enumerate(utk_samples[:4]):
        chip = load_image(sample.path)
        x, y = 20 + i * 220, 100
        canvas[y:y + 200, x:x + 200] = chip
        places.append((x, y, x + 200, y + 200))
    return canvas, places


@pytest.fixture(scope="session")
def tiny_vlms(tmp_path_factory) -> dict[str, Path]:
    """Tiny random PaliGemma, Florence-2 and LLaVA checkpoints (saved once per session)."""
    from tiny_vlm import build_florence2, build_llava, build_paligemma

    root = tmp_path_factory.mktemp("tiny_vlms")
    return {"paligemma": build_paligemma(root / "paligemma"),
            "florence-2": build_florence2(root / "florence2"),
            "llava": build_llava(root / "llava")}


@pytest.fixture(autouse=True)
def _no_user_cache(tmp_path_factory, monkeypatch):
    """API response caches and the like go to a temporary folder, never the user's home."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("xdg-cache")))
