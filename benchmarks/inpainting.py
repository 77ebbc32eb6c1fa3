"""Inpainting against biharmonic interpolation on Kodak and two public images (issue 15).

    python benchmarks/inpainting.py                           # the committed run (about 10 minutes)
    python benchmarks/inpainting.py --images kodim23 --masks random50 --out /tmp/ip   # a smoke test

Masks (True = missing), fixed per image: ``random50`` and ``random90`` (that share of pixels
missing at random, seed = the image's index) and ``text`` (four lines of 32-pixel text drawn
across the image with Pillow's default font, stroke 1: a caption or watermark to remove).
Methods: skimage's ``inpaint_biharmonic`` and ``inrcodec inpaint`` (the learned local implicit
function, the default method); both keep the known pixels. PSNR over the whole image and over
the missing pixels only, SSIM (inrcodec.metrics), wall seconds per image on one thread. Images:
the 24 Kodak images and two that ship with scikit-image (``astronaut``, ``coffee``).

Writes ``rows.csv``, ``summary.md``, ``command.txt``, ``machine.json`` and ``fig_inpaint.png``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch
from image_tasks import ALL, ROOT, images, read_rows, side_by_side, summary_table, timed, write_run
from PIL import Image, ImageDraw, ImageFont

from inrcodec import apps
from inrcodec.metrics import psnr, psnr_from_mse, ssim

FIELDS = ["mask", "image", "method", "psnr", "psnr_missing", "ssim", "seconds"]
TEXT = ("inrcodec 2026 - sample text", "a caption over the photo", "(c) somebody, all rights", "do not copy 0123456789")


def mask_for(kind: str, height: int, width: int, seed: int) -> np.ndarray:
    if kind.startswith("random"):
        return np.random.default_rng(seed).random((height, width)) < int(kind[6:]) / 100
    canvas = Image.new("L", (width, height), 0)
    draw = ImageDraw.Draw(canvas)
    font = ImageFont.load_default(size=32)
    for i, line in enumerate(TEXT):
        draw.text((20 + 15 * i, 40 + i * height // 5), line, fill=255, font=font, stroke_width=1, stroke_fill=255)
    return np.asarray(canvas) > 0


def biharmonic(damaged: np.ndarray, missing: np.ndarray) -> np.ndarray:
    from skimage.restoration import inpaint_biharmonic

    filled = inpaint_biharmonic(damaged / 255.0, missing, channel_axis=-1)
    return np.where(missing[:, :, None], np.clip(np.round(filled * 255), 0, 255).astype(np.uint8), damaged)


def psnr_missing(a: np.ndarray, b: np.ndarray, missing: np.ndarray) -> float:
    d = a.astype(np.float64)[missing] - b.astype(np.float64)[missing]
    return psnr_from_mse(float(np.mean(d**2)))


def summary(rows: list[dict]) -> str:
    return summary_table(rows, "mask", lambda r: r["method"] == "biharmonic", "biharmonic",
                         [("PSNR (dB)", "psnr", ".2f"), ("PSNR missing px (dB)", "psnr_missing", ".2f"),
                          ("SSIM", "ssim", ".4f"), ("s / image", "seconds", ".2f")])  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", default=ALL)
    parser.add_argument("--masks", default="random50,random90,text")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "inpainting")
    parser.add_argument("--summary", action="store_true", help="only rewrite summary.md from the rows in --out")
    args = parser.parse_args(argv)
    if args.summary:
        rows = read_rows(args.out, ("psnr", "psnr_missing", "ssim", "seconds"))
        (args.out / "summary.md").write_text("# Inpainting (benchmarks/inpainting.py)\n\n" + summary(rows))
        return 0
    torch.set_num_threads(1)
    args.out.mkdir(parents=True, exist_ok=True)
    rows, figs = [], {}
    for index, (name, clean) in enumerate(images(args.images.split(","))):
        for kind in args.masks.split(","):
            missing = mask_for(kind, *clean.shape[:2], seed=index)
            damaged = np.where(missing[:, :, None], 0, clean).astype(np.uint8)
            outs = {}
            for method, fn in (("biharmonic", lambda: biharmonic(damaged, missing)),
                               ("inr (learned local implicit)", lambda: apps.inpaint(damaged, missing))):  # fmt: skip
                out, seconds = timed(fn)
                outs[method] = out
                rows.append({"mask": kind, "image": name, "method": method, "psnr": psnr(out, clean),
                             "psnr_missing": psnr_missing(out, clean, missing), "ssim": ssim(out, clean),
                             "seconds": seconds})  # fmt: skip
            if name == "kodim23":
                figs[kind] = (f"{kind}: ", {"damaged": damaged, **outs}, clean)
        print(name, file=sys.stderr)
    write_run(args.out, "Inpainting", "benchmarks/inpainting.py", rows, FIELDS, summary(rows))
    if figs:
        side_by_side(list(figs.values()), args.out / "fig_inpaint.png", crop=(180, 200, 200))
    print(summary(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
