"""Co-trained context schemes, in float: a latent-grid fit at a fixed lambda with the float
context model replaced by a raster-causal one, against the checkerboard that format 1.x codes.

    python benchmarks/context_cotrain.py checkerboard|raster IMAGE LAMBDA

Fits the centred 384 x 256 crop of IMAGE for 1200 steps (the default recipe, fixed lambda, no
rate target) and prints the ideal bits per pixel of the rounded latents under the fitted context
model (what the rate term computes; the file itself is coded with the checkerboard, so
its size is not the measure here) and the PSNR of the rounded model. The raster context sees
the parent, a zero where the checkerboard has its anchor flag, and the left, up, up-left and
up-right neighbours of every latent. One torch thread.
"""
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

import inrcodec.grid_codec as gc
from inrcodec.fit import Budget
from inrcodec.models import grid as G

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from context_offline import scheme_inputs  # noqa: E402
from grid_screen import centre_crop  # noqa: E402


def raster(self: G.GridImage, latents: list[torch.Tensor]) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """GridImage.latent_distributions with a raster-causal context: the network's six inputs are
    the parent, a zero (the checkerboard's anchor flag) and the four causal neighbours."""
    w1, b1, w2 = self.context_in.weight, self.context_in.bias, self.context_out.weight
    out = []
    for i, z in enumerate(latents):
        planes = scheme_inputs("raster", z, self.parent_planes(latents, i))
        x = torch.cat([planes[:1], torch.zeros_like(planes[:1]), planes[1:]])
        o = w2 @ F.relu(torch.addmm(b1[:, None], w1, x)) + self.level_bias[i][:, None]
        out.append((o[0].view(z.shape), o[1].view(z.shape).clamp(G.LOG2_SCALE_MIN, G.LOG2_SCALE_MAX)))
    return out


def main() -> None:
    scheme, image, lam = sys.argv[1], sys.argv[2], float(sys.argv[3])
    torch.set_num_threads(1)
    if scheme == "raster":
        G.GridImage.latent_distributions = raster
    elif scheme != "checkerboard":
        raise SystemExit(f"unknown scheme {scheme!r}")
    a = centre_crop(np.asarray(Image.open(image).convert("RGB")))
    # The format-1.x model: the raster run replaces its float context only (as measured before
    # the wavefront scheme existed; the wavefront is the raster context, decodable).
    config = gc.GridConfig(context_scheme="checkerboard")
    model, task, _ = gc.fit_grid(a, None, lam, Budget(steps=1200), config=config)
    with torch.no_grad():
        rounded = [torch.round(z) for z in model.latents]
        dists = model.latent_distributions(rounded)
        bits = sum(G.laplace_bits(q, m, s).sum() for q, (m, s) in zip(rounded, dists)).item()
    bpp = bits / (a.shape[0] * a.shape[1])
    print(scheme, image.split("/")[-1], lam, f"latent bpp {bpp:.4f} psnr {task.evaluate():.2f}", flush=True)


if __name__ == "__main__":
    main()
