"""What every application shares: the knobs, the network, fitting with held-out early stopping.

Every application is the same three moves on top of :mod:`inrcodec.fit`:

1. build a network from :class:`FitOptions`: SIREN or Fourier-feature MLP on coordinates, or for
   images the latent grid (:mod:`inrcodec.apps.grid`, fitted through :mod:`inrcodec.apps.pixels`);
2. fit it to the samples that are *known* (all pixels, the pixels outside a mask, the audio
   outside a gap), with a random share of them held out of training;
3. keep the parameters that predicted the held-out samples best, and stop once that prediction
   has stopped improving for ``patience`` evaluations (:func:`inrcodec.fit.run`'s ``patience``).

Held-out error is what makes the stopping rule honest. A network fed noisy pixels fits the clean
image first and the noise later (spectral bias); on held-out pixels the expected squared error is
the error against the *clean* image plus the noise variance, so its minimum is where the
network's picture of the clean image is best. For missing data the same rule measures how well
the network interpolates between the samples it was given.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

import numpy as np
import torch

from ..errors import InputError, OptionError
from ..fit import Budget, FitResult, ProgressCallback, Schedule, run
from ..models import INR, FourierMLP, Siren
from ..runtime import resolve_device, torch_threads
from ..tasks import EVAL_CHUNK, PointFitTask

#: the coordinate-network families, fitted on points (any coordinates, any dimension)
POINT_FAMILIES = ("siren", "fourier")
#: every family an application can fit: the latent-grid family works on whole pixel grids
FAMILIES = ("grid", *POINT_FAMILIES)
#: a fit needs at least this many known samples to be worth running
MIN_KNOWN = 4


@dataclass(frozen=True)
class FitOptions:
    """The knobs every application exposes. ``None`` means: the application chooses.

    - ``model``: ``siren`` (sine activations; ``omega`` = its first layer's omega_0, which sets
      the highest frequency it starts with, so lower = smoother), ``fourier`` (ReLU MLP on
      ``frequencies`` sinusoids of ratio ``fourier_ratio``, so the top frequency is
      ``pi * fourier_ratio ** (frequencies - 1)``) or, for images, ``grid`` (latent pyramid;
      ``first_level`` = its finest latent grid, 2^first_level pixels per cell, so higher =
      smoother; ``grid_channels`` latents per cell; see :mod:`inrcodec.apps.grid`).
    - ``depth`` x ``width``: hidden layers (of the synthesis MLP, for ``grid``); capacity, i.e.
      how much detail (and noise) fits.
    - ``lr``: Adam's learning rate (for ``grid``, of the latents; the MLP gets a tenth).
    - ``weight_decay``: L1 penalty on a coordinate network's weights (per weight, added to the
      MSE on [-1, 1] values); pulls toward simpler functions. The grid family ignores it.
    - ``steps`` / ``seconds``: the budget; early stopping usually ends a fit before it.
    - ``holdout``: the share of known samples kept out of training to drive early stopping;
      ``patience``: evaluations without improvement before stopping; ``eval_every``: steps
      between evaluations.
    """

    model: str | None = None
    depth: int | None = None
    width: int | None = None
    omega: float | None = None
    hidden_omega: float | None = None
    frequencies: int | None = None
    fourier_ratio: float | None = None
    first_level: int | None = None
    grid_channels: int | None = None
    weight_decay: float | None = None
    lr: float | None = None
    batch: int | None = None
    steps: int | None = None
    seconds: float | None = None
    holdout: float | None = None
    patience: int | None = None
    eval_every: int | None = None
    seed: int = 0
    threads: int = 1
    device: str = "cpu"

    def filled(self, defaults: FitOptions) -> FitOptions:
        """These options with every ``None`` taken from ``defaults``; a step budget given without
        a time budget stays without one (so that the fit is deterministic)."""
        taken = {f.name: getattr(defaults, f.name) for f in fields(self) if getattr(self, f.name) is None}
        if self.steps is not None and self.seconds is None:
            taken["seconds"] = None
        return replace(self, **taken)

    def validated(self) -> FitOptions:
        """OptionError naming the first knob out of range."""
        if self.model is not None and self.model not in FAMILIES:
            raise OptionError(f"unknown model '{self.model}' (choose from {', '.join(FAMILIES)})")
        counts = ("depth", "width", "frequencies", "first_level", "grid_channels", "batch", "steps",
                  "patience", "eval_every", "threads")  # fmt: skip
        for name in counts:
            v = getattr(self, name)
            low = 0 if name in ("frequencies", "first_level") else 1
            if v is not None and (isinstance(v, bool) or int(v) != v or v < low):
                raise OptionError(f"{name} must be a whole number >= {low}, got {v}")
        if self.first_level is not None and self.first_level > 6:
            raise OptionError(f"first_level must be 0..6, got {self.first_level}")
        for name in ("omega", "hidden_omega", "fourier_ratio", "lr", "seconds"):
            v = getattr(self, name)
            if v is not None and not (v > 0 and math.isfinite(v)):
                raise OptionError(f"{name} must be a positive number, got {v}")
        if self.weight_decay is not None and not (self.weight_decay >= 0 and math.isfinite(self.weight_decay)):
            raise OptionError(f"weight_decay must be >= 0, got {self.weight_decay}")
        if self.holdout is not None and not 0 <= self.holdout < 0.5:
            raise OptionError(f"holdout must be a share in [0, 0.5), got {self.holdout}")
        return self

    def budget(self) -> Budget:
        return Budget(steps=self.steps, seconds=self.seconds)

    def settings(self) -> dict[str, Any]:
        """The knobs that shaped a fit, for reports (the ones that do not apply left out)."""
        own = {
            "siren": {"omega", "hidden_omega", "batch"},
            "fourier": {"frequencies", "fourier_ratio", "batch"},
            "grid": {"first_level", "grid_channels"},
        }
        drop = {"threads", "device"} | set().union(*own.values()) - own.get(self.model or "", set())
        return {k: v for k, v in asdict(self).items() if k not in drop and v is not None}


def options_from(knobs: dict[str, Any]) -> FitOptions:
    """:class:`FitOptions` from keyword arguments, with an OptionError for an unknown name."""
    names = {f.name for f in fields(FitOptions)}
    unknown = sorted(set(knobs) - names)
    if unknown:
        raise OptionError(f"unknown option(s): {', '.join(unknown)} (known: {', '.join(sorted(names))})")
    return FitOptions(**knobs)


@dataclass
class AppResult:
    """What an application produced and how it got there."""

    output: np.ndarray  # pixels (same dtype and layout as the input) or float samples
    steps: int
    seconds: float
    stop_reason: str  # see FitResult.stop_reason
    score: float  # dB: held-out PSNR (or SNR for audio) of the kept parameters
    settings: dict[str, Any] = field(default_factory=dict)
    notices: list[str] = field(default_factory=list)


def family_defaults(model: str) -> FitOptions:
    """Shape and learning rate per family, measured on the training photos (docs/applications.md).

    Coordinate networks are kept small and their batches at 4096 points: on a CPU a fit is
    bounded by compute, and more, cheaper steps beat fewer, bigger ones in a minute's budget.
    """
    if model == "grid":
        return FitOptions(model="grid", depth=2, width=16, first_level=1, grid_channels=1, lr=0.05, eval_every=20)
    if model == "fourier":
        return FitOptions(
            model="fourier", depth=3, width=64, frequencies=10, fourier_ratio=1.6, lr=1e-3, batch=4096, eval_every=100
        )
    return FitOptions(
        model="siren", depth=3, width=64, omega=30.0, hidden_omega=30.0, lr=1e-3, batch=4096, eval_every=100
    )


def resolve(options: FitOptions, app: FitOptions) -> FitOptions:
    """The options a fit runs with: the user's, then the application's, then the family's."""
    opts = options.validated().filled(app)
    return opts.filled(family_defaults(opts.model or "siren")).validated()


def build_network(opts: FitOptions, in_dim: int, out_dim: int, generator: torch.Generator) -> INR:
    """A freshly initialised coordinate network of the options' family and shape."""
    if opts.model not in POINT_FAMILIES:
        raise OptionError(f"'{opts.model}' is not a coordinate network (use {' or '.join(POINT_FAMILIES)})")
    if opts.model == "fourier":
        return FourierMLP(in_dim, out_dim, opts.depth, opts.width, opts.frequencies, opts.fourier_ratio, generator)
    return Siren(in_dim, out_dim, opts.depth, opts.width, opts.omega, opts.hidden_omega, generator)


def split_holdout(n: int, share: float, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Indices of ``n`` samples split into (train, held out); the held-out part may be empty."""
    order = torch.randperm(n, generator=generator)
    k = int(round(n * share)) if n >= 2 * MIN_KNOWN else 0
    return order[k:].sort().values, order[:k].sort().values


class HeldOutPointTask(PointFitTask):
    """A :class:`PointFitTask` scored on points it does not train on (see the module docstring).

    ``score`` receives the predictions at ``check_points``. Without check points it falls back
    to scoring the training points, i.e. plain best-fit keeping.
    """

    def __init__(self, *args: Any, check_points: torch.Tensor | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.check_points = check_points

    @torch.no_grad()
    def evaluate(self) -> float:
        if self.check_points is None or len(self.check_points) == 0:
            return super().evaluate()
        chunks = torch.split(self.check_points, EVAL_CHUNK)
        return self.score(torch.cat([self.predict(c) for c in chunks]))


def fit_known_points(
    model: INR,
    points: torch.Tensor,
    values: torch.Tensor,
    score_of: Any,
    opts: FitOptions,
    generator: torch.Generator,
    *,
    phase: str,
    progress: ProgressCallback | None,
) -> FitResult:
    """Fit ``model`` to known (points, values) with held-out early stopping; leaves it at its best.

    ``score_of(pred, values)`` turns predictions at some of the points and their true values into
    dB (higher is better). Returns :func:`inrcodec.fit.run`'s result.
    """
    if len(points) < MIN_KNOWN:
        raise InputError(f"only {len(points)} known samples: too few to fit anything")
    train, check = split_holdout(len(points), opts.holdout or 0.0, generator)
    device = points.device
    train, check = train.to(device), check.to(device)
    has_check = len(check) > 0
    score_points, score_values = (points[check], values[check]) if has_check else (points[train], values[train])

    def score(pred: torch.Tensor) -> float:
        return score_of(pred, score_values)

    task = HeldOutPointTask(
        model, points[train], values[train], score, lr=opts.lr, batch_size=opts.batch,
        generator=generator, weight_decay_l1=opts.weight_decay or 0.0,
        check_points=score_points if has_check else None,
    )  # fmt: skip
    return run(
        task, opts.budget(), schedule=Schedule(decay_start=0.8), eval_every=opts.eval_every,
        phase=phase, progress=progress, patience=opts.patience if has_check else None,
    )  # fmt: skip


def device_of(opts: FitOptions) -> torch.device:
    return resolve_device(opts.device)


#: how an image application gets its answer: a prior learned offline (the default where one is
#: shipped: :mod:`inrcodec.models.local_implicit`) or a network fitted to this image alone
METHODS = ("learned", "fit")


def option_flag(field: str) -> str:
    """The command-line flag of a FitOptions field."""
    return "--time" if field == "seconds" else "--" + field.replace("_", "-")


def check_method(method: str, options: FitOptions, init: object = None) -> None:
    """Refuse an unknown method, and for ``learned`` every fitting option given (threads apply
    to both): a learned prior fits nothing, so such an option would be silently dropped."""
    if method not in METHODS:
        raise OptionError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    if method != "learned":
        return
    defaults = FitOptions()
    given = [
        f.name
        for f in fields(FitOptions)
        if f.name != "threads" and getattr(options, f.name) != getattr(defaults, f.name)
    ]
    if given or init is not None:
        names = ", ".join(option_flag(f) for f in given) or "an init"
        raise OptionError(
            f"{names}: only for the fit method (--method fit); the learned method fits nothing and runs on the CPU"
        )


def run_learned(compute, options: FitOptions, settings: dict[str, Any], notices: list[str]) -> AppResult:
    """An application's result from a learned prior: ``compute()`` (the output pixels) timed
    under the options' thread count; no steps and no held-out score, since nothing is fitted."""
    start = time.perf_counter()
    with torch_threads(options.threads):
        out = compute()
    seconds = time.perf_counter() - start
    return AppResult(out, 0, seconds, "learned prior", None, {**settings, "method": "learned"}, notices)
