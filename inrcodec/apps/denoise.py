"""Denoising: fit a smooth function to the noisy pixels and stop before it fits the noise.

A coordinate network learns low frequencies first (spectral bias), so partway through a fit it
holds the image's structure and little of its noise. Where that point lies is found on pixels
held out of training (:mod:`inrcodec.apps.common`): their error against the noisy values is the
error against the clean image plus the noise variance, so it bottoms out where the network's
estimate of the clean image is best. The fit is then sampled at every pixel centre, held-out
pixels included.

The noise level steers the rest: the stronger the noise, the lower the network's omega_0 (fewer
high frequencies to begin with) and the sooner it would overfit. ``sigma`` is on the 0-255 scale
whatever the bit depth; when it is not given, it is estimated with scikit-image's
``estimate_sigma`` (Donoho's wavelet median rule).
"""

from __future__ import annotations

import math

import numpy as np

from ..codec import torch_threads
from ..errors import InputError, OptionError
from ..fit import ProgressCallback, seeded_generator
from ..io.image import Image
from .common import AppResult, FitOptions, device_of, options_from, resolve
from .pixels import as_image, fit_pixels, like_input, render_pixels

#: the largest noise level accepted, on 0-255 (beyond it there is little image left)
MAX_SIGMA = 128.0


def estimate_sigma(pixels: np.ndarray) -> float:
    """The noise standard deviation of (H, W, C) integer pixels, on the 0-255 scale."""
    try:
        from skimage.restoration import estimate_sigma as wavelet_sigma
    except ImportError as e:  # pragma: no cover - scikit-image is a dependency
        raise OptionError(f"cannot estimate the noise level ({e}); give sigma explicitly") from None
    peak = 65535.0 if pixels.dtype == np.uint16 else 255.0
    scaled = pixels.astype(np.float64) * (255.0 / peak)
    try:
        sigma = wavelet_sigma(scaled, channel_axis=-1, average_sigmas=True)
    except ImportError as e:  # skimage needs PyWavelets for this
        raise OptionError(f"cannot estimate the noise level ({e}); give sigma explicitly") from None
    return float(sigma)


def check_sigma(sigma: float) -> float:
    if isinstance(sigma, bool) or not isinstance(sigma, (int, float)) or not math.isfinite(sigma):
        raise OptionError(f"sigma must be a number on the 0-255 scale, got {sigma!r}")
    if not 0 < sigma <= MAX_SIGMA:
        raise OptionError(f"sigma must be in (0, {MAX_SIGMA:g}] on the 0-255 scale, got {sigma:g}")
    return float(sigma)


def default_options(sigma: float, height: int, width: int) -> FitOptions:
    """The knobs chosen by measurement (docs/applications.md) for a noise level and image size:
    the latent grid with its finest latents at half resolution; for SIREN, omega_0 by
    :func:`omega_for`."""
    return FitOptions(
        model="grid", first_level=1, omega=omega_for(sigma, max(height, width)),
        seconds=60.0, holdout=0.05, patience=4,
    )  # fmt: skip


def omega_for(sigma: float, side: int) -> float:
    """SIREN's omega_0: proportional to the image's side (cycles per pixel stay put) and lower
    for stronger noise (measured on the training photos; docs/applications.md)."""
    per_512 = 30.0 * (15.0 / max(sigma, 15.0)) ** 0.5
    return max(5.0, per_512 * side / 512.0)


def run_denoise(
    pixels: np.ndarray | Image,
    sigma: float | None = None,
    *,
    options: FitOptions = FitOptions(),
    progress: ProgressCallback | None = None,
) -> AppResult:
    """Denoise an image; ``sigma`` on the 0-255 scale, or None to estimate it."""
    img, flat = as_image(pixels)
    notices = list(img.notices)
    if sigma is None:
        sigma = estimate_sigma(img.pixels)
        notices.append(f"estimated noise sigma {sigma:.2f} (0-255 scale)")
        if sigma <= 0:
            raise InputError("the image shows no noise to remove (estimated sigma is 0)")
    sigma = check_sigma(sigma)
    opts = resolve(options, default_options(sigma, img.height, img.width))
    device = device_of(opts)
    g = seeded_generator(opts.seed)
    with torch_threads(opts.threads):
        model, fit = fit_pixels(img, None, opts, g, device, phase="denoise", progress=progress)
        out = render_pixels(model, img.height, img.width, img.bit_depth, device)
    settings = {"sigma": round(sigma, 3), **opts.settings()}
    return AppResult(like_input(out, flat), fit.steps, fit.seconds, fit.stop_reason, fit.psnr, settings, notices)


def denoise(
    pixels: np.ndarray,
    sigma: float | None = None,
    *,
    progress: ProgressCallback | None = None,
    **options,
) -> np.ndarray:
    """Denoise (H, W[, C]) uint8/uint16 pixels; ``sigma`` on 0-255, None to estimate it.

    ``options`` are :class:`~inrcodec.apps.common.FitOptions` fields.
    """
    return run_denoise(pixels, sigma, options=options_from(options), progress=progress).output
