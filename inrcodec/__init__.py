"""inrcodec: images and audio stored as small neural networks.

>>> import inrcodec
>>> blob = inrcodec.encode("photo.png", bpp=0.3)      # bytes of an .inr file
>>> pixels = inrcodec.decode(blob, scale=4)            # (H, W, C) uint8 array
>>> inrcodec.info(blob)["bpp"]
>>> blob = inrcodec.encode_audio(samples, 44100, kbps=24)   # (frames, channels) floats
>>> samples, rate = inrcodec.decode_audio(blob, rate=48000)
"""

from __future__ import annotations

import os
from dataclasses import fields

import numpy as np

from .apps import denoise, inpaint, inpaint_audio, upscale
from .audio import AudioEncodeOptions, AudioEncodeResult, decode_audio, encode_audio
from .codec import EncodeResult, decode_image, encode_image
from .decoder import describe
from .errors import FormatError, InputError, InrError, LimitError, OptionError, OutputError, VersionError
from .fit import Progress
from .limits import DEFAULT_LIMITS, Limits
from .options import EncodeOptions

__version__ = "0.8.0"

_OPTION_NAMES = {f.name for f in fields(EncodeOptions)}


def encode(
    image: np.ndarray | str | os.PathLike,
    *,
    bpp: float | None = None,
    size: str | int | None = None,
    progress=None,
    limits: Limits = DEFAULT_LIMITS,
    **options,
) -> bytes:
    """Encode an image (uint8/uint16 array or a path) into the bytes of an .inr file.

    ``options`` are the fields of :class:`EncodeOptions` (model, steps, time, psnr, seed, device...).
    """
    unknown = set(options) - _OPTION_NAMES
    if unknown:
        raise OptionError(f"unknown encode option(s): {', '.join(sorted(unknown))}")
    opts = EncodeOptions(bpp=bpp, size=size, **options)
    return encode_image(image, opts, progress=progress, limits=limits).data


def decode(
    data: bytes | str | os.PathLike,
    *,
    scale: float | None = None,
    width: int | None = None,
    height: int | None = None,
    device: str = "cpu",
    limits: Limits = DEFAULT_LIMITS,
) -> np.ndarray:
    """Decode an image .inr (bytes or a path) to an (H, W, C) uint8 (or uint16) array."""
    return decode_image(data, scale=scale, width=width, height=height, device=device, limits=limits).pixels


def info(data: bytes | str | os.PathLike) -> dict:
    """Header fields and statistics of an .inr file (bytes or a path)."""
    return describe(data)


__all__ = [
    "AudioEncodeOptions",
    "AudioEncodeResult",
    "EncodeOptions",
    "EncodeResult",
    "FormatError",
    "InputError",
    "InrError",
    "LimitError",
    "Limits",
    "OptionError",
    "OutputError",
    "Progress",
    "VersionError",
    "decode",
    "decode_audio",
    "decode_image",
    "denoise",
    "encode",
    "encode_audio",
    "encode_image",
    "info",
    "inpaint",
    "inpaint_audio",
    "upscale",
]
