"""Entropy coding of latent grids with a context model, in exact integer arithmetic.

The latent-grid model (:mod:`inrcodec.models.grid`) stores a pyramid of integer grids. Each
latent's symbol is modelled as a discretized Laplace whose mean and scale a tiny network predicts
from what the decoder already has: the coarser level, upsampled 2x to this level's size (the
*parent*), and decoded neighbours in the same level. Levels are decoded coarsest first. Two
schemes order a level's latents (the file names its scheme; see docs/format.md):

- ``wavefront`` (format 2.0; the encoder's choice from 0.2 bpp up): every latent sees its left, up, up-left, up-right and
  left-of-left neighbours. Those all lie on earlier wavefronts ``t = x + 2y``, so a wavefront is
  one vectorised step and a level takes ``width + 2 height`` of them, each symbol with its own
  table. Measured against the checkerboard: docs/grid.md.
- ``checkerboard`` (format 1.x, and 2.0 below 0.2 bpp): the *anchors* (``(i + j)`` even) first, with no neighbours, then
  the rest with their four decoded neighbours; two passes per level, symbols grouped by table.

Everything the entropy decoder depends on is computed here in int64 fixed point from integers in
the file: the latents, the network's integer weights, and the shift amounts below. The predicted
mean is rounded to 1/16 and the scale to one of the coder's scale indices; the probability tables
then come from :func:`inrcodec.entropy.shifted_laplace_counts`. A float version of the same network
(with the same rounding points) trains the weights; any mismatch between the two costs a little
rate, never correctness, because encoder and decoder both use this integer version.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from . import entropy
from .entropy import MEAN_UNITS, SymbolModel, StreamDecoder, StreamEncoder

#: 2x upsampling taps (numerator, denominator) for the cell-centre convention: output 2i sits at
#: i - 1/4 and takes source offsets OFFSETS; output 2i+1 mirrors them. Keys' cubic with a = -1/2
#: at distances 7/4, 3/4, 1/4, 5/4 is exactly these multiples of 1/128.
UP2_TAPS = {
    "bilinear": ((-1, 0), (1, 3), 4),
    "bicubic": ((-2, -1, 0, 1), (-3, 29, 111, -9), 128),
}
KERNEL_IDS = {"bilinear": 1, "bicubic": 2}
KERNEL_BY_ID = {v: k for k, v in KERNEL_IDS.items()}

#: fractional bits of the context network's weights and of its hidden activations
WEIGHT_BITS = 10
HIDDEN_BITS = 8
#: scale index of log2(b) = 0; see entropy.laplace_scale
SCALE_OFFSET = 20
#: context inputs: the parent, then five scheme-defined ones (see the module docstring)
CONTEXT_INPUTS = 6
#: how a level's latents are ordered and what context each sees; the id is the latent tensors'
#: coder parameter in the file (the checkerboard is what every 1.x file uses)
SCHEMES = {"checkerboard": 0, "wavefront": 1}
SCHEME_BY_ID = {v: k for k, v in SCHEMES.items()}
#: the wavefront scheme's neighbours (dy, dx): left, up, up-left, up-right, left of left. Each has
#: dx + 2 dy < 0, so it is decoded before (y, x) when wavefronts t = x + 2y go in order.
WAVEFRONT_NEIGHBOURS = ((0, -1), (-1, 0), (-1, -1), (-1, 1), (0, -2))


def up2_int(z: np.ndarray, kernel: str, size: tuple[int, int]) -> np.ndarray:
    """Integer 2x upsampling of a (C, h, w) grid along both axes, cropped to ``size``.

    The result is the exact upsampled value times ``denominator**2``.
    """
    offsets, taps, _ = UP2_TAPS[kernel]
    for axis in (1, 2):
        z = _up2_axis_int(z, axis, offsets, taps)
    return z[:, : size[0], : size[1]]


def _up2_axis_int(z: np.ndarray, axis: int, offsets, taps) -> np.ndarray:
    pad = max(-min(offsets), max(offsets)) + 1
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


def parent_channels(parent: np.ndarray, channels: int):
    """The parent planes a level of ``channels`` channels sees: channel c takes the coarser
    level's channel c, or its channel 0 when the coarser level has fewer channels."""
    if parent.shape[0] >= channels:
        return parent[:channels]
    return np.broadcast_to(parent[:1], (channels, *parent.shape[1:]))


@dataclass(frozen=True)
class IntegerContext:
    """The context network as integers: weights in Q(WEIGHT_BITS)."""

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
        acc = _exact_matmul(inputs, self.w1.T) + (self.b1 << input_bits)  # Q(WEIGHT + input_bits)
        return self.head(level, acc, input_bits)

    def head(self, level: int, acc: np.ndarray, input_bits: int) -> tuple[np.ndarray, np.ndarray]:
        """Mean and scale index from the first layer's accumulators (N, hidden), in
        Q(WEIGHT_BITS + input_bits): everything after the first matrix product. (Right shifts of
        int64 are floor divisions by powers of two.)"""
        hidden = np.maximum(acc, 0) >> (WEIGHT_BITS + input_bits - HIDDEN_BITS)
        out = _exact_matmul(hidden, self.w2.T) + (self.level_bias[level] << HIDDEN_BITS)
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
_EXACT_FLOAT_LIMIT = 1 << 52


def _exact_matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Integer matrix product. Uses float64 BLAS when every partial sum is an integer below 2^52,
    where floating-point addition is exact in any order (so the result is bit-identical on every
    machine), and int64 arithmetic otherwise (and for few rows, where BLAS gains nothing)."""
    if len(a) < _BLAS_ROWS:
        return a @ b
    bound = float(np.abs(a).max(initial=0)) * float(np.abs(b).sum(axis=0).max(initial=0))
    if bound < _EXACT_FLOAT_LIMIT:
        return (a.astype(np.float64) @ b.astype(np.float64)).astype(np.int64)
    return a @ b


def _checkerboard(h: int, w: int) -> np.ndarray:
    return (np.add.outer(np.arange(h), np.arange(w)) % 2) == 0


def _neighbours(grid: np.ndarray) -> list[np.ndarray]:
    """Up, down, left, right neighbours of every cell of (C, h, w), zero outside."""
    p = np.pad(grid, ((0, 0), (1, 1), (1, 1)))
    return [p[:, :-2, 1:-1], p[:, 2:, 1:-1], p[:, 1:-1, :-2], p[:, 1:-1, 2:]]


def _pass_inputs(parent, anchors_only, grid, mask, input_bits):
    """Context inputs (N, 6) in Q(input_bits) for the cells selected by ``mask``."""
    one = 1 << input_bits
    cols = [parent[mask], np.full(int(mask.sum()), one if anchors_only else 0, dtype=np.int64)]
    for nb in _neighbours(grid):
        cols.append(np.zeros(int(mask.sum()), np.int64) if anchors_only else nb[mask] << input_bits)
    return np.stack(cols, axis=1)


def _centre(mean16: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The integer centre of each predicted mean (in 1/16) and the fraction left, in -8..7."""
    centre = np.floor_divide(mean16 + MEAN_UNITS // 2, MEAN_UNITS)
    return centre, mean16 - MEAN_UNITS * centre


def _groups(mean16: np.ndarray, scale: np.ndarray):
    """Centres, fractions and the (scale, fraction) groups, in coding order, of a pass."""
    centre, frac = _centre(mean16)
    order = np.lexsort((np.arange(len(scale)), frac, scale))
    key = entropy.ShiftedLaplaceBank.key(scale[order], frac[order])
    return centre, frac, np.split(order, np.flatnonzero(np.diff(key)) + 1)


def _parent_of(ctx: IntegerContext, coarser: np.ndarray | None, shape) -> tuple[np.ndarray, int]:
    """The parent planes of a level and their fixed-point bits (zero for the coarsest level)."""
    c, h, w = shape
    if coarser is None:
        return np.zeros(shape, dtype=np.int64), 0
    den = UP2_TAPS[ctx.kernel][2]
    up = up2_int(coarser.astype(np.int64), ctx.kernel, (h, w))
    return np.ascontiguousarray(parent_channels(up, c)), 2 * (den.bit_length() - 1)


#: fill(level, centre, frac, scale, groups) -> the pass's symbols, in mask order
Fill = Callable[[int, np.ndarray, np.ndarray, np.ndarray, list[np.ndarray]], np.ndarray]


def _walk(ctx: IntegerContext, shapes: list[tuple[int, int, int]], fill: Fill) -> list[np.ndarray]:
    """Visit every pass in decoding order; ``fill`` supplies each pass's symbols.

    Levels go coarsest first, each in two checkerboard passes. The encoder's ``fill`` returns the
    known symbols, the decoder's reads them; both see identical predictions.
    """
    levels: list[np.ndarray] = [np.zeros(0)] * len(shapes)
    for k in reversed(range(len(shapes))):
        q = np.zeros(shapes[k], dtype=np.int64)
        parent, bits = _parent_of(ctx, levels[k + 1] if k + 1 < len(shapes) else None, shapes[k])
        c, h, w = shapes[k]
        board = np.broadcast_to(_checkerboard(h, w), (c, h, w))
        for mask, anchors_only in ((board, True), (~board, False)):
            if not mask.any():
                continue
            inputs = _pass_inputs(parent, anchors_only, q, mask, bits)
            mean16, scale = ctx.predict(k, inputs, bits)
            centre, frac, groups = _groups(mean16, scale)
            q[mask] = fill(k, centre, frac, scale, groups)
        levels[k] = q
    return levels


def _models(scale, frac, groups, lo, hi):
    for g in groups:
        yield g, SymbolModel.shifted_laplace(int(scale[g[0]]), int(frac[g[0]]), lo, hi)


def _check_ranges(ranges: list[tuple[int, int]]) -> None:
    """What the decoder refuses must not be written: both sides check the header's ranges here."""
    for k, (lo, hi) in enumerate(ranges):
        entropy.check_table(lo, hi, entropy.MAX_SHIFTED_SYMBOL, f"latent level {k} residual")


def encode_levels(
    encoder: StreamEncoder, ctx: IntegerContext, levels: list[np.ndarray], scheme: str
) -> list[tuple[int, int]]:
    """Add every level's latents (``levels`` finest first) to the stream, in decoding order, and
    return each level's (lowest, highest) residual: what the header stores for the tables."""
    if scheme == "wavefront":
        residuals = _wavefront_residuals(ctx, levels)
        ranges = [(int(r.min()), int(r.max())) for r, _ in residuals]
        _check_ranges(ranges)
        for k in reversed(range(len(levels))):
            encoder.add_rows(*residuals[k], entropy.ShiftedLaplaceBank(*ranges[k]))
        return ranges
    ranges = _checkerboard_ranges(ctx, levels)
    _check_ranges(ranges)
    cursor = {k: _Cursor(z) for k, z in enumerate(levels)}

    def fill(k, centre, frac, scale, groups):
        symbols = cursor[k].next(len(centre))
        residual = symbols - centre
        for g, model in _models(scale, frac, groups, *ranges[k]):
            encoder.add(residual[g], model)
        return symbols

    _walk(ctx, [z.shape for z in levels], fill)
    return ranges


def _checkerboard_ranges(ctx: IntegerContext, levels: list[np.ndarray]) -> list[tuple[int, int]]:
    """Each level's residual range under the checkerboard: a walk of its own, because the tables
    (which need the range) are chosen during the coding walk."""
    found: dict[int, list[np.ndarray]] = {}
    cursor = {k: _Cursor(z) for k, z in enumerate(levels)}

    def fill(k, centre, frac, scale, groups):
        symbols = cursor[k].next(len(centre))
        found.setdefault(k, []).append(symbols - centre)
        return symbols

    _walk(ctx, [z.shape for z in levels], fill)
    return [(int(np.concatenate(found[k]).min()), int(np.concatenate(found[k]).max()))
            for k in range(len(levels))]  # fmt: skip


def decode_levels(
    decoder: StreamDecoder,
    ctx: IntegerContext,
    shapes: list[tuple[int, int, int]],
    ranges: list[tuple[int, int]],
    scheme: str,
) -> list[np.ndarray]:
    """Read every level's latents back (returned finest first), mirroring :func:`encode_levels`."""
    _check_ranges(ranges)
    if scheme == "wavefront":
        return _wavefront_decode(decoder, ctx, shapes, [entropy.ShiftedLaplaceBank(*r) for r in ranges])

    def fill(k, centre, frac, scale, groups):
        residual = np.empty(len(centre), dtype=np.int64)
        for g, model in _models(scale, frac, groups, *ranges[k]):
            residual[g] = decoder.read(len(g), model)
        return residual + centre

    return _walk(ctx, shapes, fill)


class _Cursor:
    """Hands out a level's symbols pass by pass, in the order the walk visits them."""

    def __init__(self, level: np.ndarray) -> None:
        c, h, w = level.shape
        board = np.broadcast_to(_checkerboard(h, w), (c, h, w))
        self._passes = [level[board].astype(np.int64), level[~board].astype(np.int64)]
        self._passes = [p for p in self._passes if p.size]

    def next(self, n: int) -> np.ndarray:
        out = self._passes.pop(0)
        assert len(out) == n
        return out


# --- the wavefront scheme (format 2.0) -------------------------------------------------------------


@dataclass(frozen=True)
class _Wavefronts:
    """A level's cells in decoding order and where they sit in a zero-padded copy of the level.

    Cell (c, y, x) is decoded in wavefront ``t = x + 2y``; every neighbour in
    WAVEFRONT_NEIGHBOURS lies on an earlier wavefront, so a wavefront's cells are predicted
    together. Within a wavefront, cells go by channel, then row.
    """

    order: np.ndarray  # flat (channel-row-column) cell indices in decoding order
    bounds: np.ndarray  # wavefront t holds order[bounds[t]:bounds[t + 1]]
    padded_index: np.ndarray  # per flat cell, its index in the padded level
    offsets: np.ndarray  # per neighbour, its index offset in the padded level
    padded_shape: tuple[int, int, int]

    @classmethod
    def of(cls, shape: tuple[int, int, int]) -> _Wavefronts:
        c, h, w = shape
        top = max(-dy for dy, _ in WAVEFRONT_NEIGHBOURS)
        left = max(max(-dx for _, dx in WAVEFRONT_NEIGHBOURS), 0)
        right = max(max(dx for _, dx in WAVEFRONT_NEIGHBOURS), 0)
        ph, pw = h + top, w + left + right
        cc, yy, xx = (a.ravel() for a in np.indices(shape))
        t = xx + 2 * yy
        order = np.lexsort((yy, cc, t))
        bounds = np.searchsorted(t[order], np.arange(w + 2 * h - 1))
        padded = cc * ph * pw + (yy + top) * pw + (xx + left)
        offsets = np.array([dy * pw + dx for dy, dx in WAVEFRONT_NEIGHBOURS])
        return cls(order, bounds, padded, offsets, (c, ph, pw))


def _first_layer_parent(ctx: IntegerContext, parent: np.ndarray, bits: int) -> np.ndarray:
    """The parent's share of the first layer, with the bias, for every cell: (N, hidden)."""
    return np.multiply.outer(parent.ravel(), ctx.w1[:, 0]) + (ctx.b1 << bits)


class _WavefrontLevel:
    """One level's wavefront coding state: the cells in decoding order, their places in a
    zero-padded copy of the level (``padded``, filled as symbols become known), and the parts of
    the context network's first layer that do not depend on the neighbours."""

    def __init__(self, ctx: IntegerContext, k: int, shape: tuple[int, int, int], coarser: np.ndarray | None) -> None:
        parent, self.bits = _parent_of(ctx, coarser, shape)
        self.ctx, self.k, self.shape = ctx, k, shape
        self.fronts = _Wavefronts.of(shape)
        self.padded = np.zeros(self.fronts.padded_shape, dtype=np.int64).ravel()
        order = self.fronts.order
        self.at = self.fronts.padded_index[order]  # per cell in decoding order
        self.parent_acc = _first_layer_parent(ctx, parent.ravel()[order], self.bits)
        self.w1_neighbours = ctx.w1[:, 1:].T << self.bits

    def predict(self, a: int, b: int) -> tuple[np.ndarray, np.ndarray]:
        """Centre and table key (scale and mean fraction) of cells a..b of the decoding order,
        whose neighbours must already be in ``padded``."""
        neighbours = self.padded[self.at[a:b, None] + self.fronts.offsets]
        acc = self.parent_acc[a:b] + _exact_matmul(neighbours, self.w1_neighbours)
        mean16, scale = self.ctx.head(self.k, acc, self.bits)
        centre, frac = _centre(mean16)
        return centre, entropy.ShiftedLaplaceBank.key(scale, frac)

    def symbols(self) -> np.ndarray:
        return self.padded[self.fronts.padded_index].reshape(self.shape)


def _wavefront_residuals(ctx: IntegerContext, levels: list[np.ndarray]):
    """Per level (finest first): residuals and table keys in decoding order, all at once, which
    the encoder can do because it knows every latent."""
    out: list[tuple[np.ndarray, np.ndarray]] = [(np.zeros(0), np.zeros(0))] * len(levels)
    for k in reversed(range(len(levels))):
        level = _WavefrontLevel(ctx, k, levels[k].shape, levels[k + 1] if k + 1 < len(levels) else None)
        z = levels[k].astype(np.int64).ravel()
        level.padded[level.fronts.padded_index] = z
        centre, keys = level.predict(0, len(z))
        out[k] = (z[level.fronts.order] - centre, keys)
    return out


def _wavefront_decode(decoder: StreamDecoder, ctx: IntegerContext, shapes, banks) -> list[np.ndarray]:
    levels: list[np.ndarray] = [np.zeros(0)] * len(shapes)
    for k in reversed(range(len(shapes))):
        level = _WavefrontLevel(ctx, k, shapes[k], levels[k + 1] if k + 1 < len(shapes) else None)
        bounds = level.fronts.bounds.tolist()
        for a, b in zip(bounds[:-1], bounds[1:]):
            centre, keys = level.predict(a, b)
            level.padded[level.at[a:b]] = decoder.read_rows(keys, banks[k]) + centre
        levels[k] = level.symbols()
    return levels
