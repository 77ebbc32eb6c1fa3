"""The classical reference codecs, all through Pillow, behind the :class:`~.codec_base.Codec` interface.

Input pixels are (H, W, 1) grayscale or (H, W, 3) RGB uint8 (the harness drops alpha and 16-bit
depth before any codec sees an image). Grayscale stays grayscale wherever the format has a
grayscale mode (JPEG, JPEG 2000, AVIF 4:0:0); WebP has none, so gray is coded as RGB and the
decoded image converted back with Pillow's luma transform (by the harness, for any codec
that returns more channels than it was given).

Each default quality sweep was chosen so that the mean Kodak curve spans 0.1-2 bpp wherever the
codec can reach it (JPEG cannot go below about 0.17 bpp on average).
"""

from __future__ import annotations

import io
import math
from typing import Any, ClassVar

import numpy as np

from ..errors import OptionError
from .codec_base import Codec


def _to_pil(pixels: np.ndarray, mode: str | None = None):
    from PIL import Image

    image = Image.fromarray(pixels[:, :, 0], "L") if pixels.shape[2] == 1 else Image.fromarray(pixels, "RGB")
    return image.convert(mode) if mode and image.mode != mode else image


def _from_bytes(data: bytes) -> np.ndarray:
    """Decode with Pillow to (H, W, C) uint8, keeping grayscale as one channel."""
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        image.load()
        if image.mode not in ("L", "RGB"):
            image = image.convert("RGB")
        pixels = np.asarray(image)
    return pixels[:, :, None] if pixels.ndim == 2 else pixels


def _save(image, **kwargs: Any) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, **kwargs)
    return buffer.getvalue()


def _pillow_version(feature: str) -> str:
    import PIL
    from PIL import features

    return f"Pillow {PIL.__version__}, {feature} {features.version(feature)}"


class PillowJpeg(Codec):
    """Pillow's JPEG with its defaults: 4:2:0 chroma subsampling, standard Huffman tables."""

    name: ClassVar[str] = "jpeg"
    description: ClassVar[str] = "JPEG 4:2:0, Pillow defaults (libjpeg)"
    # q=1..4 reach the lowest rates JPEG can (q=1 and 2 give the same file; q=1 is about 0.17
    # bpp on Kodak); q=90 is about 2.3 bpp.
    default_settings: ClassVar[tuple[float, ...]] = (
        1,
        3,
        4,
        5,
        10,
        15,
        20,
        25,
        30,
        40,
        50,
        60,
        70,
        80,
        85,
        90,
    )
    optimize: ClassVar[bool] = False

    def encode(self, pixels: np.ndarray, setting: float) -> bytes:
        kwargs = {"optimize": True} if self.optimize else {}
        return _save(_to_pil(pixels), format="JPEG", quality=int(setting), **kwargs)

    def decode(self, data: bytes) -> np.ndarray:
        return _from_bytes(data)

    def version(self) -> str:
        return _pillow_version("jpg")


class PillowJpegOptimized(PillowJpeg):
    """JPEG 4:2:0 with optimised Huffman tables (``optimize=True``): same pixels, fewer bytes."""

    name: ClassVar[str] = "jpeg-opt"
    description: ClassVar[str] = "JPEG 4:2:0, Pillow with optimize=True (optimised Huffman tables)"
    optimize: ClassVar[bool] = True


class PillowWebp(Codec):
    """Pillow's lossy WebP at its default effort (method 4)."""

    name: ClassVar[str] = "webp"
    description: ClassVar[str] = "WebP lossy, Pillow defaults (libwebp, method 4)"
    # q=0 is about 0.11 bpp on Kodak, q=90 about 2.0.
    default_settings: ClassVar[tuple[float, ...]] = (
        0,
        5,
        10,
        15,
        20,
        30,
        40,
        50,
        60,
        70,
        80,
        85,
        90,
    )

    def encode(self, pixels: np.ndarray, setting: float) -> bytes:
        # WebP has no grayscale mode: gray goes in as RGB and comes out through decode().
        return _save(_to_pil(pixels, "RGB"), format="WEBP", quality=float(setting))

    def decode(self, data: bytes) -> np.ndarray:
        return _from_bytes(data)

    def version(self) -> str:
        return _pillow_version("webp")


class PillowJpeg2000(Codec):
    """OpenJPEG through Pillow with the 9/7 wavelet and the colour transform, rate-controlled.

    Pillow's defaults (5/3 reversible wavelet, no colour transform) are about 17 % worse than
    JPEG; ``irreversible=True, mct=1`` is the JPEG 2000 people compare against. The setting is the
    target bpp, passed to OpenJPEG as a compression ratio against the raw 8-bit samples.
    """

    name: ClassVar[str] = "jpeg2000"
    description: ClassVar[str] = (
        "JPEG 2000 (OpenJPEG via Pillow), 9/7 wavelet + colour transform, rate-controlled to a target bpp"
    )
    setting_name: ClassVar[str] = "target bpp"
    default_settings: ClassVar[tuple[float, ...]] = (
        0.06,
        0.08,
        0.1,
        0.125,
        0.15,
        0.2,
        0.25,
        0.3,
        0.4,
        0.5,
        0.65,
        0.8,
        1.0,
        1.25,
        1.6,
        2.0,
        2.4,
    )

    def encode(self, pixels: np.ndarray, setting: float) -> bytes:
        height, width, channels = pixels.shape
        ratio = 8.0 * channels / float(setting)
        # OpenJPEG's default 6 resolution levels need at least 32 pixels per side.
        levels = max(1, min(6, int(math.log2(max(1, min(height, width))))))
        return _save(
            _to_pil(pixels),
            format="JPEG2000",
            quality_mode="rates",
            quality_layers=[ratio],
            irreversible=True,
            mct=1 if channels == 3 else 0,
            num_resolutions=levels,
        )

    def decode(self, data: bytes) -> np.ndarray:
        return _from_bytes(data)

    def version(self) -> str:
        return _pillow_version("jpg_2000")


class PillowAvif(Codec):
    """Pillow's AVIF (libavif) at its defaults: 4:2:0, speed 6, tuned for perceived quality."""

    name: ClassVar[str] = "avif"
    description: ClassVar[str] = "AVIF (libavif via Pillow), defaults: 4:2:0, speed 6"
    # q=5 is about 0.08 bpp on Kodak, q=90 about 2.5.
    default_settings: ClassVar[tuple[float, ...]] = (
        5,
        10,
        15,
        20,
        25,
        30,
        40,
        50,
        60,
        70,
        80,
        85,
        90,
    )
    advanced: ClassVar[tuple[tuple[str, str], ...]] = ()

    def encode(self, pixels: np.ndarray, setting: float) -> bytes:
        kwargs: dict[str, Any] = {"advanced": list(self.advanced)} if self.advanced else {}
        # libavif would otherwise use every core, whatever the job count.
        return _save(_to_pil(pixels), format="AVIF", quality=int(setting), max_threads=self.threads, **kwargs)

    def decode(self, data: bytes) -> np.ndarray:
        return _from_bytes(data)

    def version(self) -> str:
        return _pillow_version("avif")


class PillowAvifPsnr(PillowAvif):
    """AVIF with the encoder tuned for PSNR (``advanced=[("tune", "psnr")]``), not perception."""

    name: ClassVar[str] = "avif-psnr"
    description: ClassVar[str] = 'AVIF (libavif via Pillow), 4:2:0, speed 6, advanced=[("tune", "psnr")]'
    # Tuned for PSNR it spends more bits at a given quality: q=85 is already about 2.1 bpp.
    default_settings: ClassVar[tuple[float, ...]] = (5, 10, 15, 20, 25, 30, 40, 50, 60, 70, 80, 85)
    advanced: ClassVar[tuple[tuple[str, str], ...]] = (("tune", "psnr"),)


class JpegXl(Codec):
    """JPEG XL (libjxl through ``imagecodecs``, an optional benchmark extra: ``pip install
    "inrcodec[bench]"``), lossy VarDCT at effort 7, the library's default. The setting is the
    Butteraugli distance: lower is higher quality (1.0 is libjxl's "visually lossless")."""

    name: ClassVar[str] = "jpegxl"
    description: ClassVar[str] = "JPEG XL (libjxl via imagecodecs), lossy, effort 7, setting = distance"
    setting_name: ClassVar[str] = "distance"
    # distance 25 is about 0.06 bpp on Kodak, 0.6 about 2.5 bpp; listed in increasing rate
    default_settings: ClassVar[tuple[float, ...]] = (25, 15, 10, 7, 5, 4, 3, 2.5, 2, 1.5, 1.2, 1, 0.8, 0.6)

    @staticmethod
    def _library():
        try:
            import imagecodecs
        except ImportError:
            raise OptionError('the jpegxl codec needs imagecodecs: pip install "inrcodec[bench]"') from None
        if not imagecodecs.JPEGXL.available:
            raise OptionError("this imagecodecs build has no JPEG XL")
        return imagecodecs

    def encode(self, pixels: np.ndarray, setting: float) -> bytes:
        image = pixels[:, :, 0] if pixels.shape[2] == 1 else pixels
        return bytes(self._library().jpegxl_encode(image, distance=float(setting), effort=7, numthreads=self.threads))

    def decode(self, data: bytes) -> np.ndarray:
        pixels = np.asarray(self._library().jpegxl_decode(data))
        return pixels[:, :, None] if pixels.ndim == 2 else pixels

    def version(self) -> str:
        lib = self._library()
        return f"imagecodecs {lib.__version__}, {lib.jpegxl_version()}"


CLASSICAL_CODECS: tuple[type[Codec], ...] = (
    PillowJpeg,
    PillowJpegOptimized,
    PillowWebp,
    PillowJpeg2000,
    PillowAvif,
    PillowAvifPsnr,
    JpegXl,
)
