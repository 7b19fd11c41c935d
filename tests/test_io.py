"""The bad-input and odd-format corpus, generated here."""

import io
import os

import numpy as np
import pytest
from PIL import Image

from facescan.errors import ImageError
from facescan.io import iter_image_paths, load_image


def _save(img: Image.Image, path, **kw):
    img.save(path, **kw)
    return path


@pytest.fixture()
def rgb():
    rng = np.random.default_rng(0)
    return Image.fromarray(rng.integers(0, 255, (30, 40, 3), dtype=np.uint8))


@pytest.mark.parametrize("fmt,ext", [("JPEG", "jpg"), ("PNG", "png"), ("WEBP", "webp"), ("BMP", "bmp"),
                                     ("TIFF", "tiff"), ("GIF", "gif")])
def test_formats_load_as_rgb(tmp_path, rgb, fmt, ext):
    arr = load_image(_save(rgb, tmp_path / f"x.{ext}", format=fmt))
    assert arr.shape == (30, 40, 3) and arr.dtype == np.uint8


@pytest.mark.parametrize("mode", ["L", "LA", "P", "RGBA", "1", "I;16", "I", "F"])
def test_modes_become_rgb(tmp_path, rgb, mode):
    img = rgb.convert(mode) if mode not in ("I;16", "I", "F") else Image.fromarray(
        (np.asarray(rgb.convert("L"), np.float32) * 257).astype({"I;16": np.uint16, "I": np.int32,
                                                                  "F": np.float32}[mode]))
    arr = load_image(img)
    assert arr.shape == (30, 40, 3) and arr.dtype == np.uint8
    assert arr.max() > 0


def test_cmyk_jpeg_and_16bit_png(tmp_path, rgb):
    assert load_image(_save(rgb.convert("CMYK"), tmp_path / "c.jpg")).shape == (30, 40, 3)
    g16 = Image.fromarray(np.arange(1200, dtype=np.uint16).reshape(30, 40) * 50)
    arr = load_image(_save(g16, tmp_path / "g16.png"))
    assert arr.shape == (30, 40, 3) and arr[-1, -1, 0] > arr[0, 0, 0]


def test_rgba_alpha_composited_on_white():
    transparent = Image.new("RGBA", (4, 4), (0, 0, 0, 0))
    assert (load_image(transparent) == 255).all()


def test_exif_orientation_applied(tmp_path, rgb):
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    arr = load_image(_save(rgb, tmp_path / "o.jpg", exif=exif))
    assert arr.shape == (40, 30, 3)


def test_gif_first_frame(tmp_path):
    frames = [Image.new("RGB", (8, 8), c) for c in ((255, 0, 0), (0, 0, 255))]
    path = tmp_path / "a.gif"
    frames[0].save(path, save_all=True, append_images=frames[1:])
    arr = load_image(path)
    assert arr[0, 0, 0] > 200 and arr[0, 0, 2] < 50


def test_arrays_and_bytes(rgb):
    gray = np.zeros((5, 6), np.uint8)
    assert load_image(gray).shape == (5, 6, 3)
    assert load_image(np.ones((5, 6, 3), np.float32)).max() == 255
    buf = io.BytesIO()
    rgb.save(buf, format="PNG")
    assert load_image(buf.getvalue()).shape == (30, 40, 3)
    with pytest.raises(ImageError, match="shape"):
        load_image(np.zeros((5, 6, 2), np.uint8))
    with pytest.raises(ImageError, match="int"):
        load_image(42)  # type: ignore[arg-type]


def test_bad_inputs_say_what_and_why(tmp_path, rgb):
    (tmp_path / "empty.jpg").write_bytes(b"")
    (tmp_path / "text.jpg").write_text("this is not an image")
    good = _save(rgb, tmp_path / "good.jpg")
    (tmp_path / "trunc.jpg").write_bytes(good.read_bytes()[:300])
    (tmp_path / "folder.jpg").mkdir()
    cases = {"empty.jpg": "empty", "text.jpg": "not an image", "trunc.jpg": "decode",
             "folder.jpg": "directory", "missing.jpg": "no such file"}
    for name, why in cases.items():
        with pytest.raises(ImageError) as info:
            load_image(tmp_path / name)
        assert name in str(info.value) and why in str(info.value)


def test_pixel_limit_checked_before_decoding(tmp_path):
    big = _save(Image.new("L", (3000, 2000)), tmp_path / "big.png")
    with pytest.raises(ImageError, match="over the limit"):
        load_image(big, max_pixels=5_000_000)
    assert load_image(big, max_pixels=6_000_000).shape == (2000, 3000, 3)


def test_iter_image_paths(tmp_path, rgb):
    (tmp_path / "a" / "b").mkdir(parents=True)
    for p in ("a/1.jpg", "a/b/2.PNG", "a/notes.txt", "top.webp"):
        (tmp_path / p).write_bytes(b"x")
    found = list(iter_image_paths([tmp_path / "a"]))
    assert [p.split("/")[-1] for p in found] == ["1.jpg", "2.PNG"]
    assert list(iter_image_paths([str(tmp_path / "*.webp")])) == [str(tmp_path / "top.webp")]
    assert list(iter_image_paths([str(tmp_path / "nope.jpg")])) == [str(tmp_path / "nope.jpg")]


def test_folders_expand_alike_for_images_and_videos(tmp_path):
    """One expansion serves both: images list a sub-folder named like an image too (it becomes an
    error record), videos only files; streams and webcams pass as given."""
    from facescan.video.source import iter_video_inputs

    (tmp_path / "in" / "odd.jpg").mkdir(parents=True)
    for p in ("in/b.jpg", "in/a.mp4", "in/odd.jpg/c.jpg", "in/odd.jpg/d.MKV"):
        (tmp_path / p).write_bytes(b"x")
    for expand, found in ((iter_image_paths, ["b.jpg", "odd.jpg", "odd.jpg/c.jpg"]),
                          (iter_video_inputs, ["a.mp4", "odd.jpg/d.MKV"])):
        assert [os.path.relpath(p, tmp_path / "in") for p in expand([tmp_path / "in"])] == found
    assert list(iter_video_inputs(["rtsp://cam/1", "0", str(tmp_path / "in" / "*.mp4")])) == [
        "rtsp://cam/1", "0", str(tmp_path / "in" / "a.mp4")]
