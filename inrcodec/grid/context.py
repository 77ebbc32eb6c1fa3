"""The latent context model: each latent's mean and scale, from what the decoder already has.

Each latent's symbol is modelled as a discretized Laplace whose mean and scale a tiny network
predicts from the *parent* (the next coarser level, upsampled 2x to this level's size) and five
inputs that the context scheme defines (:mod:`inrcodec.grid.coding`: decoded neighbours).

The network exists twice, side by side here:

- :class:`ContextModel`, in float, trains with the rest of the model: its predictions give the
  rate term of the training loss (:func:`laplace_bits`);
- :class:`IntegerContext`, in exact int64 fixed point, is what encoder and decoder compute with:
  the weights are the integers in the file (Q(:data:`WEIGHT_BITS`)), hidden activations are
  floored to Q(:data:`HIDDEN_BITS`), the mean is rounded to 1/16 and the scale to one of the
  coder's scale indices. The float twin rounds at the same points; a mismatch between the two
  costs a little rate, never correctness, because both coder sides use the integer version.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .. import entropy
from ..entropy import MEAN_UNITS
from .upsampling import UP2_TAPS, up2, up2_int, up2_rows

#: fractional bits of the context network's weights and of its hidden activations
WEIGHT_BITS = 10
HIDDEN_BITS = 8
#: scale index of log2(b) = 0; see entropy.laplace_scale
SCALE_OFFSET = 20
#: context inputs: the parent, then five scheme-defined ones
CONTEXT_INPUTS = 6
#: log2 of the smallest and largest Laplace scale the coder's tables have
LOG2_SCALE_MIN, LOG2_SCALE_MAX = -5.0, 18.75


# --- float: the trained twin -----------------------------------------------------------------------


class ContextModel(nn.Module):
    """The context network in float: (parent, five scheme inputs) -> (mean, log2 scale), with a
    learned bias per level."""

    def __init__(self, levels: int, hidden: int) -> None:
        super().__init__()
        self.hidden = nn.Linear(CONTEXT_INPUTS, hidden)
        self.out = nn.Linear(hidden, 2, bias=False)
        self.level_bias = nn.Parameter(torch.zeros(levels, 2))

    @torch.no_grad()
    def reset(self, generator: torch.Generator | None) -> None:
        bound = 1.0 / math.sqrt(CONTEXT_INPUTS)
        self.hidden.weight.uniform_(-bound, bound, generator=generator)
        self.hidden.bias.zero_()
        self.out.weight.zero_()  # start from the per-level Laplace, learn context from there

    def tensors(self) -> list[tuple[str, nn.Parameter]]:
        """The coded tensors, in file order."""
        return [
            ("context.hidden.weight", self.hidden.weight),
            ("context.hidden.bias", self.hidden.bias),
            ("context.out.weight", self.out.weight),
            ("context.level_bias", self.level_bias),
        ]

    def distributions(
        self, latents: list[torch.Tensor], scheme, kernel: str, band: tuple[int, int] | None = None
    ) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """(mean, log2 scale) of every latent given the others, as the integer coder computes them.

        With ``band = (b, n)`` only the rows of band b of n of every level (rows ``b h // n`` to
        ``(b + 1) h // n`` of a level h rows high), as (C, rows, w) each: what a training step on
        one band of the image needs. The context network is most of a step's cost, and at full
        resolution four times as much as the synthesis of one band.

        The inputs are stacked as rows, (6, N), and the network applied as (hidden, 6) @ (6, N):
        the same arithmetic as :meth:`IntegerContext.predict`, with contiguous planes, which trains
        several times faster than (N, 6) rows through ``nn.Linear``."""
        w1, b1 = self.hidden.weight, self.hidden.bias
        w2 = self.out.weight
        out = []
        for i, z in enumerate(latents):
            c, h, w = z.shape
            a, e = (0, h) if band is None else band_rows(h, *band)
            # one row of margin either side: the neighbours beyond the band are real latents
            lo, hi = max(0, a - 1), min(h, e + 1)
            x = scheme.float_inputs(z[:, lo:hi], parent_planes(latents, i, kernel, (lo, hi)), lo)
            x = x.view(CONTEXT_INPUTS, c, hi - lo, w)[:, :, a - lo : e - lo].reshape(CONTEXT_INPUTS, -1)
            o = w2 @ F.relu(torch.addmm(b1[:, None], w1, x)) + self.level_bias[i][:, None]
            shape = (c, e - a, w)
            out.append((o[0].view(shape), o[1].view(shape).clamp(LOG2_SCALE_MIN, LOG2_SCALE_MAX)))
        return out


def band_rows(height: int, band: int, bands: int) -> tuple[int, int]:
    """Rows [a, e) of band ``band`` of ``bands`` equal bands of a grid ``height`` rows high."""
    return band * height // bands, (band + 1) * height // bands


def parent_planes(
    latents: list[torch.Tensor], i: int, kernel: str, rows: tuple[int, int] | None = None
) -> torch.Tensor:
    """The context's parent input for level ``i`` (or its ``rows``): the next coarser level
    upsampled 2x to its size (channel c from the coarser channel c, or its channel 0), zero for
    the coarsest."""
    c, h, w = latents[i].shape
    lo, hi = rows or (0, h)
    if i + 1 == len(latents):
        return latents[i].new_zeros(c, hi - lo, w)
    up = up2_rows(latents[i + 1], kernel, (h, w), lo, hi) if rows else up2(latents[i + 1], kernel, (h, w))
    return up[:c] if up.shape[0] >= c else up[:1].expand(c, hi - lo, w)


def shifted(z: torch.Tensor, dy: int, dx: int) -> torch.Tensor:
    """The neighbour at (y + dy, x + dx) of every cell of (C, h, w), zero outside the grid."""
    _, h, w = z.shape
    top, left = max(-dy, 0), max(-dx, 0)
    p = F.pad(z, (left, max(dx, 0), top, max(dy, 0)))
    return p[:, top + dy : top + dy + h, left + dx : left + dx + w]


#: the smallest probability the rate term gives a symbol (its bits stop at 24)
_P_FLOOR = 2.0**-24


class _LaplaceBits(torch.autograd.Function):
    """:func:`laplace_bits` with its derivatives written out.

    With x = |y - mean|, u = 2^-log2_scale, E1 = exp(-|1/2 - x| u) and E2 = exp(-(1/2 + x) u),
    the bin's probability is P = E1/2 - E2/2 in the tail (x >= 1/2) and 1 - E1/2 - E2/2 at the
    centre; in both, dP/dx = -u (E1 - E2) / 2 and dP/du = ((1/2 - x) E1 + (1/2 + x) E2) / 2.
    Autograd through the two-branch expression recorded some forty operations per call, and the
    rate term was half of a training step (docs/grid.md, "What each ingredient bought")."""

    @staticmethod
    def forward(ctx, y: torch.Tensor, mean: torch.Tensor, log2_scale: torch.Tensor) -> torch.Tensor:
        d = y - mean
        x = d.abs()
        u = torch.exp2(log2_scale.neg())
        upper = x.neg().add_(0.5)  # 1/2 - x
        e1 = upper.abs().mul_(u).neg_().exp_()
        e2 = (x + 0.5).mul_(u).neg_().exp_()
        half1 = e1 * 0.5
        p = torch.where(upper <= 0, half1, 1.0 - half1).sub_(e2, alpha=0.5).clamp_(min=_P_FLOOR)
        ctx.save_for_backward(d, u, e1, e2, p)
        return torch.log2(p).neg_()

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        d, u, e1, e2, p = ctx.saved_tensors
        # d bits / dP = -1 / (P ln 2), zero where the floor holds P
        scale = grad.masked_fill(p == _P_FLOOR, 0.0).div_(p)
        grad_y = grad_mean = grad_log2_scale = None
        if ctx.needs_input_grad[0] or ctx.needs_input_grad[1]:
            # d bits / dx = u (E1 - E2) / (2 P ln 2); dx / dy = sign(y - mean)
            grad_y = (e1 - e2).mul_(u).mul_(scale).mul_(0.5 / math.log(2)).mul_(torch.sign(d))
            grad_mean = grad_y.neg() if ctx.needs_input_grad[1] else None
            grad_y = grad_y if ctx.needs_input_grad[0] else None
        if ctx.needs_input_grad[2]:
            # d bits / d log2_scale = u dP/du / P (du / dlog2_scale = -u ln 2)
            x = d.abs()
            grad_log2_scale = ((0.5 - x).mul_(e1).add_((x + 0.5).mul_(e2))).mul_(u).mul_(scale).mul_(0.5)
        return grad_y, grad_mean, grad_log2_scale


def laplace_bits(y: torch.Tensor, mean: torch.Tensor, log2_scale: torch.Tensor) -> torch.Tensor:
    """-log2 P(y) under a unit-bin discretized Laplace(mean, 2^log2_scale), elementwise."""
    return _LaplaceBits.apply(y, mean, log2_scale)


# --- integer: what the coder computes with ---------------------------------------------------------


def parent_channels(parent: np.ndarray, channels: int) -> np.ndarray:
    """The parent planes a level of ``channels`` channels sees: channel c takes the coarser
    level's channel c, or its channel 0 when the coarser level has fewer channels."""
    if parent.shape[0] >= channels:
        return parent[:channels]
    return np.broadcast_to(parent[:1], (channels, *parent.shape[1:]))


def integer_parent(kernel: str, coarser: np.ndarray | None, shape: tuple[int, int, int]) -> tuple[np.ndarray, int]:
    """The parent planes of a level and their fixed-point bits (zero for the coarsest level)."""
    c, h, w = shape
    if coarser is None:
        return np.zeros(shape, dtype=np.int64), 0
    den = UP2_TAPS[kernel][2]
    up = up2_int(coarser.astype(np.int64), kernel, (h, w))
    return np.ascontiguousarray(parent_channels(up, c)), 2 * (den.bit_length() - 1)


@dataclass(frozen=True)
class IntegerContext:
    """The context network as integers: weights in Q(WEIGHT_BITS), as the file stores them."""

    w1: np.ndarray  # (hidden, CONTEXT_INPUTS)
    b1: np.ndarray  # (hidden,)
    w2: np.ndarray  # (2, hidden): mean, log2 scale
    level_bias: np.ndarray  # (levels, 2)
    kernel: str

    def predict(self, level: int, inputs: np.ndarray, input_bits: int) -> tuple[np.ndarray, np.ndarray]:
        """Mean (in 1/16) and scale index for each row of ``inputs`` (N, 6), given in Q(input_bits).

        Rows are independent, so they go through in chunks: the hidden layer then takes a bounded
        amount of memory (about 16 MB) at any grid size and context width.
        """
        rows = max(1, _PREDICT_VALUES // max(1, len(self.b1)))
        if len(inputs) <= rows:
            return self._predict(level, inputs, input_bits)
        parts = [self._predict(level, inputs[a : a + rows], input_bits) for a in range(0, len(inputs), rows)]
        return np.concatenate([m for m, _ in parts]), np.concatenate([s for _, s in parts])

    def _predict(self, level: int, inputs: np.ndarray, input_bits: int) -> tuple[np.ndarray, np.ndarray]:
        acc = exact_matmul(inputs, self.w1.T) + (self.b1 << input_bits)  # Q(WEIGHT + input_bits)
        return self.head(level, acc, input_bits)

    def head(self, level: int, acc: np.ndarray, input_bits: int) -> tuple[np.ndarray, np.ndarray]:
        """Mean and scale index from the first layer's accumulators (N, hidden), in
        Q(WEIGHT_BITS + input_bits): everything after the first matrix product."""
        out = exact_matmul(hidden_units(acc, input_bits), self.w2.T) + (self.level_bias[level] << HIDDEN_BITS)
        return mean_and_scale(out)


def hidden_units(acc: np.ndarray, input_bits: int) -> np.ndarray:
    """The hidden layer in Q(HIDDEN_BITS) from the first layer's accumulators in
    Q(WEIGHT_BITS + input_bits). (Right shifts of int64 are floor divisions by powers of two.)"""
    return np.maximum(acc, 0) >> (WEIGHT_BITS + input_bits - HIDDEN_BITS)


def mean_and_scale(out: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean (in 1/16) and scale index from the head's outputs (N, 2) in
    Q(WEIGHT_BITS + HIDDEN_BITS), level bias included."""
    shift = WEIGHT_BITS + HIDDEN_BITS
    half = 1 << (shift - 1)
    mean16 = (out[:, 0] * MEAN_UNITS + half) >> shift
    scale = ((out[:, 1] * 4 + half) >> shift) + SCALE_OFFSET
    return mean16, np.minimum(np.maximum(scale, 0), entropy.NUM_SCALES - 1)


#: hidden values (rows x context width) one prediction chunk may hold
_PREDICT_VALUES = 1 << 20
#: products with fewer rows are computed in int64 directly
_BLAS_ROWS = 4096
#: integer products are summed in float64 only while every partial sum is below 2^53
EXACT_FLOAT_LIMIT = 1 << 52


def exact_matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Integer matrix product. Uses float64 BLAS when every partial sum is an integer below 2^52,
    where floating-point addition is exact in any order (so the result is bit-identical on every
    machine), and int64 arithmetic otherwise (and for few rows, where BLAS gains nothing)."""
    if len(a) < _BLAS_ROWS:
        return a @ b
    bound = float(np.abs(a).max(initial=0)) * float(np.abs(b).sum(axis=0).max(initial=0))
    if bound < EXACT_FLOAT_LIMIT:
        return (a.astype(np.float64) @ b.astype(np.float64)).astype(np.int64)
    return a @ b


def centre(mean16: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The integer centre of each predicted mean (in 1/16) and the fraction left, in -8..7."""
    c = np.floor_divide(mean16 + MEAN_UNITS // 2, MEAN_UNITS)
    return c, mean16 - MEAN_UNITS * c
