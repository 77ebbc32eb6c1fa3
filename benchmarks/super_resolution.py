"""Super-resolution against bicubic and Lanczos on Kodak and two public images (issue 15).

    python benchmarks/super_resolution.py                     # the committed run (a few CPU-minutes)
    python benchmarks/super_resolution.py --images kodim23 --factors 4 --out /tmp/sr   # a smoke test
    python benchmarks/super_resolution.py --codec             # also: a .inr file decoded at 4x

For each image and factor (2, 3, 4) the original is cropped to a multiple of the factor, reduced
with Pillow's antialiased bicubic (``resize(..., BICUBIC, reducing_gap=None)``, the degradation
of benchmarks/applications.py), and brought back to the original size by Pillow's bicubic, Pillow's
Lanczos and ``inrcodec upscale`` (the learned local implicit function, the default method). PSNR
and SSIM (inrcodec.metrics, on the 8-bit outputs) against the original, per image; wall seconds
per image on one thread. Images: the 24 Kodak images, and two that ship with scikit-image
(``astronaut``, ``coffee``), neither of them in the training photos.

``--codec``: the same question for a compressed file. The 4x-reduced image is encoded
(``--codec-bpp``, default effort), then decoded at 4x three ways: the grid sampled at 4x
(``inrcodec decode --scale 4``), decoded at 1x and resized with Lanczos, and decoded with
``--sr learned``. Six Kodak images (kodim01, 05, 15, 20, 23, 24), the applications' choice.

Writes ``rows.csv``, ``summary.md``, ``command.txt``, ``machine.json`` and ``fig_sr.png`` (one crop
per method, side by side) to ``--out``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch
from image_tasks import ALL, ROOT, images, read_rows, side_by_side, summary_table, timed, write_run
from PIL import Image

from inrcodec import apps, codec
from inrcodec.metrics import psnr, ssim
from inrcodec.options import EncodeOptions

CODEC_IMAGES = "kodim01,kodim05,kodim15,kodim20,kodim23,kodim24"
FIELDS = ["task", "image", "method", "psnr", "ssim", "seconds", "bytes"]


def reduce(pixels: np.ndarray, factor: int) -> np.ndarray:
    h, w = pixels.shape[:2]
    return np.asarray(Image.fromarray(pixels).resize((w // factor, h // factor), Image.BICUBIC, reducing_gap=None))


def resize(pixels: np.ndarray, height: int, width: int, method) -> np.ndarray:
    return np.asarray(Image.fromarray(pixels).resize((width, height), method))


def upscaling_rows(name: str, clean: np.ndarray, factor: int, figs: dict) -> list[dict]:
    h, w = clean.shape[:2]
    clean = clean[: h - h % factor, : w - w % factor]
    h, w = clean.shape[:2]
    small = reduce(clean, factor)
    outs = {
        "bicubic": timed(lambda: resize(small, h, w, Image.BICUBIC)),
        "lanczos": timed(lambda: resize(small, h, w, Image.LANCZOS)),
        "inr (learned local implicit)": timed(lambda: apps.upscale(small, factor)),
    }
    if name == "kodim23" and factor == 4:
        nearest = np.kron(small, np.ones((4, 4, 1), dtype=np.uint8))
        figs["sr"] = ("", {"input (nearest)": nearest, **{k: v[0] for k, v in outs.items()}}, clean)
    return [{"task": f"x{factor}", "image": name, "method": method, "psnr": psnr(out, clean), "ssim": ssim(out, clean),
             "seconds": seconds} for method, (out, seconds) in outs.items()]  # fmt: skip


def codec_rows(name: str, clean: np.ndarray, bpp: float) -> list[dict]:
    factor = 4
    h, w = clean.shape[:2]
    clean = clean[: h - h % factor, : w - w % factor]
    h, w = clean.shape[:2]
    small = reduce(clean, factor)
    data = codec.encode_image(small, EncodeOptions(bpp=bpp)).data
    rows = []
    for method, fn in (
        ("decode --scale 4", lambda: codec.decode_image(data, width=w, height=h).pixels),
        ("decode, then Lanczos", lambda: resize(codec.decode_image(data).pixels, h, w, Image.LANCZOS)),
        ("decode --scale 4 --sr learned", lambda: codec.decode_image(data, width=w, height=h, sr="learned").pixels),
    ):
        out, seconds = timed(fn)
        rows.append({"task": f"codec x4 at {bpp} bpp of the small image", "image": name, "method": method,
                     "psnr": psnr(out, clean), "ssim": ssim(out, clean), "seconds": seconds,
                     "bytes": len(data)})  # fmt: skip
    return rows


def summary(rows: list[dict]) -> str:
    lanczos = lambda r: r["method"] in ("lanczos", "decode, then Lanczos")
    return summary_table(rows, "task", lanczos, "Lanczos",
                         [("PSNR (dB)", "psnr", ".2f"), ("SSIM", "ssim", ".4f"), ("s / image", "seconds", ".2f")])  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", default=ALL)
    parser.add_argument("--factors", default="2,3,4")
    parser.add_argument("--codec", action="store_true", help="also the .inr decode at 4x (six Kodak images)")
    parser.add_argument("--codec-bpp", type=float, default=1.0)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "super_resolution")
    parser.add_argument("--summary", action="store_true", help="only rewrite summary.md from the rows in --out")
    args = parser.parse_args(argv)
    if args.summary:
        rows = read_rows(args.out, ("psnr", "ssim", "seconds"))
        (args.out / "summary.md").write_text("# Super-resolution (benchmarks/super_resolution.py)\n\n" + summary(rows))
        return 0
    torch.set_num_threads(1)
    args.out.mkdir(parents=True, exist_ok=True)
    rows, figs = [], {}
    for name, clean in images(args.images.split(",")):
        for factor in (int(f) for f in args.factors.split(",")):
            rows += upscaling_rows(name, clean, factor, figs)
        print(name, file=sys.stderr)
    if args.codec:
        for name, clean in images(CODEC_IMAGES.split(",")):
            rows += codec_rows(name, clean, args.codec_bpp)
            print(name, "codec", file=sys.stderr)
    write_run(args.out, "Super-resolution", "benchmarks/super_resolution.py", rows, FIELDS, summary(rows))
    if "sr" in figs:
        side_by_side([figs["sr"]], args.out / "fig_sr.png")
    print(summary(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
