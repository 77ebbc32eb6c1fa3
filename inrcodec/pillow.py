"""A Pillow plugin: ``import inrcodec.pillow`` and ``Image.open("photo.inr")`` works.

    >>> from PIL import Image
    >>> import inrcodec.pillow
    >>> im = Image.open("photo.inr")          # header only; pixels decode on first use
    >>> im.thumbnail((256, 256))               # decodes directly at a reduced size (draft)
    >>> im.save("thumb.png")
    >>> Image.open("photo.png").save("photo.inr", bpp=0.3, time=30)   # encodes (slow: a fit)

Decoding size (an .inr file is a continuous image, so any size is a direct decode):

- ``im.draft(None, (w, h))`` (which ``thumbnail`` calls) decodes directly at the smallest size
  that covers ``(w, h)`` with the stored aspect ratio, never larger than the stored size, as
  JPEG's DCT scaling does. It returns ``(mode, box)`` like Pillow's JPEG plugin: ``box`` is where
  the original image lies in the reduced one, which is all of it.
- :func:`open` with ``size=(w, h)`` or ``scale=s`` decodes at exactly that size, larger included.

Limits: the plugin decodes under the same resource limits as the command line
(:class:`inrcodec.Limits`, :data:`LIMITS` by default; :func:`open` takes others): a file over
``max_file_bytes`` is refused from its size, before it is read, and a decode the limits refuse
raises an ``OSError`` naming the limit, as Pillow's own plugins report broken files.

Saving: ``im.save("x.inr", **options)`` encodes with :func:`inrcodec.encode`; the options are
its keywords (``bpp``, ``size``, ``steps``, ``time``, ``model``, ...), others are ignored, as
Pillow's writers do. Modes L, LA, RGB, RGBA and I;16 are written; convert others first.
``im.info["inr_model"]`` names the model family of an opened file.
"""

from __future__ import annotations

import contextvars
import os
from typing import IO

import numpy as np
from PIL import Image, ImageFile

from . import container, coords, families
from .codec import decode_image
from .errors import InrError, OptionError
from .io.image import MODE_BY_ID
from .limits import DEFAULT_LIMITS, Limits

FORMAT = "INR"
#: the limits files opened through Pillow are read and decoded under (the command line's
#: defaults); assign another :class:`~inrcodec.limits.Limits` to change them for every open
LIMITS: Limits = DEFAULT_LIMITS

#: the Pillow modes the writer takes (16-bit grayscale is Pillow's I;16)
_WRITABLE_MODES = ("L", "LA", "RGB", "RGBA", "I;16")


def _accept(prefix: bytes) -> bool:
    return prefix[:4] == container.MAGIC


class InrImageFile(ImageFile.ImageFile):
    format = FORMAT
    format_description = "inrcodec implicit neural representation"

    def _open(self) -> None:
        limits = _opening_limits.get() or LIMITS
        self.fp.seek(0, os.SEEK_END)
        size = self.fp.tell()
        self.fp.seek(0)
        if size > limits.max_file_bytes:  # refused from its size, unread, as the command line does
            raise OSError(f"{FORMAT} file is {size} bytes, over the limit of {limits.max_file_bytes} (max_file_bytes)")
        data = self.fp.read()
        try:
            header, _ = container.unpack(data)
            family = families.by_id(header.family).name
        except InrError as e:
            raise SyntaxError(str(e)) from None  # Pillow's way of saying "not this format"
        if not isinstance(header.signal, container.ImageFields):
            raise SyntaxError("this .inr file holds audio, not an image")
        s = header.signal
        self._inr_data = data
        self._inr_limits = limits
        self._inr_size = (s.width, s.height)
        self._mode = "I;16" if s.bit_depth == 16 else MODE_BY_ID[s.mode]
        self._size = (s.width, s.height)
        self.info["inr_model"] = family
        self.tile = []

    def draft(self, mode: str | None, size: tuple[int, int] | None):
        """Decode at the smallest size covering ``size``, keeping the aspect ratio (no upscaling).
        ``mode`` is not changed; returns (mode, box of the original image in the reduced one)."""
        if not size or self._im is not None:
            return None
        width, height = self._inr_size
        scale = min(1.0, max(size[0] / width, size[1] / height))
        self._size = (max(1, round(width * scale)), max(1, round(height * scale)))
        # The decode covers the whole original image, whatever its size.
        return self.mode, (0, 0, *self._size)

    def decode_at(self, width: int, height: int) -> None:
        """Decode at exactly ``width`` x ``height`` when the pixels are first needed."""
        if self._im is not None:
            raise OptionError("the image is already decoded; choose its size before loading it")
        self._size = (width, height)

    def load(self):
        if self._im is None:
            width, height = self._size
            try:
                decoded = decode_image(self._inr_data, width=width, height=height, limits=self._inr_limits)
            except InrError as e:
                raise OSError(str(e)) from None
            pixels = decoded.pixels
            if pixels.shape[2] == 1:
                pixels = pixels[:, :, 0]
            # fromarray picks the mode from the array (uint16 -> I;16); Pillow 13 no longer
            # takes a mode argument for it.
            self.im = Image.fromarray(np.ascontiguousarray(pixels)).im
            # All bytes were read at open: release a file Pillow opened for us, as ImageFile.load does.
            if self._exclusive_fp and self._close_exclusive_fp_after_loading:
                self.fp.close()
            self.fp = None
        return Image.Image.load(self)


#: the limits of the :func:`open` call in progress, in this thread (``Image.open`` takes none)
_opening_limits: contextvars.ContextVar[Limits | None] = contextvars.ContextVar("inr_opening_limits", default=None)


def open(fp: str | os.PathLike | IO[bytes], size: tuple[int, int] | None = None,
         scale: float | None = None, limits: Limits | None = None) -> Image.Image:  # fmt: skip
    """Open an .inr file with Pillow, decoding at ``size`` = (width, height) or ``scale`` times
    the stored size (either larger or smaller), under ``limits`` (default :data:`LIMITS`); an
    OptionError for both or invalid values."""
    token = _opening_limits.set(limits)
    try:
        im = Image.open(fp, formats=[FORMAT])
    finally:
        _opening_limits.reset(token)
    if not isinstance(im, InrImageFile):
        raise InrError(f"not an .inr image: {fp}")
    if size is not None or scale is not None:
        width, height = size if size is not None else (None, None)
        try:
            out_h, out_w = coords.output_size(im.height, im.width, scale, width, height)
        except ValueError as e:
            raise OptionError(str(e)) from None
        im.decode_at(out_w, out_h)
    return im


def _save(im: Image.Image, fp: IO[bytes], filename: str | bytes) -> None:
    """Pillow's writer for .inr: encode the image with the save call's inrcodec options."""
    from . import _OPTION_NAMES, encode

    if im.mode not in _WRITABLE_MODES:
        raise OSError(f"cannot write mode {im.mode} as INR (convert to one of {', '.join(_WRITABLE_MODES)})")
    options = {k: v for k, v in im.encoderinfo.items() if k in _OPTION_NAMES}
    fp.write(encode(np.asarray(im), **options))


Image.register_open(FORMAT, InrImageFile, _accept)
Image.register_save(FORMAT, _save)
Image.register_extension(FORMAT, ".inr")
Image.register_mime(FORMAT, "image/x-inr")
