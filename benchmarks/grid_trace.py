"""Trace the rate control of one latent-grid fit: lambda and the coded bpp every 50 steps.

    python benchmarks/grid_trace.py IMAGE TARGET_BPP STEPS [key=value ...]

IMAGE is a path, or a training photo's name (``023``) looked up in ``$TRAIN``; with ``CROP=1``
in the environment the centred 384 x 256 crop is fitted (as ``grid_screen.py`` does).
``key=value`` overrides a field of :class:`inrcodec.grid.GridConfig`, as in ``grid_screen.py``.
Prints ``step fraction lmbda bpp loss`` lines, then the file's real bpp and PSNR. One torch
thread.

With ``LEVELS=1`` each line also gives, for the three finest latent levels: the rounded latents'
bits per pixel under the context model (``coded``), the noisy latents' bits under the same
distributions (``noisy``, what the latents' gradient sees), the share of non-zero rounded
latents (``nz``), the share more than 0.35 from an integer (``frac>.35``) and the mean predicted
log2 scale (``log2s``).
"""

from __future__ import annotations

import os
import sys

import numpy as np
import torch
from PIL import Image

from inrcodec.codec import encode_image
from inrcodec.grid.context import laplace_bits
from inrcodec.grid.training import GridFitTask
from inrcodec.options import EncodeOptions

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from grid_screen import centre_crop, image_path, parse_overrides


@torch.no_grad()
def level_columns(task: GridFitTask, count: int = 3) -> str:
    """Per-level rate statistics of the three finest levels (see the module docstring)."""
    latents = list(task.model.latents)
    rounded = [torch.round(z) for z in latents]
    dists = task.distributions(rounded)
    noise = task._noise()
    columns = {
        "coded": [laplace_bits(q, m, s).sum() / task.pixels for q, (m, s) in zip(rounded, dists)],
        "noisy": [laplace_bits(z + n, m, s).sum() / task.pixels for z, n, (m, s) in zip(latents, noise, dists)],
        "nz": [(q != 0).float().mean() for q in rounded],
        "frac>.35": [((z - torch.round(z)).abs() > 0.35).float().mean() for z in latents],
        "log2s": [s.mean() for _, s in dists],
    }
    return "".join(
        f" | {name} " + " ".join(f"{v.item():.3f}" for v in values[:count]) for name, values in columns.items()
    )


def main() -> None:
    image, target, steps = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
    overrides = parse_overrides(sys.argv[4:])
    torch.set_num_threads(1)
    a = np.asarray(Image.open(image_path(image)).convert("RGB"))
    if os.environ.get("CROP"):
        a = centre_crop(a)
    loss_of = GridFitTask.training_loss

    def traced(self, step, fraction):  # instruments the fit, changes nothing in it
        loss = loss_of(self, step, fraction)
        if step % 50 == 0:
            bpp = self.last_bits / self.pixels
            line = f"{step} {fraction:.2f} lmbda {self.lmbda:.5f} bpp {bpp:.3f} loss {loss.item():.5f}"
            print(line + (level_columns(self) if os.environ.get("LEVELS") else ""), flush=True)
        return loss

    GridFitTask.training_loss = traced
    result = encode_image(a, EncodeOptions(model="grid", bpp=target, steps=steps, grid=overrides))
    print("final", len(result.data) * 8 / a.shape[0] / a.shape[1], result.psnr)


if __name__ == "__main__":
    main()
