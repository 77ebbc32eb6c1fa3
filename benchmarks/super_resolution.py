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
import csv
import shlex
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import torch
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from inrcodec import apps, codec
from inrcodec.bench.machine import machine_info
from inrcodec.metrics import psnr, ssim
from inrcodec.options import EncodeOptions

KODAK = ROOT.parent / "shared" / "data" / "kodak"
CODEC_IMAGES = "kodim01,kodim05,kodim15,kodim20,kodim23,kodim24"


def reduce(pixels: np.ndarray, factor: int) -> np.ndarray:
    h, w = pixels.shape[:2]
    return np.asarray(Image.fromarray(pixels).resize((w // factor, h // factor), Image.BICUBIC, reducing_gap=None))


def resize(pixels: np.ndarray, height: int, width: int, method) -> np.ndarray:
    return np.asarray(Image.fromarray(pixels).resize((width, height), method))


def images(names: list[str]) -> list[tuple[str, np.ndarray]]:
    from skimage import data

    out = []
    for name in names:
        if name.startswith("kodim"):
            out.append((name, np.asarray(Image.open(KODAK / f"{name}.png").convert("RGB"))))
        else:
            out.append((name, np.asarray(getattr(data, name)())[:, :, :3]))
    return out


def timed(fn):
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start


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
        figs["sr"] = (small, {k: v[0] for k, v in outs.items()}, clean)
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


def figure(figs: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    small, outs, clean = figs["sr"]
    top, left, size = 200, 250, 160  # a crop of kodim23 at full size
    panels = {"input (nearest)": np.kron(small, np.ones((4, 4, 1), dtype=np.uint8)), **outs, "original": clean}
    fig, axes = plt.subplots(1, len(panels), figsize=(3 * len(panels), 3.3))
    for ax, (title, img) in zip(axes, panels.items(), strict=True):
        ax.imshow(img[top : top + size, left : left + size], interpolation="nearest")
        ax.set_title(title if title in ("input (nearest)", "original") else f"{title}\n{psnr(img, clean):.2f} dB",
                     fontsize=9)  # fmt: skip
        ax.axis("off")
    fig.tight_layout(rect=(0, 0, 1, 0.96))
    fig.savefig(path, dpi=110)


def summary(rows: list[dict]) -> str:
    groups: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for r in rows:
        kodak = r["image"].startswith("kodim")
        groups[(r["task"], "Kodak" if kodak else "astronaut + coffee", r["method"])].append(r)
    lines = ["| task | images | method | n | PSNR (dB) | SSIM | s / image | images above Lanczos |",
             "|---|---|---|---:|---:|---:|---:|---:|"]  # fmt: skip
    for (task, subset, method), rs in groups.items():
        lanczos = {
            r["image"]: r["psnr"]
            for r in rows
            if r["task"] == task and r["method"] in ("lanczos", "decode, then Lanczos")
        }
        above = sum(r["psnr"] > lanczos.get(r["image"], np.inf) for r in rs)
        lines.append(f"| {task} | {subset} | {method} | {len(rs)} | {np.mean([r['psnr'] for r in rs]):.2f} | "
                     f"{np.mean([r['ssim'] for r in rs]):.4f} | {np.mean([r['seconds'] for r in rs]):.2f} | "
                     f"{above}/{len(rs)} |")  # fmt: skip
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", default=",".join([f"kodim{i:02d}" for i in range(1, 25)] + ["astronaut", "coffee"]))
    parser.add_argument("--factors", default="2,3,4")
    parser.add_argument("--codec", action="store_true", help="also the .inr decode at 4x (six Kodak images)")
    parser.add_argument("--codec-bpp", type=float, default=1.0)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "super_resolution")
    args = parser.parse_args(argv)
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
    fields = ["task", "image", "method", "psnr", "ssim", "seconds", "bytes"]
    with (args.out / "rows.csv").open("w", newline="") as f:
        writer = csv.DictWriter(f, fields)
        writer.writeheader()
        writer.writerows(rows)
    (args.out / "summary.md").write_text("# Super-resolution (benchmarks/super_resolution.py)\n\n" + summary(rows))
    (args.out / "command.txt").write_text(
        "python " + shlex.join(["benchmarks/super_resolution.py", *sys.argv[1:]]) + "\n"
    )
    import json

    (args.out / "machine.json").write_text(json.dumps(machine_info(1, 1), indent=2) + "\n")
    if "sr" in figs:
        figure(figs, args.out / "fig_sr.png")
    print(summary(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
