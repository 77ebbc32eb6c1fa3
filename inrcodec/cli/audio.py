"""The audio halves of ``inrcodec encode`` and ``inrcodec decode``.

``encode`` and ``decode`` (in :mod:`.codec`) hand over here when the input is an audio file or an
.inr that holds audio; the parameters arrive as the command's ``ctx.params``. As everywhere in the
CLI: parse, call the API, print.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from ..audio import AudioEncodeOptions, encode_audio_clip, open_audio
from ..errors import OptionError
from ..io.audio import output_subtype, read_audio, write_audio
from ..io.files import check_output_path, write_bytes_atomic
from ..runtime import torch_threads
from .common import ProgressLine, encode_limits, limits_from_params, print_notices, print_record


def encode_audio_command(params: dict[str, Any], output: Path) -> None:
    """Encode an audio file; ``params`` are the ``encode`` command's parameters."""
    src: Path = params["input"]
    if params.get("bpp") is not None:
        raise OptionError("--bpp is for images; use --kbps or --size for audio")
    if params.get("tile") is not None:
        raise OptionError("--tile is for images (a large image's tiles)")
    limits = encode_limits(params)
    opts = AudioEncodeOptions(
        kbps=params.get("kbps"), size=params.get("size"), model=params["model"] or AudioEncodeOptions.model,
        effort=params.get("effort") or AudioEncodeOptions.effort, steps=params.get("steps"),
        time=params.get("seconds"), psnr=params.get("psnr"),
        seed=params["seed"], device=params["device"], threads=params["threads"],
        quant=params.get("quant") or AudioEncodeOptions.quant, depth=params.get("depth"),
        width=params.get("layer_width"), omega=params.get("omega"), checkpoint=params.get("checkpoint"),
    ).validated()  # fmt: skip
    clip = read_audio(src, limits.max_input_pixels)
    bar = ProgressLine(enabled=not params.get("quiet"))
    try:
        result = encode_audio_clip(clip, opts, progress=bar, limits=limits)
    finally:
        bar.done()
    write_bytes_atomic(output, result.data, protect=[src])
    print_notices(result.notices)
    record = {
        "input": str(src),
        "output": str(output),
        "bytes": len(result.data),
        "kbps": result.kbps,
        "snr": result.snr,
        "psnr": result.psnr,
        "steps": result.steps,
        "encode_seconds": result.seconds,
        "frames": clip.frames,
        "rate": clip.rate,
        "channels": clip.channels,
        "duration": clip.duration,
        "model": opts.model,
    }
    if result.segments:  # the segments models' count (the audio grid has none)
        record["segments"] = result.segments
    print_record(params.get("as_json", False), record,
          f"{output}: {record['bytes']} bytes, {result.kbps:.2f} kbit/s, SNR {result.snr:.2f} dB, "
          f"PSNR {result.psnr:.2f} dB, {result.steps} steps in {result.seconds:.1f} s")  # fmt: skip


def decode_audio_command(params: dict[str, Any]) -> None:
    """Decode an audio .inr; ``params`` are the ``decode`` command's parameters."""
    src: Path = params["input"]
    output: Path = params["output"]
    for name in ("scale", "width", "height"):
        if params.get(name) is not None:
            raise OptionError(f"--{name} is for images; use --rate for audio")
    if params.get("sr", "none") != "none":
        raise OptionError("--sr is for images; audio decodes at any --rate from its own function")
    output_subtype(output, None)  # an unwritable extension fails before any decoding
    check_output_path(output, protect=[src])
    start = time.perf_counter()
    # One thread unless asked: the decode's small batched matmuls gain nothing from more, and on
    # a busy machine two threads measured 10x slower than one.
    with torch_threads(params.get("threads") or 1):
        decoding = open_audio(
            src, params.get("rate"), device=params.get("device", "cpu"),
            limits=limits_from_params(params),
        )  # fmt: skip
        notices = write_audio(
            output, decoding.blocks(), decoding.rate, decoding.channels,
            subtype=decoding.fields.subtype, protect=[src],
        )  # fmt: skip
    seconds = time.perf_counter() - start
    print_notices(notices)
    record = {
        "input": str(src),
        "output": str(output),
        "rate": decoding.rate,
        "frames": decoding.frames,
        "channels": decoding.channels,
        "duration": decoding.frames / decoding.rate,
        "decode_seconds": seconds,
    }
    print_record(params.get("as_json", False), record,
          f"{output}: {decoding.frames} frames x {decoding.channels} ch at {decoding.rate} Hz, "
          f"decoded in {seconds:.2f} s")  # fmt: skip
