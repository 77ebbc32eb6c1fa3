"""Rate-aware training of a latent grid: distortion + lambda x rate, with lambda steered to the target.

:class:`GridFitTask` is what :func:`inrcodec.fit.run` optimises; :func:`fit` builds the model and
the task from a :class:`~inrcodec.grid.recipe.GridConfig` and runs it. Every setting comes from
the config; the task has no defaults of its own.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from ..fit import Budget, Checkpoint, ProgressCallback, Schedule, clone_state, psnr_of_values, run
from ..rate import RateTarget
from ..runtime import bf16_native
from .coding import ContextScheme
from .context import band_rows, laplace_bits
from .model import GridImage
from .recipe import GridConfig, bpp_for_lmbda, build_model, initial_lmbda, overhead_bits, scheme_for


def soft_round(z: torch.Tensor, temperature: float) -> torch.Tensor:
    """Agustsson and Theis' soft round: the nearest integer as ``temperature`` -> 0, ``z`` as it
    grows, differentiable in between (``floor`` has no gradient; the tanh carries it)."""
    floor = torch.floor(z)
    return floor + 0.5 * torch.tanh((z - floor - 0.5) / temperature) / math.tanh(0.5 / temperature) + 0.5


def soft_round_conditional_mean(y: torch.Tensor, temperature: float) -> torch.Tensor:
    """Agustsson and Theis' r(y) = E[z | s(z) + u = y] (u uniform, z uniform on the unit interval
    around y): ``soft_round``'s inverse at y - 1/2, plus 1/2. The outer function of C3's
    s(z) + u -> r(s(z) + u); like the soft round it is the identity at a high temperature and
    rounding as the temperature goes to 0."""
    x = y - 0.5
    middle = torch.floor(x) + 0.5
    inner = torch.atanh((x - middle) * (2 * math.tanh(0.5 / temperature))) * temperature
    return middle + inner + 0.5


#: the outer function of a soft-rounded latent, by ``GridConfig.soft_round_outer``
SOFT_ROUND_OUTER = {"soft_round": soft_round, "conditional_mean": soft_round_conditional_mean}


class GridFitTask:
    """Rate-aware fit of a latent-grid model: MSE + lambda * bits per pixel.

    - The latents see uniform noise in [-1/2, 1/2] (a differentiable stand-in for rounding) until
      the last ``config.ste_share``, then straight-through rounding, so the end of the fit is
      tuned to the integers the file stores; there the latents move ``config.ste_latent_lr``
      times as fast.
    - The rate term (``config.rate_proxy``): "noise" is the noisy latents' bits; "split" gives the
      latents that gradient through a frozen entropy model, and trains the entropy model on the
      rounded latents alone; "ste" uses the rounded latents' bits throughout.
    - Full-resolution steps see one of ``config.bands`` bands of rows at a time, in turn; with
      ``config.banded_rate`` the rate term also weighs only that band's rows of every level.
    - ``lmbda`` weighs bits per pixel against MSE on [0, 1]. With a ``target`` it is steered
      toward the target's bits by multiplicative feedback every step.
    """

    def __init__(
        self,
        model: GridImage,
        pixels: torch.Tensor,  # (C, H, W) float in [0, 1]
        max_value: int,
        config: GridConfig,
        scheme: ContextScheme,
        *,
        lmbda: float,
        target: RateTarget | None,
        generator: torch.Generator | None,
    ) -> None:
        self.model = model
        self.config = config
        self.scheme = scheme
        self.full = pixels.flatten(1).t().contiguous()
        _, h, w = pixels.shape
        self.ints = torch.round(pixels * max_value).flatten(1).t()
        self.max_value = max_value
        self.pixels = h * w
        self.lmbda = self.initial_lmbda = lmbda
        self.target = target
        # What the file spends besides the latents: the rate control's one overhead estimate.
        self.overhead_bits = overhead_bits(model)
        self.last_error, self.trend, self.last_fraction = math.nan, 0.0, 0.0
        self.same_sign_since = 0.0  # the share of the fit where the error last changed sign
        # Full-resolution steps see one band of rows at a time, in turn: the last 2x upsampling
        # and the synthesis (most of a full step's cost) shrink by the number of bands.
        bands = config.bands
        self.band_rows = [(k * h // bands, (k + 1) * h // bands) for k in range(max(1, min(bands, h)))]
        self.width = w
        self.banded_rate = config.banded_rate and len(self.band_rows) > 1
        self.band_bits: list[float | None] = [None] * (len(self.band_rows) if self.banded_rate else 1)
        self.generator = generator
        self.soft_round_outer = SOFT_ROUND_OUTER[config.soft_round_outer]
        self.last_bits = math.nan  # the coded size the rate control saw last, overhead included

    def parameter_groups(self):
        m, c = self.model, self.config
        return [
            {"params": list(m.latents), "lr": c.lr_latents},
            {"params": [p for _, p in m.synthesis_tensors()], "lr": c.lr_synthesis},
            {"params": [p for _, p in m.context_tensors()], "lr": c.lr_context},
        ]

    def _rounding(self, fraction: float) -> bool:
        """Whether this step sees the rounded latents (the straight-through phase)."""
        return fraction >= 1.0 - self.config.ste_share

    def lr_factors(self, fraction: float) -> list[float]:
        """Per parameter group: the latents move ``ste_latent_lr`` times as fast once rounded."""
        return [self.config.ste_latent_lr if self._rounding(fraction) else 1.0, 1.0, 1.0]

    def _noise(self) -> list[torch.Tensor]:
        # Drawn from the task's generator so that fits are reproducible.
        return [torch.rand(z.shape, generator=self.generator).to(z.device) - 0.5 for z in self.model.latents]

    def _synthesize(self, features: torch.Tensor) -> torch.Tensor:
        # Only the synthesis MLP runs in bf16: the rate term (context model, Laplace bits) and
        # the evaluation that steers quantization stay fp32.
        flat = features.flatten(1).t()
        if self.config.bf16 and bf16_native(flat.device):
            with torch.autocast(flat.device.type, dtype=torch.bfloat16):
                return self.model.synthesize(flat).float()
        return self.model.synthesize(flat)

    def distributions(
        self, latents: list[torch.Tensor], band: tuple[int, int] | None = None
    ) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """(mean, log2 scale) of every latent (or of one band's rows of every level) under the
        model's context and this fit's scheme."""
        return self.model.context.distributions(latents, self.scheme, self.model.kernel, band)

    def _temperature(self, fraction: float) -> float | None:
        """The soft round's temperature at this share of the fit (None: plain noise)."""
        t = self.config.soft_round_temperature
        if t is None:
            return None
        return t[0] + (t[1] - t[0]) * min(1.0, fraction / max(1e-9, 1.0 - self.config.ste_share))

    def terms(self, noise: list[torch.Tensor] | None, target: torch.Tensor, band: int | None = None,
              temperature: float | None = None):  # fmt: skip
        """MSE on [0, 1] with noisy latents (``noise``; soft-rounded around it at ``temperature``)
        or rounded ones (None); the bits the loss weighs (see ``rate_proxy``); and the bits of the
        rounded latents, what the coder spends. With a ``band``, the MSE of its rows of the image
        and the bits of its rows of every level."""
        rounded = [z + (torch.round(z) - z).detach() for z in self.model.latents]
        if noise is None:
            latents = rounded
        elif temperature is None:
            latents = [z + n for z, n in zip(self.model.latents, noise)]
        else:
            outer = self.soft_round_outer
            latents = [outer(soft_round(z, temperature) + n, temperature) for z, n in zip(self.model.latents, noise)]
        rows = None if band is None else self.band_rows[band]
        pred = self._synthesize(self.model.feature_grid(latents, rows=rows))
        mse = torch.mean(((pred + 1) * 0.5 - target) ** 2)  # on [0, 1], whatever the bit depth
        # The context always sees the rounded latents, what the decoder has: fed noisy
        # neighbours, the optimiser hides information in their fractional parts.
        which = None if band is None or not self.banded_rate else (band, len(self.band_rows))
        dists = self.distributions(rounded, which)
        if which is not None:
            rounded = [q[:, slice(*band_rows(q.shape[1], *which))] for q in rounded]
            latents = [z[:, slice(*band_rows(z.shape[1], *which))] for z in latents]
        coded = sum(laplace_bits(q, mu, s).sum() for q, (mu, s) in zip(rounded, dists))
        proxy = self.config.rate_proxy
        if noise is None or proxy == "ste":
            return mse, coded, coded
        if proxy == "split":
            # The latents see the noisy proxy through a frozen entropy model; the entropy model
            # itself learns the rounded latents, as the coder will see them.
            noisy = sum(laplace_bits(z, mu.detach(), s.detach()).sum() for z, (mu, s) in zip(latents, dists))
            return mse, noisy + coded - coded.detach(), coded
        noisy = sum(laplace_bits(z, mu, s).sum() for z, (mu, s) in zip(latents, dists))
        return mse, noisy, coded

    def training_loss(self, step: int, fraction: float) -> torch.Tensor:
        noise = None if self._rounding(fraction) else self._noise()
        temperature = self._temperature(fraction)
        if len(self.band_rows) == 1:
            mse, bits, coded = self.terms(noise, self.full, temperature=temperature)
            self.band_bits = [coded.detach().item()]
            pixels = self.pixels
        else:
            # One band of rows: its MSE and its latents' bits per its pixels, an unbiased share
            # of the whole loss; every latent's rate is seen once per cycle of bands.
            band = step % len(self.band_rows)
            r0, r1 = self.band_rows[band]
            mse, bits, coded = self.terms(noise, self.full[r0 * self.width : r1 * self.width], band, temperature)
            if self.banded_rate:
                self.band_bits[band] = coded.detach().item()
                pixels = (r1 - r0) * self.width
            else:
                self.band_bits = [coded.detach().item()]
                pixels = self.pixels
        # Steer by the rate the coder will spend (the rounded latents'): the noisy proxy
        # overestimates sparse latents' rate about 2x and would drive lambda far too high. The
        # whole picture's rate is each band's latest, until every band has been seen.
        seen = [b for b in self.band_bits if b is not None]
        self.last_bits = sum(seen) * len(self.band_bits) / len(seen) + self.overhead_bits
        if self.target is not None:
            self._steer(self.last_bits, fraction)
        return mse + self.lmbda * bits / pixels

    def _steer(self, bits: float, fraction: float) -> None:
        """Multiplicative feedback on lambda: too many bits -> weigh rate more, and back.

        The rate lags lambda by a hundred steps or more, so the error alone overshoots; its trend
        (smoothed change per share of the fit, times ``damping``) is added, so lambda stops
        moving while the rate is already on its way. Gain and trend are per share of the fit,
        so a fit of any length steers as far. Lowered ``feedback_down`` times as fast as raised.
        Bounded to 30x either way of the start: a target the weights alone overshoot (a tiny
        image) would otherwise drive lambda up until every latent is zero."""
        c = self.config
        error = max(-1.0, min(1.0, bits / self.target.bits - 1.0))
        advance, self.last_fraction = max(fraction - self.last_fraction, 1e-9), fraction
        if not math.isnan(self.last_error):
            self.trend = 0.9 * self.trend + 0.1 * (error - self.last_error) / advance
            if (error > 0) != (self.last_error > 0):
                self.same_sign_since = fraction
        self.last_error = error
        if fraction < c.feedback_start:
            return
        signal = max(-1.0, min(1.0, error + c.damping * self.trend))
        # An error that keeps its sign means lambda is far off (a smooth image's rate barely
        # follows it): the gain grows with the share of the fit the sign has held.
        persisted = fraction - max(self.same_sign_since, c.feedback_start)
        gain = c.feedback * (1.0 + c.feedback_persistence * persisted) * advance
        gain *= 1.0 if signal > 0 else c.feedback_down
        lmbda = self.lmbda * math.exp(gain * signal)
        self.lmbda = min(30.0 * self.initial_lmbda, max(self.initial_lmbda / 30.0, lmbda))

    @torch.no_grad()
    def evaluate(self) -> float:
        latents = [torch.round(z) for z in self.model.latents]
        pred = self.model.synthesize(self.model.feature_grid(latents).flatten(1).t())
        return psnr_of_values(pred, self.ints, self.max_value)

    def state(self):
        return clone_state(self.model)

    def load_state(self, state) -> None:
        self.model.load_state_dict(state)

    def resume_state(self):
        """The parameters, the noise generator and the steered lambda: what a checkpoint resumes from."""
        generator = None if self.generator is None else self.generator.get_state()
        return {"model": self.state(), "generator": generator, "lmbda": self.lmbda, "last_bits": self.last_bits,
                "last_error": self.last_error, "trend": self.trend, "last_fraction": self.last_fraction,
                "same_sign_since": self.same_sign_since,
                "band_bits": list(self.band_bits)}  # fmt: skip

    def load_resume_state(self, state) -> None:
        self.load_state(state["model"])
        if self.generator is not None:
            self.generator.set_state(state["generator"])
        self.lmbda, self.last_bits = state["lmbda"], state["last_bits"]
        self.last_error, self.trend = state["last_error"], state["trend"]
        self.same_sign_since = state["same_sign_since"]
        self.last_fraction, self.band_bits = state["last_fraction"], list(state["band_bits"])


def fit(
    pixels: np.ndarray,
    target: RateTarget | None,
    lmbda: float | None,
    budget: Budget,
    config: GridConfig,
    *,
    seed: int = 0,
    device: torch.device = torch.device("cpu"),
    progress: ProgressCallback | None = None,
    checkpoint: Checkpoint | None = None,
) -> tuple[GridFitTask, int]:
    """Fit a latent-grid model to (H, W, C) integer pixels, steered to ``target`` (or at a fixed
    ``lmbda``); returns the task (its model is fitted) and the steps taken. With a
    ``checkpoint`` the fit saves its state there and resumes from it."""
    h, w, c = pixels.shape
    g = torch.Generator().manual_seed(seed)
    # The recipe's rate-dependent choices go by the target's density (or the one a fixed lambda
    # starts from).
    target_bpp = bpp_for_lmbda(config, lmbda) if lmbda is not None else target.bits / (h * w)
    config = config.for_target(target_bpp)
    model = build_model(config, h, w, c, g).to(device)
    peak = 65535 if pixels.dtype == np.uint16 else 255
    image = torch.from_numpy(pixels.astype(np.float32) / peak).permute(2, 0, 1).contiguous().to(device)
    task = GridFitTask(
        model, image, peak, config, scheme_for(config, target_bpp),
        lmbda=lmbda if lmbda is not None else initial_lmbda(config, target_bpp),
        target=None if lmbda is not None else target, generator=g,
    )  # fmt: skip
    result = run(
        task, budget, schedule=Schedule(warmup=0.0, decay_start=config.decay_start, final=0.0),
        eval_every=100, progress=progress, keep_best=False, checkpoint=checkpoint,
    )  # fmt: skip
    return task, result.steps
