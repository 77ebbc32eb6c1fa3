"""Denoising: a learned prior given the noise level, or a fit stopped before it fits the noise.

``learned`` (the default): the denoising local implicit function of
:mod:`inrcodec.models.local_implicit`, trained offline on the training photos with the noise
level as an input, sampled at the pixel centres (it is a continuous function, so any size
works). Nothing is fitted to the image.

``fit``: a fitted representation learns the image's broad structure before its pixel-level detail, so
partway through a fit it holds the image and little of its noise. Where that point lies is found
on pixels held out of training (:mod:`inrcodec.apps.common`): their error against the noisy
values is the error against the clean image plus the noise variance, so it bottoms out where the
estimate of the clean image is best. The fit is then sampled at every pixel centre, held-out
pixels included.

The default family is the latent grid with its finest latents at half resolution
(:mod:`inrcodec.apps.grid`): no latent belongs to a single pixel, so noise has nowhere to go but
the shared cells, and it measured 0.7-2.6 dB above SIREN at the same budget (docs/applications.md).

``sigma`` (0-255 scale, whatever the bit depth; estimated with scikit-image's ``estimate_sigma``,
Donoho's wavelet median rule, when not given) turns the held-out error into an estimate of the
result's PSNR against the clean image: ``mse_clean ~ mse_held_out - sigma^2``, reported as
``estimated_psnr`` so a user can tell how much was gained without the clean image.
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import InputError, OptionError
from ..fit import ProgressCallback, seeded_generator
from ..io.image import Image
from ..metrics import psnr_from_mse
from ..models import local_implicit
from ..runtime import torch_threads
from .common import AppResult, FitOptions, check_method, device_of, options_from, resolve, run_learned
from .pixels import as_image, fit_pixels, like_input, render_pixels

#: the largest noise level accepted, on 0-255 (beyond it there is little image left)
MAX_SIGMA = 128.0
#: the noise levels the learned denoiser was trained on (benchmarks/train_local_implicit.py)
LEARNED_SIGMAS = (5.0, 50.0)


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
    """The knobs chosen by measurement (docs/applications.md): the latent grid with its finest
    latents at half resolution; for SIREN, omega_0 by :func:`omega_for`."""
    return FitOptions(
        model="grid", first_level=1, omega=omega_for(sigma, max(height, width)),
        seconds=60.0, holdout=0.05, patience=4,
    )  # fmt: skip


def omega_for(sigma: float, side: int) -> float:
    """SIREN's omega_0 for denoising: 60 per 512 pixels of the longer side, so that cycles per
    pixel stay put at any size (best of 15-90 per 512 at sigma 25 on the training photos; the
    measurement did not show a dependence on sigma worth a rule)."""
    return max(5.0, 60.0 * side / 512.0)


def estimated_psnr(held_out_psnr: float, sigma: float) -> float | None:
    """PSNR against the clean image implied by the held-out PSNR against the noisy one, on 8-bit
    terms: the held-out MSE less the noise variance. None where noise explains all the error."""
    if not math.isfinite(held_out_psnr):
        return None
    clean_mse = 255.0**2 * 10 ** (-held_out_psnr / 10) - sigma**2
    return psnr_from_mse(clean_mse) if clean_mse > 0 else None


def run_denoise(
    pixels: np.ndarray | Image,
    sigma: float | None = None,
    *,
    method: str = "learned",
    options: FitOptions = FitOptions(),
    progress: ProgressCallback | None = None,
) -> AppResult:
    """Denoise an image; ``sigma`` on the 0-255 scale, or None to estimate it. ``method``:
    ``learned`` (default) or ``fit`` (configured by ``options``)."""
    check_method(method, options)
    img, flat = as_image(pixels)
    notices = list(img.notices)
    if sigma is None:
        sigma = estimate_sigma(img.pixels)
        notices.append(f"estimated noise sigma {sigma:.2f} (0-255 scale)")
        if sigma <= 0:
            raise InputError("the image shows no noise to remove (estimated sigma is 0)")
    sigma = check_sigma(sigma)
    if method == "learned":
        if not LEARNED_SIGMAS[0] <= sigma <= LEARNED_SIGMAS[1]:
            notices.append(f"sigma {sigma:.1f} is outside the {LEARNED_SIGMAS[0]:g}-{LEARNED_SIGMAS[1]:g} the "
                           "learned denoiser was trained on; try --method fit if the result is poor")  # fmt: skip
        settings = {"sigma": round(sigma, 3), "weights": local_implicit.DENOISE_WEIGHTS.name}
        return run_learned(
            lambda: like_input(local_implicit.denoise_image(img, sigma), flat), options, settings, notices
        )
    opts = resolve(options, default_options(sigma, img.height, img.width))
    device = device_of(opts)
    g = seeded_generator(opts.seed)
    with torch_threads(opts.threads):
        model, fit = fit_pixels(img, None, opts, g, device, phase="denoise", progress=progress)
        out = render_pixels(model, img.height, img.width, img.bit_depth, device)
    settings = {"sigma": round(sigma, 3), "method": "fit", "estimated_psnr": None, **opts.settings()}
    if opts.holdout:
        settings["estimated_psnr"] = estimated_psnr(fit.psnr, sigma)
    return AppResult(like_input(out, flat), fit.steps, fit.seconds, fit.stop_reason, fit.psnr, settings, notices)


def denoise(
    pixels: np.ndarray,
    sigma: float | None = None,
    *,
    method: str = "learned",
    progress: ProgressCallback | None = None,
    **options,
) -> np.ndarray:
    """Denoise (H, W[, C]) uint8/uint16 pixels; ``sigma`` on 0-255, None to estimate it.

    ``method``: ``learned`` (default) or ``fit``; ``options`` are
    :class:`~inrcodec.apps.common.FitOptions` fields, for ``fit`` only.
    """
    return run_denoise(pixels, sigma, method=method, options=options_from(options), progress=progress).output
