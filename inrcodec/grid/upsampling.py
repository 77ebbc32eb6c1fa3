"""2x upsampling and continuous interpolation of latent grids, in float and in exact integers.

The cascade brings each latent level to the next finer one with fixed 2x taps; sampling at any
other size interpolates the feature grid continuously at the output pixel centres
(:mod:`inrcodec.coords`). The integer twin of the 2x step gives the context model its parent
planes, exactly the same on every machine (:mod:`inrcodec.grid.context`).
"""

from __future__ import annotations

import numpy as np
import torch

#: 2x upsampling taps (numerator, denominator) for the cell-centre convention: output 2i sits at
#: i - 1/4 and takes source offsets OFFSETS; output 2i+1 mirrors them. Keys' cubic with a = -1/2
#: at distances 7/4, 3/4, 1/4, 5/4 is exactly these multiples of 1/128.
UP2_TAPS = {
    "bilinear": ((-1, 0), (1, 3), 4),
    "bicubic": ((-2, -1, 0, 1), (-3, 29, 111, -9), 128),
}
KERNEL_IDS = {"bilinear": 1, "bicubic": 2}
KERNEL_BY_ID = {v: k for k, v in KERNEL_IDS.items()}


def _reach(offsets: tuple[int, ...]) -> int:
    """How far either phase's taps read from a source cell: output 2i reads i + offsets, 2i + 1
    reads i - offsets."""
    return max(-min(offsets), max(offsets))


class _Up2Axis(torch.autograd.Function):
    """2x upsampling along one axis with fixed taps, and its adjoint as the backward.

    Autograd through the tap slices records a slice, a product and a sum per tap, and its
    backward materialises a zero-filled copy of the padded input per slice; the adjoint written
    out accumulates every tap into one padded buffer and folds the replicated edges back."""

    @staticmethod
    def forward(ctx, z: torch.Tensor, dim: int, kernel: str) -> torch.Tensor:
        offsets, taps, den = UP2_TAPS[kernel]
        pad = _reach(offsets) + 1
        n = z.shape[dim]
        first, last = z.narrow(dim, 0, 1), z.narrow(dim, n - 1, 1)
        zp = torch.cat([first] * pad + [z] + [last] * pad, dim)
        # Each phase accumulates straight into its interleaved half of the output (a stack of
        # two phase tensors was a third of a 24-megapixel decode's cascade time).
        pairs = list(z.shape)
        pairs.insert(dim + 1, 2)
        out = z.new_empty(pairs)
        for phase, sign in ((0, 1), (1, -1)):
            acc = out.select(dim + 1, phase)
            for k, (o, t) in enumerate(zip(offsets, taps)):
                term = zp.narrow(dim, pad + sign * o, n)
                if k == 0:
                    torch.mul(term, t / den, out=acc)
                else:
                    acc.add_(term, alpha=t / den)
        ctx.dim, ctx.kernel, ctx.n = dim, kernel, n
        shape = list(z.shape)
        shape[dim] *= 2
        return out.view(shape)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        offsets, taps, den = UP2_TAPS[ctx.kernel]
        dim, n = ctx.dim, ctx.n
        pad = _reach(offsets) + 1
        shape = list(grad.shape)
        shape[dim : dim + 1] = [n, 2]
        pairs = grad.reshape(shape)
        padded = list(grad.shape)
        padded[dim] = n + 2 * pad
        gp = grad.new_zeros(padded)
        for phase, sign in ((0, 1), (1, -1)):
            g = pairs.select(dim + 1, phase)
            for o, t in zip(offsets, taps):
                gp.narrow(dim, pad + sign * o, n).add_(g, alpha=t / den)
        out = gp.narrow(dim, pad, n).clone()
        out.narrow(dim, 0, 1).add_(gp.narrow(dim, 0, pad).sum(dim, keepdim=True))
        out.narrow(dim, n - 1, 1).add_(gp.narrow(dim, pad + n, pad).sum(dim, keepdim=True))
        return out, None, None


def up2(z: torch.Tensor, kernel: str, size: tuple[int, int]) -> torch.Tensor:
    """Upsample a (C, h, w) grid 2x with the fixed taps of ``kernel``, cropped to ``size``."""
    z = _Up2Axis.apply(z, 1, kernel)[:, : size[0]]
    return _Up2Axis.apply(z, 2, kernel)[:, :, : size[1]]


def up2_rows(z: torch.Tensor, kernel: str, size: tuple[int, int], r0: int, r1: int) -> torch.Tensor:
    """Rows [r0, r1) of ``up2(z, kernel, size)``, upsampling only the source rows they need."""
    offsets, _, _ = UP2_TAPS[kernel]
    reach = _reach(offsets)  # output rows 2i, 2i+1 read source rows i -+ reach
    a = max(0, r0 // 2 - reach)
    b = min(z.shape[1], (r1 - 1) // 2 + reach + 1)
    # Inside the image the slice's own edge replication never reaches rows r0..r1; at the
    # image's edges it is the same replication as the whole grid's.
    up = up2(z[:, a:b], kernel, (2 * (b - a), size[1]))
    return up[:, r0 - 2 * a : r1 - 2 * a]


def _keys(d: np.ndarray) -> np.ndarray:
    """Keys' cubic convolution kernel with a = -1/2."""
    d = np.abs(d)
    return np.where(
        d <= 1,
        1.5 * d**3 - 2.5 * d**2 + 1,
        np.where(d < 2, -0.5 * d**3 + 2.5 * d**2 - 4 * d + 2, 0.0),
    )


def axis_taps(n_in: int, positions: np.ndarray, kernel: str) -> tuple[np.ndarray, np.ndarray]:
    """Source indices and weights (both (n, taps)) sampling a grid of ``n_in`` cell centres on
    [-1, 1] at ``positions``; edges replicate."""
    p = (np.asarray(positions, dtype=np.float64) + 1.0) * (n_in / 2.0) - 0.5
    base = np.floor(p)
    frac = p - base
    if kernel == "bilinear":
        offsets = np.array([0, 1])
        weights = np.stack([1 - frac, frac], axis=1)
    else:
        offsets = np.array([-1, 0, 1, 2])
        weights = _keys(frac[:, None] - offsets[None, :])
    idx = np.clip(base[:, None].astype(np.int64) + offsets[None, :], 0, n_in - 1)
    return idx, weights


def resample_leading(t: torch.Tensor, idx: np.ndarray, weights: np.ndarray) -> torch.Tensor:
    """Interpolate tensor ``t`` along its first dimension with precomputed taps (n, taps).

    Along the leading dimension each tap is a copy of whole contiguous slices; along an inner
    one it would be a strided gather, several times slower (the column pass of a 4x decode)."""
    shape = (-1,) + (1,) * (t.dim() - 1)
    out = None
    for j in range(idx.shape[1]):
        i = torch.from_numpy(idx[:, j]).to(t.device)
        w = torch.from_numpy(weights[:, j].astype(np.float32)).to(t.device)
        term = t.index_select(0, i) * w.view(shape)
        out = term if out is None else out + term
    return out


def up2_int(z: np.ndarray, kernel: str, size: tuple[int, int]) -> np.ndarray:
    """Integer 2x upsampling of a (C, h, w) grid along both axes, cropped to ``size``.

    The result is the exact upsampled value times ``denominator**2``.
    """
    offsets, taps, _ = UP2_TAPS[kernel]
    for axis in (1, 2):
        z = _up2_axis_int(z, axis, offsets, taps)
    return z[:, : size[0], : size[1]]


def _up2_axis_int(z: np.ndarray, axis: int, offsets, taps) -> np.ndarray:
    pad = _reach(offsets) + 1
    n = z.shape[axis]
    widths = [(0, 0)] * z.ndim
    widths[axis] = (pad, pad)
    zp = np.pad(z, widths, mode="edge")

    def take(offset: int) -> np.ndarray:
        return np.take(zp, np.arange(pad + offset, pad + offset + n), axis=axis)

    even = sum(t * take(o) for o, t in zip(offsets, taps))
    odd = sum(t * take(-o) for o, t in zip(offsets, taps))
    out = np.stack([even, odd], axis=axis + 1)
    shape = list(z.shape)
    shape[axis] *= 2
    return out.reshape(shape)
