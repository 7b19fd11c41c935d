import numpy as np
import pytest

from facescan.align import crop_face, parse_policy
from facescan.errors import ConfigError


def test_square_crop_centres_the_box():
    img = np.zeros((100, 100, 3), np.uint8)
    img[40:60, 40:60] = 255  # a white square in the middle
    crop = crop_face(img, (40, 40, 60, 60), None, "square:1.0", 20)
    assert crop.shape == (20, 20, 3) and crop.mean() > 240
    wide = crop_face(img, (40, 40, 60, 60), None, "square:2.0", 20)
    assert wide[:4].max() == 0 and wide[8:12, 8:12].min() > 200  # border dark, centre white


def test_outside_the_image_is_black():
    img = np.full((50, 50, 3), 255, np.uint8)
    crop = crop_face(img, (0, 0, 50, 50), None, "square:2.0", 40)
    assert crop[0, 0].max() == 0 and crop[20, 20].min() == 255


def test_aligned_policy_levels_the_eyes():
    img = np.zeros((200, 200, 3), np.uint8)
    # a bright bar along a 30-degree line through the centre, like tilted eyes
    for t in np.linspace(-60, 60, 400):
        x, y = 100 + t * np.cos(np.radians(30)), 100 + t * np.sin(np.radians(30))
        img[int(y) - 1:int(y) + 2, int(x) - 1:int(x) + 2] = 255
    eyes = ((100 - 30 * np.cos(np.radians(30)), 100 - 30 * np.sin(np.radians(30))),
            (100 + 30 * np.cos(np.radians(30)), 100 + 30 * np.sin(np.radians(30))))
    crop = crop_face(img, (50, 50, 150, 150), eyes + ((100, 110), (90, 130), (110, 130)), "aligned:1.0", 100)
    rows = crop[..., 0].mean(axis=1)
    assert rows.argmax() in range(47, 53) and rows.max() > 100  # the bar is now horizontal


@pytest.mark.parametrize("bad", ["square", "round:1.0", "square:x", "square:9"])
def test_bad_policies(bad):
    with pytest.raises(ConfigError):
        parse_policy(bad)
