"""The coordinate convention: where each pixel or audio sample sits in the continuous domain.

Convention 1 (the only one so far; its number is stored in every .inr header):

* The signal occupies the closed domain [-1, 1] along each axis. For an image, x runs left to
  right over the columns and y top to bottom over the rows; for audio, t runs over the duration.
* A grid of ``n`` samples along an axis divides [-1, 1] into ``n`` equal cells and samples each
  cell at its *centre*: sample ``i`` sits at ``(2 i + 1) / n - 1``. So pixel edges, not pixel
  centres, touch -1 and 1 (``align_corners=False`` in PyTorch's terms).
* Decoding at any other size ``m`` samples the same domain at the centres of ``m`` cells. Scale 1
  therefore reproduces the training grid exactly, and every size shows the same picture, neither
  cropped nor shifted.
* Audio resampled to another rate keeps sample times in seconds: output sample ``j`` at rate
  ``r'`` sits at time ``(j + 0.5) / r'``, mapped onto [-1, 1] by the original duration. The output
  has ``round(frames * r' / r)`` samples.
"""

from __future__ import annotations

import math

import numpy as np

CONVENTION_PIXEL_CENTRES = 1


def axis(n: int, start: int = 0, stop: int | None = None) -> np.ndarray:
    """Centres of ``n`` equal cells of [-1, 1], as float64; ``start``/``stop`` select cells
    ``start .. stop-1`` only (a tile of a large decode)."""
    if n < 1:
        raise ValueError(f"an axis needs at least one sample, got {n}")
    return (2.0 * np.arange(start, n if stop is None else stop, dtype=np.float64) + 1.0) / n - 1.0


def audio_axis(frames: int, rate: int, out_rate: int, start: int = 0, stop: int | None = None) -> np.ndarray:
    """Sample times of a clip of ``frames`` samples at ``rate`` Hz, resampled to ``out_rate`` Hz.

    ``start``/``stop`` select output samples ``start .. stop-1`` (a block of a long decode); they
    may reach past the clip's ends, where the coordinates leave [-1, 1].
    """
    if stop is None:
        stop = resampled_length(frames, rate, out_rate)
    duration = frames / rate
    t = (np.arange(start, stop, dtype=np.float64) + 0.5) / out_rate
    return 2.0 * t / duration - 1.0


def resampled_length(frames: int, rate: int, out_rate: int) -> int:
    """Number of samples a clip of ``frames`` at ``rate`` has at ``out_rate`` (at least 1)."""
    return max(1, int(math.floor(frames * out_rate / rate + 0.5)))


def output_size(
    height: int,
    width: int,
    scale: float | None = None,
    out_width: int | None = None,
    out_height: int | None = None,
) -> tuple[int, int]:
    """The (height, width) to decode at: a scale factor, or one or both sides.

    Given only one side, the other follows the stored aspect ratio, rounded to the nearest pixel.
    """
    if scale is not None and (out_width is not None or out_height is not None):
        raise ValueError("give a scale or an output size, not both")
    if scale is not None:
        if not (scale > 0 and math.isfinite(scale) and math.isfinite(max(height, width) * scale)):
            raise ValueError(f"scale must be a positive, finite number, got {scale}")
        return max(1, round(height * scale)), max(1, round(width * scale))
    for name, v in (("width", out_width), ("height", out_height)):
        if v is not None and v < 1:
            raise ValueError(f"{name} must be at least 1, got {v}")
    if out_width is not None and out_height is not None:
        return out_height, out_width
    if out_width is not None:
        return max(1, round(height * out_width / width)), out_width
    if out_height is not None:
        return out_height, max(1, round(width * out_height / height))
    return height, width


def image_points(height: int, width: int) -> np.ndarray:
    """All pixel centres of a height x width grid as (H*W, 2) float32 [x, y], row-major order."""
    ys, xs = axis(height), axis(width)
    grid = np.stack(np.meshgrid(xs, ys, indexing="xy"), axis=-1)
    return grid.reshape(-1, 2).astype(np.float32)
