"""Super-resolution: fit the small image as a continuous function, sample it on a denser grid.

Two ways to say what the small image *is*:

- ``kernel="point"``: each small pixel is the function's value at its centre. The network is fitted
  to those values and sampled between them; this is the textbook INR super-resolution.
- ``kernel="bicubic"`` (the default; also ``bilinear``, ``box``, ``lanczos``): each small pixel
  is the large image *filtered and downsampled*, exactly as Pillow's antialiased ``resize`` (and
  most tools) make a small image. The network stands for the large image; on each step it is
  sampled on a patch of the large pixel grid, that patch is put through the same filter
  (:func:`resample_matrix`), and the result is compared with the small pixels. The filter has a
  null space (everything above the small image's Nyquist frequency that it averages away); what
  the network puts there is its inductive bias, the smoothest continuation its sinusoids find.

The large grid follows the coordinate convention (:mod:`inrcodec.coords`): the small and the large
image cover the same [-1, 1] square, so neither is shifted.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch

from .. import coords
from ..codec import DEFAULT_LIMITS, Limits, torch_threads
from ..errors import OptionError
from ..fit import ProgressCallback, Schedule, clone_state, psnr_of_values, run, seeded_generator
from ..io.image import Image, to_values
from ..models import INR
from .common import (
    AppResult,
    FitOptions,
    as_image,
    build_model,
    device_of,
    fit_known_points,
    like_input,
    options_from,
    pixel_points,
    pixel_score,
    render_pixels,
)

#: the largest scale factor accepted: beyond it the output is all invented detail
MAX_SCALE = 16.0


def _box(x: np.ndarray) -> np.ndarray:
    return ((x > -0.5) & (x <= 0.5)).astype(np.float64)


def _triangle(x: np.ndarray) -> np.ndarray:
    return np.clip(1.0 - np.abs(x), 0.0, None)


def _cubic(x: np.ndarray, a: float = -0.5) -> np.ndarray:
    x = np.abs(x)
    return np.where(
        x < 1,
        ((a + 2) * x - (a + 3)) * x * x + 1,
        np.where(x < 2, (((x - 5) * x + 8) * x - 4) * a, 0.0),
    )


def _lanczos(x: np.ndarray) -> np.ndarray:
    return np.where(np.abs(x) < 3, np.sinc(x) * np.sinc(x / 3), 0.0)


#: Pillow's resampling filters: (support in input pixels at scale 1, kernel)
FILTERS: dict[str, tuple[float, Callable[[np.ndarray], np.ndarray]]] = {
    "box": (0.5, _box),
    "bilinear": (1.0, _triangle),
    "bicubic": (2.0, _cubic),
    "lanczos": (3.0, _lanczos),
}
#: what --kernel accepts: a filter, or "point" for pixels sampled at their centres
KERNELS = ("point", *FILTERS)


def resample_matrix(n_in: int, n_out: int, kernel: str) -> np.ndarray:
    """The (n_out, n_in) matrix of a 1-D resize with Pillow's coefficients (antialiased: the
    kernel is stretched by the reduction factor), so that ``A_y @ image @ A_x.T`` is what
    ``Image.resize(..., reducing_gap=None)`` computes, up to Pillow's fixed-point rounding."""
    support, f = FILTERS[kernel]
    scale = n_in / n_out
    stretch = max(scale, 1.0)
    support *= stretch
    m = np.zeros((n_out, n_in), dtype=np.float64)
    for i in range(n_out):
        centre = (i + 0.5) * scale
        lo = max(int(centre - support + 0.5), 0)
        hi = min(int(centre + support + 0.5), n_in)
        x = np.arange(lo, hi, dtype=np.float64)
        w = f((x - centre + 0.5) / stretch)
        total = w.sum()
        m[i, lo:hi] = w / total if total != 0 else w
    return m


def _spans(m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each row of a resample matrix, the first and one-past-last input it touches."""
    nz = m != 0
    first = nz.argmax(axis=1)
    last = m.shape[1] - nz[:, ::-1].argmax(axis=1)
    return first, last


class DownsampledFitTask:
    """Fit a network standing for the large image so that its filtered, downsampled rendering
    matches the small image (see the module docstring). A :class:`~inrcodec.fit.FitTask`.

    Each step renders one random ``patch`` x ``patch`` block of small pixels' worth of the large
    grid (the block's filter footprint), so a step costs the same at any image size.
    Small pixels outside ``train_mask`` are left out of the loss and scored by :meth:`evaluate`.
    """

    def __init__(
        self,
        model: INR,
        small: torch.Tensor,  # (h, w, C) values in [-1, 1]
        large_size: tuple[int, int],
        kernel: str,
        *,
        max_value: int,
        lr: float,
        patch: int,
        generator: torch.Generator,
        train_mask: torch.Tensor | None = None,  # (h, w) bool: pixels the loss sees
        weight_decay_l1: float = 0.0,
    ) -> None:
        self.model = model
        self.small = small
        h, w, _ = small.shape
        self.large = large_size
        device = small.device
        self.ay = torch.from_numpy(resample_matrix(large_size[0], h, kernel).astype(np.float32)).to(device)
        self.ax = torch.from_numpy(resample_matrix(large_size[1], w, kernel).astype(np.float32)).to(device)
        self.y_span = _spans(self.ay.cpu().numpy())
        self.x_span = _spans(self.ax.cpu().numpy())
        self.ys = torch.from_numpy(coords.axis(large_size[0]).astype(np.float32)).to(device)
        self.xs = torch.from_numpy(coords.axis(large_size[1]).astype(np.float32)).to(device)
        self.max_value = max_value
        self.lr = lr
        self.patch = patch
        self.generator = generator
        self.mask = train_mask
        self.l1 = weight_decay_l1

    def parameter_groups(self):
        return [{"params": list(self.model.parameters()), "lr": self.lr}]

    def _block(self, r0: int, r1: int, c0: int, c1: int) -> torch.Tensor:
        """Small pixels [r0, r1) x [c0, c1) as the model predicts them: render, filter, subsample."""
        a, b = int(self.y_span[0][r0]), int(self.y_span[1][r1 - 1])
        c, d = int(self.x_span[0][c0]), int(self.x_span[1][c1 - 1])
        grid = torch.stack(torch.meshgrid(self.ys[a:b], self.xs[c:d], indexing="ij")[::-1], dim=-1)
        large = self.model(grid.reshape(-1, 2)).reshape(b - a, d - c, -1)
        rows = torch.einsum("ia,abk->ibk", self.ay[r0:r1, a:b], large)
        return torch.einsum("jb,ibk->ijk", self.ax[c0:c1, c:d], rows)

    def training_loss(self, step: int, fraction: float) -> torch.Tensor:
        h, w, _ = self.small.shape
        ph, pw = min(self.patch, h), min(self.patch, w)
        r0 = int(torch.randint(h - ph + 1, (1,), generator=self.generator))
        c0 = int(torch.randint(w - pw + 1, (1,), generator=self.generator))
        err = (self._block(r0, r0 + ph, c0, c0 + pw) - self.small[r0 : r0 + ph, c0 : c0 + pw]) ** 2
        if self.mask is not None:
            keep = self.mask[r0 : r0 + ph, c0 : c0 + pw, None].to(err.dtype)
            loss = (err * keep).sum() / (keep.sum() * err.shape[-1]).clamp_min(1.0)
        else:
            loss = err.mean()
        if self.l1:
            loss = loss + self.l1 * sum(p.abs().sum() for _, p in self.model.coded_tensors())
        return loss

    @torch.no_grad()
    def predict_small(self) -> torch.Tensor:
        """The whole small image as the model predicts it, (h, w, C), in bands of rows."""
        h, w, _ = self.small.shape
        band = max(1, (1 << 16) // max(1, self.large[1] * 4))
        return torch.cat([self._block(r, min(h, r + band), 0, w) for r in range(0, h, band)])

    def evaluate(self) -> float:
        pred = self.predict_small()
        held_out = None if self.mask is None else ~self.mask
        if held_out is not None and bool(held_out.any()):
            pred, target = pred[held_out], self.small[held_out]
        else:
            target = self.small
        ints = torch.round((target + 1) * (self.max_value / 2))
        return psnr_of_values(pred, ints, self.max_value)

    def state(self):
        return clone_state(self.model)

    def load_state(self, state) -> None:
        self.model.load_state_dict(state)


def default_options(height: int, width: int) -> FitOptions:
    """The knobs chosen by measurement (docs/applications.md), for a small image of this size.

    omega_0 grows with the *large* image's side: the network must hold the large image's
    frequencies, and SIREN's omega_0 counts cycles over the whole [-1, 1] domain.
    """
    return FitOptions(
        model="siren", depth=3, width=96, omega=30.0, hidden_omega=30.0, frequencies=12,
        fourier_ratio=1.6, weight_decay=0.0, lr=1e-3, batch=1 << 14, seconds=60.0, holdout=0.0,
        patience=6, eval_every=200,
    )  # fmt: skip


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
    kernel: str = "bicubic",
    options: FitOptions = FitOptions(),
    init: INR | None = None,
    progress: ProgressCallback | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> AppResult:
    """Upscale an image by ``scale``; the result with the fit's statistics.

    ``init``: a network to start from instead of a random one (e.g. one learned on other
    images); it must match the options' family and shape.
    """
    img, flat = as_image(pixels)
    if kernel not in KERNELS:
        raise OptionError(f"unknown kernel '{kernel}' (choose from {', '.join(KERNELS)})")
    out_h, out_w = check_scale(scale, img.height, img.width, limits)
    opts = options.validated().filled(default_options(img.height, img.width))
    device = device_of(opts)
    g = seeded_generator(opts.seed)
    with torch_threads(opts.threads):
        model = build_model(opts, 2, img.channels, g).to(device)
        if init is not None:
            model.load_state_dict(init.state_dict())
        if kernel == "point":
            points, values = pixel_points(img, device)
            fit = fit_known_points(model, points, values, pixel_score(img.max_value), opts, g,
                                   phase="upscale", progress=progress)  # fmt: skip
        else:
            fit = _fit_downsampled(model, img, (out_h, out_w), kernel, opts, g, device, progress)
        out = render_pixels(model, out_h, out_w, img.bit_depth, device)
    settings = {"kernel": kernel, "scale": scale, **opts.settings()}
    return AppResult(like_input(out, flat), fit.steps, fit.seconds, fit.stop_reason, fit.psnr, settings, list(img.notices))


def _fit_downsampled(model, img, large, kernel, opts, g, device, progress):
    small = torch.from_numpy(to_values(img.pixels)).to(device)
    mask = None
    if opts.holdout:
        mask = torch.rand(img.height, img.width, generator=g).to(device) >= opts.holdout
    task = DownsampledFitTask(
        model, small, large, kernel, max_value=img.max_value, lr=opts.lr,
        patch=max(4, int(math.sqrt(opts.batch / (large[0] / img.height * large[1] / img.width)))),
        generator=g, train_mask=mask, weight_decay_l1=opts.weight_decay or 0.0,
    )  # fmt: skip
    return run(
        task, opts.budget(), schedule=Schedule(decay_start=0.8), eval_every=opts.eval_every,
        phase="upscale", progress=progress, patience=opts.patience if mask is not None else None,
    )  # fmt: skip


def upscale(
    pixels: np.ndarray,
    scale: float = 4.0,
    *,
    kernel: str = "bicubic",
    progress: ProgressCallback | None = None,
    **options,
) -> np.ndarray:
    """Upscale (H, W[, C]) uint8/uint16 pixels by ``scale``; returns the larger pixels.

    ``options`` are :class:`~inrcodec.apps.common.FitOptions` fields (omega, width, depth,
    steps, seconds, ...).
    """
    return run_upscale(pixels, scale, kernel=kernel, options=options_from(options), progress=progress).output
