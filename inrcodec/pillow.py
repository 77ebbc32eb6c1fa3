"""A Pillow plugin: ``import inrcodec.pillow`` and ``Image.open("photo.inr")`` works (read-only).

    >>> from PIL import Image
    >>> import inrcodec.pillow
    >>> im = Image.open("photo.inr")          # header only; pixels decode on first use
    >>> im.thumbnail((256, 256))               # decodes directly at a reduced size (draft)
    >>> im.save("thumb.png")

Decoding size:

- ``im.draft(None, (w, h))`` (which ``thumbnail`` calls) decodes directly at the smallest size
  that covers ``(w, h)`` with the stored aspect ratio, never larger than the stored size, like
  JPEG's DCT scaling. It returns ``(mode, box)`` as Pillow's JPEG plugin does.
- :func:`open` with ``size=(w, h)`` or ``scale=s`` decodes at exactly that size, larger included:
  an .inr file is a continuous image.
"""

from __future__ import annotations

import os
from typing import IO

from PIL import Image, ImageFile

from . import container
from .codec import decode_image
from .errors import InrError
from .io.image import MODE_BY_ID

FORMAT = "INR"


def _accept(prefix: bytes) -> bool:
    return prefix[:4] == container.MAGIC


class InrImageFile(ImageFile.ImageFile):
    format = FORMAT
    format_description = "inrcodec implicit neural representation"

    def _open(self) -> None:
        data = self.fp.read()
        try:
            header, _ = container.unpack(data)
        except InrError as e:
            raise SyntaxError(str(e)) from None  # Pillow's way of saying "not this format"
        if not isinstance(header.signal, container.ImageFields):
            raise SyntaxError("this .inr file holds audio, not an image")
        s = header.signal
        self._inr_data = data
        self._inr_size = (s.width, s.height)
        self._mode = "I;16" if s.bit_depth == 16 else MODE_BY_ID[s.mode]
        self._size = (s.width, s.height)
        self.info["inr_model"] = header.family
        self.tile = []

    def draft(self, mode: str | None, size: tuple[int, int] | None):
        """Decode at the smallest size covering ``size``, keeping the aspect ratio (no upscaling)."""
        if not size or self._im is not None:
            return None
        width, height = self._inr_size
        scale = min(1.0, max(size[0] / width, size[1] / height))
        self._size = (max(1, round(width * scale)), max(1, round(height * scale)))
        return self.mode, (0, 0, width, height)

    def decode_at(self, width: int, height: int) -> None:
        """Decode at exactly ``width`` x ``height`` when the pixels are first needed."""
        if self._im is None:
            self._size = (width, height)

    def load(self):
        if self._im is None:
            width, height = self._size
            try:
                decoded = decode_image(self._inr_data, width=width, height=height)
            except InrError as e:
                raise OSError(str(e)) from None
            pixels = decoded.pixels
            if pixels.shape[2] == 1:
                pixels = pixels[:, :, 0]
            self.im = Image.fromarray(pixels, self.mode).im
        return Image.Image.load(self)


def open(fp: str | os.PathLike | IO[bytes], size: tuple[int, int] | None = None,
         scale: float | None = None) -> Image.Image:  # fmt: skip
    """Open an .inr file with Pillow, decoding at ``size`` or ``scale`` times the stored size."""
    im = Image.open(fp, formats=[FORMAT])
    if not isinstance(im, InrImageFile):
        raise InrError(f"not an .inr image: {fp}")
    if size is not None:
        im.decode_at(*size)
    elif scale is not None:
        w, h = im.size
        im.decode_at(max(1, round(w * scale)), max(1, round(h * scale)))
    return im


Image.register_open(FORMAT, InrImageFile, _accept)
Image.register_extension(FORMAT, ".inr")
Image.register_mime(FORMAT, "image/x-inr")
