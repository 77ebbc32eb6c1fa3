"""The codec commands: encode, decode, info, demo."""

from __future__ import annotations

import json
import sys
import time
from dataclasses import replace
from pathlib import Path

import click

from .. import codec
from ..codec import EncodeOptions
from ..errors import OptionError
from ..fit import Progress
from ..io.files import check_output_path, write_bytes_atomic
from ..io.audio import is_audio_path
from ..io.image import image_format_for, read_image, write_image
from . import main
from .batch import batch_options, decode_batch_command, encode_batch_command, is_batch, refuse_batch_options


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


def _notices(lines: list[str]) -> None:
    for line in lines:
        click.echo(f"inrcodec: note: {line}", err=True)


def _emit(as_json: bool, record: dict, human: str) -> None:
    if as_json:
        click.echo(json.dumps(record, indent=2, sort_keys=True))
    else:
        click.echo(human, err=True)


def limits_from(max_pixels: int | None, max_params: int | None = None, max_memory: int | None = None,
                max_work: float | None = None) -> codec.Limits:  # fmt: skip
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
    return replace(codec.DEFAULT_LIMITS, **changes)


def limits_from_params(params: dict) -> codec.Limits:
    """:func:`limits_from` for a command's parameters (flags it lacks count as not given)."""
    return limits_from(*(params.get(k) for k in ("max_pixels", "max_params", "max_memory", "max_work")))


def limit_options(command):
    """The decode-side resource-limit flags; the defaults are codec.Limits'."""
    d = codec.DEFAULT_LIMITS
    for flag, kind, text in reversed((
        ("--max-pixels", int, f"Refuse outputs with more pixels than this [{d.max_output_pixels}]."),
        ("--max-params", int, f"Refuse models with more parameters than this [{d.max_parameters}]."),
        ("--max-memory", int, f"Refuse decodes needing more working memory, in MiB [{d.max_memory >> 20}]."),
        ("--max-work", float, f"Refuse decodes needing more multiply-adds, in billions [{d.max_work / 1e9:.0f}]."),
    )):  # fmt: skip
        command = click.option(flag, type=kind, help=text)(command)
    return command


@main.command()
@click.argument("input", nargs=-1, required=True, type=click.Path(dir_okay=True, path_type=Path))
@click.option("-o", "--output", type=click.Path(path_type=Path), help="Output .inr file [INPUT with .inr].")
@click.option("--bpp", type=float, help="Target bits per pixel (default 0.3).")
@click.option("--size", help="Target file size instead, e.g. 20KB.")
@click.option("--kbps", type=float, help="Audio: target kbit/s.")
@click.option("--model", help="Model family: grid (latent grids + tiny MLP), siren or fourier.  "
                              "[default: grid for images, siren for audio]")
@click.option("--effort", type=click.Choice(list(codec.EFFORTS)), default="default", show_default=True,
              help="Image encode effort: grid steps fast 400, default 1200, high 3000, max 8000 (siren: 20, 60, 300, 1200 s).")
@click.option("--steps", type=int, help="Fit for this many steps instead (deterministic).")
@click.option("--time", "seconds", type=float, help="Fit for this many seconds instead.")
@click.option("--psnr", type=float, help="Stop early once this PSNR (dB) is reached.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--device", default="cpu", show_default=True, help="cpu or cuda.")
@click.option("--threads", type=int, default=1, show_default=True, help="Torch threads for fitting.")
@click.option("--quant", type=click.Choice(["int", "fp16"]), default="int", show_default=True,
              help="Entropy-coded integer weights, or raw float16 (COIN).")
@click.option("--depth", type=int, help="Override the planned number of hidden layers.")
@click.option("--width", type=int, help="Override the planned layer width.")
@click.option("--omega", type=float, default=30.0, show_default=True, help="SIREN omega_0.")
@click.option("--max-pixels", type=int, help="Refuse inputs with more pixels than this.")
@click.option("--checkpoint", type=click.Path(dir_okay=False, path_type=Path),
              help="Save the fit's state here every 10 s; rerun the same command to resume.")
@batch_options
@click.option("--stack", type=click.IntRange(min=1), default=1, show_default=True,
              help="Batch: fit up to this many same-size images together in each job (siren, fourier).")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON record on stdout.")
@click.option("--quiet", is_flag=True, help="No progress on stderr.")
@click.pass_context
def encode(ctx, input, output, bpp, size, kbps, model, effort, steps, seconds, psnr, seed, device, threads,
           quant, depth, width, omega, max_pixels, checkpoint, as_json, quiet, **batch):  # fmt: skip
    """Encode an image or audio file into an .inr file.

    Several images, or -d FOLDER, make a batch: FOLDER/<stem>.inr for each, skipping outputs
    already done, a summary table at the end, and a non-zero exit if any file failed.
    """
    if is_batch(ctx.params):
        return encode_batch_command(ctx.params)
    refuse_batch_options(ctx)
    input = ctx.params["input"] = input[0]
    output = output or input.with_suffix(".inr")
    check_output_path(output, protect=[input])
    if checkpoint is not None:
        check_output_path(checkpoint, protect=[input, output])
    if is_audio_path(input):
        from .audio import encode_audio_command

        return encode_audio_command(ctx.params, output)
    if kbps is not None:
        raise OptionError("--kbps is for audio; use --bpp or --size for images")
    limits = limits_from(max_pixels)
    img = read_image(input, limits.max_input_pixels)
    opts = EncodeOptions(bpp=bpp, size=size, model=model or EncodeOptions.model, effort=effort, steps=steps, time=seconds, psnr=psnr,
                         seed=seed, device=device, threads=threads, quant=quant, depth=depth,
                         width=width, omega=omega, checkpoint=checkpoint)  # fmt: skip
    bar = ProgressLine(enabled=not quiet)
    try:
        result = codec.encode_image(img, opts, progress=bar, limits=limits)
    finally:
        bar.done()
    write_bytes_atomic(output, result.data, protect=[input])
    _notices(result.notices)
    n_px = img.width * img.height
    record = {
        "input": str(input),
        "output": str(output),
        "bytes": len(result.data),
        "bpp": 8 * len(result.data) / n_px,
        "psnr": result.psnr,
        "steps": result.steps,
        "encode_seconds": result.seconds,
        "width": img.width,
        "height": img.height,
    }
    _emit(as_json, record,
          f"{output}: {record['bytes']} bytes, {record['bpp']:.4f} bpp, PSNR {result.psnr:.2f} dB, "
          f"{result.steps} steps in {result.seconds:.1f} s")  # fmt: skip


@main.command()
@click.argument("input", nargs=-1, required=True, type=click.Path(dir_okay=True, path_type=Path))
@click.option("-o", "--output", type=click.Path(path_type=Path),
              help="Output image; the format follows the extension (.png, .jpg, .tif, ...).")
@click.option("--scale", type=float, help="Decode at this multiple of the stored size.")
@click.option("--width", type=int, help="Output width (height follows the aspect ratio unless given).")
@click.option("--height", type=int, help="Output height.")
@click.option("--rate", type=int, help="Audio: output sample rate in Hz [the original].")
@click.option("--device", default="cpu", show_default=True)
@click.option("--threads", type=int, help="Torch threads for decoding [torch default].")
@limit_options
@batch_options
@click.option("--format", "fmt", default="png", show_default=True, help="Batch: the output images' extension.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON record on stdout.")
@click.option("--quiet", is_flag=True, help="Batch: no progress bar on stderr.")
@click.pass_context
def decode(ctx, input, output, scale, width, height, rate, device, threads, max_pixels, max_params, max_memory,
           max_work, as_json, **batch):  # fmt: skip
    """Decode an .inr file to an image at any resolution, or to audio at any sample rate.

    Several inputs, or -d FOLDER, make a batch of images: FOLDER/<stem>.<format> for each,
    skipping outputs already done, with a summary table and a non-zero exit if any file failed.
    """
    if is_batch(ctx.params):
        return decode_batch_command(ctx.params)
    refuse_batch_options(ctx)
    input = ctx.params["input"] = input[0]
    if output is None:
        raise OptionError("give -o OUTPUT (or -d FOLDER to decode into a folder)")
    if codec.peek_modality(input) == "audio":
        from .audio import decode_audio_command

        return decode_audio_command(ctx.params)
    if rate is not None:
        raise OptionError("--rate is for audio files; this .inr holds an image")
    image_format_for(output)
    check_output_path(output, protect=[input])
    if scale is not None and (width is not None or height is not None):
        raise OptionError("give --scale or --width/--height, not both")
    start = time.perf_counter()
    img = codec.decode_image(input, scale=scale, width=width, height=height, device=device,
                             threads=threads, limits=limits_from_params(ctx.params))  # fmt: skip
    seconds = time.perf_counter() - start
    _notices(write_image(output, img.pixels, img.mode, protect=(input,)))
    record = {"input": str(input), "output": str(output), "width": img.width,
              "height": img.height, "mode": img.mode, "decode_seconds": seconds}  # fmt: skip
    _emit(as_json, record, f"{output}: {img.width}x{img.height} {img.mode}, decoded in {seconds:.2f} s")


@main.command()
@click.argument("input", type=click.Path(dir_okay=True, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the fields as JSON.")
def info(input, as_json):
    """Show an .inr file's header fields and size statistics."""
    record = codec.describe(input)
    if as_json:
        click.echo(json.dumps(record, indent=2, sort_keys=True))
        return
    for key, value in record.items():
        if key == "tensors":
            value = f"{len(value)} coded tensors"
        elif isinstance(value, float):
            value = f"{value:.4f}"
        click.echo(f"{key:28s} {value}")


@main.command()
@click.option("-o", "--output-dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("inrcodec-demo"), show_default=True)
@click.option("--bpp", type=float, default=0.3, show_default=True)
@click.option("--time", "seconds", type=float, help="Encode time budget in seconds [default effort].")
@click.option("--model", default="grid", show_default=True)
def demo(output_dir, bpp, seconds, model):
    """Encode scikit-image's astronaut, then decode it at 1x and 4x, with a side-by-side figure."""
    from ..demo import run_demo

    output_dir.mkdir(parents=True, exist_ok=True)
    bar = ProgressLine()
    try:
        summary = run_demo(output_dir, bpp=bpp, seconds=seconds, model=model, progress=bar)
    finally:
        bar.done()
    for line in summary:
        click.echo(line)

