"""Reading and writing images through Pillow.

An image enters inrcodec as an :class:`Image`: an (H, W, C) uint8 or uint16 array plus its colour
mode. Grayscale, grayscale+alpha, RGB and RGBA round-trip in their own mode; other modes are
converted on the way in, with a one-line notice saying what happened.
"""

from __future__ import annotations

import os
import struct
import warnings
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import InputError, LimitError, OutputError
from .files import atomic_output, check_input_file

#: colour modes and their channel counts; the number is what the .inr header stores
MODES = {"L": 1, "LA": 2, "RGB": 3, "RGBA": 4}
MODE_IDS = {"L": 1, "LA": 2, "RGB": 3, "RGBA": 4}
MODE_BY_ID = {v: k for k, v in MODE_IDS.items()}

#: the default pixel limit for inputs (about 4x the largest common camera sensor)
DEFAULT_MAX_PIXELS = 200_000_000


@dataclass
class Image:
    """An image as inrcodec sees it."""

    pixels: np.ndarray  # (H, W, C), uint8 or uint16
    mode: str  # one of MODES
    notices: list[str] = field(default_factory=list)

    @property
    def height(self) -> int:
        return int(self.pixels.shape[0])

    @property
    def width(self) -> int:
        return int(self.pixels.shape[1])

    @property
    def channels(self) -> int:
        return int(self.pixels.shape[2])

    @property
    def bit_depth(self) -> int:
        return 16 if self.pixels.dtype == np.uint16 else 8

    @property
    def max_value(self) -> int:
        return (1 << self.bit_depth) - 1


def from_array(array: np.ndarray) -> Image:
    """Wrap an (H, W), (H, W, 1..4) uint8 or uint16 array."""
    a = np.asarray(array)
    if a.dtype not in (np.uint8, np.uint16):
        if a.dtype.kind == "f":
            raise InputError(f"image array must be uint8 or uint16, got {a.dtype} (scale floats yourself)")
        raise InputError(f"image array must be uint8 or uint16, got {a.dtype}")
    if a.ndim == 2:
        a = a[:, :, None]
    if a.ndim != 3 or a.shape[2] not in (1, 2, 3, 4):
        raise InputError(f"image array must be (H, W) or (H, W, 1..4), got shape {a.shape}")
    if a.shape[0] < 1 or a.shape[1] < 1:
        raise InputError(f"image has no pixels: shape {a.shape}")
    mode = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}[a.shape[2]]
    return Image(np.ascontiguousarray(a), mode)


def storable(img: Image) -> Image:
    """``img`` as an .inr file can hold it: 16 bits per sample are for grayscale only
    (docs/format.md), so a 16-bit colour image is brought to 8 bits, with a notice."""
    if img.bit_depth == 8 or img.mode == "L":
        return img
    pixels = np.round(img.pixels.astype(np.float32) * np.float32(1 / 257)).astype(np.uint8)
    notice = f"16-bit {img.mode} image encoded at 8 bits (.inr files hold 16 bits for grayscale only)"
    return Image(pixels, img.mode, [*img.notices, notice])


#: Adam7's passes: (first column, first row, column step, row step)
_ADAM7 = ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2))
_PNG_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}


def png_shortfall(path: Path) -> tuple[int, int] | None:
    """(bytes, bytes expected) of a PNG's decompressed image data when it holds fewer than its
    header promises, else None.

    Pillow accepts a PNG whose compressed stream ends early (a truncated download, or a
    bomb that declares a huge canvas and holds one row) and fills the missing rows with zeros,
    without a word. The stream is decompressed here a piece at a time and only counted."""
    with open(path, "rb") as f:
        if f.read(8) != b"\x89PNG\r\n\x1a\n":
            return None
        expected = None
        stream = zlib.decompressobj()
        total = 0
        while True:
            head = f.read(8)
            if len(head) < 8:
                break
            length, kind = struct.unpack(">I4s", head)
            if kind == b"IHDR":
                body = f.read(length)
                if len(body) < 13:
                    return None
                width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body[:13])
                bits = depth * _PNG_CHANNELS.get(colour, 4)
                passes = _ADAM7 if interlace else ((0, 0, 1, 1),)
                expected = 0
                for x0, y0, dx, dy in passes:
                    cols, rows = -(-(width - x0) // dx), -(-(height - y0) // dy)
                    if cols > 0 and rows > 0:
                        expected += rows * (1 + -(-cols * bits // 8))
                f.seek(4, 1)
                continue
            if kind == b"IDAT" and expected is not None:
                left = length
                while left and total < expected:
                    piece = f.read(min(left, 1 << 20))
                    if not piece:
                        break
                    left -= len(piece)
                    while piece and total < expected:
                        total += len(stream.decompress(piece, 1 << 22))
                        piece = stream.unconsumed_tail
                f.seek(left + 4, 1)
                if total >= expected:
                    return None
                continue
            if kind == b"IEND":
                break
            f.seek(length + 4, 1)
    if expected is None or total >= expected:
        return None
    return total, expected


def _png_bit_depth(path: Path) -> int | None:
    try:
        with open(path, "rb") as f:
            head = f.read(26)
    except OSError:
        return None
    if len(head) >= 25 and head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR":
        return head[24]
    return None


def read_image(source: str | os.PathLike | np.ndarray, max_pixels: int = DEFAULT_MAX_PIXELS) -> Image:
    """Read an image file (anything Pillow reads) or wrap an array."""
    if isinstance(source, np.ndarray):
        return from_array(source)
    from PIL import Image as PILImage
    from PIL import ImageOps, UnidentifiedImageError

    path = check_input_file(source, "image")
    if path.stat().st_size == 0:
        raise InputError(f"image file is empty (0 bytes): {path}")
    notices: list[str] = []
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", PILImage.DecompressionBombWarning)
            im = PILImage.open(path)
    except UnidentifiedImageError:
        raise InputError(f"not an image Pillow can read: {path}") from None
    except PILImage.DecompressionBombError as e:
        raise LimitError(f"image too large: {path} ({e})") from None
    except OSError as e:
        raise InputError(f"cannot read image {path}: {e}") from None
    source_format = im.format
    with im:
        w, h = im.size
        if w * h > max_pixels:
            raise LimitError(
                f"image has {w}x{h} = {w * h} pixels, over the limit of {max_pixels} "
                f"(raise it with max_pixels / --max-pixels)"
            )
        if w < 1 or h < 1:
            raise InputError(f"image has no pixels: {path}")
        if getattr(im, "n_frames", 1) > 1:
            notices.append(f"{path.name} has {im.n_frames} frames; encoding the first only")
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                im.seek(0)
                im.load()
                im = ImageOps.exif_transpose(im) or im
        except (OSError, SyntaxError, ValueError) as e:
            raise InputError(f"image is truncated or corrupt: {path} ({e})") from None
        except PILImage.DecompressionBombError as e:
            raise LimitError(f"image too large: {path} ({e})") from None
        if source_format == "PNG":
            _refuse_short_png(path)
        return Image(*_normalise_mode(im, path, notices), notices)


def _refuse_short_png(path: Path) -> None:
    try:
        short = png_shortfall(path)
    except (OSError, zlib.error) as e:
        raise InputError(f"image is truncated or corrupt: {path} ({e})") from None
    if short is not None:
        have, expected = short
        raise InputError(f"image is truncated or corrupt: {path} (its PNG image data ends after {have} of "
                         f"{expected} bytes; Pillow would fill the rest with zeros)")  # fmt: skip


#: EXIF orientations that turn the picture a quarter turn (read_image applies them)
_QUARTER_TURNS = (5, 6, 7, 8)


def image_size(path: str | os.PathLike) -> tuple[int, int]:
    """(width, height) of the image :func:`read_image` would return for a file, from its header
    alone (cheap: no pixels are decoded); an InputError if Pillow cannot identify it."""
    from PIL import Image as PILImage
    from PIL import UnidentifiedImageError

    path = check_input_file(path, "image")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", PILImage.DecompressionBombWarning)
            with PILImage.open(path) as im:
                width, height = im.size
                orientation = im.getexif().get(0x0112, 1)
    except PILImage.DecompressionBombError as e:
        raise LimitError(f"image too large: {path} ({e})") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as e:
        raise InputError(f"cannot read image {path}: {e}") from None
    return (height, width) if orientation in _QUARTER_TURNS else (width, height)


def _normalise_mode(im, path: Path, notices: list[str]) -> tuple[np.ndarray, str]:
    mode = im.mode
    if mode in MODES:
        if mode == "RGB" and _png_bit_depth(path) == 16:
            notices.append("16-bit colour PNG read at 8 bits (Pillow reads colour PNGs at 8 bits)")
        a = np.asarray(im)
        return (a[:, :, None] if a.ndim == 2 else a), mode
    if mode.startswith("I;16") or mode == "I":
        a = np.asarray(im.convert("I") if mode != "I" else im).astype(np.int64)
        if mode == "I" and (a.min() < 0 or a.max() > 65535):
            notices.append("32-bit integer image clipped to 16 bits")
        return np.clip(a, 0, 65535).astype(np.uint16)[:, :, None], "L"
    if mode == "F":
        a = np.asarray(im, dtype=np.float64)
        bad = int(np.count_nonzero(~np.isfinite(a)))
        if bad:  # one would stretch the rescaling to nothing (every pixel 0), as for audio: refused
            raise InputError(f"{path} has {bad} NaN or infinite samples")
        lo, hi = float(a.min()), float(a.max())
        notices.append(f"floating-point image rescaled from [{lo:g}, {hi:g}] to 16-bit grayscale")
        scaled = (a - lo) / (hi - lo) * 65535 if hi > lo else np.zeros_like(a)
        return np.round(scaled).astype(np.uint16)[:, :, None], "L"
    if mode == "1":
        notices.append("1-bit image converted to 8-bit grayscale")
        return np.asarray(im.convert("L"))[:, :, None], "L"
    if mode in ("P", "PA"):
        has_alpha = mode == "PA" or "transparency" in im.info
        target = "RGBA" if has_alpha else "RGB"
        notices.append(f"palette image converted to {target}")
        return np.asarray(im.convert(target)), target
    if mode in ("RGBX", "RGBa", "La"):
        target = {"RGBX": "RGB", "RGBa": "RGBA", "La": "LA"}[mode]
        return np.asarray(im.convert(target)), target
    notices.append(f"{mode} image converted to RGB")
    return np.asarray(im.convert("RGB")), "RGB"


def _pil_from_pixels(pixels: np.ndarray, mode: str):
    from PIL import Image as PILImage

    if pixels.dtype == np.uint16:  # write_image brings colour to 8 bits first
        return PILImage.fromarray(pixels[:, :, 0])  # mode I;16
    if mode == "L":
        return PILImage.fromarray(pixels[:, :, 0], "L")
    return PILImage.fromarray(pixels, mode)


def image_format_for(path: str | os.PathLike) -> str:
    """The Pillow format name for a file extension, or an OutputError."""
    from PIL import Image as PILImage

    PILImage.init()
    ext = Path(path).suffix.lower()
    fmt = PILImage.registered_extensions().get(ext)
    if fmt is None or fmt not in PILImage.SAVE:
        raise OutputError(f"cannot write images with extension '{ext or '(none)'}': {path}")
    return fmt


def writer_bytes(fmt: str, height: int, width: int, channels: int, bit_depth: int = 8) -> int:
    """Memory :func:`write_image` takes beyond the pixels it is given, for an image of that shape
    in Pillow format ``fmt`` (measured: docs/reliability.md): Pillow's copy of the image and the
    encoder's buffers, a few rows for most formats (several for PNG's filters, which matter for
    very wide images), the whole image several times over for WebP."""
    image = height * width * channels * (bit_depth // 8)
    row = width * channels * (bit_depth // 8)
    if fmt == "WEBP":
        return 9 * image
    if fmt in ("PNG", "JPEG", "TIFF", "BMP", "PPM"):
        return image * 3 // 2 + 8 * row
    return 4 * image


def write_image(
    path: str | os.PathLike,
    pixels: np.ndarray,
    mode: str,
    protect: tuple[str | os.PathLike, ...] = (),
) -> list[str]:
    """Write pixels atomically, in the format the extension names. Returns notices."""
    fmt = image_format_for(path)
    notices: list[str] = []
    if pixels.dtype == np.uint16 and (fmt not in ("PNG", "TIFF") or mode != "L"):
        notices.append(f"{fmt} cannot hold 16 bits" + ("" if mode == "L" else f" in {mode}") + "; written at 8 bits")
        pixels = (pixels >> 8).astype(np.uint8)
    im = _pil_from_pixels(pixels, mode)
    if fmt in ("JPEG", "BMP", "PPM") and mode in ("LA", "RGBA"):
        notices.append(f"{fmt} has no alpha channel; alpha dropped")
        im = im.convert("L" if mode == "LA" else "RGB")
    with atomic_output(path, protect) as tmp:
        try:
            im.save(tmp, format=fmt)
        except OSError as e:
            raise OutputError(f"cannot write {path}: {e}") from None
    return notices


def to_values(pixels: np.ndarray) -> np.ndarray:
    """Integer pixels -> float32 values in [-1, 1], the range every model is fitted in."""
    peak = 65535.0 if pixels.dtype == np.uint16 else 255.0
    return (pixels.astype(np.float32) * np.float32(2.0 / peak) - np.float32(1.0)).astype(np.float32)


def from_values(values: np.ndarray, bit_depth: int = 8) -> np.ndarray:
    """Float values in [-1, 1] -> integer pixels, clamped and rounded to nearest. NaN (only a
    hostile file's network gives one) becomes 0, mid-range: casting NaN to an integer would
    differ between machines."""
    peak = 65535.0 if bit_depth == 16 else 255.0
    ints = np.rint((np.clip(np.nan_to_num(values, nan=0.0), -1.0, 1.0) + 1.0) * (peak / 2.0))
    return ints.astype(np.uint16 if bit_depth == 16 else np.uint8)
