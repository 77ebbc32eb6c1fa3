"""The test images of a benchmark run: which files, and the exact pixels every codec sees.

Every codec, inr included, is given the same 8-bit pixels: grayscale stays one channel, colour is
RGB. Alpha channels are dropped and 16-bit images reduced to 8 bits (each with a notice), because
the classical codecs under test cannot code them and a rate-distortion figure is only comparable
when all codecs code the same samples. ``crop`` keeps a centred square (for quick tests).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import InputError, OptionError
from ..io.image import Image, read_image


@dataclass(frozen=True)
class BenchImage:
    """One test image, ready to code."""

    name: str  # the file name without its folder, e.g. "kodim01.png"
    pixels: np.ndarray  # (H, W, 1 or 3) uint8
    sha256: str  # of the pixels actually coded (after crop), the cache key's image part
    notices: tuple[str, ...] = ()

    # The same (H, W, C) shape properties as inrcodec's own Image, reused rather than repeated:
    # each reads only ``self.pixels``. Not annotated, so not dataclass fields.
    height = Image.height
    width = Image.width
    channels = Image.channels


def list_image_files(folder: str | os.PathLike, limit: int | None = None, names: tuple[str, ...] = ()) -> list[Path]:
    """The files in a folder, sorted by name, hidden files skipped; the first ``limit`` of them,
    or those whose name (with or without extension) is in ``names``."""
    path = Path(folder)
    if not path.exists():
        raise InputError(f"image folder not found: {path}")
    if not path.is_dir():
        raise InputError(f"not a folder: {path}")
    files = sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith("."))
    if not files:
        raise InputError(f"no images in {path}: the folder is empty")
    if names:
        wanted = set(names)
        chosen = [p for p in files if p.name in wanted or p.stem in wanted]
        missing = wanted - {p.name for p in chosen} - {p.stem for p in chosen}
        if missing:
            raise InputError(f"not in {path}: {', '.join(sorted(missing))}")
        files = chosen
    if limit is not None:
        if limit < 1:
            raise OptionError(f"--images must be at least 1, got {limit}")
        files = files[:limit]
    return files


def to_benchmark_pixels(pixels: np.ndarray, mode: str) -> tuple[np.ndarray, list[str]]:
    """Reduce an image to 8-bit gray or RGB, saying what was dropped."""
    notices = []
    if pixels.dtype == np.uint16:
        pixels = (pixels >> 8).astype(np.uint8)
        notices.append("16-bit image reduced to 8 bits")
    if mode in ("LA", "RGBA"):
        pixels = pixels[:, :, :-1]
        notices.append("alpha channel dropped")
    return np.ascontiguousarray(pixels), notices


def center_crop(pixels: np.ndarray, size: int) -> np.ndarray:
    """The centred ``size`` x ``size`` square (or less, where the image is smaller)."""
    if size < 1:
        raise OptionError(f"--crop must be at least 1 pixel, got {size}")
    height, width = pixels.shape[:2]
    top, left = max(0, (height - size) // 2), max(0, (width - size) // 2)
    return np.ascontiguousarray(pixels[top : top + size, left : left + size])


def pixels_sha256(pixels: np.ndarray) -> str:
    """A content hash of the pixels and their shape."""
    digest = hashlib.sha256(str(pixels.shape).encode())
    digest.update(np.ascontiguousarray(pixels).tobytes())
    return digest.hexdigest()


def load_image(path: Path, crop: int | None = None) -> BenchImage:
    """Read one file as a benchmark image (InputError if it is not an image)."""
    image = read_image(path)
    pixels, notices = to_benchmark_pixels(image.pixels, image.mode)
    if crop is not None:
        pixels = center_crop(pixels, crop)
    return BenchImage(path.name, pixels, pixels_sha256(pixels), tuple(image.notices + notices))


def load_images(
    folder: str | os.PathLike,
    limit: int | None = None,
    crop: int | None = None,
    names: tuple[str, ...] = (),
) -> list[BenchImage]:
    """The first ``limit`` (or the named) images of a folder, each optionally centre-cropped."""
    return [load_image(path, crop) for path in list_image_files(folder, limit, names)]
