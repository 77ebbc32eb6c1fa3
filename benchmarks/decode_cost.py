#!/usr/bin/env python3
"""The decoder's cost model against reality: measured peak memory and time over estimated.

    python benchmarks/decode_cost.py [--small] [--only NAME] [--out FILE]

Builds a spread of files with ``tests/fuzz/synth.py`` (every family; tall, wide, deep, wide
context networks, wide symbol ranges, large outputs, audio resampling), estimates each decode
from the header alone (``inrcodec.codec.image_decode_cost`` / ``inrcodec.audio.audio_decode_cost``)
and decodes it in a fresh process on one thread (twice: the second is measured, one-time costs
left out as the cost model leaves them out; ``tests/fuzz/resources.py``). Prints and writes
(default ``benchmarks/results/reliability/decode_cost.json``) per case: the estimated work units
and bytes, the measured seconds and peak bytes, and the ratios

- time: measured CPU seconds x 10^10 units/s (the nominal rate) / estimated units (CPU time, so
  that other jobs on the machine do not inflate it; wall seconds are recorded too),
- memory: measured peak bytes / estimated bytes.

``--small`` runs the sizes ``tests/test_cost_model.py`` checks in CI.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.fuzz import resources, synth


def cases(small: bool = False) -> list[tuple[str, bytes, dict]]:
    """(name, file, decode request) of every case; ``small``: the CI sizes (a second or so each)."""
    s = 0.4 if small else 1.0

    def n(x: float) -> int:
        return max(1, int(x * s))

    return [
        ("grid 1 level", synth.grid(n(1000), n(1000), levels=1), {}),
        ("grid tall (1 pixel wide)", synth.grid(n(40000), 1, levels=3), {}),
        ("grid wide (1 pixel tall)", synth.grid(1, n(40000), levels=3), {}),
        ("grid context width 256", synth.grid(n(800), n(800), levels=1, context_hidden=256), {}),
        ("grid 64 channels", synth.grid(n(200), n(200), levels=1, level_channels=(64,)), {}),
        ("grid residual range 600", synth.grid(n(300), n(300), levels=1, latent_range=280), {}),
        ("grid checkerboard", synth.grid(n(700), n(700), levels=5, scheme="checkerboard"), {}),
        (
            "grid checkerboard, context 128",
            synth.grid(n(500), n(500), levels=1, scheme="checkerboard", context_hidden=128),
            {},
        ),
        ("grid 4x", synth.grid(n(300), n(300), levels=5), {"scale": 4}),
        ("grid 24 channels 3x", synth.grid(n(300), n(300), levels=3, level_channels=(8, 8, 8)), {"scale": 3}),
        ("grid deep synthesis 2x", synth.grid(n(300), n(300), levels=3, hidden=128, depth=4), {"scale": 2}),
        ("grid coarse levels only", synth.grid(n(1000), n(1000), levels=6, first_level=3), {}),
        ("grid wide output (taps)", synth.grid(12, 16, levels=3), {"width": n(4_000_000), "height": 1}),
        ("siren 3x64", synth.point_image("siren", n(500), n(500), depth=3, layer_width=64), {}),
        ("siren 8x128", synth.point_image("siren", n(300), n(300), depth=8, layer_width=128), {}),
        ("siren 1x2", synth.point_image("siren", n(900), n(900), depth=1, layer_width=2), {}),
        ("siren deep 200x16", synth.point_image("siren", n(200), n(200), depth=200, layer_width=16), {}),
        ("siren wide 1x8192", synth.point_image("siren", n(100), n(100), depth=1, layer_width=8192), {}),
        ("siren wide output 16x", synth.point_image("siren", 10, 12, depth=3, layer_width=32), {"scale": n(150)}),
        ("fourier 3x64", synth.point_image("fourier", n(500), n(500), depth=3, layer_width=64), {}),
        (
            "fourier 64 frequencies",
            synth.point_image("fourier", n(300), n(300), depth=2, layer_width=32, frequencies=64),
            {},
        ),
        ("audio 64 segments", synth.audio(n(400_000), 8000, segments=64), {}),
        ("audio 10 000 segments", synth.audio(n(1_000_000), 8000, segments=10_000, layer_width=8), {}),
        ("audio stereo fourier", synth.audio(n(200_000), 8000, 2, segments=16, model="fourier"), {}),
        ("audio down to 1 kHz", synth.audio(n(400_000), 48000, segments=32), {"rate": 1000}),
        ("audio up to 96 kHz", synth.audio(n(100_000), 8000, segments=16), {"rate": 96000}),
        ("audio down to 7 Hz", synth.audio(n(200_000), 44100, segments=8), {"rate": 7}),
        ("audio grid dense", synth.audio_grid(n(300_000), 44100), {}),
        ("audio grid stereo to 48 kHz", synth.audio_grid(n(150_000), 44100, 2, density=0.3), {"rate": 48000}),
        (
            "audio grid to 22.05 kHz, hop 2048",
            synth.audio_grid(n(150_000), 44100, hop=2048, density=0.2),
            {"rate": 22050},
        ),
        ("audio grid wide range", synth.audio_grid(n(100_000), 44100, latent_range=60_000, density=0.5), {}),
    ]


def run(small: bool = False, only: str | None = None) -> list[dict]:
    rows = []
    for name, data, request in cases(small):
        if only and only not in name:
            continue
        cost = resources.estimate(data, request)
        m = resources.measure_in_child(data, request)["second"]
        row = {
            "case": name,
            "request": request,
            "estimated_units": cost.work,
            "estimated_bytes": cost.memory,
            "seconds": round(m.seconds, 4),
            "cpu_seconds": round(m.cpu_seconds, 4),
            "peak_bytes": m.peak_bytes,
            "time_ratio": round(m.cpu_seconds * resources.UNITS_PER_SECOND / cost.work, 3),
            "memory_ratio": round(m.peak_bytes / cost.memory, 3),
        }
        rows.append(row)
        print(f"{name:32s} {m.cpu_seconds:8.3f} s / {cost.work / resources.UNITS_PER_SECOND:8.3f} s est "
              f"= {row['time_ratio']:6.3f}   {m.peak_bytes / 2**20:8.1f} MB / {cost.memory / 2**20:8.1f} MB est "
              f"= {row['memory_ratio']:6.3f}", flush=True)  # fmt: skip
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--small", action="store_true", help="the CI sizes")
    parser.add_argument("--only", help="cases whose name contains this")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/reliability/decode_cost.json")
    args = parser.parse_args()
    rows = run(args.small, args.only)
    if args.only:
        return
    summary = {
        "machine": platform.processor() or platform.machine(),
        "python": platform.python_version(),
        "units_per_second": resources.UNITS_PER_SECOND,
        "time_ratio": [min(r["time_ratio"] for r in rows), max(r["time_ratio"] for r in rows)],
        "memory_ratio": [min(r["memory_ratio"] for r in rows), max(r["memory_ratio"] for r in rows)],
        "cases": rows,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(summary, indent=2) + "\n")
    print(f"time ratio {summary['time_ratio']}, memory ratio {summary['memory_ratio']} -> {args.out}")


if __name__ == "__main__":
    main()
