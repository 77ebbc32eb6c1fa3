"""Write tests/fuzz/regressions/: one input per decoder bug found while hardening (docs/reliability.md).

    python -m tests.fuzz.make_regressions

Each is a seed with header fields changed and a valid CRC. Before the fixes each one hung, ran out
of memory or raised something other than an InrError; tests/test_fuzz.py replays them all.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from inrcodec import container

from . import synth

HERE = Path(__file__).resolve().parent
SEEDS = HERE / "seeds"
OUT = HERE / "regressions"


def _edit(seed: str, signal: dict | None = None, tensor: tuple[int, dict] | None = None, **fields) -> bytes:
    header, payload = container.unpack((SEEDS / seed).read_bytes())
    if signal:
        header = dataclasses.replace(header, signal=dataclasses.replace(header.signal, **signal))
    if tensor:
        i, changes = tensor
        tensors = list(header.tensors)
        tensors[i] = dataclasses.replace(tensors[i], **changes)
        header = dataclasses.replace(header, tensors=tuple(tensors))
    return container.pack(dataclasses.replace(header, **fields), payload)


def regressions() -> dict[str, bytes]:
    grid = container.unpack((SEEDS / "grid_rgb.inr").read_bytes())[0]
    latent = len(grid.tensors) - 1
    return {
        # a Laplace table far from zero: a Python loop of 2^32 steps (hours)
        "laplace_table_near_2e31.inr": _edit("siren_rgb.inr", tensor=(0, {"lo": 2**31 - 8, "hi": 2**31})),
        # a latent residual table far from zero: an array of 2^37 powers (MemoryError)
        "latent_table_near_2e31.inr": _edit("grid_rgb.inr", tensor=(latent, {"lo": -(2**31), "hi": -(2**31) + 4})),
        # Fourier frequencies pi * 4096^15: float32 overflow, sin(inf) = NaN samples and pixels
        "fourier_frequency_overflow_audio.inr": _edit("segments_fourier_stereo.inr", arch=(1, 32, 2, 2, 6, 16, 65535)),
        "fourier_frequency_overflow_image.inr": _edit("fourier_rgba.inr", arch=(2, 8, 16, 65535)),
        # a stored rate of 2^31 - 1 Hz: billion-sample resampling blocks
        "sample_rate_2e31.inr": _edit("segments_siren_mono.inr", signal={"rate": 2**31 - 1}),
        # 10^6 layers of width 1 pass the parameter limit; `info` built them all (minutes, GBs)
        "million_layers.inr": _edit("siren_rgb.inr", arch=(10**6, 1, 480, 480)),
        # a 40 000^2 canvas with a single 1x1 latent level: a 400 GB feature grid from 100 bytes
        "grid_huge_canvas.inr": _edit(
            "grid_rgb.inr",
            signal={"width": 40_000, "height": 40_000},
            arch=(40_000, 40_000, 24, 23, 16, 2, 1, 2, 8, 64),
        ),
        # one layer 5 * 10^6 wide: 65 536-point bands of 5 * 10^6 activations (1.3 TB)
        "siren_5e6_wide.inr": _edit("siren_rgb.inr", arch=(1, 5_000_000, 480, 480)),
        # issue 14, an independent attack with valid CRCs and hostile header values:
        # 16-bit colour: a ValueError in the PNG writer (CLI, batch) and a TypeError in Pillow
        "rgb16.inr": _edit("siren_rgb.inr", signal={"bit_depth": 16}),
        # a context network 256 wide on a 1000 x 1000 level: 2 GB of first-layer accumulators
        # (cells x width x 8 bytes) that the memory estimate did not count (4.2 GB RSS)
        "grid_context_256.inr": synth.constant_grid(1000, 1000, context_hidden=256),
        # 10^6 rows of one pixel: two million Python steps (wavefronts) the work limit did not count
        "grid_tall_1e6.inr": synth.constant_grid(1_000_000, 1),
        # context weights at the format's edge: each latent's prediction grows with its left
        # neighbour until int64 wraps around (silently, before the latent bound)
        "grid_latent_overflow.inr": synth.constant_grid(1, 60, context_weight=1 << 17, level_bias=1 << 17),
    }


if __name__ == "__main__":
    OUT.mkdir(exist_ok=True)
    for name, data in regressions().items():
        (OUT / name).write_bytes(data)
        print(f"{name}: {len(data)} bytes")
