"""The coding of the latent pyramid: context schemes that own their likelihood and their coding.

Levels are coded coarsest first. A *context scheme* orders a level's latents and says which
already-decoded neighbours each latent's context sees. Like CompressAI's latent codecs, a scheme
object owns both sides of that decision:

- :meth:`ContextScheme.float_inputs`: the context network's five non-parent inputs, in float,
  for the rate term of training (:class:`inrcodec.grid.context.ContextModel`);
- :meth:`ContextScheme.encode` / :meth:`ContextScheme.decode`: the same inputs in exact integers
  (:class:`inrcodec.grid.context.IntegerContext`), and the order the symbols go through
  constriction.

The file names its scheme by the latent tensors' coder parameter (:data:`SCHEMES`; docs/format.md):

- :data:`WAVEFRONT` (id 1, format 2.0; the encoder's choice from 0.2 bpp up): every latent sees
  its left, up, up-left, up-right and left-of-left neighbours. Those all lie on earlier wavefronts
  ``t = x + 2y``, so a wavefront is one vectorised step and a level takes ``width + 2 height``
  of them, each symbol with its own table. Measured against the checkerboard: docs/grid.md.
- :data:`CHECKERBOARD` (id 0, format 1.x, and 2.0 below 0.2 bpp): the *anchors* (``(i + j)``
  even) first, with no neighbours, then the rest with their four decoded neighbours; two passes
  per level, symbols grouped by table.

Everything the entropy decoder depends on is computed in int64 from integers in the file.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import torch

from .. import entropy
from ..entropy import StreamDecoder, StreamEncoder, SymbolModel
from ..errors import FormatError
from ..limits import STEP_WORK, TABLE_WORK
from .context import (
    CONTEXT_INPUTS,
    EXACT_FLOAT_LIMIT,
    HIDDEN_BITS,
    WEIGHT_BITS,
    IntegerContext,
    centre,
    hidden_units,
    integer_parent,
    mean_and_scale,
    shifted,
)
from .upsampling import UP2_TAPS

#: a level's (lowest, highest) residual: what the header stores for its tables
Range = tuple[int, int]


def check_ranges(ranges: list[Range]) -> None:
    """What the decoder refuses must not be written: both sides check the header's ranges here."""
    for k, (lo, hi) in enumerate(ranges):
        entropy.check_table(lo, hi, entropy.MAX_SHIFTED_SYMBOL, f"latent level {k} residual")


#: first-layer values (cells x context width) the encoder's whole-level predictions hold at once
_PREDICT_VALUES = 1 << 20
#: every int64 accumulator of a prediction stays below these (docs/format.md, "latent bound")
_ACC_LIMIT = 1 << 62
_OUT_LIMIT = 1 << 58


def latent_bound(context_ranges: list[Range], hidden: int, kernel: str) -> int:
    """The largest latent magnitude Z for which every integer of a prediction provably fits in
    int64, from the context tensors' symbol ranges (context_in.weight, its bias,
    context_out.weight, level_bias: the header's ``lo``/``hi``), the context width and the kernel.

    With W1, B1, W2, L the largest magnitudes of those four, G = (sum |taps|)^2 (what the integer
    2x upsampling multiplies a latent by at most), P the parent's fixed-point bits: the first
    layer's accumulators are below A(Z) = 6 W1 G Z + B1 2^P, the output's below
    O(Z) = H W2 A(Z) / 2^(P + 2) + L 2^8; Z is the largest with A(Z) < 2^62 and O(Z) < 2^58.
    A decoded latent beyond it makes the file malformed (the encoder refuses to write one): the
    alternative is arithmetic that wraps around. No fitted file comes near it: the format's
    weight bounds (+-2^17) still leave Z above 2^14, and fitted latents are a few units.
    """
    w1, b1, w2, lb = (max(abs(lo), abs(hi)) for lo, hi in context_ranges)
    _, taps, den = UP2_TAPS[kernel]
    gain = sum(abs(t) for t in taps) ** 2
    bits = 2 * (den.bit_length() - 1)
    per_z = 6 * w1 * gain
    bounds = [(_ACC_LIMIT - 1) // gain]
    if per_z:
        bounds.append((_ACC_LIMIT - 1 - (b1 << bits)) // per_z)
        if w2:
            acc = (_OUT_LIMIT - 1 - (lb << HIDDEN_BITS)) * (1 << (WEIGHT_BITS + bits - HIDDEN_BITS)) // (hidden * w2)
            bounds.append((acc - (b1 << bits)) // per_z)
    return max(0, min(bounds))


def own_bound(ctx: IntegerContext) -> int:
    """:func:`latent_bound` of a context network's own weights: their lowest and highest values
    are the ``lo``/``hi`` the encoder writes for them."""
    ranges = [(int(a.min(initial=0)), int(a.max(initial=0))) for a in (ctx.w1, ctx.b1, ctx.w2, ctx.level_bias)]
    return latent_bound(ranges, len(ctx.b1), ctx.kernel)


def check_latents(values: np.ndarray, bound: int, level: int) -> None:
    """Refuse latents beyond :func:`latent_bound`; encoder and decoder both call this."""
    if values.size and (int(values.max()) > bound or int(values.min()) < -bound):
        raise FormatError(f"latent level {level} has a value beyond +-{bound}, the bound its context "
                          "weights allow for exact integer prediction")  # fmt: skip


# What decoding the latents costs, in the decoder's work units (inrcodec.limits; measured with
# benchmarks/decode_cost.py):
#: per latent: its inputs, ordering, the coder's bookkeeping
LATENT_WORK = 3000
#: per latent and context unit: the integer first layer and head (int64, no BLAS)
CONTEXT_UNIT_WORK = 90
#: per latent and entry of its table, when every latent has its own table (the wavefront)
SPAN_WORK = 40
#: transient bytes per latent of the level being decoded (indices, the parent, the padded level)
WAVEFRONT_LEVEL_BYTES = 200
CHECKERBOARD_LEVEL_BYTES = 220


@dataclass(frozen=True)
class LatentStream:
    """One latent pyramid to decode: its stream (positioned at its first latent), context
    network, level shapes and residual ranges, and the latent bound its header allows."""

    decoder: StreamDecoder
    ctx: IntegerContext
    shapes: list[tuple[int, int, int]]
    ranges: list[Range]
    bound: int


class ContextScheme:
    """How a level's latents are ordered and what context each sees, in float and in integers."""

    name: ClassVar[str]
    id: ClassVar[int]  # the latent tensors' coder parameter in the file
    min_major: ClassVar[int]  # the first format major version that has it

    def decode_cost(self, shapes: list[tuple[int, int, int]], ranges: list[Range], hidden: int) -> tuple[int, int]:
        """(work units, peak transient bytes) of :meth:`decode` for levels of ``shapes`` with
        residual ``ranges`` and a context network ``hidden`` units wide, without decoding."""
        raise NotImplementedError

    def float_inputs(self, z: torch.Tensor, parent: torch.Tensor, row0: int = 0) -> torch.Tensor:
        """The context network's inputs for every latent of level ``z`` (C, h, w), as (6, N)
        rows: ``parent``, then the scheme's five others. ``z`` may be rows of a level starting
        at row ``row0``; neighbours beyond them count as zero."""
        raise NotImplementedError

    def encode(self, encoder: StreamEncoder, ctx: IntegerContext, levels: list[np.ndarray]) -> list[Range]:
        """Add every level's latents (``levels`` finest first) to the stream, in decoding order,
        and return each level's residual range."""
        raise NotImplementedError

    def decode(self, decoder: StreamDecoder, ctx: IntegerContext, shapes: list[tuple[int, int, int]],
               ranges: list[Range], bound: int | None = None) -> list[np.ndarray]:  # fmt: skip
        """Read every level's latents back (returned finest first), mirroring :meth:`encode`;
        a latent beyond ``bound`` (:func:`latent_bound` of the header's context ranges; by default
        of ``ctx``'s own) is malformed."""
        raise NotImplementedError

    def decode_many(self, streams: list[LatentStream]) -> list[list[np.ndarray]]:
        """:meth:`decode` of several independent streams (a tiled file's tiles), each returned
        as :meth:`decode` would."""
        return [self.decode(s.decoder, s.ctx, s.shapes, s.ranges, s.bound) for s in streams]


# --- the checkerboard (format 1.x) -----------------------------------------------------------------


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


def _groups(mean16: np.ndarray, scale: np.ndarray):
    """Centres, fractions and the (scale, fraction) groups, in coding order, of a pass."""
    centres, frac = centre(mean16)
    order = np.lexsort((np.arange(len(scale)), frac, scale))
    key = entropy.ShiftedLaplaceBank.key(scale[order], frac[order])
    return centres, frac, np.split(order, np.flatnonzero(np.diff(key)) + 1)


#: fill(level, centres, frac, scale, groups) -> the pass's symbols, in mask order
Fill = Callable[[int, np.ndarray, np.ndarray, np.ndarray, list[np.ndarray]], np.ndarray]


def _models(scale, frac, groups, lo, hi):
    for g in groups:
        yield g, SymbolModel.shifted_laplace(int(scale[g[0]]), int(frac[g[0]]), lo, hi)


class _Cursor:
    """Hands out a level's symbols pass by pass, in the order the walk visits them."""

    def __init__(self, level: np.ndarray) -> None:
        c, h, w = level.shape
        board = np.broadcast_to(_checkerboard(h, w), (c, h, w))
        self._passes = [level[board].astype(np.int64), level[~board].astype(np.int64)]
        self._passes = [p for p in self._passes if p.size]

    def next(self, n: int) -> np.ndarray:
        out = self._passes.pop(0)
        if len(out) != n:
            raise AssertionError("checkerboard pass sizes disagree")
        return out


class Checkerboard(ContextScheme):
    """Anchors first with no neighbours (input 1 flags them), then the rest with four."""

    name = "checkerboard"
    id = 0
    min_major = 1

    def float_inputs(self, z: torch.Tensor, parent: torch.Tensor, row0: int = 0) -> torch.Tensor:
        c, h, w = z.shape
        rows = torch.arange(row0, row0 + h, device=z.device).view(h, 1)
        cols = torch.arange(w, device=z.device).view(1, w)
        anchor = ((rows + cols) % 2 == 0).to(z.dtype).expand(c, h, w)
        rest = 1 - anchor
        planes = [parent, anchor] + [shifted(z, dy, dx) * rest for dy, dx in ((-1, 0), (1, 0), (0, -1), (0, 1))]
        return torch.stack(planes).view(CONTEXT_INPUTS, -1)

    def decode_cost(self, shapes, ranges, hidden):
        work = memory = 0
        for (c, h, w), (lo, hi) in zip(shapes, ranges):
            n, span = c * h * w, hi - lo + 1
            # two passes, each with up to one table and one coder call per (scale, fraction)
            groups = 2 * min(n, entropy.NUM_SCALES * entropy.MEAN_UNITS)
            work += n * (LATENT_WORK + CONTEXT_UNIT_WORK * hidden) + groups * (STEP_WORK + TABLE_WORK * span)
            memory = max(memory, n * CHECKERBOARD_LEVEL_BYTES + 24 * _PREDICT_VALUES)
        return work, memory

    @staticmethod
    def walk(ctx: IntegerContext, shapes: list[tuple[int, int, int]], fill: Fill,
             bound: int | None = None) -> list[np.ndarray]:  # fmt: skip
        """Visit every pass in decoding order; ``fill`` supplies each pass's symbols, which must
        lie within ``bound`` (:func:`latent_bound`; by default that of ``ctx``'s own weights).

        Levels go coarsest first, each in two passes. The encoder's ``fill`` returns the known
        symbols, the decoder's reads them; both see identical predictions.
        """
        levels: list[np.ndarray] = [np.zeros(0)] * len(shapes)
        bound = own_bound(ctx) if bound is None else bound
        for k in reversed(range(len(shapes))):
            q = np.zeros(shapes[k], dtype=np.int64)
            parent, bits = integer_parent(ctx.kernel, levels[k + 1] if k + 1 < len(shapes) else None, shapes[k])
            c, h, w = shapes[k]
            board = np.broadcast_to(_checkerboard(h, w), (c, h, w))
            for mask, anchors_only in ((board, True), (~board, False)):
                if not mask.any():
                    continue
                inputs = _pass_inputs(parent, anchors_only, q, mask, bits)
                mean16, scale = ctx.predict(k, inputs, bits)
                centres, frac, groups = _groups(mean16, scale)
                values = fill(k, centres, frac, scale, groups)
                check_latents(values, bound, k)
                q[mask] = values
            levels[k] = q
        return levels

    def ranges(self, ctx: IntegerContext, levels: list[np.ndarray]) -> list[Range]:
        """Each level's residual range: a walk of its own, because the tables (which need the
        range) are chosen during the coding walk."""
        found: dict[int, list[np.ndarray]] = {}
        cursor = {k: _Cursor(z) for k, z in enumerate(levels)}

        def fill(k, centres, frac, scale, groups):
            symbols = cursor[k].next(len(centres))
            found.setdefault(k, []).append(symbols - centres)
            return symbols

        self.walk(ctx, [z.shape for z in levels], fill)
        return [(int(np.concatenate(found[k]).min()), int(np.concatenate(found[k]).max()))
                for k in range(len(levels))]  # fmt: skip

    def encode(self, encoder: StreamEncoder, ctx: IntegerContext, levels: list[np.ndarray]) -> list[Range]:
        ranges = self.ranges(ctx, levels)
        check_ranges(ranges)
        cursor = {k: _Cursor(z) for k, z in enumerate(levels)}

        def fill(k, centres, frac, scale, groups):
            symbols = cursor[k].next(len(centres))
            residual = symbols - centres
            for g, model in _models(scale, frac, groups, *ranges[k]):
                encoder.add(residual[g], model)
            return symbols

        self.walk(ctx, [z.shape for z in levels], fill)
        return ranges

    def decode(self, decoder: StreamDecoder, ctx: IntegerContext, shapes: list[tuple[int, int, int]],
               ranges: list[Range], bound: int | None = None) -> list[np.ndarray]:  # fmt: skip
        check_ranges(ranges)

        def fill(k, centres, frac, scale, groups):
            residual = np.empty(len(centres), dtype=np.int64)
            for g, model in _models(scale, frac, groups, *ranges[k]):
                residual[g] = decoder.read(len(g), model)
            return residual + centres

        return self.walk(ctx, shapes, fill, bound)


# --- the wavefront (format 2.0) ----------------------------------------------------------------------

#: the wavefront scheme's neighbours (dy, dx): left, up, up-left, up-right, left of left. Each has
#: dx + 2 dy < 0, so it is decoded before (y, x) when wavefronts t = x + 2y go in order.
WAVEFRONT_NEIGHBOURS = ((0, -1), (-1, 0), (-1, -1), (-1, 1), (0, -2))


@dataclass(frozen=True)
class Wavefronts:
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
    def of(cls, shape: tuple[int, int, int]) -> Wavefronts:
        c, h, w = shape
        top = max(-dy for dy, _ in WAVEFRONT_NEIGHBOURS)
        left = max(max(-dx for _, dx in WAVEFRONT_NEIGHBOURS), 0)
        right = max(max(dx for _, dx in WAVEFRONT_NEIGHBOURS), 0)
        ph, pw = h + top, w + left + right
        # Wavefront t holds, per channel, the rows y with 0 <= t - 2y < w: one run of rows, so the
        # order is built run by run (sorting the cells instead took most of a level's set-up).
        t = np.arange(w + 2 * h - 2)
        first = np.maximum(0, (t - w + 2) // 2)
        rows = np.minimum(h - 1, t // 2) - first + 1
        bounds = np.concatenate([[0], np.cumsum(rows * c)])
        runs = np.repeat(rows, c)  # one run per (wavefront, channel)
        run_t, run_c = np.repeat(t, c), np.tile(np.arange(c), len(t))
        row = np.arange(c * h * w) - np.repeat(np.cumsum(runs) - runs, runs) + np.repeat(first[run_t], runs)
        order = (np.repeat(run_c, runs) * h + row) * w + np.repeat(run_t, runs) - 2 * row
        cc, yy, xx = (a.ravel() for a in np.indices(shape))
        padded = cc * ph * pw + (yy + top) * pw + (xx + left)
        offsets = np.array([dy * pw + dx for dy, dx in WAVEFRONT_NEIGHBOURS])
        return cls(order, bounds, padded, offsets, (c, ph, pw))


def _float_reach(w1: np.ndarray, b1: np.ndarray, w2: np.ndarray, level_bias: np.ndarray, shift: int) -> int:
    """The largest input magnitude R for which a prediction's products (first layer ``w1``
    (.., inputs, hidden) plus ``b1``; hidden floored by ``shift`` bits; head ``w2`` plus
    ``level_bias``) have every partial sum below 2^52 in magnitude."""
    limit = EXACT_FLOAT_LIMIT - 1
    w1_sum, w2_sum = (int(np.abs(w).sum(axis=-2).max(initial=0)) for w in (w1, w2))
    b1_max, bias_max = (int(np.abs(b).max(initial=0)) for b in (b1, level_bias))
    acc_max = limit  # the largest first-layer accumulator the head allows
    if w2_sum:
        acc_max = min(acc_max, (((limit - bias_max) // w2_sum + 1) << shift) - 1)
    if bias_max > limit or acc_max < b1_max:
        return -1
    return (acc_max - b1_max) // w1_sum if w1_sum else limit


class _WavefrontLevel:
    """Level ``k`` of one or more latent pyramids of the same depth and kernel (the tiles of a
    tiled file: independent streams), as one wavefront coding state.

    The cells go wavefront by wavefront and, within a wavefront, pyramid by pyramid, each in its
    own decoding order (:class:`Wavefronts`): a wavefront of all pyramids is one vectorised
    prediction, so a tiled decode takes one step per wavefront instead of one per tile and
    wavefront (the steps' fixed cost was most of a 24 MP decode). The pyramids' zero-padded
    levels lie end to end in ``padded``, filled as symbols become known.
    """

    def __init__(self, ctxs: list[IntegerContext], k: int, shapes: list[tuple[int, int, int]],
                 coarser: list[np.ndarray | None]) -> None:  # fmt: skip
        self.k, self.shapes, self.count = k, shapes, len(shapes)
        self.fronts = [Wavefronts.of(shape) for shape in shapes]
        sizes = [int(np.prod(f.padded_shape)) for f in self.fronts]
        self.base = np.cumsum([0, *sizes[:-1]])
        self.padded = np.zeros(sum(sizes), dtype=np.int64)
        parents, self.bits = [], 0
        for ctx, shape, c in zip(ctxs, shapes, coarser):
            parent, self.bits = integer_parent(ctx.kernel, c, shape)  # the same bits for one kernel
            parents.append(parent.ravel())
        # Where each pyramid's cells go: wavefront t's segment of pyramid i starts at
        # bounds[t * count + i] (its cells in its own order), the segments in (t, i) order.
        waves = max(len(f.bounds) - 1 for f in self.fronts)
        sizes = np.zeros((waves, self.count), dtype=np.int64)
        for i, f in enumerate(self.fronts):
            sizes[: len(f.bounds) - 1, i] = np.diff(f.bounds)
        #: cells of wavefront t of pyramid i: bounds[t * count + i] .. bounds[t * count + i + 1]
        self.bounds = np.concatenate([[0], np.cumsum(sizes.ravel())])
        n = int(self.bounds[-1])
        self.at = np.empty(n, dtype=np.int64)
        self.parent = np.empty(n, dtype=np.int64)
        for i, (f, parent) in enumerate(zip(self.fronts, parents)):
            per_wave = np.diff(f.bounds)
            into = np.repeat(self.bounds[i : (len(f.bounds) - 1) * self.count : self.count] - f.bounds[:-1], per_wave)
            into += np.arange(len(f.order))
            self.at[into] = f.padded_index[f.order] + self.base[i]
            self.parent[into] = parent[f.order]
        self.offsets = np.stack([f.offsets for f in self.fronts])  # (pyramids, neighbours)
        # the first layer's weights over (parent, neighbours), the neighbours brought to the
        # parent's fixed point, and its bias; the head's weights and this level's bias
        self.w1 = np.stack([np.concatenate([c.w1[:, :1], c.w1[:, 1:] << self.bits], 1).T for c in ctxs])
        self.b1 = np.stack([c.b1 << self.bits for c in ctxs])
        self.w2 = np.stack([c.w2.T for c in ctxs])
        self.level_bias = np.stack([c.level_bias[k] << HIDDEN_BITS for c in ctxs])
        # The same products in float64 BLAS give the same integers while every partial sum is
        # an integer below 2^52 (exact in any order): true while no input exceeds float_reach.
        # (numpy's int64 products of stacked matrices are 3x slower than float64 BLAS.)
        # ``reach`` is the largest input so far (the parents, then the latents as they come).
        self.shift = WEIGHT_BITS + self.bits - HIDDEN_BITS
        self.float_reach = _float_reach(self.w1, self.b1, self.w2, self.level_bias, self.shift)
        self.reach = int(np.abs(self.parent).max(initial=0))
        self.w1f, self.b1f, self.w2f, self.level_bias_f = (
            a.astype(np.float64) for a in (self.w1, self.b1, self.w2, self.level_bias)
        )

    @property
    def waves(self) -> int:
        return (len(self.bounds) - 1) // self.count

    def wave(self, t: int) -> tuple[int, int]:
        """Cells ``a .. b`` (of the decoding order) of wavefront ``t``, every pyramid's."""
        return int(self.bounds[t * self.count]), int(self.bounds[(t + 1) * self.count])

    def predict(self, a: int, b: int) -> tuple[np.ndarray, np.ndarray]:
        """Centre and table key (scale and mean fraction) of cells a..b of the decoding order of
        one pyramid, whose neighbours must already be in ``padded``. Rows are independent and
        every product exact, so any split of a..b gives the same integers."""
        if self.count != 1:
            raise ValueError("cells of one pyramid only: predict_wave takes several")
        return self._predict(np.arange(a, b)[None, :], None)

    def predict_wave(self, t: int) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`predict` of wavefront ``t`` of every pyramid: each pyramid's cells a row of a
        (pyramids, widest) block, so that one stacked product applies each pyramid's weights."""
        starts = self.bounds[t * self.count : (t + 1) * self.count]
        sizes = self.bounds[t * self.count + 1 : (t + 1) * self.count + 1] - starts
        columns = np.arange(int(sizes.max(initial=0)))
        valid = columns < sizes[:, None]
        # a short row's spare columns repeat the wavefront's first cell; computed, then dropped
        return self._predict(np.where(valid, starts[:, None] + columns, starts[0]), valid)

    def _predict(self, cells: np.ndarray, valid: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        """Centres and keys of ``cells`` (pyramids, n) (pyramid ``i``'s in row ``i``), the
        entries where ``valid`` holds (all if None), flattened row by row."""
        out = self.head_outputs(cells)
        mean16, scale = mean_and_scale(out.reshape(-1, 2) if valid is None else out[valid])
        centres, frac = centre(mean16)
        return centres, entropy.ShiftedLaplaceBank.key(scale, frac)

    def head_outputs(self, cells: np.ndarray) -> np.ndarray:
        """The context network's integer outputs (pyramids, n, 2) for ``cells`` (pyramids, n)."""
        exact_in_float = self.reach <= self.float_reach
        inputs = np.empty((*cells.shape, CONTEXT_INPUTS), dtype=np.float64 if exact_in_float else np.int64)
        inputs[:, :, 0] = self.parent[cells]
        inputs[:, :, 1:] = self.padded[self.at[cells][:, :, None] + self.offsets[:, None, :]]
        if exact_in_float:
            acc = inputs @ self.w1f + self.b1f[:, None, :]
            hidden = np.floor(np.maximum(acc, 0.0) * 2.0**-self.shift)  # hidden_units, exactly
            out = (hidden @ self.w2f + self.level_bias_f[:, None, :]).astype(np.int64)
        else:
            acc = inputs @ self.w1 + self.b1[:, None, :]
            out = hidden_units(acc, self.bits) @ self.w2 + self.level_bias[:, None, :]
        return out

    def predict_all(self) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`predict` of every cell (all neighbours known: the encoder), in chunks of
        bounded size."""
        n = len(self.at)
        rows = max(1, _PREDICT_VALUES // self.w1.shape[2])
        parts = [self.predict(a, min(n, a + rows)) for a in range(0, n, rows)] or [self.predict(0, 0)]
        return np.concatenate([c for c, _ in parts]), np.concatenate([k for _, k in parts])

    def place(self, i: int, z: np.ndarray) -> None:
        """Pyramid ``i``'s level as known (the encoder)."""
        self.padded[self.fronts[i].padded_index + self.base[i]] = z.ravel()
        self.reach = max(self.reach, int(np.abs(z).max(initial=0)))

    def store(self, a: int, b: int, values: np.ndarray) -> None:
        """Cells a..b of the decoding order, decoded (the decoder)."""
        self.padded[self.at[a:b]] = values
        self.reach = max(self.reach, int(np.abs(values).max(initial=0)))

    def symbols(self, i: int) -> np.ndarray:
        return self.padded[self.fronts[i].padded_index + self.base[i]].reshape(self.shapes[i])


class Wavefront(ContextScheme):
    """Raster-causal: five decoded neighbours, one vectorised step per wavefront."""

    name = "wavefront"
    id = 1
    min_major = 2

    def float_inputs(self, z: torch.Tensor, parent: torch.Tensor, row0: int = 0) -> torch.Tensor:
        planes = [parent] + [shifted(z, dy, dx) for dy, dx in WAVEFRONT_NEIGHBOURS]
        return torch.stack(planes).view(CONTEXT_INPUTS, -1)

    def decode_cost(self, shapes, ranges, hidden):
        work = memory = 0
        for (c, h, w), (lo, hi) in zip(shapes, ranges):
            n, span = c * h * w, hi - lo + 1
            fronts = w + 2 * h
            widest = c * min(h, -(-w // 2))  # cells of the longest wavefront
            per_latent = LATENT_WORK + CONTEXT_UNIT_WORK * hidden + SPAN_WORK * span
            tables = min(n, entropy.NUM_SCALES * entropy.MEAN_UNITS) * span
            work += n * per_latent + fronts * STEP_WORK + TABLE_WORK * tables
            # a wavefront's first layer (a few int64 copies of cells x width) and its tables
            wave = widest * (32 * hidden + 100) + 16 * span * min(widest, entropy.rows_per_call(span))
            memory = max(memory, n * WAVEFRONT_LEVEL_BYTES + wave + 8 * tables)
        return work, memory

    @staticmethod
    def residuals(ctx: IntegerContext, levels: list[np.ndarray]) -> list[tuple[np.ndarray, np.ndarray]]:
        """Per level (finest first): residuals and table keys in decoding order, all at once,
        which the encoder can do because it knows every latent."""
        out: list[tuple[np.ndarray, np.ndarray]] = [(np.zeros(0), np.zeros(0))] * len(levels)
        bound = own_bound(ctx)
        for k in reversed(range(len(levels))):
            check_latents(levels[k], bound, k)
            level = _WavefrontLevel([ctx], k, [levels[k].shape], [levels[k + 1] if k + 1 < len(levels) else None])
            level.place(0, levels[k].astype(np.int64))
            centres, keys = level.predict_all()
            out[k] = (level.padded[level.at] - centres, keys)
        return out

    def encode(self, encoder: StreamEncoder, ctx: IntegerContext, levels: list[np.ndarray]) -> list[Range]:
        residuals = self.residuals(ctx, levels)
        ranges = [(int(r.min()), int(r.max())) for r, _ in residuals]
        check_ranges(ranges)
        for k in reversed(range(len(levels))):
            encoder.add_rows(*residuals[k], entropy.ShiftedLaplaceBank(*ranges[k]))
        return ranges

    def decode(self, decoder: StreamDecoder, ctx: IntegerContext, shapes: list[tuple[int, int, int]],
               ranges: list[Range], bound: int | None = None) -> list[np.ndarray]:  # fmt: skip
        bound = own_bound(ctx) if bound is None else bound
        return self.decode_many([LatentStream(decoder, ctx, shapes, ranges, bound)])[0]

    def decode_many(self, streams: list[LatentStream]) -> list[list[np.ndarray]]:
        """:meth:`decode` of several independent pyramids of one depth and kernel, their
        wavefronts predicted together (:class:`_WavefrontLevel`); each stream reads its own
        symbols in its own order, so the integers are those of one decode at a time."""
        depth = len(streams[0].shapes)
        if any(len(s.shapes) != depth or s.ctx.kernel != streams[0].ctx.kernel for s in streams):
            raise ValueError("pyramids decoded together need one depth and one kernel")
        for s in streams:
            check_ranges(s.ranges)
        levels: list[list[np.ndarray]] = [[np.zeros(0)] * depth for _ in streams]
        for k in reversed(range(depth)):
            banks = [entropy.ShiftedLaplaceBank(*s.ranges[k]) for s in streams]
            coarser = [z[k + 1] if k + 1 < depth else None for z in levels]
            level = _WavefrontLevel([s.ctx for s in streams], k, [s.shapes[k] for s in streams], coarser)
            bounds = level.bounds.tolist()
            for t in range(level.waves):
                a, b = level.wave(t)
                centres, keys = level.predict_wave(t)
                values = np.empty(b - a, dtype=np.int64)
                for i, s in enumerate(streams):
                    p, q = bounds[t * level.count + i] - a, bounds[t * level.count + i + 1] - a
                    if q > p:
                        values[p:q] = s.decoder.read_rows(keys[p:q], banks[i]) + centres[p:q]
                        check_latents(values[p:q], s.bound, k)
                level.store(a, b, values)
            for i, z in enumerate(levels):
                z[k] = level.symbols(i)
        return levels


CHECKERBOARD = Checkerboard()
WAVEFRONT = Wavefront()
#: the schemes by name (what a recipe asks for) and by id (what a file says)
SCHEMES: dict[str, ContextScheme] = {s.name: s for s in (CHECKERBOARD, WAVEFRONT)}
SCHEME_BY_ID: dict[int, ContextScheme] = {s.id: s for s in SCHEMES.values()}


def scheme_named(name: str) -> ContextScheme:
    try:
        return SCHEMES[name]
    except KeyError:
        raise ValueError(f"unknown context scheme {name!r} (choose from {', '.join(SCHEMES)})") from None


def scheme_of_file(ids: set[int], version: tuple[int, int]) -> ContextScheme:
    """The scheme a file's latent tensors name by their coder parameter (one for every level)."""
    if not ids:
        raise FormatError("grid file lists no latent tensors")
    if len(ids) != 1:
        raise FormatError(f"latent levels disagree on their context scheme {sorted(ids)}")
    (scheme_id,) = ids
    scheme = SCHEME_BY_ID.get(scheme_id)
    if scheme is None:
        raise FormatError(f"unknown latent context scheme {scheme_id}")
    if version[0] < scheme.min_major:
        raise FormatError(f"latent context scheme {scheme_id} needs format {scheme.min_major}.0 "
                          f"(file is {version[0]}.{version[1]})")  # fmt: skip
    return scheme
