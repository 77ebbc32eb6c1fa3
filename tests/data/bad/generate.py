"""Write the bad-input corpus next to this script (tests/test_bad_inputs.py says what each must do).

    python tests/data/bad/generate.py

Every file is tiny and deterministic; rerunning this rewrites the same bytes.
"""

from __future__ import annotations

import dataclasses
import io
import struct
import sys
import zlib
from pathlib import Path

import numpy as np
import soundfile as sf
from PIL import Image

HERE = Path(__file__).resolve().parent
SEEDS = HERE.parents[1] / "fuzz" / "seeds"
sys.path.insert(0, str(HERE.parents[2]))  # the repository, for tests.fuzz.synth


def _gradient(h: int = 8, w: int = 8) -> np.ndarray:
    y, x = np.mgrid[0:h, 0:w]
    return np.stack([x * 30 % 256, y * 30 % 256, (x + y) * 15 % 256], -1).astype(np.uint8)


def _png(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_bomb() -> bytes:
    """A valid 100 000 x 100 000 RGB PNG header and one tiny compressed row: 57 bytes that claim
    30 GB of pixels."""
    ihdr = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", zlib.compress(b"\0" * 64)) + _chunk(b"IEND", b"")
    )


def truncated_png_bomb() -> bytes:
    """A 12 000 x 12 000 grayscale PNG (under the input pixel limit) whose image data holds 8 of
    its rows: Pillow fills the rest with zeros without a word, and an encoder would then fit a
    144-megapixel image (issue 14)."""
    ihdr = struct.pack(">IIBBBBB", 12000, 12000, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", zlib.compress(bytes(96008)))
            + _chunk(b"IEND", b""))  # fmt: skip


def inr_with(seed: str, **changes) -> bytes:
    """A seed .inr with header fields changed and a valid CRC recomputed over the result."""
    from inrcodec import container

    header, payload = container.unpack((SEEDS / seed).read_bytes())
    signal = dataclasses.replace(header.signal, **changes.pop("signal", {}))
    return container.pack(dataclasses.replace(header, signal=signal, **changes), payload)


def files() -> dict[str, bytes]:
    from tests.fuzz import synth

    good = (SEEDS / "siren_rgb.inr").read_bytes()
    out = {
        "empty.inr": b"",
        "empty.png": b"",
        "truncated.png": _png(Image.fromarray(_gradient(32, 32)))[:70],
        "bomb.png": png_bomb(),
        "sixteen_bit.png": _png(Image.fromarray(_gradient()[:, :, 0].astype(np.uint16) * 257)),
        "one_pixel.png": _png(Image.fromarray(_gradient(1, 1))),
        "text.png": b"this is a text file, not a PNG\n",
        "wrong_magic.inr": b"\x89PNG" + good[4:],
        "bad_crc.inr": good[:-1] + bytes([good[-1] ^ 0xFF]),
        "future_version.inr": _with_version(good, 3),
        "huge_image_valid_crc.inr": inr_with("siren_rgb.inr", signal={"width": 10**9, "height": 10**9}),
        "million_layers_valid_crc.inr": inr_with("siren_rgb.inr", arch=(10**6, 2, 480, 480)),
        "unknown_family_valid_crc.inr": inr_with("siren_rgb.inr", family=9),
        "absurd_rate_valid_crc.inr": _with_rate((SEEDS / "segments_siren_mono.inr").read_bytes()),
        "rgb16_valid_crc.inr": inr_with("siren_rgb.inr", signal={"bit_depth": 16}),
        # 84 bytes: one 1000 x 1000 level coded with a context network 256 wide (issue 14)
        "context_256_valid_crc.inr": synth.constant_grid(1000, 1000, context_hidden=256),
        # one pixel wide and 10^6 rows tall: two million wavefronts (issue 14)
        "tall_grid_valid_crc.inr": synth.constant_grid(1_000_000, 1),
        "truncated_bomb.png": truncated_png_bomb(),
    }
    inf = np.linspace(0, 1, 64, dtype=np.float32).reshape(8, 8)
    inf[3, 3] = np.inf
    tif = io.BytesIO()
    Image.fromarray(inf, "F").save(tif, format="TIFF")
    out["float_inf.tif"] = tif.getvalue()
    cmyk = io.BytesIO()
    Image.fromarray(_gradient()).convert("CMYK").save(cmyk, format="JPEG")
    out["cmyk.jpg"] = cmyk.getvalue()
    gif = io.BytesIO()
    frames = [Image.fromarray(np.roll(_gradient(), k, 1)) for k in range(3)]
    frames[0].save(gif, format="GIF", save_all=True, append_images=frames[1:])
    out["animated.gif"] = gif.getvalue()
    for name, samples in (("zero_frames.wav", np.zeros((0, 1), np.float32)),
                          ("nan.wav", np.array([[0.0], [np.nan], [0.5]] * 100, np.float32)),
                          ("one_sample.wav", np.array([[0.25]], np.float32))):  # fmt: skip
        buf = io.BytesIO()
        sf.write(buf, samples, 8000, format="WAV", subtype="FLOAT")
        out[name] = buf.getvalue()
    return out


def _with_version(data: bytes, major: int) -> bytes:
    body = data[:4] + bytes([major]) + data[5:-4]
    return body + struct.pack("<I", zlib.crc32(body))


def _with_rate(data: bytes) -> bytes:
    """An audio .inr whose header claims 2^31 - 1 Hz, written field by field (the writer itself
    would not refuse it, the reader must)."""
    from inrcodec import container

    header, payload = container.unpack(data)
    return container.pack(
        dataclasses.replace(header, signal=dataclasses.replace(header.signal, rate=2**31 - 1)), payload
    )


if __name__ == "__main__":
    for name, data in sorted(files().items()):
        (HERE / name).write_bytes(data)
        print(f"{name}: {len(data)} bytes")
