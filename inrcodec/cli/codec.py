"""The codec commands: encode, decode, info, demo."""

from __future__ import annotations

import json
import time
from pathlib import Path

import click

from .. import codec, decoder
from ..errors import OptionError
from ..io.audio import is_audio_path
from ..io.files import check_output_path, write_bytes_atomic
from ..io.image import image_format_for, read_image, write_image
from ..options import EFFORTS
from . import main
from .audio import decode_audio_command, encode_audio_command
from .batch import batch_options, decode_batch_command, encode_batch_command, is_batch, refuse_batch_options
from .common import (
    ProgressLine,
    image_options,
    limit_options,
    limits_from,
    limits_from_params,
    print_notices,
    print_record,
)


@main.command()
@click.argument("input", nargs=-1, required=True, type=click.Path(dir_okay=True, path_type=Path))
@click.option("-o", "--output", type=click.Path(path_type=Path), help="Output .inr file [INPUT with .inr].")
@click.option("--bpp", type=float, help="Target bits per pixel (default 0.3).")
@click.option("--size", help="Target file size instead, e.g. 20KB.")
@click.option("--kbps", type=float, help="Audio: target kbit/s.")
@click.option(
    "--model",
    help="Model family: grid (latent grids + tiny MLP), siren or fourier.  [default: grid for images, siren for audio]",
)
@click.option(
    "--effort",
    type=click.Choice(EFFORTS),
    default="default",
    show_default=True,
    help="Image encode effort: grid steps fast 400, default 1200, high 3000, max 8000 (siren: 20, 60, 300, 1200 s).",
)
@click.option("--steps", type=int, help="Fit for this many steps instead (deterministic).")
@click.option("--time", "seconds", type=float, help="Fit for this many seconds instead.")
@click.option("--psnr", type=float, help="Stop early once this PSNR (dB) is reached.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--device", default="cpu", show_default=True, help="cpu or cuda.")
@click.option("--threads", type=int, default=1, show_default=True, help="Torch threads for fitting.")
@click.option(
    "--quant",
    type=click.Choice(["int", "fp16"]),
    help="siren, fourier: entropy-coded integer weights, or raw float16 (COIN).  [default: int]",
)
@click.option("--depth", type=int, help="siren, fourier: hidden layers instead of the planned number.")
@click.option("--layer-width", "layer_width", type=int, help="siren, fourier: layer width instead of the planned one.")
@click.option(
    "--omega", type=float, help="siren: omega_0.  [default: 30 for images, from the segment length for audio]"
)
@click.option("--max-pixels", type=int, help="Refuse inputs with more pixels than this.")
@click.option(
    "--checkpoint",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Save the fit's state here every 10 s; rerun the same command to resume.",
)
@batch_options
@click.option(
    "--stack",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Batch: fit up to this many same-size images together in each job (siren, fourier).",
)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON record on stdout.")
@click.option("--quiet", is_flag=True, help="No progress on stderr.")
@click.pass_context
def encode(ctx, input, output, bpp, size, kbps, model, effort, steps, seconds, psnr, seed, device, threads,
           quant, depth, layer_width, omega, max_pixels, checkpoint, as_json, quiet, **batch):  # fmt: skip
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
        return encode_audio_command(ctx.params, output)
    if kbps is not None:
        raise OptionError("--kbps is for audio; use --bpp or --size for images")
    limits = limits_from(max_pixels)
    opts = codec.checked_options(image_options(ctx.params))
    img = read_image(input, limits.max_input_pixels)
    bar = ProgressLine(enabled=not quiet)
    try:
        result = codec.encode_image(img, opts, progress=bar, limits=limits)
    finally:
        bar.done()
    write_bytes_atomic(output, result.data, protect=[input])
    print_notices(result.notices)
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
    print_record(as_json, record,
          f"{output}: {record['bytes']} bytes, {record['bpp']:.4f} bpp, PSNR {result.psnr:.2f} dB, "
          f"{result.steps} steps in {result.seconds:.1f} s")  # fmt: skip


@main.command()
@click.argument("input", nargs=-1, required=True, type=click.Path(dir_okay=True, path_type=Path))
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    help="Output image; the format follows the extension (.png, .jpg, .tif, ...).",
)
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
    if decoder.peek_modality(input) == "audio":
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
    print_notices(write_image(output, img.pixels, img.mode, protect=(input,)))
    record = {"input": str(input), "output": str(output), "width": img.width,
              "height": img.height, "mode": img.mode, "decode_seconds": seconds}  # fmt: skip
    print_record(as_json, record, f"{output}: {img.width}x{img.height} {img.mode}, decoded in {seconds:.2f} s")


@main.command()
@click.argument("input", type=click.Path(dir_okay=True, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the fields as JSON.")
def info(input, as_json):
    """Show an .inr file's header fields and size statistics."""
    record = decoder.describe(input)
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
@click.option(
    "-o",
    "--output-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("inrcodec-demo"),
    show_default=True,
)
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
