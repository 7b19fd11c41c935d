"""Reading images from anything a user may hand us, and finding them on disk.

Every failure becomes an :class:`~facescan.errors.ImageError` whose message says which input
and why; nothing here changes global state (Pillow's own bomb limit is left alone: ours is
checked from the header, before any pixel is decoded).
"""

from __future__ import annotations

import glob
import io
import os
from collections.abc import Callable, Collection, Iterable, Iterator
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from .errors import ImageError

IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff", ".gif"})
DEFAULT_MAX_PIXELS = 64_000_000  # 64 MP: bigger inputs are refused before decoding

ImageInput = str | os.PathLike | bytes | np.ndarray | Image.Image


def _to_rgb(img: Image.Image) -> Image.Image:
    """Any Pillow mode -> RGB: alpha composited on white, 16-bit and float rescaled."""
    if img.mode == "RGB":
        return img
    if img.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        arr = np.asarray(img, dtype=np.float64)
        lo, hi = float(arr.min()), float(arr.max())
        if img.mode.startswith("I;16"):
            lo, hi = 0.0, 65535.0
        scaled = (arr - lo) / (hi - lo) * 255.0 if hi > lo else np.zeros_like(arr)
        return Image.fromarray(np.clip(scaled + 0.5, 0, 255).astype(np.uint8)).convert("RGB")
    if img.mode == "P" and "transparency" in img.info:
        img = img.convert("RGBA")
    if img.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return img.convert("RGB")  # L, 1, P, CMYK, YCbCr, LAB, HSV


def load_image(source: ImageInput, max_pixels: int = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """Return ``source`` as an RGB uint8 array (H, W, 3), EXIF orientation applied.

    ``source`` may be a path, encoded bytes, a Pillow image or an array (H, W), (H, W, 3) RGB
    or (H, W, 4) RGBA. GIFs and other multi-frame files give their first frame.
    """
    if isinstance(source, np.ndarray):
        return _array_to_rgb(source)
    if isinstance(source, Image.Image):
        return np.asarray(_to_rgb(ImageOps.exif_transpose(source)))
    if isinstance(source, (bytes, bytearray)):
        name, fp = "<bytes>", io.BytesIO(source)
    elif isinstance(source, (str, os.PathLike)):
        name = os.fspath(source)
        if os.path.isdir(name):
            raise ImageError(f"{name}: is a directory, not an image file")
        if not os.path.exists(name):
            raise ImageError(f"{name}: no such file")
        if os.path.getsize(name) == 0:
            raise ImageError(f"{name}: empty file (0 bytes)")
        fp = name
    else:
        raise ImageError(f"cannot read an image from a {type(source).__name__}; "
                         "give a path, bytes, a PIL image or a numpy array")
    try:
        with Image.open(fp) as img:
            width, height = img.size
            if width * height > max_pixels:
                raise ImageError(f"{name}: {width}x{height} = {width * height:,} pixels is over "
                                 f"the limit of {max_pixels:,} (raise max_pixels to allow it)")
            img.seek(0)
            img.load()
            rgb = _to_rgb(ImageOps.exif_transpose(img))
            return np.asarray(rgb, dtype=np.uint8).copy()
    except ImageError:
        raise
    except UnidentifiedImageError:
        raise ImageError(f"{name}: not an image Pillow can read (unknown or corrupt format)") from None
    except Image.DecompressionBombError as exc:
        raise ImageError(f"{name}: refused as a decompression bomb ({exc})") from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise ImageError(f"{name}: cannot decode image ({exc})") from None


def _array_to_rgb(arr: np.ndarray) -> np.ndarray:
    if arr.ndim == 2:
        arr = np.repeat(arr[:, :, None], 3, axis=2)
    if arr.ndim != 3 or arr.shape[2] not in (3, 4) or arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ImageError(f"array of shape {arr.shape} is not an image: expected (H, W), "
                         "(H, W, 3) RGB or (H, W, 4) RGBA")
    if arr.dtype != np.uint8:
        if np.issubdtype(arr.dtype, np.floating) and arr.size and float(np.nanmax(arr)) <= 1.0:
            arr = arr * 255.0
        arr = np.clip(np.nan_to_num(arr), 0, 255).astype(np.uint8)
    if arr.shape[2] == 4:
        return np.asarray(_to_rgb(Image.fromarray(arr, "RGBA")))
    return np.ascontiguousarray(arr)


def iter_image_paths(inputs: Iterable[str | os.PathLike]) -> Iterator[str]:
    """Expand files, folders (recursively, sorted) and glob patterns into paths.

    A file named explicitly is always yielded (so a broken one becomes an error record); inside
    folders only names with an image extension are (sub-folders so named too). A name that
    matches nothing is yielded as is, so the caller reports it as missing rather than silently
    dropping it.
    """
    return expand_paths(inputs, IMAGE_EXTENSIONS, os.path.exists, folders_too=True)


def expand_paths(inputs: Iterable[str | os.PathLike], extensions: Collection[str],
                 as_given: Callable[[str], bool], folders_too: bool = False) -> Iterator[str]:
    """Each input as paths: a folder as the files in it and below it whose names end in one of
    ``extensions`` (and, with ``folders_too``, the sub-folders so named), sorted; an input that
    ``as_given`` accepts as it is; else a glob pattern's matches, sorted; else the input itself
    (so that the caller reports it as missing rather than silently dropping it)."""
    for item in inputs:
        text = os.fspath(item)
        if os.path.isdir(text):
            yield from sorted(os.path.join(root, name) for root, dirs, files in os.walk(text)
                              for name in (dirs + files if folders_too else files)
                              if Path(name).suffix.lower() in extensions)
        elif as_given(text):
            yield text
        elif glob.has_magic(text):
            yield from sorted(glob.glob(text, recursive=True))
        else:
            yield text
