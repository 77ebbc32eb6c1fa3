"""Decoding time at the stored size and at 4x, one torch thread, for .inr image files.

    python benchmarks/decode_speed.py FILE.inr [FILE.inr ...] [--scale 4] [--repeats 3] [--json out.json]

Each file is decoded once to warm up (imports, entropy tables, torch's first allocations), then
``--repeats`` times at 1x and at ``--scale``; the median and the fastest of the timed decodes are
reported. The time is that of ``inrcodec.codec.decode_image`` (read, entropy decoding, rendering,
conversion to 8-bit pixels), not of writing a PNG.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time

import torch

from inrcodec import codec, decoder
from inrcodec.bench.machine import machine_info


def time_decode(path: str, scale: float | None, repeats: int) -> list[float]:
    codec.decode_image(path, scale=scale, threads=1)
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        codec.decode_image(path, scale=scale, threads=1)
        seconds.append(time.perf_counter() - start)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="+")
    parser.add_argument("--scale", type=float, default=4.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", help="write the measurements here")
    args = parser.parse_args()
    torch.set_num_threads(1)
    rows = []
    for path in args.files:
        info = decoder.describe(path)
        for scale in (None, args.scale):
            seconds = time_decode(path, scale, args.repeats)
            row = {"file": path, "model": info["model"], "scale": scale or 1,
                   "median_s": statistics.median(seconds), "min_s": min(seconds), "seconds": seconds}  # fmt: skip
            rows.append(row)
            print(f"{path}: {row['model']} {row['scale']:g}x  median {row['median_s']:.3f} s  "
                  f"min {row['min_s']:.3f} s", file=sys.stderr)  # fmt: skip
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": machine_info(jobs=1, threads=1), "rows": rows}, f, indent=1)


if __name__ == "__main__":
    main()
