"""Learned 2x upsampling filters for the grid's synthesis cascade (issue 19, ingredient 3), as
tried: what they could buy, measured before any format work.

    TRAIN=../shared/data/train/wikipedia BPPS=0.25,0.5 python benchmarks/archive/learned_upsampling_try.py NAME learn
    TRAIN=... BPPS=0.25,0.5 python benchmarks/archive/learned_upsampling_try.py NAME fixed

Every 2x step of the cascade to the stored pixel grid (the features the synthesis sees; the
context model's integer parent planes keep Keys' cubic) gets its own symmetric 8-tap filter per
phase, shared by the channels, initialised to Keys' cubic (offsets -2..1, the other four taps
zero; ``FINAL=0`` keeps the last step, to the pixel grid, at Keys' cubic: the first run did,
because the band steps compute it with ``up2_rows``) and learned with the fit (``learn``, Adam at ``LR``, default 2e-3) or kept fixed
(``fixed``: the same code, the reference). The format cannot store the taps yet, so the file is
not decoded: PSNR is the fitted model's in this process (rounded latents, synthesis weights at
the steps the payload chose, fp32), and the bits are the payload's plus the header's 110 bytes
and, for ``learn``, 16 bits per tap; ``learn`` also prints what rounding the taps to multiples
of 2^-6, 2^-8 and 2^-10 would cost in PSNR. Centred 384 x 256 crops of ``IMAGES`` as grid_screen.py,
1500 steps, the default recipe (``SIZE=768x512``: centred crops of that size instead). Writes NAME.json in grid_screen.py's format.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import grid_screen
from large_images import centred
from step_speed import up2_with_taps

import inrcodec.grid.model as model_module
from inrcodec import quantize
from inrcodec.fit import Budget
from inrcodec.grid import recipe, training
from inrcodec.grid.payload import encode_payload
from inrcodec.grid.recipe import GridConfig
from inrcodec.grid.upsampling import UP2_TAPS, up2
from inrcodec.rate import RateTarget

OFFSETS = tuple(range(-4, 4))
LR = float(os.environ.get("LR", "2e-3"))
TAPS: dict[tuple[int, int], nn.Parameter] = {}


def bicubic_taps() -> torch.Tensor:
    offsets, taps, den = UP2_TAPS["bicubic"]
    t = torch.zeros(len(OFFSETS))
    for o, v in zip(offsets, taps):
        t[OFFSETS.index(o)] = v / den
    return t


def up2_taps(z: torch.Tensor, taps: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """up2 with ``taps`` at OFFSETS for the even phase (the odd phase mirrors them), autograd."""
    return up2_with_taps(z, OFFSETS, taps.unbind(), size)


def patched_up2(z, kernel, size):
    return up2_taps(z, TAPS[tuple(size)], size)


def patched_up2_rows(z, kernel, size, r0, r1):
    """The band steps' last 2x step (``up2_rows``): the whole step, then the band's rows (slower,
    the same values)."""
    return patched_up2(z, kernel, size)[:, r0:r1]


def main() -> None:
    name, mode = sys.argv[1], sys.argv[2]
    torch.set_num_threads(1)
    g = torch.Generator().manual_seed(0)
    z = torch.randn(3, 17, 23, generator=g)
    gap = float((up2_taps(z, bicubic_taps(), (34, 45)) - up2(z, "bicubic", (34, 45))).abs().max())
    assert gap < 1e-5, gap  # the initial filter is the fixed cascade's
    build = recipe.build_model

    def build_with_taps(config, height, width, channels, generator):
        m = build(config, height, width, channels, generator)
        TAPS.clear()
        for size in [*m.sizes[:-1], (height, width)] if m.first_level == 1 else m.sizes[:-1]:
            TAPS[tuple(size)] = nn.Parameter(bicubic_taps(), requires_grad=mode == "learn")
        return m

    groups, factors = training.GridFitTask.parameter_groups, training.GridFitTask.lr_factors
    training.build_model = build_with_taps
    model_module.up2 = patched_up2
    if os.environ.get("FINAL", "1") == "1":  # FINAL=0: the last step, to the pixels, stays fixed
        model_module.up2_rows = patched_up2_rows
    if mode == "learn":
        training.GridFitTask.parameter_groups = lambda self: [*groups(self), {"params": list(TAPS.values()), "lr": LR}]
        training.GridFitTask.lr_factors = lambda self, f: [*factors(self, f), 1.0]
    images = os.environ.get("IMAGES", grid_screen.DEFAULT_IMAGES).split(",")
    targets = [float(x) for x in os.environ.get("BPPS", "0.25,0.5").split(",")]
    report = []
    for image in images:
        a = grid_screen.crop(image)
        if os.environ.get("SIZE"):  # e.g. 768x512: a larger centred crop instead of the screen's
            w, h = (int(v) for v in os.environ["SIZE"].split("x"))
            full = np.asarray(Image.open(grid_screen.image_path(image)).convert("RGB"))
            a = np.ascontiguousarray(centred(full, w, h))
        h, w, _ = a.shape
        points = []
        for target in targets:
            start = time.time()
            task, _ = training.fit(a, RateTarget(target * h * w), None, Budget(steps=1500), GridConfig())
            codes, stream = encode_payload(task.model, task.scheme, task.evaluate)
            with torch.no_grad():  # the synthesis at the steps the payload chose
                for (_, p), code in zip(task.model.synthesis_tensors(), codes[4:]):
                    step = quantize.step_from_exp(code.step_exp)
                    p.copy_(torch.round(p / step) * step)
            bits = 8 * len(stream) + 8 * 110 + (16 * len(OFFSETS) * len(TAPS) if mode == "learn" else 0)
            bpp, psnr = bits / (h * w), task.evaluate()
            points.append((bpp, psnr))
            taps = " ".join(f"{s[0]}x{s[1]} [{' '.join(f'{v:+.3f}' for v in t.tolist())}]" for s, t in TAPS.items())
            print(name, image, target, f"{bpp:.3f} bpp {psnr:.2f} dB {time.time() - start:.0f} s", flush=True)
            if mode == "learn":
                print("  taps by the size each step upsamples to:", taps, flush=True)
                with torch.no_grad():  # what storing the taps as multiples of 2^-k would cost
                    learned = {k: t.detach().clone() for k, t in TAPS.items()}
                    for k_bits in (6, 8, 10):
                        for k, t in TAPS.items():
                            t.copy_(torch.round(learned[k] * 2**k_bits) / 2**k_bits)
                        print(f"  taps at 2^-{k_bits}: {task.evaluate() - psnr:+.3f} dB", flush=True)
                    for k, t in TAPS.items():
                        t.copy_(learned[k])
        report.append({"image": image, "points": points, "bd_rate_vs_jpeg": float("nan")})
    with open(f"{name}.json", "w") as f:
        json.dump(
            {"name": name, "steps": 1500, "overrides": {"mode": mode, "lr": str(LR)}, "images": report}, f, indent=1
        )


if __name__ == "__main__":
    main()
