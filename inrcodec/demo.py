"""The quick-start: encode a real photo that ships with scikit-image, decode it, and compare it with
JPEG and WebP at the same size (each at its best settings), in numbers and in a figure."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import codec
from .fit import ProgressCallback
from .io.files import write_bytes_atomic
from .io.image import write_image
from .metrics import psnr
from .options import EncodeOptions

#: the classical codecs the demo compares with, each at its best settings: Pillow format, the
#: quality range searched, and save options (JPEG with optimised Huffman tables, WebP at its
#: slowest, best-compressing method)
CLASSICAL = {
    "JPEG": ("JPEG", (1, 95), {"optimize": True}),
    "WebP": ("WEBP", (0, 100), {"method": 6}),
}


@dataclass(frozen=True)
class AtSize:
    """A classical codec's best file no larger than a given size."""

    codec: str
    decoded: np.ndarray
    bytes: int
    quality: int


def classical_at_size(pixels: np.ndarray, max_bytes: int, codec: str) -> AtSize | None:
    """The largest file ``codec`` (a key of :data:`CLASSICAL`) writes for ``pixels`` that is no
    larger than ``max_bytes``, decoded; None if even its lowest quality is larger. Size grows with
    quality (nearly monotonically): a bisection, then the neighbours, keeps it to some ten encodes."""
    from PIL import Image as PILImage

    fmt, (lo, hi), options = CLASSICAL[codec]
    image = PILImage.fromarray(pixels)
    sizes: dict[int, bytes] = {}

    def encoded(q: int) -> bytes:
        if q not in sizes:
            buf = io.BytesIO()
            image.save(buf, format=fmt, quality=q, **options)
            sizes[q] = buf.getvalue()
        return sizes[q]

    if len(encoded(lo)) > max_bytes:
        return None
    a, b = lo, hi  # encoded(a) fits; find the last quality that does
    while b - a > 1:
        mid = (a + b) // 2
        a, b = (mid, b) if len(encoded(mid)) <= max_bytes else (a, mid)
    if len(encoded(b)) <= max_bytes:
        a = b
    for q in range(max(lo, a - 2), min(hi, a + 2) + 1):
        encoded(q)
    fits = [q for q, data in sizes.items() if len(data) <= max_bytes]
    best = max(fits, key=lambda q: (len(sizes[q]), q))
    data = sizes[best]
    decoded = np.asarray(PILImage.open(io.BytesIO(data)).convert("RGB"))
    return AtSize(codec, decoded, len(data), best)


def run_demo(
    out_dir: Path,
    bpp: float = 0.3,
    seconds: float | None = None,
    model: str = "grid",
    progress: ProgressCallback | None = None,
    say: Callable[[str], None] | None = None,
) -> list[str]:
    """Encode the astronaut, write the .inr, 1x and 4x decodes and a comparison figure with JPEG
    and WebP at the same size. ``say`` gets each line of the report as soon as it is known (the
    first before the encode starts); all of them are returned too."""
    from skimage import data

    lines: list[str] = []

    def report(line: str) -> None:
        lines.append(line)
        if say is not None:
            say(line)

    pixels = np.ascontiguousarray(data.astronaut())
    h, w = pixels.shape[:2]
    budget = f"{seconds:g} s of fitting" if seconds else "default effort: from some 10 s to a minute or two, by CPU"
    report(f"encoding scikit-image's astronaut ({w}x{h}) at {bpp:g} bpp with the {model} model ({budget}) ...")
    opts = EncodeOptions(bpp=bpp, time=seconds, model=model)
    result = codec.encode_image(pixels, opts, progress=progress)
    write_bytes_atomic(out_dir / "astronaut.inr", result.data)
    decoded = codec.decode_image(result.data).pixels
    big = codec.decode_image(result.data, scale=4).pixels
    write_image(out_dir / "astronaut_decoded.png", decoded, "RGB")
    write_image(out_dir / "astronaut_4x.png", big, "RGB")
    write_image(out_dir / "astronaut_original.png", pixels, "RGB")
    report(
        f"inrcodec: {len(result.data)} bytes, {8 * len(result.data) / (w * h):.3f} bpp, "
        f"PSNR {result.psnr:.2f} dB, encoded in {result.seconds:.1f} s ({result.steps} steps)"
    )
    others = []
    for name, (_, _, options) in CLASSICAL.items():
        found = classical_at_size(pixels, len(result.data), name)
        settings = ", ".join(f"{k}={v}" for k, v in options.items())
        if found is None:
            report(f"{name} ({settings}) cannot go as small as this file")
            continue
        others.append(found)
        report(f"{name} at <= the same size ({settings}): {found.bytes} bytes (quality {found.quality}), "
               f"PSNR {psnr(pixels, found.decoded):.2f} dB")  # fmt: skip
    _figure(out_dir / "astronaut_comparison.png", pixels, decoded, others, result)
    report(f"wrote {out_dir}/: astronaut.inr, astronaut_original.png, astronaut_decoded.png, astronaut_4x.png, "
           f"astronaut_comparison.png")  # fmt: skip
    return lines


def _figure(path: Path, original, decoded, others: list[AtSize], result) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [("original", original), (f"inrcodec, {len(result.data)} B, {result.psnr:.2f} dB", decoded)]
    for found in others:
        title = f"{found.codec} q{found.quality}, {found.bytes} B, {psnr(original, found.decoded):.2f} dB"
        panels.append((title, found.decoded))
    fig, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 5.4))
    for ax, (title, im) in zip(axes, panels):
        ax.imshow(im)
        ax.set_title(title, fontsize=10)
        ax.axis("off")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    plt.close(fig)
    write_bytes_atomic(path, buf.getvalue())
