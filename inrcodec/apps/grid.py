"""The latent-grid family (:class:`~inrcodec.models.grid.GridImage`) fitted to some pixels only.

The codec fits this family rate-aware to a whole image (:class:`~inrcodec.grid.training.GridFitTask`);
the applications need a plain distortion fit to the *known* pixels, scored on held-out ones.
:class:`MaskedGridTask` is that task, for :func:`inrcodec.fit.run`.

The family's inductive bias is its pyramid: latent grids from ``first_level`` (``2^first_level``
pixels per cell) to coarse, each brought to the pixel grid by a fixed cubic interpolation and
mixed by a small per-pixel MLP. With ``first_level >= 1`` no latent belongs to a single pixel,
so every pixel is predicted from the cells around it: a missing or held-out pixel gets the
smooth continuation of its neighbours, and pixel-level noise has no cell to hide in.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import torch
import torch.nn.functional as F

from ..errors import InputError
from ..fit import FitResult, ProgressCallback, Schedule, clone_state, psnr_of_values, run
from ..grid.model import GridImage
from ..grid.recipe import GridConfig
from .common import MIN_KNOWN, FitOptions, split_holdout

#: share of the budget fitted at half resolution before the full-resolution fit
HALF_SHARE = 0.5
#: latents start as small uniform noise: all-zero latents give every ReLU of the synthesis the
#: same zero input, and so no gradient to learn from
LATENT_INIT = 0.1


class MaskedGridTask:
    """MSE of a latent-grid model's picture on the training pixels, PSNR on the held-out ones.

    Coarse to fine: while ``half`` is set
    the picture is synthesised at half resolution and compared with the training pixels averaged
    2 x 2 (each average weighted by how many of its pixels are training pixels), at about a
    quarter of the cost per step. The loss weighs pixels by a 0/1
    mask rather than selecting them, which measured 25 % faster per step.
    """

    def __init__(
        self,
        model: GridImage,
        values: torch.Tensor,  # (H * W, C) in [-1, 1], row-major
        train: torch.Tensor,  # (H * W,) bool
        check: torch.Tensor | None,  # (H * W,) bool, or None to score the training pixels
        max_value: int,
        *,
        lr_latents: float,
        lr_synthesis: float,
    ) -> None:
        self.model = model
        h, w, c = model.height, model.width, values.shape[1]
        self.values = values
        self.weight = train.to(values.dtype)[:, None]
        self.check = check if check is not None and bool(check.any()) else train
        self.ints = torch.round((values[self.check] + 1) * (max_value / 2))
        self.max_value = max_value
        self.lrs = (lr_latents, lr_synthesis)
        self.half = False
        # the training pixels averaged 2 x 2, and the share of each average they fill
        size = (math.ceil(h / 2), math.ceil(w / 2))
        mask = self.weight.t().reshape(1, 1, h, w)
        grid = values.t().reshape(1, c, h, w)
        den = F.adaptive_avg_pool2d(mask, size)
        num = F.adaptive_avg_pool2d(grid * mask, size)
        self.half_values = (num / den.clamp_min(1e-6))[0].flatten(1).t()
        self.half_weight = den[0].flatten(1).t()

    def parameter_groups(self):
        m = self.model
        return [
            {"params": list(m.latents), "lr": self.lrs[0]},
            {"params": [p for _, p in m.synthesis_tensors()], "lr": self.lrs[1]},
        ]

    def predict(self, half: bool = False) -> torch.Tensor:
        """Every pixel's value, (H * W, C) (or at half resolution)."""
        m = self.model
        return m.synthesize(m.feature_grid(half=half).flatten(1).t())

    def training_loss(self, step: int, fraction: float) -> torch.Tensor:
        target, weight = (self.half_values, self.half_weight) if self.half else (self.values, self.weight)
        err = (self.predict(self.half) - target) ** 2
        return (err * weight).sum() / (weight.sum() * err.shape[1]).clamp_min(1.0)

    @torch.no_grad()
    def evaluate(self) -> float:
        return psnr_of_values(self.predict()[self.check], self.ints, self.max_value)

    def state(self):
        return clone_state(self.model)

    def load_state(self, state) -> None:
        self.model.load_state_dict(state)


def build_grid(opts: FitOptions, height: int, width: int, channels: int, generator: torch.Generator) -> GridImage:
    """A latent-grid model whose finest latents are ``opts.first_level`` levels down."""
    levels = max(opts.first_level + 1, min(7, math.ceil(math.log2(max(height, width))) + 1))
    codec = GridConfig()  # what the applications do not set is the codec's choice
    model = GridImage(
        height, width, channels, levels=levels, first_level=opts.first_level,
        channels=(opts.grid_channels,) * (levels - opts.first_level), hidden=opts.width, depth=opts.depth,
        activation=codec.activation, kernel=codec.kernel, context_hidden=codec.context_hidden, generator=generator,
    )  # fmt: skip
    with torch.no_grad():
        for z in model.latents:
            z.uniform_(-LATENT_INIT, LATENT_INIT, generator=generator)
    return model


def fit_grid_known(
    values: np.ndarray,  # (H, W, C) in [-1, 1]
    known: np.ndarray,  # (H, W) bool
    max_value: int,
    opts: FitOptions,
    generator: torch.Generator,
    device: torch.device,
    *,
    phase: str,
    progress: ProgressCallback | None,
) -> tuple[GridImage, FitResult]:
    """Fit a latent-grid model to the known pixels, held-out early stopping; returns it at its best."""
    h, w, c = values.shape
    known_idx = np.flatnonzero(known.reshape(-1))
    if len(known_idx) < MIN_KNOWN:
        raise InputError(f"only {len(known_idx)} known pixels: too few to fit anything")
    train_part, check_part = split_holdout(len(known_idx), opts.holdout or 0.0, generator)
    train = torch.zeros(h * w, dtype=torch.bool)
    train[torch.from_numpy(known_idx)[train_part]] = True
    check = torch.zeros(h * w, dtype=torch.bool)
    check[torch.from_numpy(known_idx)[check_part]] = True
    model = build_grid(opts, h, w, c, generator).to(device)
    task = MaskedGridTask(
        model, torch.from_numpy(values.reshape(-1, c)).to(device), train.to(device),
        check.to(device) if len(check_part) else None, max_value,
        lr_latents=opts.lr, lr_synthesis=opts.lr / 10,
    )  # fmt: skip
    # Coarse first, without early stopping (the full-resolution score it reports plateaus at
    # what half resolution can show), then full resolution until the held-out score stops.
    schedule = Schedule(decay_start=0.8)
    task.half = True
    first = run(task, opts.budget().scaled(HALF_SHARE), schedule=schedule, eval_every=opts.eval_every,
                phase=f"{phase} 1/2", progress=progress, keep_best=False)  # fmt: skip
    task.half = False
    result = run(
        task, opts.budget().scaled(1 - HALF_SHARE), schedule=schedule, eval_every=opts.eval_every,
        phase=phase, progress=progress, patience=opts.patience if len(check_part) else None,
    )  # fmt: skip
    return model, replace(result, steps=first.steps + result.steps, seconds=first.seconds + result.seconds)
