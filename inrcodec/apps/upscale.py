"""Super-resolution: the small image as a continuous function, sampled on a denser grid.

Two methods, both continuous functions of the coordinates that can be sampled at any size:

- ``learned`` (the default): the local implicit function of :mod:`inrcodec.models.local_implicit`, trained
  offline on the training photos; nothing is fitted to the image, so it takes a second or two.
  On Kodak it beats Lanczos at x2, x3 and x4 (docs/applications.md).
- ``fit``: a coordinate network fitted to this image alone (below). Without a prior it can only
  interpolate, and it stays under Lanczos.

The fitted network is fitted to the small image's pixels at their centres and then sampled at the pixel
centres of the larger grid (:mod:`inrcodec.coords`: both grids cover the same [-1, 1] square, so
the result is neither shifted nor cropped). Between the small pixels it draws whatever its
sinusoids find simplest: that is its inductive bias, set by omega_0 (higher = finer detail, and
more ringing). An ``init`` learned on other photos gives it a prior of what photos look like.

Measured and dropped (docs/applications.md): fitting the network through the known downsampling
filter (render a patch of the large grid, filter it, compare with the small pixels). Patches of a
few small pixels give gradients so noisy that Adam undid a warm start, and whole-image steps cost
16x a point step at scale 4; and the point fit's rendering, downsampled, already matched the small
image to 34 dB, so the error that remains is in what the filter cannot see.
"""

from __future__ import annotations

import math

import numpy as np

from .. import coords
from ..errors import OptionError
from ..fit import ProgressCallback, seeded_generator
from ..io.image import Image
from ..limits import DEFAULT_LIMITS, Limits
from ..models import INR, local_implicit
from ..runtime import torch_threads
from .common import AppResult, FitOptions, build_network, check_method, device_of, options_from, resolve, run_learned
from .pixels import as_image, fit_pixels, like_input, render_pixels

#: the largest scale factor accepted: beyond it the output is all invented detail
MAX_SCALE = 16.0


def default_options(height: int, width: int) -> FitOptions:
    """The knobs chosen by measurement (docs/applications.md): SIREN with omega_0 = 30 per 192
    pixels of the small image's longer side (the small image is what the network fits), kept at
    its best fit to the small pixels."""
    return FitOptions(model="siren", omega=30.0 * max(height, width) / 192.0, seconds=60.0, holdout=0.0, patience=None)


def check_scale(scale: float, height: int, width: int, limits: Limits = DEFAULT_LIMITS) -> tuple[int, int]:
    """The output (height, width) for ``scale``, or an OptionError for a scale out of range."""
    if isinstance(scale, bool) or not isinstance(scale, (int, float)) or not math.isfinite(scale):
        raise OptionError(f"scale must be a number, got {scale!r}")
    if not 1.0 <= scale <= MAX_SCALE:
        raise OptionError(f"scale must be between 1 and {MAX_SCALE:g}, got {scale:g}")
    out = coords.output_size(height, width, scale=float(scale))
    limits.check_output(*out)
    return out


def run_upscale(
    pixels: np.ndarray | Image,
    scale: float = 4.0,
    *,
    method: str = "learned",
    options: FitOptions = FitOptions(),
    init: INR | None = None,
    progress: ProgressCallback | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> AppResult:
    """Upscale an image by ``scale``; the result with the method's statistics.

    ``method``: ``learned`` (the shipped local implicit function) or ``fit`` (a network fitted
    to this image, configured by ``options``). ``init``: for ``fit``, a coordinate network to
    start from instead of a random one; the options' family and shape must match it.
    """
    check_method(method, options, init)
    img, flat = as_image(pixels)
    out_h, out_w = check_scale(scale, img.height, img.width, limits)
    if method == "learned":
        settings = {"scale": scale, "weights": local_implicit.WEIGHTS.name}
        return run_learned(
            lambda: like_input(local_implicit.upscale_image(img, out_h, out_w), flat),
            options,
            settings,
            list(img.notices),
        )
    opts = resolve(options, default_options(img.height, img.width))
    if opts.model == "grid" and init is not None:
        raise OptionError("an init is a coordinate network: use it with model siren or fourier")
    device = device_of(opts)
    g = seeded_generator(opts.seed)
    with torch_threads(opts.threads):
        model = None
        if init is not None:
            model = build_network(opts, 2, img.channels, g).to(device)
            try:
                model.load_state_dict(init.state_dict())
            except RuntimeError:
                raise OptionError("the init's shape does not match the options' network") from None
        model, fit = fit_pixels(img, None, opts, g, device, phase="upscale", progress=progress, model=model)
        out = render_pixels(model, out_h, out_w, img.bit_depth, device)
    settings = {"scale": scale, "method": "fit", **opts.settings()}
    return AppResult(
        like_input(out, flat), fit.steps, fit.seconds, fit.stop_reason, fit.psnr, settings, list(img.notices)
    )


def upscale(
    pixels: np.ndarray,
    scale: float = 4.0,
    *,
    method: str = "learned",
    progress: ProgressCallback | None = None,
    **options,
) -> np.ndarray:
    """Upscale (H, W[, C]) uint8/uint16 pixels by ``scale``; returns the larger pixels.

    ``method``: ``learned`` (default) or ``fit``. ``options`` are
    :class:`~inrcodec.apps.common.FitOptions` fields (omega, width, depth, steps, seconds, ...)
    and apply to ``fit`` only.
    """
    return run_upscale(pixels, scale, method=method, options=options_from(options), progress=progress).output
