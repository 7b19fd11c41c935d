"""Annotated images: every label readable, inside the image, covering no other label or face."""

from itertools import combinations

import numpy as np
import pytest

from facescan.annotate import _overlap, annotate, label_blocks, layout
from facescan.types import Face, ImageResult


def _check(result: ImageResult, width: int, height: int) -> None:
    blocks = label_blocks(result, width, height)
    assert len(blocks) == len(result.faces)
    rects = [r for r, _ in blocks]
    for r in rects:
        assert 0 <= r[0] < r[2] <= width and 0 <= r[1] < r[3] <= height
    for a, b in combinations(rects, 2):
        assert _overlap(a, b) == 0, (a, b)
    for r in rects:
        for f in result.faces:
            assert _overlap(r, tuple(round(v) for v in f.bbox)) == 0


@pytest.mark.parametrize("seed", [3, 11])
def test_eight_person_photo_labels_do_not_overlap(analyzer, utkface_dir, seed):
    from synth.scenes import compose_scene

    from facescan.datasets import open_dataset

    scene = compose_scene(open_dataset(f"utkface:{utkface_dir}", "test").samples, 8, seed)
    faces = analyzer.analyze(scene.image)
    assert len(faces) == 8
    h, w = scene.image.shape[:2]
    result = ImageResult("group.jpg", faces, width=w, height=h)
    _check(result, w, h)
    out = annotate(scene.image, result)
    assert out.shape == scene.image.shape and (out != scene.image).any()


def test_crowded_row_of_small_faces_still_gets_separate_labels():
    boxes = [(40 + 70 * i, 300, 80 + 70 * i, 340) for i in range(12)]  # 12 faces side by side
    faces = [Face(tuple(map(float, b)), 0.9) for b in boxes]
    _check(ImageResult("row.jpg", faces, width=1000, height=700), 1000, 700)


def test_layout_prefers_the_place_right_below_the_face():
    assert layout([(100, 100, 200, 200)], [(80, 40)], 640, 480) == [(100, 203, 180, 243)]
    # at the bottom edge it goes above instead
    assert layout([(100, 420, 200, 478)], [(80, 40)], 640, 480)[0][3] <= 420


def test_annotating_an_image_without_faces_returns_a_copy():
    img = np.zeros((50, 60, 3), np.uint8)
    out = annotate(img, ImageResult("empty.png", [], width=60, height=50))
    assert out is not img and (out == img).all()
