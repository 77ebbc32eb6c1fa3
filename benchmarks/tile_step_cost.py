"""What one fitting step costs per pixel, by tile size: the basis of the tile size and of linear cost.

    python benchmarks/tile_step_cost.py [--image /tmp/inrcodec-large/24mp.png] [--sizes 256x256 512x384 ...]

For each size, a crop from the top left of ``--image`` (default: the 24-megapixel stitch of
``benchmarks/large_images.py stitch``) is fitted as one latent grid (the default recipe at
0.3 bpp, :func:`inrcodec.grid.training.fit`) for ``--short`` and for ``--long`` steps, one torch
thread, and the difference in CPU seconds (``time.process_time``) divided by the extra steps and
the pixels is the cost of a step per pixel: model building, the final evaluation and anything
else paid once cancel out (a short fit first warms up torch's kernels). Rows (JSON lines) are appended to ``--out``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from inrcodec.fit import Budget
from inrcodec.grid.recipe import GridConfig
from inrcodec.grid.training import fit
from inrcodec.rate import RateTarget

OUT = Path(__file__).resolve().parents[1] / "benchmarks" / "results" / "large" / "step_cost.jsonl"
SIZES = ("256x256", "512x384", "512x512", "768x512", "768x768", "1024x1024")


def cpu_of_fit(pixels: np.ndarray, steps: int) -> float:
    target = RateTarget(0.3 * pixels.shape[0] * pixels.shape[1])
    start = time.process_time()
    fit(pixels, target, None, Budget(steps=steps), GridConfig(), seed=0)
    return time.process_time() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--image", default="/tmp/inrcodec-large/24mp.png")
    parser.add_argument("--sizes", nargs="+", default=list(SIZES))
    parser.add_argument("--short", type=int, default=10)
    parser.add_argument("--long", type=int, default=40)
    parser.add_argument("--out", default=str(OUT))
    args = parser.parse_args()
    torch.set_num_threads(1)
    image = np.asarray(Image.open(args.image).convert("RGB"))
    cpu_of_fit(np.ascontiguousarray(image[:64, :64]), 3)  # first use of torch's kernels, not counted
    for size in args.sizes:
        w, h = map(int, size.split("x"))
        crop = np.ascontiguousarray(image[:h, :w])
        short, long = cpu_of_fit(crop, args.short), cpu_of_fit(crop, args.long)
        per_step = (long - short) / (args.long - args.short)
        row = {"width": w, "height": h, "short_steps": args.short, "long_steps": args.long, "short_cpu_s": short,
               "long_cpu_s": long, "cpu_s_per_step": per_step, "ns_per_pixel_step": 1e9 * per_step / (w * h),
               "loadavg": os.getloadavg(), "command": " ".join(["python", *sys.argv]),
               "date": time.strftime("%Y-%m-%d %H:%M")}  # fmt: skip
        print(json.dumps(row), flush=True)
        with open(args.out, "a") as f:
            f.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
