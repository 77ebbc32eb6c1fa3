"""What steers an image encode, and the one validator that image and audio options share.

``None`` in an option means "the model family chooses". Options that only some families use
(:data:`FAMILY_OPTIONS`) are refused, with one line naming the option and the model, when the
chosen family does not use them: a user who passes ``--omega`` to the grid must not believe it
did something.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from .errors import OptionError

#: ``--effort`` presets; each family says what they mean for it (steps for the grid, seconds of
#: fitting for the coordinate networks)
EFFORTS = ("fast", "default", "high", "max")

#: options that only some model families use; a family lists the ones it does
FAMILY_OPTIONS = ("quant", "bits", "depth", "width", "omega", "lr", "batch", "qat", "compile", "lmbda", "grid",
                  "tile", "jobs")  # fmt: skip

#: options with no command-line flag
API_ONLY = ("bits", "lr", "batch", "qat", "compile", "lmbda", "grid")
#: the command-line flag of an option, where it is not ``--name``
FLAGS = {"width": "--layer-width", "hidden_omega": "--hidden-omega"}


def flag(name: str) -> str:
    """How a user names option ``name``: its command-line flag, or the API name for API-only ones."""
    if name in API_ONLY:
        return f"option {name}"
    return FLAGS.get(name, f"--{name}")


@dataclass(frozen=True)
class EncodeOptions:
    """Everything that steers an image encode. ``None`` means: choose automatically."""

    bpp: float | None = None
    size: str | int | None = None
    model: str = "grid"
    effort: str = "default"  # a preset budget (EFFORTS); steps or time, when given, replace it
    steps: int | None = None
    time: float | None = None  # seconds of fitting
    psnr: float | None = None  # stop early at this PSNR
    seed: int = 0
    device: str = "cpu"
    threads: int = 1
    # coordinate networks (siren, fourier):
    quant: str | None = None  # "int" (per-tensor steps + entropy coding, the default) or "fp16" (COIN)
    bits: float | None = None  # starting bits per weight [10]
    depth: int | None = None  # hidden layers [planned from the rate]
    width: int | None = None  # layer width [planned from the rate]
    omega: float | None = None  # SIREN omega_0 [30]
    lr: float | None = None  # Adam's learning rate [1e-3]
    batch: int | None = None  # points per step [65536]
    qat: float | None = None  # share of the budget spent on quantization-aware fine-tuning [0.15]
    compile: bool | None = None  # torch.compile the network [only for fits of 3+ minutes]
    # latent grid:
    lmbda: float | None = None  # fixed rate-distortion trade-off instead of a rate target
    grid: Any = None  # a GridConfig, or a mapping of its fields to override (recipe screens)
    tile: int | None = None  # tiles of at most this many pixels a side; 0: never [above 1 MP, 768]
    jobs: int | None = None  # tiles fitted at once, in local worker processes [1]
    checkpoint: str | os.PathLike | None = None  # resume file: an interrupted encode continues
    checkpoint_every: float = 10.0  # seconds between checkpoint saves

    def validated(self) -> EncodeOptions:
        check_values(self)
        if self.effort not in EFFORTS:
            raise OptionError(f"effort must be one of {', '.join(EFFORTS)}, got '{self.effort}'")
        if self.grid is not None and not isinstance(self.grid, Mapping) and type(self.grid).__name__ != "GridConfig":
            raise OptionError("grid must be a GridConfig or a mapping of its fields")
        return self


def refuse_inapplicable(opts: Any, used: frozenset[str], model: str, defaults: Mapping[str, Any] | None = None) -> None:
    """Refuse every family-specific option of ``opts`` that is set although the family ``model``
    does not use it (``used``). ``defaults`` gives fields whose unset value is not ``None``."""
    defaults = defaults or {}
    for name in FAMILY_OPTIONS:
        if name in used or not hasattr(opts, name):
            continue
        if getattr(opts, name) != defaults.get(name):
            raise OptionError(f"{flag(name)} does not apply to the {model} model")


def _positive(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0 and math.isfinite(v)


def _integer(v: Any, lo: int, hi: int) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and lo <= v <= hi


#: torch threads: more than this only costs memory
MAX_THREADS = 1024
#: the header stores omegas in 1/16 (models/siren.py): a smaller one would be stored as 0, which
#: the decoder refuses; a larger one than this resolves nothing any signal holds
OMEGA_RANGE = (1 / 16, 1e9)


#: per option name: (is the value acceptable, what it must be); checked wherever the field exists
_RULES: dict[str, tuple[Any, str]] = {
    "quant": (lambda v: v in ("int", "fp16"), "'int' or 'fp16'"),
    "bits": (lambda v: _positive(v) and 1 <= v <= 16, "in 1..16"),
    "qat": (lambda v: isinstance(v, (int, float)) and 0 <= v < 1, "in [0, 1)"),
    "overlap": (lambda v: isinstance(v, (int, float)) and 0 <= v <= 1, "in [0, 1] (a share of a segment)"),
    "batch": (lambda v: isinstance(v, int) and v >= 1, "at least 1"),
    "tile": (lambda v: _integer(v, 0, 1 << 31) and (v == 0 or v >= 32), "0 (no tiles) or at least 32 pixels"),
    "jobs": (lambda v: _integer(v, 1, 4096), "a whole number in 1..4096"),
    "threads": (lambda v: isinstance(v, int) and v >= 1, "at least 1"),
    "seed": (lambda v: _integer(v, 0, (1 << 63) - 1), "a whole number in 0..2^63-1"),
    "steps": (lambda v: _integer(v, 1, 1 << 62), "a whole number, at least 1"),
    "time": (_positive, "a positive number of seconds"),
    "depth": (lambda v: isinstance(v, int) and v >= 1, "at least 1"),
    "width": (lambda v: isinstance(v, int) and v >= 1, "at least 1"),
    "omega": (_positive, "a positive number"),
    "hidden_omega": (_positive, "a positive number"),
    "segment": (_positive, "a positive number"),
    "lr": (_positive, "a positive number"),
    "lmbda": (_positive, "a positive number"),
    "psnr": (_positive, "a positive number of dB"),
    "checkpoint_every": (lambda v: isinstance(v, (int, float)) and v >= 0 and math.isfinite(v), "0 or more seconds"),
}


#: further rules, checked once a value passed its first
_BOUNDS: dict[str, tuple[Any, str]] = {
    "threads": (lambda v: v <= MAX_THREADS, f"at most {MAX_THREADS}"),
    "omega": (lambda v: OMEGA_RANGE[0] <= v <= OMEGA_RANGE[1], "in [1/16, 1e9] (the header stores omegas in 1/16)"),
    "hidden_omega": (
        lambda v: OMEGA_RANGE[0] <= v <= OMEGA_RANGE[1],
        "in [1/16, 1e9] (the header stores omegas in 1/16)",
    ),
}


def check_values(opts: Any) -> None:
    """Refuse, in one line, any set option of ``opts`` (an image or audio options dataclass)
    whose value is out of range."""
    for f in fields(opts):
        value = getattr(opts, f.name)
        if value is None:
            continue
        for rule in (_RULES.get(f.name), _BOUNDS.get(f.name)):
            if rule is None:
                continue
            ok, what = rule
            if not ok(value):
                raise OptionError(f"{flag(f.name)} must be {what}, got {value!r}")
