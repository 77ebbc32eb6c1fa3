"""Low-rate speckles: isolated large latents of the finest stored level, counted in the files of
two recipes, and crops at 4x zoom beside JPEG and WebP files of the same size.

    TRAIN=../shared/data/train/wikipedia python benchmarks/speckles.py -o docs/speckles

A speckle (issue 19) is a single latent of the finest stored level (level 1 below 0.7 bpp) at
|q| >= 4 whose eight neighbours in its channel are all within +-1: the 2x cascade and the
synthesis turn it into a coloured blob a few pixels wide. Per training crop (the screens' centred
384 x 256 crops) and target, each recipe's file is encoded at the default effort; its speckles are
counted from the entropy-decoded integers, and one PNG shows the same 48 x 48 pixels at 4x
(nearest neighbour): the original, JPEG and WebP with the demo's settings at the largest quality
whose file is no larger than the first recipe's (where none is, their smallest file), then each
recipe. The region is centred on the first recipe's largest
speckle (or, with none, on its largest pixel error). One JSON file per run
(``speckles_IMAGES.json``) and a Markdown table of every run in the folder (``speckles.md``)
hold the counts, bpp and PSNR.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from grid_screen import crop  # the screens' crops

import inrcodec
from inrcodec.decoder import entropy_decoded
from inrcodec.demo import classical_at_size
from inrcodec.metrics import psnr

RECIPES = {"0.7.1": {"soft_round_temperature": None}, "0.8.0": {}}  # 0.7.1: plain noise, checkerboard < 0.2
SIDE, ZOOM = 48, 4


def speckles(data: bytes) -> list[tuple[int, int, int, int]]:
    """(|q|, channel, row, column) of every speckle of the finest stored level, largest first."""
    level = next(a for a in entropy_decoded(data) if a.ndim == 3)
    out = []
    for c, plane in enumerate(level):
        padded = np.pad(np.abs(plane), 1)
        neighbours = np.max(
            [padded[1 + dy : 1 + dy + plane.shape[0], 1 + dx : 1 + dx + plane.shape[1]]
             for dy in (-1, 0, 1) for dx in (-1, 0, 1) if dy or dx], axis=0)  # fmt: skip
        for y, x in zip(*np.nonzero((np.abs(plane) >= 4) & (neighbours <= 1))):
            out.append((int(abs(plane[y, x])), c, int(y), int(x)))
    return sorted(out, reverse=True)


def classical_at(a: np.ndarray, codec: str, max_bytes: int) -> tuple[np.ndarray, int]:
    """The decoded file of ``codec`` (a key of :data:`inrcodec.demo.CLASSICAL`: the demo's
    settings) at the largest quality no larger than ``max_bytes``; where even its lowest quality
    is larger, its smallest file, found by growing the budget 10 % at a time."""
    while (at := classical_at_size(a, max_bytes, codec)) is None:
        max_bytes = int(max_bytes * 1.1) + 1
    return at.decoded, at.bytes


def panel(a: np.ndarray, cy: int, cx: int) -> np.ndarray:
    h, w = a.shape[:2]
    y0 = min(max(0, cy - SIDE // 2), h - SIDE)
    x0 = min(max(0, cx - SIDE // 2), w - SIDE)
    part = a[y0 : y0 + SIDE, x0 : x0 + SIDE]
    return np.repeat(np.repeat(part, ZOOM, 0), ZOOM, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", default="001,010,040", help="training photos' names or paths")
    parser.add_argument("--bpp", default="0.12,0.25")
    parser.add_argument("--effort", default="default")
    parser.add_argument("-o", "--out", type=Path, default=Path("docs/speckles"))
    args = parser.parse_args()
    torch.set_num_threads(1)
    args.out.mkdir(parents=True, exist_ok=True)
    rows = []
    for image in args.images.split(","):
        a, name = crop(image), Path(image).stem  # a training photo's name, or a path
        pixels = a.shape[0] * a.shape[1]
        for bpp in map(float, args.bpp.split(",")):
            files = {r: inrcodec.encode(a, bpp=bpp, effort=args.effort, grid=g) for r, g in RECIPES.items()}
            decoded = {r: inrcodec.decode(d) for r, d in files.items()}
            found = {r: speckles(d) for r, d in files.items()}
            first = next(iter(RECIPES))
            if found[first]:
                _, _, y, x = found[first][0]
                cy, cx = 2 * y + 1, 2 * x + 1  # a level-1 cell covers 2 x 2 pixels
            else:
                err = np.abs(decoded[first].astype(int) - a.astype(int)).sum(2)
                cy, cx = np.unravel_index(int(np.argmax(err)), err.shape)
            jpeg, jpeg_bytes = classical_at(a, "JPEG", len(files[first]))
            webp, webp_bytes = classical_at(a, "WebP", len(files[first]))
            panels = [a, jpeg, webp] + [decoded[r] for r in RECIPES]
            gap = np.full((SIDE * ZOOM, 4, 3), 255, np.uint8)
            strip = np.concatenate([x for p in panels for x in (panel(p, cy, cx), gap)][:-1], axis=1)
            png = args.out / f"{name}_{bpp:g}.png"
            Image.fromarray(strip).save(png, optimize=True)
            row = {"image": name, "target_bpp": bpp, "png": png.name, "centre": [int(cy), int(cx)],
                   "jpeg": {"bpp": 8 * jpeg_bytes / pixels, "psnr": psnr(a, jpeg)},
                   "webp": {"bpp": 8 * webp_bytes / pixels, "psnr": psnr(a, webp)}}  # fmt: skip
            for r in RECIPES:
                row[r] = {"bpp": 8 * len(files[r]) / pixels, "psnr": psnr(a, decoded[r]), "speckles": len(found[r]),
                          "largest": found[r][0][0] if found[r] else 0}  # fmt: skip
            rows.append(row)
            print(json.dumps(row), file=sys.stderr)
    # One file per run, so that runs over different images can share the cores; the table
    # gathers them all.
    (args.out / f"speckles_{'_'.join(Path(i).stem for i in args.images.split(','))}.json").write_text(
        json.dumps(rows, indent=1) + "\n"
    )
    rows = [row for path in sorted(args.out.glob("speckles_*.json")) for row in json.loads(path.read_text())]
    lines = ["| crop | target | JPEG | WebP | " + " | ".join(f"inrcodec {r}" for r in RECIPES) + " |",
             "|---|---:|---|---|" + "---|" * len(RECIPES)]  # fmt: skip
    for row in rows:
        cells = [f"{row[k]['psnr']:.2f} dB at {row[k]['bpp']:.3f}" for k in ("jpeg", "webp")]
        cells += [f"{row[r]['psnr']:.2f} dB at {row[r]['bpp']:.3f}, {row[r]['speckles']} speckles"
                  + (f" (largest {row[r]['largest']})" if row[r]["speckles"] else "") for r in RECIPES]  # fmt: skip
        lines.append(f"| {row['image']} | {row['target_bpp']:g} | " + " | ".join(cells) + " |")
    (args.out / "speckles.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
