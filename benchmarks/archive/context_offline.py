"""Offline comparison of context schemes for the latent grid's entropy model, on a file's latents.

    python benchmarks/context_offline.py FILE.inr [FILE.inr ...]

Takes the integer latents of grid files (as decoded) and, for each scheme, trains a context
network of the file's size (inputs -> 8 ReLU -> mean, log2 scale, one bias pair per level; Adam,
600 full-batch steps, lr 0.02) on those fixed latents, then prints the ideal bits (discretised
Laplace, as the fit's rate term) per image pixel. Schemes, each with the coarser level upsampled
(the parent) as an input:

- ``parent``: the parent alone;
- ``checkerboard``: what format 1.x codes: half the latents with no spatial context, the
  other half with their four decoded neighbours;
- ``three-pass``: a 2 x 2 interleave: a quarter with no spatial context, a quarter with their
  four diagonal neighbours, half with the four direct ones;
- ``raster``: left, up, up-left and up-right neighbours for every latent (raster-causal; decodable
  in wavefronts x + 2y = t).

The latents were fitted for the checkerboard, so the other schemes' gains are what they would
save without refitting; a fit against the scheme itself would do at least as well.
"""
import os
import sys

import torch
import torch.nn.functional as F

from inrcodec import codec, container, decoder
from inrcodec.models.grid import LOG2_SCALE_MAX, LOG2_SCALE_MIN, GridImage, laplace_bits

SCHEMES = ("parent", "checkerboard", "three-pass", "raster")


def latents_of(path: str):
    """The decoded model of a grid file and its integer latents (finest level first)."""
    with open(path, "rb") as f:
        header, payload = container.unpack(f.read())
    model = decoder.build_model_from(header, payload, 2, header.signal.channels)
    return model, [z.detach().clone() for z in model.latents]


def neighbours(z: torch.Tensor) -> dict[str, torch.Tensor]:
    """The eight neighbours of every cell of (C, h, w), zero outside."""
    p = F.pad(z, (1, 1, 1, 1))
    return {
        "up": p[:, :-2, 1:-1], "down": p[:, 2:, 1:-1], "left": p[:, 1:-1, :-2], "right": p[:, 1:-1, 2:],
        "up_left": p[:, :-2, :-2], "up_right": p[:, :-2, 2:], "down_left": p[:, 2:, :-2], "down_right": p[:, 2:, 2:],
    }  # fmt: skip


def scheme_inputs(scheme: str, z: torch.Tensor, parent: torch.Tensor) -> torch.Tensor:
    """The context inputs (n_inputs, cells) of one level under ``scheme``."""
    c, h, w = z.shape
    rows, cols = torch.arange(h).view(h, 1), torch.arange(w).view(1, w)
    n = neighbours(z)
    if scheme == "parent":
        planes = [parent]
    elif scheme == "checkerboard":
        anchor = ((rows + cols) % 2 == 0).float().expand(c, h, w)
        planes = [parent, anchor] + [n[k] * (1 - anchor) for k in ("up", "down", "left", "right")]
    elif scheme == "three-pass":
        first = ((rows % 2 == 0) & (cols % 2 == 0)).float().expand(c, h, w)
        second = ((rows % 2 == 1) & (cols % 2 == 1)).float().expand(c, h, w)
        third = 1 - first - second
        diagonal, direct = ("up_left", "up_right", "down_left", "down_right"), ("up", "down", "left", "right")
        planes = [parent, first, second] + [n[d] * second + n[s] * third for d, s in zip(diagonal, direct)]
    elif scheme == "raster":
        planes = [parent] + [n[k] for k in ("left", "up", "up_left", "up_right")]
    else:
        raise ValueError(scheme)
    return torch.stack(planes).view(len(planes), -1)


def scheme_bits(scheme: str, model: GridImage, levels: list[torch.Tensor], steps: int = 600) -> float:
    """Ideal bits of all levels under ``scheme``'s context network, trained on them."""
    inputs = [scheme_inputs(scheme, z, model.parent_planes(levels, k)) for k, z in enumerate(levels)]
    n_in = inputs[0].shape[0]
    g = torch.Generator().manual_seed(0)
    w1 = ((torch.rand(8, n_in, generator=g) * 2 - 1) / n_in**0.5).requires_grad_()
    b1 = torch.zeros(8, 1, requires_grad=True)
    w2 = torch.zeros(2, 8, requires_grad=True)
    bias = torch.zeros(len(levels), 2, 1, requires_grad=True)
    optimizer = torch.optim.Adam([w1, b1, w2, bias], lr=2e-2)
    for step in range(steps + 1):
        total = torch.zeros(())
        for k, (x, z) in enumerate(zip(inputs, levels)):
            out = w2 @ F.relu(w1 @ x + b1) + bias[k]
            total = total + laplace_bits(z.flatten(), out[0], out[1].clamp(LOG2_SCALE_MIN, LOG2_SCALE_MAX)).sum()
        if step == steps:
            return total.item()
        optimizer.zero_grad()
        total.backward()
        optimizer.step()
    raise AssertionError("unreachable")


def main() -> None:
    torch.set_num_threads(1)
    for path in sys.argv[1:]:
        model, levels = latents_of(path)
        pixels = model.height * model.width
        results = {scheme: scheme_bits(scheme, model, levels) for scheme in SCHEMES}
        for scheme, bits in results.items():
            print(f"{os.path.basename(path)}  {scheme:12s}  {bits / pixels:.4f} bpp of latents  "
                  f"{100 * (bits / results['checkerboard'] - 1):+6.1f} % vs checkerboard", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
