"""Quick screening of latent-grid recipe changes on centred crops of training photos.

    python benchmarks/grid_screen.py NAME STEPS [key=value ...]

Each ``key=value`` overrides a field of :class:`inrcodec.grid.GridConfig` (e.g.
``lr_latents=0.2``, ``"channels=(2,1,1,1,1,1)"``), passed as ``EncodeOptions(grid=...)``. Every
image (``IMAGES``: names in ``$TRAIN``, default ../shared/data/train/wikipedia, or paths; default
001,010,023,040; centred 384 x 256 crops) is encoded at every target (``BPPS``, default
0.15,0.3,0.6,1.2) with a fixed step count, so machine load changes only the wall time, and the
per-image BD-rate against Pillow JPEG 4:2:0 on the same crop is printed and written to NAME.json.
Recipes are chosen on these training photos, never on Kodak (the product's test set). One torch
thread; run two screens side by side on two cores.
"""

from __future__ import annotations

import io
import json
import os
import sys
import time

import numpy as np
import torch
from PIL import Image

from inrcodec.bench.bdrate import BDError, bd_rate
from inrcodec.codec import encode_image
from inrcodec.grid import GridConfig
from inrcodec.metrics import psnr
from inrcodec.options import EncodeOptions

TRAIN = os.environ.get("TRAIN", "../shared/data/train/wikipedia")
#: the screen's default photos: four of the training set, of varied content
DEFAULT_IMAGES = "001,010,023,040"


def parse_overrides(pairs: list[str]) -> dict:
    """``key=value`` pairs as GridConfig field values (numbers and tuples read as Python)."""
    base = GridConfig()
    out = {}
    for pair in pairs:
        key, text = pair.split("=", 1)
        current = getattr(base, key)
        if text == "None":
            out[key] = None
        elif isinstance(current, str):
            out[key] = text
        elif isinstance(current, bool):
            out[key] = text in ("1", "true", "True")
        elif current is None:
            out[key] = eval(text, {})
        else:
            out[key] = type(current)(eval(text, {}))  # numbers and tuples of numbers
    return out


def centre_crop(a: np.ndarray) -> np.ndarray:
    """The centred 384 x 256 crop every screen fits."""
    h, w = a.shape[:2]
    return np.ascontiguousarray(a[h // 2 - 128 : h // 2 + 128, w // 2 - 192 : w // 2 + 192])


def image_path(name: str) -> str:
    """A path as given, or a training photo's name (``023``) looked up in ``$TRAIN``."""
    return name if os.sep in name else f"{TRAIN}/{name}.png"


def crop(name: str) -> np.ndarray:
    return centre_crop(np.asarray(Image.open(image_path(name)).convert("RGB")))


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
    GridConfig().with_overrides(overrides)  # refuses an unknown field before any fitting
    torch.set_num_threads(1)
    images = os.environ.get("IMAGES", DEFAULT_IMAGES).split(",")
    targets = [float(x) for x in os.environ.get("BPPS", "0.15,0.3,0.6,1.2").split(",")]
    report = []
    for image in images:
        a = crop(image)
        points = []
        for target in targets:
            start = time.time()
            result = encode_image(a, EncodeOptions(model="grid", bpp=target, steps=steps, grid=overrides))
            bpp = 8 * len(result.data) / (a.shape[0] * a.shape[1])
            points.append((bpp, result.psnr))
            print(name, image, target, f"{bpp:.3f} bpp {result.psnr:.2f} dB {time.time() - start:.0f} s", flush=True)
        anchor = jpeg_curve(a)
        try:
            bd = bd_rate(
                [p[0] for p in anchor], [p[1] for p in anchor], [p[0] for p in points], [p[1] for p in points]
            ).value
        except BDError as e:
            print(name, image, "no BD-rate:", e)
            bd = float("nan")
        report.append({"image": image, "points": points, "bd_rate_vs_jpeg": bd})
    mean = float(np.nanmean([r["bd_rate_vs_jpeg"] for r in report]))
    print(
        name, steps, overrides, "BD-rate vs JPEG", [f"{r['bd_rate_vs_jpeg']:.1f}" for r in report], f"mean {mean:.1f}"
    )
    with open(f"{name}.json", "w") as f:
        json.dump(
            {"name": name, "steps": steps, "overrides": {k: str(v) for k, v in overrides.items()}, "images": report},
            f,
            indent=1,
        )


if __name__ == "__main__":
    main()
