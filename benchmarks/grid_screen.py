"""Quick screening of latent-grid recipe changes on centred crops of a few Kodak images.

    python benchmarks/grid_screen.py NAME STEPS [key=value ...]

Each ``key=value`` overrides a field of :class:`inrcodec.grid_codec.GridConfig` (e.g.
``lr_latents=0.2``, ``"channels=(2,1,1,1,1,1)"``). Every image (``IMAGES``, default kodim01,
kodim15, kodim23, kodim05; centred 384 x 256 crops) is encoded at every target (``BPPS``,
default 0.15,0.3,0.6,1.2) with a fixed step count, so machine load changes only the wall time,
and the per-image BD-rate against Pillow JPEG 4:2:0 on the same crop is printed and written to
NAME.json. One torch thread; run two screens side by side on two cores.
"""

from __future__ import annotations

import dataclasses
import io
import json
import os
import sys
import time

import numpy as np
import torch
from PIL import Image

import inrcodec.grid_codec as grid_codec
from inrcodec.bench.bdrate import BDError, bd_rate
from inrcodec.codec import EncodeOptions, encode_image
from inrcodec.metrics import psnr

KODAK = os.environ.get("KODAK", "../shared/data/kodak")


def parse_overrides(pairs: list[str]) -> dict:
    base = grid_codec.GridConfig()
    out = {}
    for pair in pairs:
        key, text = pair.split("=", 1)
        current = getattr(base, key)
        if isinstance(current, str):
            out[key] = text
        elif isinstance(current, bool):
            out[key] = text in ("1", "true", "True")
        else:
            out[key] = type(current)(eval(text, {}))  # numbers and tuples of numbers
    return out


def centre_crop(a: np.ndarray) -> np.ndarray:
    """The centred 384 x 256 crop every screen fits."""
    h, w = a.shape[:2]
    return np.ascontiguousarray(a[h // 2 - 128 : h // 2 + 128, w // 2 - 192 : w // 2 + 192])


def crop(name: str) -> np.ndarray:
    return centre_crop(np.asarray(Image.open(f"{KODAK}/{name}.png").convert("RGB")))


def use_config(config: grid_codec.GridConfig) -> None:
    """Make every grid fit in this process (through the codec's API) use ``config``."""
    fit = grid_codec.fit_grid
    grid_codec.fit_grid = lambda *a, **k: fit(*a, **{**k, "config": config})


def jpeg_curve(a: np.ndarray) -> list[tuple[float, float]]:
    points = []
    for quality in range(5, 96, 5):
        buf = io.BytesIO()
        Image.fromarray(a).save(buf, "JPEG", quality=quality)
        decoded = np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))
        points.append((8 * len(buf.getvalue()) / (a.shape[0] * a.shape[1]), psnr(a, decoded)))
    return points


def main() -> None:
    name, steps = sys.argv[1], int(sys.argv[2])
    overrides = parse_overrides(sys.argv[3:])
    use_config(dataclasses.replace(grid_codec.GridConfig(), **overrides))
    torch.set_num_threads(1)
    images = os.environ.get("IMAGES", "kodim01,kodim15,kodim23,kodim05").split(",")
    targets = [float(x) for x in os.environ.get("BPPS", "0.15,0.3,0.6,1.2").split(",")]
    report = []
    for image in images:
        a = crop(image)
        points = []
        for target in targets:
            start = time.time()
            result = encode_image(a, EncodeOptions(model="grid", bpp=target, steps=steps))
            bpp = 8 * len(result.data) / (a.shape[0] * a.shape[1])
            points.append((bpp, result.psnr))
            print(name, image, target, f"{bpp:.3f} bpp {result.psnr:.2f} dB {time.time() - start:.0f} s", flush=True)
        anchor = jpeg_curve(a)
        try:
            bd = bd_rate([p[0] for p in anchor], [p[1] for p in anchor], [p[0] for p in points], [p[1] for p in points]).value
        except BDError as e:
            print(name, image, "no BD-rate:", e)
            bd = float("nan")
        report.append({"image": image, "points": points, "bd_rate_vs_jpeg": bd})
    mean = float(np.nanmean([r["bd_rate_vs_jpeg"] for r in report]))
    print(name, steps, overrides, "BD-rate vs JPEG", [f"{r['bd_rate_vs_jpeg']:.1f}" for r in report], f"mean {mean:.1f}")
    with open(f"{name}.json", "w") as f:
        json.dump({"name": name, "steps": steps, "overrides": {k: str(v) for k, v in overrides.items()}, "images": report}, f, indent=1)


if __name__ == "__main__":
    main()
