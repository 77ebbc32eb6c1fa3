"""The application commands: upscale, denoise, inpaint (images and audio).

As everywhere in the CLI: parse, call :mod:`inrcodec.apps`, write, print. Every output path is
checked before any fitting starts, and written atomically, so an error leaves no file behind.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import click

from .. import apps
from ..apps.common import FAMILIES, METHODS, AppResult, FitOptions
from ..apps.denoise import check_sigma
from ..apps.gaps import gap_ranges
from ..apps.upscale import check_scale
from ..errors import OptionError
from ..io.audio import is_audio_path, output_subtype, read_audio, write_audio
from ..io.files import check_output_path
from ..io.image import image_format_for, read_image, write_image
from . import main
from .common import OutputFile, ProgressLine, print_notices, print_record

#: the output mode once an alpha channel that marked missing pixels is consumed
_WITHOUT_ALPHA = {"LA": "L", "RGBA": "RGB"}


def method_option(text: str):
    return click.option("--method", type=click.Choice(METHODS), default=METHODS[0], show_default=True, help=text)


def fit_options(func):
    """The knobs every application command shares (:class:`~inrcodec.apps.FitOptions`)."""
    options = [
        click.option(
            "--model", type=click.Choice(FAMILIES), help="Network family [per command, see docs/applications.md]."
        ),
        click.option("--omega", type=float, help="SIREN first-layer omega_0 [scaled to the image size]."),
        click.option("--width", type=int, help="Hidden layer width."),
        click.option("--depth", type=int, help="Hidden layers."),
        click.option("--first-level", type=int, help="grid: finest latent level (2^level pixels per cell)."),
        click.option("--frequencies", type=int, help="fourier: number of Fourier-feature frequencies."),
        click.option("--fourier-ratio", type=float, help="fourier: ratio between successive frequencies (the scale)."),
        click.option(
            "--weight-decay", type=float, help="siren/fourier: L1 weight penalty (pulls toward simpler functions)."
        ),
        click.option("--lr", type=float, help="Adam learning rate."),
        click.option("--steps", type=int, help="Fit for at most this many steps (deterministic)."),
        click.option(
            "--time",
            "seconds",
            type=float,
            help="Fit for at most this many seconds [60 per image; audio gaps: 600 steps].",
        ),
        click.option("--holdout", type=float, help="Share of known samples held out for early stopping."),
        click.option("--patience", type=int, help="Evaluations without held-out improvement before stopping."),
        click.option("--seed", type=int, default=0, show_default=True),
        click.option("--threads", type=int, default=1, show_default=True, help="Torch threads."),
        click.option("--device", default="cpu", show_default=True, help="cpu or cuda."),
        click.option("--json", "as_json", is_flag=True, help="Print a JSON record on stdout."),
        click.option("--quiet", is_flag=True, help="No progress on stderr."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _options(params: dict[str, Any]) -> FitOptions:
    names = ("model", "omega", "width", "depth", "first_level", "frequencies", "fourier_ratio",
             "weight_decay", "lr", "steps", "seconds", "holdout", "patience", "seed", "threads", "device")  # fmt: skip
    return FitOptions(**{n: params[n] for n in names}).validated()


def _number(text: str, name: str) -> float:
    """A command-line number, or a one-line OptionError."""
    try:
        value = float(text)
    except ValueError:
        raise OptionError(f"--{name} must be a number, got '{text}'") from None
    if not math.isfinite(value):
        raise OptionError(f"--{name} must be a finite number, got '{text}'")
    return value


def _fit(params: dict[str, Any], call) -> AppResult:
    """Run an application with a progress line on stderr."""
    bar = ProgressLine(enabled=not params["quiet"])
    try:
        return call(bar)
    finally:
        bar.done()


def _report(params: dict[str, Any], result: AppResult, output: Path, summary: str) -> None:
    print_notices(result.notices)
    record = {
        "input": str(params["input"]),
        "output": str(output),
        "steps": result.steps,
        "seconds": result.seconds,
        "stop_reason": result.stop_reason,
        "held_out_db": result.score,
        "settings": result.settings,
    }
    how = f"{result.steps} steps" if result.steps else "no fitting"
    print_record(params["as_json"], record,
          f"{output}: {summary}, {how} in {result.seconds:.1f} s ({result.stop_reason})")  # fmt: skip


def _image_output(output: Path, *inputs: Path | None) -> None:
    image_format_for(output)
    check_output_path(output, protect=[p for p in inputs if p is not None])


@main.command(short_help="Super-resolution: fit an image, sample it on a denser grid.")
@click.argument("input", type=click.Path(dir_okay=True, path_type=Path))
@click.option("-o", "--output", type=OutputFile(), required=True, help="Output image.")
@click.option("--scale", "scale_text", default="4", show_default=True, help="Upscaling factor, 1-16.")
@method_option("learned: the shipped local implicit function (no fitting); fit: a network fitted to this image.")
@fit_options
def upscale(input: Path, output: Path, scale_text: str, method: str, **params) -> None:
    """Super-resolution: the image as a continuous function, sampled on a denser grid.

    By default a local implicit function learned on photos (shipped with inrcodec) maps the
    small image to a continuous function; --method fit fits a network to this image alone.
    """
    params["input"] = input
    scale = _number(scale_text, "scale")
    opts = _options(params)
    _image_output(output, input)
    img = read_image(input)
    check_scale(scale, img.height, img.width)
    result = _fit(params, lambda bar: apps.run_upscale(img, scale, method=method, options=opts, progress=bar))
    print_notices(write_image(output, result.output, img.mode, protect=(input,)))
    h, w = result.output.shape[:2]
    _report(params, result, output, f"{img.width}x{img.height} -> {w}x{h}")


@main.command(short_help="Denoise an image: a learned prior, or a fit stopped before the noise.")
@click.argument("input", type=click.Path(dir_okay=True, path_type=Path))
@click.option("-o", "--output", type=OutputFile(), required=True, help="Output image.")
@click.option(
    "--sigma",
    "sigma_text",
    default="auto",
    show_default=True,
    help="Noise standard deviation on the 0-255 scale, or 'auto' to estimate it.",
)
@method_option("learned: the shipped noise-level-conditioned local implicit function; fit: a fit stopped early.")
@fit_options
def denoise(input: Path, output: Path, sigma_text: str, method: str, **params) -> None:
    """Denoising: by default a local implicit function learned on photos, given the noise level;
    --method fit fits a network to the noisy pixels and stops, on held-out pixels, before it
    reaches the noise."""
    params["input"] = input
    sigma = None if sigma_text.strip().lower() == "auto" else check_sigma(_number(sigma_text, "sigma"))
    opts = _options(params)
    _image_output(output, input)
    img = read_image(input)
    result = _fit(params, lambda bar: apps.run_denoise(img, sigma, method=method, options=opts, progress=bar))
    print_notices(write_image(output, result.output, img.mode, protect=(input,)))
    _report(params, result, output, f"denoised at sigma {result.settings['sigma']:.2f}")


@main.command(short_help="Fill missing pixels (learned prior or fit) or audio dropouts (fit).")
@click.argument("input", type=click.Path(dir_okay=True, path_type=Path))
@click.option("-o", "--output", type=OutputFile(), required=True, help="Output image or audio file.")
@click.option(
    "--mask",
    type=click.Path(dir_okay=True, path_type=Path),
    help="Image: white where pixels are missing [the alpha channel, 0 = missing].",
)
@click.option("--gaps", help="Audio: missing stretches in seconds, e.g. 1.2-1.3,4.0-4.05.")
@click.option("--context", type=float, help="Audio: least seconds of known audio fitted each side of a gap [0.05].")
@click.option("--max-hz", type=float, help="Audio: top starting frequency of the fit, sets omega_0 [4000].")
@click.option(
    "--method",
    type=click.Choice(METHODS),
    help="Images: learned (the shipped inpainting function, the default) or fit. Audio gaps are always fitted.",
)
@fit_options
def inpaint(input: Path, output: Path, mask: Path | None, gaps: str | None, context: float | None,
            max_hz: float | None, method: str | None, **params) -> None:  # fmt: skip
    """Fill missing pixels (mask or alpha) with a learned prior or a fit to the known ones, or
    audio dropouts (--gaps) from fits to the audio around them."""
    params["input"] = input
    opts = _options(params)
    if is_audio_path(input):
        if method == "learned":
            raise OptionError("--method learned is for images: audio gaps are filled by fits (leave out --method)")
        return _inpaint_audio(params, input, output, mask, gaps, context, max_hz, opts)
    if gaps is not None or context is not None or max_hz is not None:
        raise OptionError("--gaps, --context and --max-hz are for audio; give an image a --mask")
    _image_output(output, input, mask)
    img = read_image(input)
    mask_img = read_image(mask) if mask is not None else None
    result = _fit(params, lambda bar: apps.run_inpaint(img, mask_img, method=method or METHODS[0], options=opts,
                                                       progress=bar))  # fmt: skip
    mode = img.mode if mask is not None else _WITHOUT_ALPHA.get(img.mode, img.mode)
    print_notices(write_image(output, result.output, mode, protect=(input,) + ((mask,) if mask else ())))
    _report(params, result, output, f"{100 * result.settings['missing']:.1f} % of pixels filled")


def _inpaint_audio(params, input, output, mask, gaps, context, max_hz, opts) -> None:
    if mask is not None:
        raise OptionError("--mask is for images; give audio --gaps START-END,... in seconds")
    if gaps is None:
        raise OptionError("audio needs --gaps START-END,... (seconds), e.g. --gaps 1.2-1.3")
    gap_list = apps.parse_gaps(gaps)
    gap_opts = apps.GapOptions(
        **{k: v for k, v in (("min_context", context), ("max_hz", max_hz)) if v is not None}
    ).validated()
    output_subtype(output, None)  # an unwritable extension fails before any fitting
    check_output_path(output, protect=[input])
    clip = read_audio(input)
    gap_ranges(gap_list, clip.frames, clip.rate)  # outside the clip: fail now
    result = _fit(params, lambda bar: apps.run_inpaint_audio(
        clip.samples, clip.rate, gap_list, options=opts, gap_options=gap_opts, progress=bar))  # fmt: skip
    result.notices = clip.notices + result.notices
    print_notices(write_audio(output, [result.output], clip.rate, clip.channels, subtype=clip.subtype, protect=[input]))
    filled = sum(b - a for a, b in result.settings["gaps"])
    _report(params, result, output, f"{len(result.settings['gaps'])} gap(s), {1000 * filled:.0f} ms filled")
