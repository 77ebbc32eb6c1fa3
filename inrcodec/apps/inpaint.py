"""Reconstruction of missing pixels: a learned prior, or a fit to the known pixels only.

``learned`` (the default): the inpainting local implicit function of
:mod:`inrcodec.models.local_implicit`, trained offline on the training photos under random
masks. Its input is a push-pull fill of the known pixels and the mask; it returns a correction
of the fill, as a continuous function of the coordinates. Nothing is fitted to the image.

``fit``: the network (SIREN by default) never sees a missing pixel: its training points are the pixel
centres outside the mask (less a small held-out share that drives early stopping,
:mod:`inrcodec.apps.common`), so whatever the missing pixels hold in the input cannot change
the result. What it puts in the holes
is its inductive bias: the continuation of the known pixels that its sinusoids find simplest.
Known pixels are returned unchanged; only the missing ones are replaced.

The mask is white (or any value above half the range) where pixels are missing, black where
they are known. Without a mask, the image's alpha channel says it: alpha = 0 means missing, and
the result has no alpha channel.
"""

from __future__ import annotations

import numpy as np

from ..errors import InputError, OptionError
from ..fit import ProgressCallback, seeded_generator
from ..io.image import Image, from_array
from ..models import local_implicit
from ..runtime import torch_threads
from .common import AppResult, FitOptions, check_method, device_of, options_from, resolve, run_learned
from .pixels import as_image, fit_pixels, like_input, render_pixels


def missing_mask(mask: np.ndarray | Image, height: int, width: int) -> np.ndarray:
    """A (height, width) bool array, True where pixels are missing, from a mask array or image.

    Bool arrays are taken as they are; integer masks are missing where their (colour) value is
    above half the range, i.e. white. InputError if the sizes differ or nothing is missing.
    """
    m = mask.pixels if isinstance(mask, Image) else np.asarray(mask)
    if m.ndim == 3:
        if m.shape[2] in (2, 4):
            m = m[:, :, :-1]  # a mask's own alpha says nothing about missing pixels
        m = m.mean(axis=2) if m.dtype != bool else m.any(axis=2)
    if m.ndim != 2:
        raise InputError(f"mask must be a 2-D image, got shape {np.shape(mask)}")
    if m.shape != (height, width):
        raise InputError(f"mask is {m.shape[1]}x{m.shape[0]} but the image is {width}x{height}: they must match")
    if m.dtype == bool:
        missing = m
    else:
        peak = 65535.0 if m.dtype == np.uint16 or m.max(initial=0) > 255 else 255.0
        missing = m > peak / 2
    count = int(missing.sum())
    if count == 0:
        raise InputError("the mask marks no pixel as missing (white = missing, black = known)")
    if count == missing.size:
        raise InputError("the mask marks every pixel as missing: nothing is known to fit")
    return missing


def split_alpha(img: Image) -> tuple[Image, np.ndarray]:
    """(the colour channels, the missing mask) of an image whose alpha channel is 0 where missing."""
    if img.mode not in ("LA", "RGBA"):
        raise OptionError("give a mask (white where missing), or an image whose alpha channel is 0 where missing")
    colour = from_array(np.ascontiguousarray(img.pixels[:, :, :-1]))
    return colour, missing_mask(img.pixels[:, :, -1] == 0, img.height, img.width)


def default_options(height: int, width: int, missing_share: float) -> FitOptions:
    """The knobs chosen by measurement (docs/applications.md): SIREN, omega_0 = 30 per 512 pixels
    of the longer side. Against the latent grid (finest latents 1 or 2 levels down) on six masks of
    the training photos it won three (both 90 % masks, by 0.3 and 1.5 dB, and one 64 x 64 block),
    was within 0.25 dB on the 50 % masks and lost the other block by 1.1 dB."""
    return FitOptions(model="siren", omega=30.0 * max(height, width) / 512.0, seconds=60.0, holdout=0.05, patience=4)


def run_inpaint(
    pixels: np.ndarray | Image,
    mask: np.ndarray | Image | None = None,
    *,
    method: str = "learned",
    options: FitOptions = FitOptions(),
    progress: ProgressCallback | None = None,
) -> AppResult:
    """Fill the missing pixels of an image; ``mask`` True/white where missing, or None to use
    the alpha channel (then the output has no alpha). ``method``: ``learned`` (default) or
    ``fit`` (configured by ``options``)."""
    check_method(method, options)
    img, flat = as_image(pixels)
    if mask is None:
        img, missing = split_alpha(img)
    else:
        missing = missing_mask(mask, img.height, img.width)
    share = float(missing.mean())
    if method == "learned":
        settings = {"missing": round(share, 4), "weights": local_implicit.INPAINT_WEIGHTS.name}
        return run_learned(
            lambda: like_input(local_implicit.inpaint_image(img, missing), flat), options, settings, list(img.notices)
        )
    opts = resolve(options, default_options(img.height, img.width, share))
    device = device_of(opts)
    g = seeded_generator(opts.seed)
    with torch_threads(opts.threads):
        model, fit = fit_pixels(img, ~missing, opts, g, device, phase="inpaint", progress=progress)
        filled = render_pixels(model, img.height, img.width, img.bit_depth, device)
    out = np.where(missing[:, :, None], filled, img.pixels)
    settings = {"missing": round(share, 4), "method": "fit", **opts.settings()}
    return AppResult(
        like_input(out, flat), fit.steps, fit.seconds, fit.stop_reason, fit.psnr, settings, list(img.notices)
    )


def inpaint(
    pixels: np.ndarray,
    mask: np.ndarray | None = None,
    *,
    method: str = "learned",
    progress: ProgressCallback | None = None,
    **options,
) -> np.ndarray:
    """Fill missing pixels of (H, W[, C]) uint8/uint16 pixels; ``mask`` (H, W) True (or white)
    where missing, or None to read the alpha channel. Known pixels come back unchanged.

    ``method``: ``learned`` (default) or ``fit``; ``options`` are
    :class:`~inrcodec.apps.common.FitOptions` fields, for ``fit`` only.
    """
    return run_inpaint(pixels, mask, method=method, options=options_from(options), progress=progress).output
