"""How a tiled image's bits are shared over its tiles: by JPEG's bytes (the default) or by pixels.

    python benchmarks/tile_shares.py IMAGE [--bpp 0.3 0.6] [--effort fast] [--activity 0 1]

Encodes IMAGE (tiled: more than a megapixel, or ``--tile``) once per share rule and target, one
process, one thread, and prints per run: bytes, bpp, PSNR, and the spread of where the tiles'
rate control left lambda (the standard deviation of log lambda: a rule nearer one slope for all
tiles spreads it less). Rows are appended to ``--out`` (JSON lines).
"""

from __future__ import annotations

import argparse
import json
import math
import time

import numpy as np
import torch
from PIL import Image

from inrcodec import codec, tiled
from inrcodec.grid.family import grid_budget
from inrcodec.grid.tiles import join_payload
from inrcodec.metrics import psnr
from inrcodec.options import EncodeOptions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("image")
    parser.add_argument("--bpp", type=float, nargs="+", default=[0.3])
    parser.add_argument("--effort", default="fast")
    parser.add_argument("--activity", type=float, nargs="+", default=[0.0, 1.0])
    parser.add_argument("--tile", type=int)
    parser.add_argument("--out", default="benchmarks/results/large/shares.jsonl")
    args = parser.parse_args()
    torch.set_num_threads(1)
    pixels = np.asarray(Image.open(args.image).convert("RGB"))
    for bpp in args.bpp:
        for activity in args.activity:
            opts, target = codec.image_rate(EncodeOptions(bpp=bpp, effort=args.effort, tile=args.tile),
                                            pixels.shape[0] * pixels.shape[1])  # fmt: skip
            start = time.process_time()
            model, config = tiled.planned_model(pixels.shape, opts, bpp)
            tasks = tiled.tile_tasks(pixels, opts, target, grid_budget(opts), model, config, activity=activity)
            results = tiled.run_tiles(tasks, None)
            codes = tuple(c for r in results for c in r.codes)
            header = codec.image_header(codec.Image(pixels, "RGB"), model, target, codes)
            data = codec.container.pack(header, join_payload([r.stream for r in results]))
            decoded = codec.decode_image(data).pixels
            logs = [math.log(r.lmbda) for r in results]
            row = {"image": args.image, "bpp_target": bpp, "effort": args.effort, "activity": activity,
                   "tiles": model.count, "bytes": len(data), "bpp": 8 * len(data) / pixels.shape[0] / pixels.shape[1],
                   "psnr": psnr(pixels, decoded), "log_lmbda_std": float(np.std(logs)),
                   "tile_bits": [8 * len(r.stream) for r in results], "asked": [t.bits for t in tasks],
                   "lmbda": [r.lmbda for r in results], "cpu_s": time.process_time() - start}  # fmt: skip
            print(json.dumps(row), flush=True)
            with open(args.out, "a") as f:
                f.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
