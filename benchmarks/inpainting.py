"""Inpainting against biharmonic interpolation on Kodak and two public images (issue 15).

    python benchmarks/inpainting.py                           # the committed run
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
import csv
import json
import shlex
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from super_resolution import images

from inrcodec import apps
from inrcodec.bench.machine import machine_info
from inrcodec.metrics import psnr, psnr_from_mse, ssim

ALL = ",".join([f"kodim{i:02d}" for i in range(1, 25)] + ["astronaut", "coffee"])
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


def timed(fn):
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start


def summary(rows: list[dict]) -> str:
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for r in rows:
        groups[(r["mask"], "Kodak" if r["image"].startswith("kodim") else "astronaut + coffee", r["method"])].append(r)
    lines = ["| mask | images | method | n | PSNR (dB) | PSNR missing px (dB) | SSIM | s / image | images above biharmonic |",
             "|---|---|---|---:|---:|---:|---:|---:|---:|"]  # fmt: skip
    for (kind, subset, method), rs in sorted(groups.items(), key=lambda kv: (kv[0][0], kv[0][1])):
        ref = {r["image"]: r["psnr"] for r in rows if r["mask"] == kind and r["method"] == "biharmonic"}
        above = sum(r["psnr"] > ref.get(r["image"], np.inf) for r in rs)
        lines.append(f"| {kind} | {subset} | {method} | {len(rs)} | {np.mean([r['psnr'] for r in rs]):.2f} | "
                     f"{np.mean([r['psnr_missing'] for r in rs]):.2f} | {np.mean([r['ssim'] for r in rs]):.4f} | "
                     f"{np.mean([r['seconds'] for r in rs]):.2f} | {above}/{len(rs)} |")  # fmt: skip
    return "\n".join(lines) + "\n"


def figure(figs: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    kinds = list(figs)
    f, axes = plt.subplots(len(kinds), 4, figsize=(12, 3.2 * len(kinds)), squeeze=False)
    top, left, size = 180, 200, 200
    for row, kind in zip(axes, kinds, strict=True):
        damaged, outs, clean = figs[kind]
        for ax, (title, img) in zip(row, {"damaged": damaged, **outs, "original": clean}.items(), strict=True):
            ax.imshow(img[top : top + size, left : left + size])
            ax.set_title(f"{kind}: {title}" + (f"\n{psnr(img, clean):.2f} dB" if title in outs else ""), fontsize=9)
            ax.axis("off")
    f.tight_layout(rect=(0, 0, 1, 0.96))
    f.savefig(path, dpi=100)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", default=ALL)
    parser.add_argument("--masks", default="random50,random90,text")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "inpainting")
    args = parser.parse_args(argv)
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
                figs[kind] = (damaged, outs, clean)
        print(name, file=sys.stderr)
    with (args.out / "rows.csv").open("w", newline="") as f:
        writer = csv.DictWriter(f, ["mask", "image", "method", "psnr", "psnr_missing", "ssim", "seconds"])
        writer.writeheader()
        writer.writerows(rows)
    (args.out / "summary.md").write_text("# Inpainting (benchmarks/inpainting.py)\n\n" + summary(rows))
    (args.out / "command.txt").write_text("python " + shlex.join(["benchmarks/inpainting.py", *sys.argv[1:]]) + "\n")
    (args.out / "machine.json").write_text(json.dumps(machine_info(1, 1), indent=2) + "\n")
    if figs:
        figure(figs, args.out / "fig_inpaint.png")
    print(summary(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
