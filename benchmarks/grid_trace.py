"""Trace the rate control of one latent-grid fit: lambda and the coded bpp every 50 steps.

    python benchmarks/grid_trace.py IMAGE TARGET_BPP STEPS [key=value ...]

IMAGE is a path, or a Kodak name (``kodim24``) looked up in ``$KODAK`` (default
``../shared/data/kodak``); with ``CROP=1`` in the environment the centred 384 x 256 crop is fitted
(as ``grid_screen.py`` does). ``key=value`` overrides a field of
:class:`inrcodec.grid_codec.GridConfig`, as in ``grid_screen.py``. Prints ``step fraction lam bpp
loss`` lines, then the file's real bpp and PSNR. One torch thread.

With ``LEVELS=1`` each line also gives, for the three finest latent levels: the rounded latents'
bits per pixel under the context model (``coded``), the noisy latents' bits under the same
distributions (``noisy``, what the latents' gradient sees), the share of non-zero rounded
latents (``nz``), the share more than 0.35 from an integer (``frac>.35``) and the mean predicted
log2 scale (``log2s``).
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
from inrcodec.models.grid import laplace_bits

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from grid_screen import KODAK, centre_crop, parse_overrides, use_config  # noqa: E402


@torch.no_grad()
def level_columns(task: tasks.GridFitTask, count: int = 3) -> str:
    """Per-level rate statistics of the three finest levels (see the module docstring)."""
    latents = list(task.model.latents)
    rounded = [torch.round(z) for z in latents]
    dists = task.model.latent_distributions(rounded)
    noise = task._noise()
    columns = {
        "coded": [laplace_bits(q, m, s).sum() / task.pixels for q, (m, s) in zip(rounded, dists)],
        "noisy": [laplace_bits(z + n, m, s).sum() / task.pixels for z, n, (m, s) in zip(latents, noise, dists)],
        "nz": [(q != 0).float().mean() for q in rounded],
        "frac>.35": [((z - torch.round(z)).abs() > 0.35).float().mean() for z in latents],
        "log2s": [s.mean() for _, s in dists],
    }
    return "".join(f" | {name} " + " ".join(f"{v.item():.3f}" for v in values[:count]) for name, values in columns.items())


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
            line = f"{step} {fraction:.2f} lam {self.lam:.5f} bpp {self.last_bpp:.3f} loss {loss.item():.5f}"
            print(line + (level_columns(self) if os.environ.get("LEVELS") else ""), flush=True)
        return loss

    tasks.GridFitTask.training_loss = traced
    result = encode_image(a, EncodeOptions(model="grid", bpp=target, steps=steps))
    print("final", len(result.data) * 8 / a.shape[0] / a.shape[1], result.psnr)


if __name__ == "__main__":
    main()
