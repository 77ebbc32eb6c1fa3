"""What the commands share: progress on stderr, notices, records on stdout, the limit flags, and
the encode options their parameters ask for."""

from __future__ import annotations

import json
import math
import os
import shutil
import sys
import time
from dataclasses import replace
from pathlib import Path

import click

from ..errors import OptionError
from ..fit import Progress
from ..limits import DEFAULT_LIMITS, Limits
from ..options import EncodeOptions


class OutputFile(click.Path):
    """A file to write, as a Path. A name ending in a path separator names a folder, and is
    refused: the Path it would become has no trailing separator, and the output would be written
    as a file of the folder's name."""

    def __init__(self) -> None:
        super().__init__(path_type=Path)

    def convert(self, value, param, ctx):
        if isinstance(value, str) and value.endswith(("/", os.sep)):
            self.fail(f"'{value}' ends in '{value[-1]}', so it names a folder: give a file name", param, ctx)
        return super().convert(value, param, ctx)


def duration(seconds: float | None) -> str:
    """Seconds as m:ss or h:mm:ss; --:-- when unknown."""
    if seconds is None:
        return "--:--"
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


class ProgressLine:
    """Fit progress on stderr. On a terminal, a bar redrawn in place, as tqdm and pip draw one:
    phase, bar, step/total, PSNR, time elapsed and left; a new line for each phase (fit, then
    quantize). Otherwise (a log, a pipe) a plain line every ``every`` seconds."""

    def __init__(self, enabled: bool = True, every: float = 5.0) -> None:
        self.enabled = enabled
        self.tty = sys.stderr.isatty()
        self.every = every
        self._last = -1e9
        self._phase: str | None = None
        self._drawn = False

    @staticmethod
    def _fraction(p: Progress) -> float | None:
        if p.steps:
            return min(1.0, p.step / p.steps)
        if p.remaining is not None and p.elapsed + p.remaining > 0:
            return p.elapsed / (p.elapsed + p.remaining)
        return None

    def bar_line(self, p: Progress, columns: int) -> str:
        """The terminal line, ``fit  42% [####......] 500/1200  PSNR 28.31 dB  0:12 elapsed  0:17 left``,
        with a bar as wide as ``columns`` leaves room for (10 to 40), cut to fit."""
        steps = f"{p.step}/{p.steps}" if p.steps else f"step {p.step}"
        psnr = "" if p.psnr is None else f"  PSNR {p.psnr:.2f} dB"
        times = f"  {duration(p.elapsed)} elapsed  {duration(p.remaining)} left"
        tail = f" {steps}{psnr}{times}{p.extra}"
        fraction = self._fraction(p)
        if fraction is None:
            return f"{p.phase:8s}{tail}"[: columns - 1]
        width = max(10, min(40, columns - 1 - 16 - len(tail)))
        filled = int(round(width * fraction))
        bar = f"{p.phase:8s} {100 * fraction:3.0f}% [{'#' * filled}{'.' * (width - filled)}]"
        return (bar + tail)[: columns - 1]

    def __call__(self, p: Progress) -> None:
        if not self.enabled:
            return
        if self.tty:
            if self._drawn and p.phase != self._phase:
                click.echo("", err=True)  # the finished phase keeps its last line
            self._phase = p.phase
            columns = shutil.get_terminal_size((80, 24)).columns
            click.echo("\r\033[K" + self.bar_line(p, columns), err=True, nl=False)
            self._drawn = True
            return
        now = time.monotonic()
        if now - self._last < self.every:
            return
        self._last = now
        steps = f"{p.step}/{p.steps}" if p.steps else f"{p.step}"
        best = "" if p.best_psnr is None else f" (best {p.best_psnr:.2f})"  # a tiled fit has no one best
        psnr = "" if p.psnr is None else f"  PSNR {p.psnr:6.2f} dB{best}"
        left = "" if p.remaining is None else f", {duration(p.remaining)} left"
        click.echo(f"{p.phase:9s} step {steps}{psnr}  {duration(p.elapsed)} elapsed{left}{p.extra}", err=True)

    def done(self) -> None:
        if self.enabled and self._drawn:
            click.echo("", err=True)
            self._drawn = False


def print_notices(lines: list[str]) -> None:
    for line in lines:
        click.echo(f"inrcodec: note: {line}", err=True)


def print_record(as_json: bool, record: dict, human: str) -> None:
    if as_json:
        click.echo(json.dumps(record, indent=2, sort_keys=True))
    else:
        click.echo(human, err=True)


def limits_from(max_pixels: int | None, max_params: int | None = None, max_memory: int | None = None,
                max_work: float | None = None) -> Limits:  # fmt: skip
    """The limits the command-line flags ask for (defaults for those not given)."""
    given = {"--max-pixels": max_pixels, "--max-params": max_params, "--max-memory": max_memory,
             "--max-work": max_work}  # fmt: skip
    for flag, value in given.items():
        if value is not None and not (value > 0 and math.isfinite(value)):
            raise OptionError(f"{flag} must be a positive number, got {value}")
    changes = {}
    if max_pixels is not None:
        changes.update(max_input_pixels=max_pixels, max_output_pixels=max_pixels)
    if max_params is not None:
        changes.update(max_parameters=max_params)
    if max_memory is not None:
        changes.update(max_memory=max_memory << 20)
    if max_work is not None:  # billions of units; beyond 2^62 units is no limit at all
        changes.update(max_work=round(min(max_work * 1e9, 2.0**62)))
    return replace(DEFAULT_LIMITS, **changes)


def encode_limits(params: dict) -> Limits:
    """The limits of an encode: ``--max-pixels`` for its input (and the decode that checks it),
    ``--max-memory`` for the encoder's working set."""
    limits = limits_from(params.get("max_pixels"), max_memory=params.get("max_memory"))
    if params.get("max_memory") is None:
        return limits
    return replace(limits, max_memory=DEFAULT_LIMITS.max_memory, max_encode_memory=params["max_memory"] << 20)


def limits_from_params(params: dict) -> Limits:
    """:func:`limits_from` for a command's parameters (flags it lacks count as not given)."""
    return limits_from(*(params.get(k) for k in ("max_pixels", "max_params", "max_memory", "max_work")))


def limit_options(command):
    """The decode-side resource-limit flags; the defaults are Limits'."""
    d = DEFAULT_LIMITS
    for flag, kind, text in reversed((
        ("--max-pixels", int, f"Refuse outputs with more pixels than this [{d.max_output_pixels}]."),
        ("--max-params", int, f"Refuse models with more parameters than this [{d.max_parameters}]."),
        ("--max-memory", int, f"Refuse decodes needing more working memory, in MiB [{d.max_memory >> 20}]."),
        ("--max-work", float, f"Refuse decodes needing more work units (about a multiply-add each, some "
                              f"10^10 a second), in billions [{d.max_work / 1e9:.0f}]."),
    )):  # fmt: skip
        command = click.option(flag, type=kind, help=text)(command)
    return command


def image_options(params: dict) -> EncodeOptions:
    """The image encode options ``encode``'s parameters ask for (unset ones left to the model)."""
    return EncodeOptions(
        bpp=params.get("bpp"), size=params.get("size"), model=params.get("model") or EncodeOptions.model,
        effort=params["effort"], steps=params.get("steps"), time=params.get("seconds"), psnr=params.get("psnr"),
        seed=params["seed"], device=params["device"], threads=params["threads"], quant=params.get("quant"),
        depth=params.get("depth"), width=params.get("layer_width"), omega=params.get("omega"),
        checkpoint=params.get("checkpoint"), tile=params.get("tile"),
    )  # fmt: skip
