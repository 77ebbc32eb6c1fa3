"""The codec commands: encode, decode, info, demo."""

from __future__ import annotations

import json
import time
from dataclasses import replace
from pathlib import Path

import click

from .. import codec, decoder
from ..coords import CONVENTION_PIXEL_CENTRES
from ..errors import OptionError
from ..executors import make_executor
from ..io.audio import is_audio_path
from ..io.files import check_output_path, write_bytes_atomic
from ..io.image import image_format_for, read_image, write_image
from ..limits import DEFAULT_LIMITS
from ..options import EFFORTS
from . import main
from .audio import decode_audio_command, encode_audio_command
from .batch import (
    TILE_FLAGS,
    batch_options,
    decode_batch_command,
    encode_batch_command,
    is_batch,
    refuse_batch_options,
)
from .common import (
    OutputFile,
    ProgressLine,
    encode_limits,
    image_options,
    limit_options,
    limits_from_params,
    print_notices,
    print_record,
)


@main.command()
@click.argument("input", nargs=-1, required=True, type=click.Path(dir_okay=True, path_type=Path))
@click.option(
    "-o",
    "--output",
    type=OutputFile(),
    help="Output file, named *.inr (others are refused) [INPUT with .inr].",
)
@click.option("--bpp", type=float, help="Target bits per pixel (default 0.3).")
@click.option("--size", help="Target file size instead, e.g. 20KB.")
@click.option("--kbps", type=float, help="Audio: target kbit/s.")
@click.option(
    "--model",
    help="Model family: grid (images: latent grids + tiny MLP; audio: a latent grid over time and frequency), "
    "siren or fourier (audio: segments of them).  [default: grid]",
)
@click.option(
    "--effort",
    type=click.Choice(EFFORTS),
    default="default",
    show_default=True,
    help="Encode effort: grid steps fast 400, default 1200, high 3000, max 8000 (siren: 20, 60, 300, 1200 s; "
    "audio grid: 100, 400, 1500, 4000 context steps; audio siren: 600, 2000, 6000, 20000 steps per 7.5 s).",
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
@click.option(
    "--tile",
    type=click.IntRange(min=0),
    help="grid: fit tiles of at most this many pixels a side (0: one grid however large).  "
    "[default: 768-pixel tiles above 1 megapixel]",
)
@click.option("--max-pixels", type=int, help="Refuse inputs with more pixels than this.")
@click.option(
    "--max-memory",
    type=int,
    help=f"Refuse encodes whose estimated working set is larger, in MiB [{DEFAULT_LIMITS.max_encode_memory >> 20}].",
)
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
           quant, depth, layer_width, omega, tile, max_pixels, max_memory, checkpoint, as_json, quiet,
           **batch):  # fmt: skip
    """Encode an image or audio file into an .inr file.

    The output must be named *.inr: an .inr file under another extension would mislead every
    program that opens it. For an image, a target (--bpp, --size) below the smallest file the
    model can write (its header and network) is refused before fitting, naming that size.

    Several images, or -d FOLDER, make a batch: FOLDER/<stem>.inr for each, skipping outputs
    already done, a summary table at the end, and a non-zero exit if any file failed. A single
    large image is fitted as tiles, which --jobs (or --executor ray) fits in parallel.
    """
    if is_batch(ctx.params):
        return encode_batch_command(ctx.params)
    refuse_batch_options(ctx, allow=() if is_audio_path(input[0]) else TILE_FLAGS)
    input = ctx.params["input"] = input[0]
    output = output or input.with_suffix(".inr")
    check_output_path(output, protect=[input])
    if output.suffix.lower() != ".inr":
        then = f" (decode writes {output.suffix} files)" if output.suffix else ""
        raise OptionError(f"encode writes .inr files: use -o {output.with_suffix('.inr')}{then}")
    if checkpoint is not None:
        check_output_path(checkpoint, protect=[input, output])
    if is_audio_path(input):
        return encode_audio_command(ctx.params, output)
    if kbps is not None:
        raise OptionError("--kbps is for audio; use --bpp or --size for images")
    limits = encode_limits(ctx.params)
    jobs = batch["jobs"] if batch["executor"] == "local" and batch["jobs"] > 1 else None
    opts = codec.checked_options(replace(image_options(ctx.params), jobs=jobs))
    img = read_image(input, limits.max_input_pixels)
    bar = ProgressLine(enabled=not quiet)
    try:
        if batch["executor"] == "ray":  # the tiles go to the cluster
            codec.refuse_parallel(img, opts, executor=True)  # before Ray starts
            with make_executor(1, threads, kind="ray", address=batch["address"]) as pool:
                result = codec.encode_image(img, opts, progress=bar, limits=limits, executor=pool)
        else:
            if batch["address"] is not None:
                raise OptionError("--address is for --executor ray")
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


@main.command(short_help="Decode an .inr file to an image of any size, or to audio.")
@click.argument("input", nargs=-1, required=True, type=click.Path(dir_okay=True, path_type=Path))
@click.option(
    "-o",
    "--output",
    type=OutputFile(),
    help="Output image; the format follows the extension (.png, .jpg, .tif, ...).",
)
@click.option("--scale", type=float, help="Decode at this multiple of the stored size.")
@click.option("--width", type=int, help="Output width (height follows the aspect ratio unless given).")
@click.option("--height", type=int, help="Output height.")
@click.option("--rate", type=int, help="Audio: output sample rate in Hz [the original].")
@click.option(
    "--sr",
    type=click.Choice(codec.SR_METHODS),
    default="none",
    show_default=True,
    help="Images above the stored size: none samples the file's function there; learned samples it at the "
    "stored size and refines that with the shipped learned super-resolution (docs/applications.md).",
)
@click.option("--device", default="cpu", show_default=True)
@click.option("--threads", type=int, help="Torch threads for decoding [torch default].")
@limit_options
@batch_options
@click.option("--format", "fmt", default="png", show_default=True, help="Batch: the output images' extension.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON record on stdout.")
@click.option("--quiet", is_flag=True, help="Batch: no progress bar on stderr.")
@click.pass_context
def decode(ctx, input, output, scale, width, height, rate, sr, device, threads, max_pixels, max_params, max_memory,
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
    fmt = image_format_for(output)
    check_output_path(output, protect=[input])
    if scale is not None and (width is not None or height is not None):
        raise OptionError("give --scale or --width/--height, not both")
    start = time.perf_counter()
    img = codec.decode_image(input, scale=scale, width=width, height=height, device=device,
                             threads=threads, limits=limits_from_params(ctx.params), write_as=fmt, sr=sr)  # fmt: skip
    seconds = time.perf_counter() - start
    print_notices(write_image(output, img.pixels, img.mode, protect=(input,)))
    record = {"input": str(input), "output": str(output), "width": img.width,
              "height": img.height, "mode": img.mode, "decode_seconds": seconds}  # fmt: skip
    print_record(as_json, record, f"{output}: {img.width}x{img.height} {img.mode}, decoded in {seconds:.2f} s")


@main.command(short_help="Describe an .inr file: signal, model, rate target, bytes.")
@click.argument("input", type=click.Path(dir_okay=True, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the raw header fields and statistics as JSON.")
def info(input, as_json):
    """Describe an .inr file: what it holds, the model and its architecture, the rate target
    and how close the file came, and where its bytes go.

    --json prints the raw fields (arch, target_value, coded tensors, ...) instead.
    """
    record = decoder.describe(input)
    if as_json:
        click.echo(json.dumps(record, indent=2, sort_keys=True))
        return
    for label, text in info_lines(record):
        click.echo(f"{label:18s}{text}" if label else text)


#: info's fields that :func:`info_lines` shows under names of its own (or in no line)
_SHOWN = {
    "format_version", "bytes", "header_bytes", "payload_bytes", "model", "arch", "coords", "target", "target_value",
    "modality", "width", "height", "mode", "bit_depth", "bpp", "frames", "rate", "channels", "subtype", "format",
    "duration", "kbps", "parameters", "bits_per_weight", "fixed_width_bits_per_weight", "tensors",
    "context_scheme", "context_hidden", "latent_levels", "synthesis_layers", "activation", "upsampling",
    "depth", "layer_width", "omega", "hidden_omega", "frequencies", "frequency_ratio", "segments", "overlap",
    "segment_model", "tiles", "tile_margin", "tile_heights", "tile_widths", "hop", "latent_frames", "mid_side", "step",
}  # fmt: skip


def _target(record: dict) -> str:
    """The rate target as the user gave it, and how far the file is from it."""
    kind, value = record["target"], record["target_value"]
    if kind == "bpp":
        goal, reached, unit = value / 1e4, record.get("bpp"), "bpp"
    elif kind == "kbps":
        goal, reached, unit = value / 1e3, record.get("kbps"), "kbps"
    elif kind == "bytes":
        goal, reached, unit = value, record["bytes"], "bytes"
    else:
        return "none (a fixed rate-distortion trade-off)"
    text = f"{goal:g} {unit}"
    if reached is not None and goal > 0:
        off = 100 * (reached / goal - 1)
        text += f" (this file is {abs(off):.1f} % {'over' if off > 0 else 'under'})" if abs(off) >= 0.05 else " (met)"
    return text


def _network(record: dict) -> str:
    """A coordinate network's shape: depth x width, and its omegas or Fourier features."""
    text = f"{record['depth']} hidden layers of {record['layer_width']}"
    if "omega" in record:
        omega = f"omega {record['omega']:g}"
        if record.get("hidden_omega") not in (None, record["omega"]):
            omega += f" (hidden layers {record['hidden_omega']:g})"
        return f"{text}, sine activations, {omega}"
    if "frequencies" in record:
        return f"{text}, ReLU, on {record['frequencies']} Fourier frequencies (ratio {record['frequency_ratio']:g})"
    return text


def info_lines(record: dict) -> list[tuple[str, str]]:
    """``inrcodec info``'s report: (label, text) lines from :func:`inrcodec.decoder.describe`'s
    record; fields it does not know (a newer family's) follow under their own names."""
    lines = []
    if record["modality"] == "image":
        signal = f"image {record['width']}x{record['height']} {record['mode']}, {record['bit_depth']}-bit"
        rate = f"{record['bpp']:.4f} bpp"
    else:
        ch = record["channels"]
        signal = (f"audio {record['duration']:.2f} s, {record['rate']} Hz, {ch} channel{'s' if ch > 1 else ''}, "
                  f"{record['subtype']} {record['format']} ({record['frames']} frames)")  # fmt: skip
        rate = f"{record['kbps']:.2f} kbps"
    lines.append(("holds", signal))
    lines.append(("size", f"{record['bytes']} bytes, {rate}"))
    lines.append(("target", _target(record)))
    framing = record["bytes"] - record["header_bytes"] - record["payload_bytes"]
    lines.append(("bytes", f"header {record['header_bytes']}, payload {record['payload_bytes']}, framing {framing}"))
    model = record["model"]
    if record["modality"] == "audio" and model == "grid":
        model = "audio grid"
    lines.append(("model", {"audio grid": "grid (a latent grid over time and frequency, a context model and a "
                                          "lapped cosine synthesis)",
                            "grid": "grid (latent grids, a context model and a synthesis MLP)",
                            "siren": "siren (an MLP with sine activations)",
                            "fourier": "fourier (a ReLU MLP on Fourier features)",
                            "segments": "segments (one coordinate network per stretch of time)",
                            "tiled": "tiled (a latent grid per tile, cross-faded where tiles overlap)"}.get(model, model)))  # fmt: skip
    if "tiles" in record:
        (ty, tx), (h0, h1), (w0, w1) = record["tiles"], record["tile_heights"], record["tile_widths"]
        lines.append(("  tiles", f"{ty} x {tx}, {w0}-{w1} x {h0}-{h1} pixels each, overlapping by "
                                 f"{2 * record['tile_margin']} pixels; each tile:"))  # fmt: skip
    if "latent_levels" in record:
        levels = record["latent_levels"]
        sizes = ", ".join(f"{v['width']}x{v['height']}x{v['channels']}" for v in levels)
        finest = "full" if levels[0]["level"] == 0 else f"1/{2 ** levels[0]['level']}"
        text = f"{len(levels)}, the finest at {finest} resolution: {sizes} (width x height x channels)"
        lines.append(("  latent levels", text))
        layers = " -> ".join(map(str, record["synthesis_layers"]))
        lines.append(("  synthesis", f"{layers}, {record['activation']}, {record['upsampling']} upsampling"))
        lines.append(("  context", f"{record['context_scheme']} scheme, {record['context_hidden']} hidden units"))
    if "hop" in record:
        stereo = ", mid and side" if record["mid_side"] else ""
        lines.append(("  latents", f"{record['latent_frames']} frames of {record['hop']} frequencies per channel{stereo}, "
                                   f"step {record['step']:.4g}"))  # fmt: skip
        lines.append(("  context", f"the previous two frames, {record['context_hidden']} hidden units"))
    if "segments" in record:
        lines.append(("  segments", f"{record['segments']} {record['segment_model']} networks, "
                                    f"overlapping by {100 * record['overlap']:.1f} % of a segment"))  # fmt: skip
    if "depth" in record:
        lines.append(("  network", ("each " if "segments" in record else "") + _network(record)))
    lines.append(("  parameters", f"{record['parameters']}, {record['bits_per_weight']:.2f} bits each "
                                  f"({record['fixed_width_bits_per_weight']:.2f} at a fixed width per tensor)"))  # fmt: skip
    lines.append(("  coded tensors", str(len(record["tensors"]))))
    centres = record["coords"] == CONVENTION_PIXEL_CENTRES
    coords = "coordinates at sample centres" if centres else f"coordinate convention {record['coords']}"
    lines.append(("format", f"{record['format_version']}, {coords}"))
    for key, value in record.items():
        if key not in _SHOWN:
            lines.append((key, f"{value:.4f}" if isinstance(value, float) else str(value)))
    return lines


@main.command(short_help="Encode a sample photo, decode it, compare with JPEG and WebP.")
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
    """Encode scikit-image's astronaut, decode it at 1x and 4x, and compare it with JPEG (optimised)
    and WebP (method 6) at the same size, in numbers and in a side-by-side figure."""
    from ..demo import run_demo

    output_dir.mkdir(parents=True, exist_ok=True)
    bar = ProgressLine()

    def say(line: str) -> None:
        bar.done()  # a progress bar in progress ends its line first
        click.echo(line)

    try:
        run_demo(output_dir, bpp=bpp, seconds=seconds, model=model, progress=bar, say=say)
    finally:
        bar.done()
