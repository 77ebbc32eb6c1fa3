"""Images in the applications: arrays in and out, and fitting any family to the known pixels."""

from __future__ import annotations

import numpy as np
import torch

from .. import coords
from ..fit import FitResult, ProgressCallback, psnr_of_values
from ..io.image import Image, from_array, from_values, to_values
from ..models import INR
from .common import FitOptions, build_network, fit_known_points
from .grid import fit_grid_known


def as_image(pixels: np.ndarray | Image) -> tuple[Image, bool]:
    """An (H, W[, C]) uint8/uint16 array as an :class:`Image`, and whether it was 2-D."""
    if isinstance(pixels, Image):
        return pixels, False
    array = np.asarray(pixels)
    return from_array(array), array.ndim == 2


def like_input(pixels: np.ndarray, flat: bool) -> np.ndarray:
    """Output pixels in the input's layout: (H, W) again for a 2-D input."""
    return pixels[:, :, 0] if flat else pixels


def pixel_score(max_value: int):
    """``score_of`` for pixels: PSNR of the rounded predictions against the true integers."""

    def score_of(pred: torch.Tensor, values: torch.Tensor) -> float:
        ints = torch.round((values + 1) * (max_value / 2))
        return psnr_of_values(pred, ints, max_value)

    return score_of


def pixel_points(img: Image, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """Every pixel centre (N, 2) and its value in [-1, 1] (N, C), row-major."""
    points = torch.from_numpy(coords.image_points(img.height, img.width)).to(device)
    values = torch.from_numpy(to_values(img.pixels).reshape(-1, img.channels)).to(device)
    return points, values


def render_pixels(model: INR, height: int, width: int, bit_depth: int, device: torch.device) -> np.ndarray:
    """The fitted function sampled at the pixel centres of a height x width grid, as integers."""
    model.eval()
    return from_values(model.render(height, width, device), bit_depth)


def fit_pixels(
    img: Image,
    known: np.ndarray | None,  # (H, W) bool, None = every pixel
    opts: FitOptions,
    generator: torch.Generator,
    device: torch.device,
    *,
    phase: str,
    progress: ProgressCallback | None,
    model: INR | None = None,
) -> tuple[INR, FitResult]:
    """Fit the options' family to the known pixels (held-out early stopping); the model at its best.

    ``model``: a coordinate network to start from, instead of a fresh one.
    """
    if opts.model == "grid":
        mask = np.ones((img.height, img.width), dtype=bool) if known is None else known
        return fit_grid_known(to_values(img.pixels), mask, img.max_value, opts, generator, device,
                              phase=phase, progress=progress)  # fmt: skip
    if model is None:
        model = build_network(opts, 2, img.channels, generator).to(device)
    points, values = pixel_points(img, device)
    if known is not None:
        keep = torch.from_numpy(known.reshape(-1)).to(device)
        points, values = points[keep], values[keep]
    fit = fit_known_points(model, points, values, pixel_score(img.max_value), opts, generator,
                           phase=phase, progress=progress)  # fmt: skip
    return model, fit
