"""How close a tiled encode lands to its rate target, with and without the second half's correction.

    python benchmarks/tile_rate.py [--seeds 0 1] [--power none 0.5 1] [--steps 300]

The case of ``tests/test_tiled.py::test_a_tiled_photo_lands_near_its_target``: the lower half of
skimage's astronaut (256 x 512) at 1 bpp, forced into 2 x 4 tiles (``tile=128``), a short fit
(300 steps: small tiles and short fits are where the grid's rate control misses most). Each
``--power`` is one way to run the tiles (:func:`inrcodec.tiled.run_tiles`): ``none``, all tiles
at their JPEG shares at once (no correction); a number, the second half's targets divided by
the first half's miss to that power (:func:`inrcodec.tiled.corrected`; 0.5, the square root, is
the default; 1 divides by the whole miss). One process, one torch thread, serial tiles. Rows
(JSON lines) are appended to ``--out``.
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

from inrcodec import codec, decoder, tiled
from inrcodec.options import EncodeOptions

OUT = Path(__file__).resolve().parents[1] / "benchmarks" / "results" / "large" / "tile_rate.jsonl"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--power", nargs="+", default=["none", "0.5", "1"])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--bpp", type=float, default=1.0)
    parser.add_argument("--out", default=str(OUT))
    args = parser.parse_args()
    torch.set_num_threads(1)
    from skimage import data

    photo = np.ascontiguousarray(data.astronaut()[256:])
    pixels = photo.shape[0] * photo.shape[1]
    for seed in args.seeds:
        for power in args.power:
            tiled.CORRECT_FROM = 1 << 30 if power == "none" else 8
            tiled.CORRECTION_POWER = 0.5 if power == "none" else float(power)
            start = time.process_time()
            result = codec.encode_image(photo, EncodeOptions(bpp=args.bpp, steps=args.steps, seed=seed, tile=128))
            bpp = 8 * len(result.data) / pixels
            row = {"seed": seed, "correction_power": power, "steps": args.steps, "bpp_target": args.bpp,
                   "tiles": decoder.describe(result.data)["tiles"], "bytes": len(result.data), "bpp": bpp,
                   "miss_percent": 100 * (bpp / args.bpp - 1), "psnr": result.psnr,
                   "cpu_s": time.process_time() - start, "loadavg": os.getloadavg(),
                   "command": " ".join(["python", *sys.argv]), "date": time.strftime("%Y-%m-%d %H:%M")}  # fmt: skip
            print(json.dumps(row), flush=True)
            with open(args.out, "a") as f:
                f.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
