"""What every application shares: the knobs, the network, fitting with held-out early stopping.

Every application is the same three moves on top of :mod:`inrcodec.fit`:

1. build a coordinate network (SIREN or Fourier-feature MLP) from :class:`FitOptions`;
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
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

import numpy as np
import torch

from .. import coords
from ..codec import resolve_device
from ..errors import InputError, OptionError
from ..fit import Budget, FitResult, ProgressCallback, Schedule, psnr_of_values, run
from ..io.image import Image, from_array, from_values, to_values
from ..models import INR, FourierMLP, Siren
from ..tasks import EVAL_CHUNK, PointFitTask, Score

#: the families the applications fit (the latent-grid family is rate-coded and grid-bound; see
#: docs/applications.md for how it measured on these tasks)
POINT_FAMILIES = ("siren", "fourier")
#: a fit needs at least this many known samples to be worth running
MIN_KNOWN = 4


@dataclass(frozen=True)
class FitOptions:
    """The knobs every application exposes. ``None`` means: the application chooses.

    - ``model``: ``siren`` (sine activations; ``omega`` = its first layer's omega_0, which sets
      the highest frequency it starts with, so lower = smoother) or ``fourier`` (ReLU MLP on
      ``frequencies`` sinusoids of ratio ``fourier_ratio``, so the top frequency is
      ``pi * fourier_ratio ** (frequencies - 1)``).
    - ``depth`` x ``width``: hidden layers; capacity, i.e. how much detail (and noise) fits.
    - ``weight_decay``: L1 penalty on the weights (per weight, added to the MSE on [-1, 1]
      values); pulls toward simpler functions.
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
        if self.model is not None and self.model not in POINT_FAMILIES:
            raise OptionError(f"unknown model '{self.model}' (choose from {', '.join(POINT_FAMILIES)})")
        for name in ("depth", "width", "frequencies", "batch", "steps", "patience", "eval_every", "threads"):
            v = getattr(self, name)
            if v is not None and (isinstance(v, bool) or int(v) != v or v < (0 if name == "frequencies" else 1)):
                raise OptionError(f"{name} must be a whole number >= {0 if name == 'frequencies' else 1}, got {v}")
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
        d = asdict(self)
        drop = {"threads", "device"}
        drop |= {"frequencies", "fourier_ratio"} if self.model == "siren" else {"omega", "hidden_omega"}
        return {k: v for k, v in d.items() if k not in drop and v is not None}


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


def build_model(opts: FitOptions, in_dim: int, out_dim: int, generator: torch.Generator) -> INR:
    """A freshly initialised network of the options' family and shape."""
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


# --- images ----------------------------------------------------------------------------------------


def as_image(pixels: np.ndarray | Image) -> tuple[Image, bool]:
    """An (H, W[, C]) uint8/uint16 array as an :class:`Image`, and whether it was 2-D."""
    if isinstance(pixels, Image):
        return pixels, False
    array = np.asarray(pixels)
    return from_array(array), array.ndim == 2


def like_input(pixels: np.ndarray, flat: bool) -> np.ndarray:
    """Output pixels in the input's layout: (H, W) again for a 2-D input."""
    return pixels[:, :, 0] if flat else pixels


def pixel_score(max_value: int):
    """``score_of`` for pixels: PSNR of the rounded predictions against the true integers."""

    def score_of(pred: torch.Tensor, values: torch.Tensor) -> float:
        ints = torch.round((values + 1) * (max_value / 2))
        return psnr_of_values(pred, ints, max_value)

    return score_of


def pixel_points(img: Image, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """Every pixel centre (N, 2) and its value in [-1, 1] (N, C), row-major."""
    points = torch.from_numpy(coords.image_points(img.height, img.width)).to(device)
    values = torch.from_numpy(to_values(img.pixels).reshape(-1, img.channels)).to(device)
    return points, values


def render_pixels(model: INR, height: int, width: int, bit_depth: int, device: torch.device) -> np.ndarray:
    """The fitted function sampled at the pixel centres of a height x width grid, as integers."""
    model.eval()
    return from_values(model.render(height, width, device), bit_depth)
