"""The latent grid's recipe: architecture and training settings, in one place.

:class:`GridConfig` is the only source of the family's defaults: the model
(:class:`~inrcodec.grid.model.GridImage`) and the training task
(:class:`~inrcodec.grid.training.GridFitTask`) take every setting from it and have none of their
own. An encode can override any field (``EncodeOptions(grid={"lr_latents": 0.1})``), which is how
the screening tools in ``benchmarks/`` try recipes. Each default says what it measured, on the
training-photo crops (docs/grid.md).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch

from ..errors import OptionError
from .coding import SCHEMES, ContextScheme
from .model import ACTIVATIONS, GridImage
from .upsampling import KERNEL_IDS


@dataclass(frozen=True)
class GridConfig:
    """Architecture and training recipe of the latent-grid family."""

    levels: int = 7
    # Low targets: no full-resolution grid, level 1 carries two channels instead. Measured on
    # kodim15 at equal steps, -35 % rate at 0.2 bpp against -24 % for seven one-channel levels
    # from level 0, and less than half the latents to code and to train (docs/grid.md).
    first_level: int = 1
    channels: tuple[int, ...] = (2, 1, 1, 1, 1, 1)
    # The high-rate recipe (``for_target``), from ``full_resolution_bpp`` up: a full-resolution
    # level too (without one the picture is a smooth interpolation of half-resolution latents,
    # and PSNR saturates near what a 2x bicubic down-and-up of the image gives: wikipedia 001 crop
    # at a 2 bpp target, 28.57 dB at 1.06 bpp without it, 34.30 dB at 2.16 bpp with it), one
    # channel there (two: 33.41 dB at 2.03 bpp on 001, 28.26 against 30.09 dB on 010), latents
    # learning faster so that they can grow to the many levels a high rate affords, and the
    # banded rate term. At 0.5 bpp the half-resolution pyramid was better on two of three crops
    # (010: 22.78 dB at 0.533 bpp against 22.33 at 0.476; 023: 34.07 at 0.448 against 33.50 at
    # 0.420). None: never. Screens in docs/grid.md.
    full_resolution_bpp: float | None = 0.7
    full_resolution_channels: tuple[int, ...] = (1, 2, 1, 1, 1, 1, 1)
    full_resolution_lr_latents: float = 0.1
    full_resolution_lmbda_scale: float = 0.0021
    hidden: int = 16
    depth: int = 2
    activation: str = "relu"
    kernel: str = "bicubic"
    context_hidden: int = 8
    # "wavefront" (raster-causal: each latent sees its left, up and diagonal neighbours),
    # "checkerboard" (format 1.x), or "auto": the wavefront, except for rate targets below
    # ``wavefront_min_bpp`` fitted without soft rounding, where its sharp predictions left the
    # noisy rate proxy unsteerable and the finest level collapsed, and the checkerboard measured
    # better. Soft-rounded, the wavefront measured +0.15 dB at 0.06 bpp and +0.08 at 0.12 on the
    # mean of the crops against the plain checkerboard, the soft-rounded checkerboard -0.27 and
    # +0.18 (docs/grid.md).
    context_scheme: str = "auto"
    wavefront_min_bpp: float = 0.2
    lr_latents: float = 0.05
    lr_synthesis: float = 5e-3
    lr_context: float = 2e-2  # the entropy model must follow the latents quickly, or the rate lags
    ste_share: float = 0.15
    bf16: bool = True
    # Rate term: "split" weighs the noisy latents' bits under an entropy model that learns the
    # rounded latents (what the coder sees); "noise" lets that model learn the noisy ones too,
    # which put the rate it reports far from the file's and sent lambda astray (docs/grid.md);
    # "ste" uses the rounded latents' bits throughout.
    rate_proxy: str = "split"
    # Once rounded, the latents move at this share of their learning rate: the synthesis adapts
    # to the integers while the rate, steered to the target under noise, stays near it.
    ste_latent_lr: float = 0.1
    # Soft rounding (C3, Cool-chic): before the rounded phase the latents are seen as
    # s(s(z) + u), s the soft round at a temperature going linearly from the first value to the
    # second (C3: 0.3 -> 0.1), instead of z + u (u uniform noise). None: z + u. Only for targets
    # below ``soft_round_max_bpp`` (None: every target): on the four training crops, point by
    # point at equal bpp, +0.36 dB at 0.25 bpp, but -0.14 at 0.5, -0.45 at 1 and -0.54 at 2; with
    # the wavefront it brought, +0.15 at 0.06 and +0.08 at 0.12 (on Kodak, 0.8.0 against 0.7.1:
    # +0.58, +0.68 and -0.04 dB at 0.06, 0.12 and 0.25; docs/grid.md).
    soft_round_temperature: tuple[float, float] | None = (0.3, 0.1)
    soft_round_max_bpp: float | None = 0.4
    # The function of s(z) + u the fit sees: "soft_round" (s again, what was screened and
    # adopted) or "conditional_mean", Agustsson and Theis' E[z | s(z) + u], which C3 uses.
    soft_round_outer: str = "soft_round"
    bands: int = 4  # full-resolution steps fit one of this many bands of rows, in turn
    # A band step also weighs only its band's latents' bits (the high-rate recipe: the context
    # network on a full-resolution level is most of a step, 150 -> 76 ms per step at 768 x 512,
    # and the 1 and 2 bpp files of the crops came out the same). Not at low rates: on wikipedia
    # 001 at 0.12 bpp the banded rate drove lambda up 30x while the rate rose, then collapsed
    # (0.075 bpp, 22.96 dB; the whole rate: 0.114 bpp, 24.38 dB).
    banded_rate: bool = False
    # Rate control: lambda is held for the first ``feedback_start`` of the fit (while the entropy
    # model learns the latents' scales, the rate says little), then steered with this gain per
    # whole fit (0.01 per step of 1200), on the error plus ``damping`` (a share of the fit: 100
    # steps of 1200) of its trend, lowered ``feedback_down`` times as fast as raised. Per share of
    # the fit rather than per step, so that a shorter budget (--time, --effort fast) steers as far.
    # The starting lambda is lmbda_scale * (0.3 / target bpp) ** 1.6; feedback corrects it.
    lmbda_scale: float = 0.0021
    feedback: float = 12.0
    feedback_start: float = 0.1
    feedback_down: float = 1.0
    # The gain grows by this much per share of the fit that the error has kept its sign: a smooth
    # image's rate barely follows lambda, and a constant gain left it 13-15 % under its target at
    # 0.5-2 bpp (wikipedia 023 crop: 0.870 bpp for 1, 1.699 for 2; with 4: 0.997 and 1.964, and
    # 15 of 16 screen fits within +-10 % against 10; the mean BD-rate the same; docs/grid.md).
    feedback_persistence: float = 4.0
    damping: float = 1 / 12
    decay_start: float = 0.5  # learning rates hold until this share of the fit, then decay (cosine)

    def __post_init__(self) -> None:
        if self.context_scheme != "auto" and self.context_scheme not in SCHEMES:
            raise OptionError(f"grid context_scheme must be auto or one of {', '.join(SCHEMES)}, "
                              f"got {self.context_scheme!r}")  # fmt: skip
        if self.rate_proxy not in RATE_PROXIES:
            raise OptionError(f"grid rate_proxy must be one of {', '.join(RATE_PROXIES)}, got {self.rate_proxy!r}")
        if self.activation not in ACTIVATIONS or self.kernel not in KERNEL_IDS:
            raise OptionError(f"grid activation/kernel must be one of {list(ACTIVATIONS)} / {list(KERNEL_IDS)}")
        if not (1 <= self.levels <= 24 and 0 <= self.first_level < self.levels and self.channels
                and min(self.channels) >= 1 and self.full_resolution_channels and min(self.full_resolution_channels) >= 1
                and self.hidden >= 1 and self.depth >= 0 and self.bands >= 1 and self.context_hidden >= 1):  # fmt: skip
            raise OptionError(f"invalid grid architecture in {self}")
        t = self.soft_round_temperature
        if t is not None and not (len(t) == 2 and min(t) > 0):
            raise OptionError(f"grid soft_round_temperature must be None or two positive numbers, got {t!r}")
        if self.soft_round_max_bpp is not None and not 0 < self.soft_round_max_bpp < math.inf:
            raise OptionError(
                f"grid soft_round_max_bpp must be None or a positive bpp, got {self.soft_round_max_bpp!r}"
            )
        if self.soft_round_outer not in SOFT_ROUND_OUTERS:
            raise OptionError(f"grid soft_round_outer must be one of {', '.join(SOFT_ROUND_OUTERS)}, "
                              f"got {self.soft_round_outer!r}")  # fmt: skip
        if not self.feedback_persistence >= 0:  # a negative one would reverse the feedback
            raise OptionError(f"grid feedback_persistence must be 0 or more, got {self.feedback_persistence}")

    def with_overrides(self, overrides: GridConfig | Mapping[str, Any] | None) -> GridConfig:
        """This config with some fields replaced: ``overrides`` is a whole config or a mapping
        of field names to values; unknown names are refused."""
        if overrides is None:
            return self
        if isinstance(overrides, GridConfig):
            return overrides
        names = {f.name for f in dataclasses.fields(self)}
        unknown = sorted(set(overrides) - names)
        if unknown:
            raise OptionError(f"unknown grid setting(s): {', '.join(unknown)} (see inrcodec.grid.GridConfig)")
        values = dict(overrides)
        for name in ("channels", "full_resolution_channels", "soft_round_temperature"):
            if values.get(name) is not None:
                values[name] = tuple(values[name])
        return dataclasses.replace(self, **values)

    def for_target(self, target_bpp: float) -> GridConfig:
        """The recipe a fit at ``target_bpp`` uses: this one, without soft rounding from
        ``soft_round_max_bpp`` up, and from ``full_resolution_bpp`` up the high-rate one
        (full-resolution level, faster latents, banded rate term). The result is resolved: its
        two thresholds are None, so resolving it again changes nothing."""
        soft = self.soft_round_temperature
        if self.soft_round_max_bpp is not None and target_bpp >= self.soft_round_max_bpp:
            soft = None
        config = dataclasses.replace(
            self, soft_round_temperature=soft, soft_round_max_bpp=None, full_resolution_bpp=None
        )
        if self.full_resolution_bpp is None or target_bpp < self.full_resolution_bpp:
            return config
        return dataclasses.replace(
            config, first_level=0, channels=self.full_resolution_channels, lr_latents=self.full_resolution_lr_latents,
            banded_rate=True, bf16=False, lmbda_scale=self.full_resolution_lmbda_scale,
        )  # fmt: skip


RATE_PROXIES = ("split", "noise", "ste")
SOFT_ROUND_OUTERS = ("soft_round", "conditional_mean")  # the keys of training.SOFT_ROUND_OUTER

#: ``--effort`` presets as fitting steps, so that an effort gives the same file on any machine;
#: what each costs on a 768x512 image on one core is measured in docs/grid.md
EFFORT_STEPS = {"fast": 400, "default": 1500, "high": 3000, "max": 8000}


def scheme_for(config: GridConfig, target_bpp: float) -> ContextScheme:
    """The context scheme a fit at ``target_bpp`` uses: the config's, with "auto" resolved by the
    target and whether the fit soft-rounds."""
    if config.context_scheme != "auto":
        return SCHEMES[config.context_scheme]
    plain_noise = config.for_target(target_bpp).soft_round_temperature is None
    return SCHEMES["checkerboard" if plain_noise and target_bpp < config.wavefront_min_bpp else "wavefront"]


#: how the starting lambda falls with the target (measured: docs/grid.md)
LMBDA_SLOPE = 1.6


def initial_lmbda(config: GridConfig, bpp: float) -> float:
    """A starting lambda for a target bpp; feedback during the fit corrects it per image."""
    return config.lmbda_scale * (0.3 / bpp) ** LMBDA_SLOPE


def bpp_for_lmbda(config: GridConfig, lmbda: float) -> float:
    """The target density whose starting lambda is ``lmbda`` (the inverse of :func:`initial_lmbda`):
    what a fixed-lambda fit's rate-dependent choices go by."""
    return 0.3 * (config.lmbda_scale / lmbda) ** (1 / LMBDA_SLOPE)


def overhead_bits(model: GridImage) -> float:
    """Bits a file spends besides the latents: the header and tensor table (about 110 bytes) and
    the weights, measured at some 10 bits per context weight and 6 per synthesis weight."""
    context = sum(p.numel() for _, p in model.context_tensors())
    synthesis = sum(p.numel() for _, p in model.synthesis_tensors())
    return 8 * 110 + 10 * context + 6 * synthesis


def build_model(config: GridConfig, height: int, width: int, channels: int,
                generator: torch.Generator | None) -> GridImage:  # fmt: skip
    """The untrained model of ``config`` (resolved for its target: :meth:`GridConfig.for_target`)
    for an image. Small images get fewer levels: the coarsest has one or two cells a side."""
    levels = min(config.levels, max(1, math.ceil(math.log2(max(height, width))) + 1))
    first = min(config.first_level, levels - 1)
    per_level = (tuple(config.channels) + (1,) * levels)[: levels - first]
    return GridImage(
        height, width, channels, levels=levels, first_level=first, channels=per_level, hidden=config.hidden,
        depth=config.depth, activation=config.activation, kernel=config.kernel,
        context_hidden=config.context_hidden, generator=generator,
    )  # fmt: skip
