"""The quick-start: encode a real photo that ships with scikit-image, decode it, show the result."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from . import codec
from .fit import ProgressCallback
from .io.files import write_bytes_atomic
from .io.image import write_image
from .metrics import psnr
from .options import EncodeOptions


def jpeg_at_size(pixels: np.ndarray, max_bytes: int) -> tuple[np.ndarray, int, int] | None:
    """The best-quality Pillow JPEG no larger than ``max_bytes``: (decoded, bytes, quality)."""
    from PIL import Image as PILImage

    best = None
    for q in range(1, 96):
        buf = io.BytesIO()
        PILImage.fromarray(pixels).save(buf, format="JPEG", quality=q)
        if buf.tell() > max_bytes:
            break
        best = (np.asarray(PILImage.open(io.BytesIO(buf.getvalue())).convert("RGB")), buf.tell(), q)
    return best


def run_demo(
    out_dir: Path,
    bpp: float = 0.3,
    seconds: float | None = None,
    model: str = "grid",
    progress: ProgressCallback | None = None,
) -> list[str]:
    """Encode the astronaut, write the .inr, 1x and 4x decodes and a comparison figure."""
    from skimage import data

    pixels = np.ascontiguousarray(data.astronaut())
    opts = EncodeOptions(bpp=bpp, time=seconds, model=model)
    result = codec.encode_image(pixels, opts, progress=progress)
    write_bytes_atomic(out_dir / "astronaut.inr", result.data)
    decoded = codec.decode_image(result.data).pixels
    big = codec.decode_image(result.data, scale=4).pixels
    write_image(out_dir / "astronaut_decoded.png", decoded, "RGB")
    write_image(out_dir / "astronaut_4x.png", big, "RGB")
    write_image(out_dir / "astronaut_original.png", pixels, "RGB")
    h, w = pixels.shape[:2]
    lines = [
        f"astronaut {w}x{h}: {len(result.data)} bytes, {8 * len(result.data) / (w * h):.3f} bpp, "
        f"PSNR {result.psnr:.2f} dB, encoded in {result.seconds:.1f} s ({result.steps} steps)",
    ]
    jpeg = jpeg_at_size(pixels, len(result.data))
    if jpeg is None:
        lines.append("JPEG cannot go as small as this file")
    else:
        lines.append(f"JPEG at <= the same size: {jpeg[1]} bytes (quality {jpeg[2]}), "
                     f"PSNR {psnr(pixels, jpeg[0]):.2f} dB")  # fmt: skip
    _figure(out_dir / "astronaut_comparison.png", pixels, decoded, jpeg, result)
    lines.append(f"wrote {out_dir}/astronaut.inr, astronaut_decoded.png, astronaut_4x.png, "
                 f"astronaut_comparison.png")  # fmt: skip
    return lines


def _figure(path: Path, original, decoded, jpeg, result) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [("original", original), (f"inrcodec, {len(result.data)} B, {result.psnr:.2f} dB", decoded)]
    if jpeg is not None:
        panels.append((f"JPEG q{jpeg[2]}, {jpeg[1]} B, {psnr(original, jpeg[0]):.2f} dB", jpeg[0]))
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
