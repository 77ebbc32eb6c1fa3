"""Trace the rate control of one latent-grid fit: lambda and the coded bpp every 50 steps.

    python benchmarks/grid_trace.py IMAGE TARGET_BPP STEPS [key=value ...]

IMAGE is a path, or a Kodak name (``kodim24``) looked up in ``$KODAK`` (default
``../shared/data/kodak``); with ``CROP=1`` in the environment the centred 384 x 256 crop is fitted
(as ``grid_screen.py`` does). ``key=value`` overrides a field of
:class:`inrcodec.grid_codec.GridConfig`, as in ``grid_screen.py``. Prints ``step fraction lam bpp
loss`` lines, then the file's real bpp and PSNR. One torch thread.
"""

from __future__ import annotations

import dataclasses
import os
import sys

import numpy as np
import torch
from PIL import Image

import inrcodec.grid_codec as grid_codec
import inrcodec.tasks as tasks
from inrcodec.codec import EncodeOptions, encode_image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from grid_screen import KODAK, centre_crop, parse_overrides, use_config  # noqa: E402


def main() -> None:
    image, target, steps = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
    use_config(dataclasses.replace(grid_codec.GridConfig(), **parse_overrides(sys.argv[4:])))
    torch.set_num_threads(1)
    path = image if os.sep in image else f"{KODAK}/{image}.png"
    a = np.asarray(Image.open(path).convert("RGB"))
    if os.environ.get("CROP"):
        a = centre_crop(a)
    loss_of = tasks.GridFitTask.training_loss

    def traced(self, step, fraction):
        loss = loss_of(self, step, fraction)
        if step % 50 == 0:
            print(step, f"{fraction:.2f} lam {self.lam:.5f} bpp {self.last_bpp:.3f} loss {loss.item():.5f}", flush=True)
        return loss

    tasks.GridFitTask.training_loss = traced
    result = encode_image(a, EncodeOptions(model="grid", bpp=target, steps=steps))
    print("final", len(result.data) * 8 / a.shape[0] / a.shape[1], result.psnr)


if __name__ == "__main__":
    main()
