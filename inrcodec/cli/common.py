"""What the commands share: progress on stderr, notices, records on stdout, the limit flags, and
the encode options their parameters ask for."""

from __future__ import annotations

import json
import sys
import time
from dataclasses import replace

import click

from ..errors import OptionError
from ..fit import Progress
from ..limits import DEFAULT_LIMITS, Limits
from ..options import EncodeOptions


class ProgressLine:
    """Renders fit progress on stderr: one rewritten line on a terminal, sparse lines otherwise."""

    def __init__(self, enabled: bool = True, every: float = 5.0) -> None:
        self.enabled = enabled
        self.tty = sys.stderr.isatty()
        self.every = every
        self._last = -1e9
        self._width = 0

    def __call__(self, p: Progress) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if not self.tty and now - self._last < self.every:
            return
        self._last = now
        steps = f"{p.step}/{p.steps}" if p.steps else f"{p.step}"
        psnr = "" if p.psnr is None else f"  PSNR {p.psnr:6.2f} dB (best {p.best_psnr:.2f})"
        left = "" if p.remaining is None else f", {p.remaining:.0f} s left"
        line = f"{p.phase:9s} step {steps}{psnr}  {p.elapsed:.0f} s{left}{p.extra}"
        if self.tty:
            click.echo("\r" + line.ljust(self._width), err=True, nl=False)
            self._width = len(line)
        else:
            click.echo(line, err=True)

    def done(self) -> None:
        if self.enabled and self.tty and self._width:
            click.echo("", err=True)
            self._width = 0


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
        if value is not None and not value > 0:
            raise OptionError(f"{flag} must be positive, got {value}")
    changes = {}
    if max_pixels is not None:
        changes.update(max_input_pixels=max_pixels, max_output_pixels=max_pixels)
    if max_params is not None:
        changes.update(max_parameters=max_params)
    if max_memory is not None:
        changes.update(max_memory=max_memory << 20)
    if max_work is not None:
        changes.update(max_work=round(max_work * 1e9))
    return replace(DEFAULT_LIMITS, **changes)


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
        ("--max-work", float, f"Refuse decodes needing more multiply-adds, in billions [{d.max_work / 1e9:.0f}]."),
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
        checkpoint=params.get("checkpoint"),
    )  # fmt: skip
