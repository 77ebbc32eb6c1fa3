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
import csv
import json
import shlex
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from super_resolution import images

from inrcodec import apps
from inrcodec.bench.machine import machine_info
from inrcodec.metrics import psnr, ssim

ALL = ",".join([f"kodim{i:02d}" for i in range(1, 25)] + ["astronaut", "coffee"])


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


def timed(fn):
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start


def summary(rows: list[dict]) -> str:
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for r in rows:
        groups[(r["sigma"], "Kodak" if r["image"].startswith("kodim") else "astronaut + coffee", r["method"])].append(r)
    lines = ["| sigma | images | method | n | PSNR (dB) | SSIM | s / image | images above NL-means |",
             "|---:|---|---|---:|---:|---:|---:|---:|"]  # fmt: skip
    for (sigma, subset, method), rs in sorted(groups.items(), key=lambda kv: (kv[0][0], kv[0][1])):
        nlm = {r["image"]: r["psnr"] for r in rows if r["sigma"] == sigma and r["method"] == "nl_means"}
        above = sum(r["psnr"] > nlm.get(r["image"], np.inf) for r in rs)
        lines.append(f"| {sigma} | {subset} | {method} | {len(rs)} | {np.mean([r['psnr'] for r in rs]):.2f} | "
                     f"{np.mean([r['ssim'] for r in rs]):.4f} | {np.mean([r['seconds'] for r in rs]):.2f} | "
                     f"{above}/{len(rs)} |")  # fmt: skip
    return "\n".join(lines) + "\n"


def figure(fig: tuple, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    noisy, outs, clean = fig
    top, left, size = 200, 250, 160
    panels = {"noisy": noisy, **outs, "original": clean}
    f, axes = plt.subplots(1, len(panels), figsize=(3 * len(panels), 3.3))
    for ax, (title, img) in zip(axes, panels.items(), strict=True):
        ax.imshow(img[top : top + size, left : left + size])
        ax.set_title(f"{title}\n{psnr(img, clean):.2f} dB" if title != "original" else title, fontsize=9)
        ax.axis("off")
    f.tight_layout(rect=(0, 0, 1, 0.96))
    f.savefig(path, dpi=110)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", default=ALL)
    parser.add_argument("--sigmas", default="15,25,50")
    parser.add_argument("--bm3d-images", type=int, default=6, help="BM3D on this many of the images (slow)")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "denoising")
    args = parser.parse_args(argv)
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
                fig = (noisy, {k: v for k, v in outs.items() if k != "noisy input"}, clean)
        print(name, file=sys.stderr)
    with (args.out / "rows.csv").open("w", newline="") as f:
        writer = csv.DictWriter(f, ["sigma", "image", "method", "psnr", "ssim", "seconds"])
        writer.writeheader()
        writer.writerows(rows)
    (args.out / "summary.md").write_text("# Denoising (benchmarks/denoising.py)\n\n" + summary(rows))
    (args.out / "command.txt").write_text("python " + shlex.join(["benchmarks/denoising.py", *sys.argv[1:]]) + "\n")
    (args.out / "machine.json").write_text(json.dumps(machine_info(1, 1), indent=2) + "\n")
    if fig is not None:
        figure(fig, args.out / "fig_denoise.png")
    print(summary(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
