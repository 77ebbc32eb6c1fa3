"""Time the grid's two hand-differentiated training pieces against autograd through the same
arithmetic: the 2x cascade (``upsampling.up2``) and the rate term (``context.laplace_bits``).

    python benchmarks/step_speed.py

The references below are the 0.7.0 implementations (autograd records every tap slice and every
branch). Both pairs are checked to agree to round-off before they are timed. CPU seconds, one
torch thread, medians of 5 rounds of 10 calls. Whole-encode comparisons go through
``encode_image`` with ``--steps`` fixed (docs/grid.md, "What each ingredient bought").
"""

from __future__ import annotations

import statistics
import time

import torch

from inrcodec.grid.context import laplace_bits
from inrcodec.grid.upsampling import UP2_TAPS, up2


def up2_autograd(z: torch.Tensor, kernel: str, size: tuple[int, int]) -> torch.Tensor:
    offsets, taps, den = UP2_TAPS[kernel]
    return up2_with_taps(z, offsets, [t / den for t in taps], size)


def up2_with_taps(z: torch.Tensor, offsets, weights, size: tuple[int, int]) -> torch.Tensor:
    """The 2x cascade step through autograd, with any taps: ``weights`` (numbers or tensor
    elements, which then learn) at source ``offsets`` for output 2i, mirrored for 2i + 1."""
    for dim in (1, 2):
        pad = max(-min(offsets), max(offsets)) + 1
        n = z.shape[dim]
        first, last = z.narrow(dim, 0, 1), z.narrow(dim, n - 1, 1)
        zp = torch.cat([first] * pad + [z] + [last] * pad, dim)
        even = sum(w * zp.narrow(dim, pad + o, n) for o, w in zip(offsets, weights))
        odd = sum(w * zp.narrow(dim, pad - o, n) for o, w in zip(offsets, weights))
        shape = list(z.shape)
        shape[dim] *= 2
        z = torch.stack([even, odd], dim + 1).reshape(shape)
    return z[:, : size[0], : size[1]]


def laplace_bits_autograd(y: torch.Tensor, mean: torch.Tensor, log2_scale: torch.Tensor) -> torch.Tensor:
    b = torch.exp2(log2_scale)
    x = (y - mean).abs()
    upper = 0.5 - x
    c_hi = torch.where(upper <= 0, 0.5 * torch.exp(upper / b), 1 - 0.5 * torch.exp(-upper.abs() / b))
    c_lo = 0.5 * torch.exp((-0.5 - x) / b)
    return -torch.log2((c_hi - c_lo).clamp_min(2.0**-24))


def cpu_ms(fn, rounds: int = 5, calls: int = 10) -> float:
    fn()
    times = []
    for _ in range(rounds):
        start = time.process_time()
        for _ in range(calls):
            fn()
        times.append((time.process_time() - start) / calls * 1000)
    return statistics.median(times)


def main() -> None:
    torch.set_num_threads(1)
    g = torch.Generator().manual_seed(0)
    # the Kodak-size cascade's last step: 7 feature channels, 256 x 384 -> 512 x 768
    z = torch.randn(7, 256, 384, generator=g, requires_grad=True)
    grad = torch.randn(7, 512, 768, generator=g)
    (a,) = torch.autograd.grad(up2(z, "bicubic", (512, 768)), z, grad)
    (b,) = torch.autograd.grad(up2_autograd(z, "bicubic", (512, 768)), z, grad)
    print(f"cascade gradients agree to {float((a - b).abs().max()):.1e}")
    for name, fn in (("written-out", up2), ("autograd", up2_autograd)):
        ms = cpu_ms(lambda fn=fn: torch.autograd.grad(fn(z, "bicubic", (512, 768)), z, grad))
        print(f"cascade forward + backward, {name}: {ms:.1f} ms")
    # the rate term of a 768 x 512 image's half-resolution pyramid (229 344 latents)
    n = 229344
    y = torch.round(torch.randn(n, generator=g) * 2).requires_grad_()
    mean = torch.randn(n, generator=g).requires_grad_()
    scale = (torch.rand(n, generator=g) * 4 - 3).requires_grad_()
    args = (y, mean, scale)
    a = torch.autograd.grad(laplace_bits(*args).sum(), args)
    b = torch.autograd.grad(laplace_bits_autograd(*args).sum(), args)
    print(f"rate term gradients agree to {max(float((u - v).abs().max()) for u, v in zip(a, b)):.1e}")
    for name, fn in (("written-out", laplace_bits), ("autograd", laplace_bits_autograd)):
        ms = cpu_ms(lambda fn=fn: torch.autograd.grad(fn(*args).sum(), args))
        print(f"rate term forward + backward, {name}: {ms:.1f} ms")


if __name__ == "__main__":
    main()
