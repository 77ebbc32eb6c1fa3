"""What gets optimised: fitting tasks for :func:`inrcodec.fit.run`.

:class:`PointFitTask` fits coordinate networks (SIREN, Fourier-feature MLP) by sampling random
mini-batches of points. Given quantization steps, it trains the weights *through* straight-through
rounding, so that the network learns to live with the steps it will be stored at (QAT).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable

import torch
from torch.func import functional_call

from .fit import clone_state
from .models import INR
from .models.grid import laplace_bits
from .quantize import fake_quantize

Score = Callable[[torch.Tensor], float]

#: points per evaluation chunk: bounds memory whatever the signal size
EVAL_CHUNK = 1 << 16


@functools.lru_cache(maxsize=None)
def bf16_native(device: torch.device) -> bool:
    """Whether bf16 autocast runs natively on ``device``: on a CPU, and on a CUDA GPU with bf16
    arithmetic (Ampere or later); elsewhere (older GPUs would emulate it, slowly) stay fp32."""
    if device.type == "cpu":
        return True
    if device.type == "cuda":
        try:
            return torch.cuda.is_bf16_supported(including_emulation=False)
        except TypeError:  # torch < 2.3 has no emulation to exclude
            return torch.cuda.is_bf16_supported()
    return False


class PointFitTask:
    """MSE fit of ``model(points) ~ values`` on random mini-batches of points."""

    def __init__(
        self,
        model: INR,
        points: torch.Tensor,
        values: torch.Tensor,
        score: Score,
        *,
        lr: float,
        batch_size: int,
        generator: torch.Generator,
        steps: dict[str, float] | None = None,
        weight_decay_l1: float = 0.0,
        compile: bool = False,
    ) -> None:
        self.model = model
        self.points = points
        self.values = values
        self.score = score
        self.lr = lr
        self.batch_size = batch_size
        self.generator = generator
        self.steps = steps  # quantization step per coded tensor name, for QAT
        self.l1 = weight_decay_l1
        # torch.compile fuses the sine/matmul chain (about 1.3x per step on one CPU thread) but
        # costs ~15 s up front, so it only pays on long fits.
        self._call = torch.compile(self._functional) if compile else self._functional

    def _functional(self, params: dict[str, torch.Tensor], points: torch.Tensor) -> torch.Tensor:
        return functional_call(self.model, params, (points,))

    def _params(self) -> dict[str, torch.Tensor]:
        params = dict(self.model.named_parameters())
        if self.steps:
            for name, step in self.steps.items():
                params[name] = fake_quantize(params[name], step)
        return params

    def predict(self, points: torch.Tensor) -> torch.Tensor:
        return self._call(self._params(), points)

    def parameter_groups(self):
        return [{"params": list(self.model.parameters()), "lr": self.lr}]

    def sample(self) -> tuple[torch.Tensor, torch.Tensor]:
        """One step's mini-batch of (points, values); all of them when they fit in one batch.
        Indices come from the task's CPU generator, so every device draws the same batches."""
        n = self.points.shape[0]
        if n <= self.batch_size:
            return self.points, self.values
        idx = torch.randint(n, (self.batch_size,), generator=self.generator)
        idx = idx.to(self.points.device)
        return self.points[idx], self.values[idx]

    def training_loss(self, step: int, fraction: float) -> torch.Tensor:
        pts, vals = self.sample()
        loss = torch.mean((self.predict(pts) - vals) ** 2)
        if self.l1:
            loss = loss + self.l1 * sum(p.abs().sum() for _, p in self.model.coded_tensors())
        return loss

    @torch.no_grad()
    def predict_all(self) -> torch.Tensor:
        return torch.cat([self.predict(c) for c in torch.split(self.points, EVAL_CHUNK)])

    def evaluate(self) -> float:
        return self.score(self.predict_all())

    def state(self):
        return clone_state(self.model)

    def load_state(self, state) -> None:
        self.model.load_state_dict(state)

    def resume_state(self):
        """The parameters and the mini-batch sampler's position: what a checkpoint resumes from."""
        return {"model": self.state(), "generator": self.generator.get_state()}

    def load_resume_state(self, state) -> None:
        self.load_state(state["model"])
        self.generator.set_state(state["generator"])


class GridFitTask:
    """Rate-aware fit of a latent-grid model: distortion + lambda * rate, coarse to fine.

    - For the first ``half_share`` of the budget the model is fitted to the image at half
      resolution, where a step costs about a quarter as much; the latents are shared, so the
      coarse levels arrive at full resolution already fitted.
    - The latents see uniform noise in [-1/2, 1/2] (a differentiable stand-in for rounding) until
      the last ``ste_share``, then straight-through rounding, so the end of the fit is tuned to the
      integers the file stores; there the latents move ``ste_latent_lr`` times as fast.
    - The rate term (``rate_proxy``): "noise" is the noisy latents' bits; "split" gives the
      latents that gradient through a frozen entropy model, and trains the entropy model on the
      rounded latents alone; "ste" uses the rounded latents' bits throughout.
    - ``lam`` weighs bits per pixel against MSE on [0, 1]. With a ``target_bpp`` it is steered
      toward the target by multiplicative feedback every step.
    """

    def __init__(
        self,
        model,
        pixels: torch.Tensor,  # (C, H, W) float in [0, 1]
        max_value: int,
        *,
        lam: float,
        target_bpp: float | None = None,
        overhead_bits: float = 0.0,
        lr_latents: float = 0.05,
        lr_synthesis: float = 5e-3,
        lr_context: float = 5e-3,
        half_share: float = 0.6,
        ste_share: float = 0.15,
        feedback: float = 0.02,
        feedback_start: float = 0.0,
        feedback_down: float = 3.0,
        damping: float = 0.0,
        bf16: bool = False,
        compile: bool = False,
        rate_proxy: str = "noise",
        ste_latent_lr: float = 1.0,
        bands: int = 1,
        generator: torch.Generator | None = None,
    ) -> None:
        import torch.nn.functional as F

        self.model = model
        self.full = pixels.flatten(1).t().contiguous()
        c, h, w = pixels.shape
        half = F.adaptive_avg_pool2d(pixels[None], (math.ceil(h / 2), math.ceil(w / 2)))[0]
        self.half = half.flatten(1).t().contiguous()
        self.ints = torch.round(pixels * max_value).flatten(1).t()
        self.max_value = max_value
        self.pixels = h * w
        self.lam = self.initial_lam = lam
        self.target_bpp = target_bpp
        self.overhead_bits = overhead_bits
        self.lrs = (lr_latents, lr_synthesis, lr_context)
        self.half_share, self.ste_share = half_share, ste_share
        self.feedback, self.feedback_start = feedback, feedback_start
        self.feedback_down, self.damping = feedback_down, damping
        self.last_error, self.trend = math.nan, 0.0
        self.bf16 = bf16
        self.rate_proxy = rate_proxy
        self.ste_latent_lr = ste_latent_lr
        # Full-resolution steps see one band of rows at a time, in turn: the last 2x upsampling
        # and the synthesis (most of a full step's cost) shrink by the number of bands.
        self.band_rows = [(k * h // bands, (k + 1) * h // bands) for k in range(max(1, min(bands, h)))]
        self.width = w
        self.generator = generator
        self.last_bpp = math.nan
        # torch.compile fuses the upsampling cascade and the rate model (about 1.6x per step),
        # but compiling costs tens of seconds, so only long fits ask for it.
        self._step_terms = torch.compile(self._terms, dynamic=False) if compile else self._terms

    def parameter_groups(self):
        m = self.model
        return [
            {"params": list(m.latents), "lr": self.lrs[0]},
            {"params": [p for _, p in m.synthesis_tensors()], "lr": self.lrs[1]},
            {"params": [p for _, p in m.context_tensors()], "lr": self.lrs[2]},
        ]

    def lr_factors(self, fraction: float) -> list[float]:
        """Per parameter group: the latents move ``ste_latent_lr`` times as fast once rounded."""
        ste = fraction >= 1.0 - self.ste_share
        return [self.ste_latent_lr if ste else 1.0, 1.0, 1.0]

    def _noise(self) -> list[torch.Tensor]:
        # Drawn from the task's generator (not inside a compiled graph) so fits are reproducible.
        return [torch.rand(z.shape, generator=self.generator).to(z.device) - 0.5 for z in self.model.latents]

    def _synthesize(self, features: torch.Tensor) -> torch.Tensor:
        # Only the synthesis MLP runs in bf16: the rate term (context model, Laplace bits) and
        # the evaluation that steers quantization stay fp32.
        flat = features.flatten(1).t()
        if self.bf16 and bf16_native(flat.device):
            with torch.autocast(flat.device.type, dtype=torch.bfloat16):
                return self.model.synthesize(flat).float()
        return self.model.synthesize(flat)

    def _terms(self, noise: list[torch.Tensor] | None, target: torch.Tensor, half: bool, rows=None):
        """MSE on [0, 1] with noisy latents (``noise``) or rounded ones (None); the bits the loss
        weighs (see ``rate_proxy`` in the class docstring); and the bits of the rounded latents,
        what the coder will spend."""
        rounded = [z + (torch.round(z) - z).detach() for z in self.model.latents]
        latents = rounded if noise is None else [z + n for z, n in zip(self.model.latents, noise)]
        pred = self._synthesize(self.model.feature_grid(latents, half=half, rows=rows))
        mse = torch.mean(((pred + 1) * 0.5 - target) ** 2)  # on [0, 1], whatever the bit depth
        # The context always sees the rounded latents, what the decoder has: fed noisy
        # neighbours, the optimiser hides information in their fractional parts.
        dists = self.model.latent_distributions(rounded)
        coded = sum(laplace_bits(q, mu, s).sum() for q, (mu, s) in zip(rounded, dists))
        if noise is None or self.rate_proxy == "ste":
            return mse, coded, coded
        if self.rate_proxy == "split":
            # The latents see the noisy proxy through a frozen entropy model; the entropy model
            # itself learns the rounded latents, as the coder will see them.
            noisy = sum(laplace_bits(z, mu.detach(), s.detach()).sum() for z, (mu, s) in zip(latents, dists))
            return mse, noisy + coded - coded.detach(), coded
        noisy = sum(laplace_bits(z, mu, s).sum() for z, (mu, s) in zip(latents, dists))
        return mse, noisy, coded

    def training_loss(self, step: int, fraction: float) -> torch.Tensor:
        half = fraction < self.half_share
        ste = fraction >= 1.0 - self.ste_share
        noise = None if ste else self._noise()
        if half:
            mse, bits, coded = self._step_terms(noise, self.half, True)
        elif len(self.band_rows) == 1:
            mse, bits, coded = self._step_terms(noise, self.full, False)
        else:
            r0, r1 = self.band_rows[step % len(self.band_rows)]
            mse, bits, coded = self._step_terms(noise, self.full[r0 * self.width : r1 * self.width], False, (r0, r1))
        # Steer by the rate the coder will spend (the rounded latents'): the noisy proxy
        # overestimates sparse latents' rate about 2x and would drive lambda far too high.
        bpp = (coded.detach().item() + self.overhead_bits) / self.pixels
        self.last_bpp = bpp
        if self.target_bpp is not None:
            self._steer(bpp, fraction)
        return mse + self.lam * bits / self.pixels

    def _steer(self, bpp: float, fraction: float) -> None:
        """Multiplicative feedback on lambda: too many bits -> weigh rate more, and back.

        The rate lags lambda by a hundred steps or more, so the error alone overshoots; its trend
        (smoothed change per step, times ``damping`` steps) is added, so lambda stops moving
        while the rate is already on its way. Lowered ``feedback_down`` times as fast as raised.
        Bounded to 30x either way of the start: a target the weights alone overshoot (a tiny
        image) would otherwise drive lambda up until every latent is zero."""
        error = max(-1.0, min(1.0, bpp / self.target_bpp - 1.0))
        if not math.isnan(self.last_error):
            self.trend = 0.9 * self.trend + 0.1 * (error - self.last_error)
        self.last_error = error
        if fraction < self.feedback_start:
            return
        signal = max(-1.0, min(1.0, error + self.damping * self.trend))
        gain = self.feedback * (1.0 if signal > 0 else self.feedback_down)
        lam = self.lam * math.exp(gain * signal)
        self.lam = min(30.0 * self.initial_lam, max(self.initial_lam / 30.0, lam))

    @torch.no_grad()
    def evaluate(self) -> float:
        from .fit import psnr_of_values

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
        return {"model": self.state(), "generator": generator, "lam": self.lam, "last_bpp": self.last_bpp,
                "last_error": self.last_error, "trend": self.trend}  # fmt: skip

    def load_resume_state(self, state) -> None:
        self.load_state(state["model"])
        if self.generator is not None:
            self.generator.set_state(state["generator"])
        self.lam, self.last_bpp = state["lam"], state["last_bpp"]
        self.last_error, self.trend = state.get("last_error", math.nan), state.get("trend", 0.0)
