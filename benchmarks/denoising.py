"""Denoising against non-local means and BM3D on Kodak and two public images (issue 15).

    python benchmarks/denoising.py                            # the committed run
    python benchmarks/denoising.py --images kodim23 --sigmas 25 --out /tmp/dn   # a smoke test

For each image and sigma (15, 25, 50 on 0-255) Gaussian noise is added with a seed fixed per
image and rounded and clipped to 8 bits (the noise of benchmarks/applications.py), then denoised by:

- skimage's ``denoise_nl_means`` (h = 0.8 sigma, sigma given, fast mode, 5 x 5 patches,
  distance 6: skimage's documented example, as benchmarks/applications.py);
- ``inrcodec denoise`` (the learned local implicit function, the default method), sigma given;
- BM3D (the ``bm3d`` package, ``bm3d_rgb``, sigma given) on the first ``--bm3d-images`` images
  only: about a minute per Kodak image. Needs ``pip install bm3d``; skipped with a note if absent.

Images: the 24 Kodak images and two that ship with scikit-image (``astronaut``, ``coffee``). PSNR and
SSIM (inrcodec.metrics) on the 8-bit outputs, wall seconds per image on one thread. Writes
``rows.csv``, ``summary.md``, ``command.txt``, ``machine.json`` and ``fig_denoise.png`` to ``--out``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch
from image_tasks import ALL, ROOT, images, read_rows, side_by_side, summary_table, timed, write_run

from inrcodec import apps
from inrcodec.metrics import psnr, ssim

FIELDS = ["sigma", "image", "method", "psnr", "ssim", "seconds"]


def add_noise(clean: np.ndarray, sigma: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.clip(np.round(clean + rng.normal(0.0, sigma, clean.shape)), 0, 255).astype(np.uint8)


def to_uint8(x: np.ndarray) -> np.ndarray:
    return np.clip(np.round(x * 255.0), 0, 255).astype(np.uint8)


def nl_means(noisy: np.ndarray, sigma: float) -> np.ndarray:
    from skimage.restoration import denoise_nl_means

    s = sigma / 255
    return to_uint8(denoise_nl_means(noisy / 255.0, h=0.8 * s, sigma=s, fast_mode=True, patch_size=5,
                                     patch_distance=6, channel_axis=-1))  # fmt: skip


def bm3d_rgb(noisy: np.ndarray, sigma: float) -> np.ndarray:
    import bm3d

    return to_uint8(bm3d.bm3d_rgb(noisy / 255.0, sigma / 255))


def summary(rows: list[dict]) -> str:
    lines = [summary_table(rows, "sigma", lambda r: r["method"] == "nl_means", "NL-means",
                           [("PSNR (dB)", "psnr", ".2f"), ("SSIM", "ssim", ".4f"), ("s / image", "seconds", ".2f")])]  # fmt: skip
    bm3d_images = sorted({r["image"] for r in rows if r["method"] == "bm3d"})
    if bm3d_images:
        lines += ["", f"On the images BM3D ran on ({', '.join(bm3d_images)}):", "",
                  "| sigma | method | PSNR (dB) | SSIM | images at or above BM3D |", "|---:|---|---:|---:|---:|"]  # fmt: skip
        for sigma in sorted({r["sigma"] for r in rows}):
            ref = {r["image"]: r["psnr"] for r in rows if r["sigma"] == sigma and r["method"] == "bm3d"}
            for method in ("nl_means", "inr (learned local implicit)", "bm3d"):
                rs = [r for r in rows if r["sigma"] == sigma and r["method"] == method and r["image"] in ref]
                if rs:
                    at_least = sum(r["psnr"] >= ref[r["image"]] for r in rs)
                    lines.append(f"| {sigma} | {method} | {np.mean([r['psnr'] for r in rs]):.2f} | "
                                 f"{np.mean([r['ssim'] for r in rs]):.4f} | {at_least}/{len(rs)} |")  # fmt: skip
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", default=ALL)
    parser.add_argument("--sigmas", default="15,25,50")
    parser.add_argument("--bm3d-images", type=int, default=6, help="BM3D on this many of the images (slow)")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "denoising")
    parser.add_argument("--summary", action="store_true", help="only rewrite summary.md from the rows in --out")
    parser.add_argument(
        "--figure", action="store_true", help="only redraw fig_denoise.png (kodim23, sigma 25, BM3D too)"
    )
    args = parser.parse_args(argv)
    if args.figure:
        (name, clean), index = images(["kodim23"])[0], ALL.split(",").index("kodim23")
        noisy = add_noise(clean, 25.0, seed=index)
        outs = {"nl_means": nl_means(noisy, 25.0), "inr (learned local implicit)": apps.denoise(noisy, 25.0),
                "bm3d": bm3d_rgb(noisy, 25.0)}  # fmt: skip
        side_by_side([("", {"noisy": noisy, **outs}, clean)], args.out / "fig_denoise.png")
        return 0
    if args.summary:
        rows = [{**r, "sigma": int(r["sigma"])} for r in read_rows(args.out, ("psnr", "ssim", "seconds"))]
        (args.out / "summary.md").write_text("# Denoising (benchmarks/denoising.py)\n\n" + summary(rows))
        return 0
    torch.set_num_threads(1)
    args.out.mkdir(parents=True, exist_ok=True)
    try:
        import bm3d  # noqa: F401

        bm3d_ok = True
    except ImportError:
        print("bm3d is not installed (pip install bm3d): no BM3D rows", file=sys.stderr)
        bm3d_ok = False
    rows, fig = [], None
    for index, (name, clean) in enumerate(images(args.images.split(","))):
        for sigma in (float(s) for s in args.sigmas.split(",")):
            noisy = add_noise(clean, sigma, seed=index)
            methods = {"noisy input": lambda n=noisy: n, "nl_means": lambda: nl_means(noisy, sigma),
                       "inr (learned local implicit)": lambda: apps.denoise(noisy, sigma)}  # fmt: skip
            if bm3d_ok and index < args.bm3d_images:
                methods["bm3d"] = lambda: bm3d_rgb(noisy, sigma)
            outs = {}
            for method, fn in methods.items():
                out, seconds = timed(fn)
                outs[method] = out
                rows.append({"sigma": int(sigma), "image": name, "method": method, "psnr": psnr(out, clean),
                             "ssim": ssim(out, clean), "seconds": seconds})  # fmt: skip
            if name == "kodim23" and sigma == 25:
                fig = ("", {"noisy": noisy, **{k: v for k, v in outs.items() if k != "noisy input"}}, clean)
        print(name, file=sys.stderr)
    write_run(args.out, "Denoising", "benchmarks/denoising.py", rows, FIELDS, summary(rows))
    if fig is not None:
        side_by_side([fig], args.out / "fig_denoise.png")
    print(summary(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
