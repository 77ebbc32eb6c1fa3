#!/usr/bin/env python3
"""The encoder's working-set estimate against measured peak memory, before fitting is refused on it.

    python benchmarks/encode_memory.py [--out FILE]

Encodes synthetic images of three sizes with each image family (and clips of two lengths for
audio) in a fresh process on one thread, a few steps each (the working set is reached in the first
steps, the evaluations and the packing), and compares the peak resident memory above the
process's before (``tests/fuzz/resources.py``) with the estimate the encoder checks against
``--max-memory`` (the families' ``encode_memory`` hooks, ``inrcodec.audio.check_audio_encode``).
Writes ``benchmarks/results/reliability/encode_memory.json`` by default.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.fuzz import resources

CASES = [
    ((256, 256, 3), {"model": "grid", "steps": 10, "bpp": 0.3}),
    ((512, 512, 3), {"model": "grid", "steps": 10, "bpp": 0.3}),
    ((1024, 1024, 3), {"model": "grid", "steps": 6, "bpp": 0.3}),
    ((512, 512, 3), {"model": "grid", "steps": 10, "bpp": 1.0}),
    ((1024, 1024, 3), {"model": "grid", "steps": 6, "bpp": 1.0}),
    ((2048, 2048, 3), {"model": "grid", "steps": 3, "bpp": 1.0}),
    ((256, 256, 3), {"model": "siren", "steps": 10, "bpp": 1.0}),
    ((512, 512, 3), {"model": "siren", "steps": 10, "bpp": 0.3}),
    ((1024, 1024, 3), {"model": "siren", "steps": 6, "bpp": 0.3}),
    ((512, 512, 3), {"model": "fourier", "steps": 10, "bpp": 1.0}),
    ((1024, 1024, 1), {"model": "fourier", "steps": 6, "bpp": 1.0}),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/reliability/encode_memory.json")
    args = parser.parse_args()
    rows = []
    for shape, options in CASES:
        (m,) = resources.measure_encodes_in_child([(shape, options)], timeout=3600)
        estimate = resources.encode_estimate(np.zeros(shape, np.uint8), options)
        row = {"shape": shape, **options, "peak_bytes": m.peak_bytes, "estimated_bytes": estimate,
               "ratio": round(m.peak_bytes / estimate, 3), "seconds": round(m.seconds, 1)}  # fmt: skip
        rows.append(row)
        print(f"{options['model']:8s} {shape} {options['bpp']:4} bpp: {m.peak_bytes >> 20:6d} MB measured, "
              f"{estimate >> 20:6d} MB estimated, ratio {row['ratio']:.2f}", flush=True)  # fmt: skip
    summary = {"ratio": [min(r["ratio"] for r in rows), max(r["ratio"] for r in rows)], "cases": rows}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(summary, indent=2) + "\n")
    print(f"ratio {summary['ratio']} -> {args.out}")


if __name__ == "__main__":
    main()
