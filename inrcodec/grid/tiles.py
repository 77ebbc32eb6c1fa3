"""Large images as a grid of overlapping latent-grid tiles, blended where they overlap.

One latent grid for a 24-megapixel photo would need gigabytes to fit and could use one core
only. Instead the image is cut into ``tiles_y x tiles_x`` tiles, each an independent
:class:`~inrcodec.grid.model.GridImage` of its own pixels, fitted and coded on its own (so tiles
fit in parallel, and a decoder holds one row of them at a time).

Geometry, along each axis of ``L`` pixels cut into ``n`` tiles with a margin of ``m`` pixels
(:class:`TileAxis`): the *cores* are ``[b_i, b_{i+1})`` with ``b_i = floor(i L / n)``; tile
``i`` stores its core plus ``m`` pixels on each interior side, ``[b_i - m, b_{i+1} + m)``
clipped to the image, so neighbours share ``2 m`` pixels around each interior boundary.
There the output cross-fades: at the continuous pixel position ``p`` (``p = (u + 1) L / 2`` for
the coordinate ``u`` of docs/coordinates.md) within ``|p - b| < m`` of a boundary ``b``, with
``x = (p - b) / (2 m) + 1/2`` and ``w = sin^2(pi x / 2)``, the output is
``(1 - w) f_left + w f_right``: weights that sum to one and whose slopes vanish at both ends of
the zone (the audio segments' cross-fade, :mod:`inrcodec.models.segments`, in 2-D: the weights
of the two axes multiply). Elsewhere the core's own tile is the output. Each tile is sampled in
its own coordinates: the same picture at any output size, with no seam.

Decoding streams: tile rows go top to bottom; a tile row's tiles are decoded together (their
latents' wavefronts in one vectorised pass, :mod:`inrcodec.grid.coding`), the output rows the
row touches are accumulated (floats) tile by tile, then the rows no later tile touches are handed
out and the overlap is carried to the next tile row. Memory holds one tile row's tiles and output
rows, whatever the image's height.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch

from ..container import Header, ImageFields
from ..errors import FormatError
from ..models.base import INR, DecodeCost, band_points
from .model import GridImage
from .payload import decode_payloads
from .upsampling import axis_taps, resample_leading

#: architecture integers before the inner grid's (height, width, tiles_y, tiles_x, margin)
_FIXED_ARCH = 5
#: structural bound on the tile count (the header's tensor table bounds it further)
MAX_TILES = 4096
#: bytes of a tile's entry in the payload's length table
LENGTH_BYTES = 4
#: coded tensors of a tile's context network (weights, bias, output weights, level biases)
CONTEXT_TENSORS = 4


@dataclass(frozen=True)
class Span:
    """Where one tile lands on one axis of an output: output samples ``j0 .. j1-1``, their
    positions in the tile's own coordinates (``local``, on [-1, 1]) and blend weights; ``exact``
    when the output has the stored size, so that the samples are the tile's own pixels."""

    j0: int
    j1: int
    local: np.ndarray
    weights: np.ndarray
    exact: bool

    @property
    def n(self) -> int:
        return self.j1 - self.j0


@dataclass(frozen=True)
class TileAxis:
    """The tiles along one axis: ``count`` cores over ``length`` pixels, ``margin`` on each
    interior side (module docstring)."""

    length: int
    count: int
    margin: int

    def bound(self, i: int) -> int:
        return i * self.length // self.count

    def extent(self, i: int) -> tuple[int, int]:
        """Stored pixels ``[a, e)`` of tile ``i``."""
        a = self.bound(i) - (self.margin if i > 0 else 0)
        e = self.bound(i + 1) + (self.margin if i < self.count - 1 else 0)
        return a, e

    def sizes(self) -> list[int]:
        return [e - a for a, e in map(self.extent, range(self.count))]

    def span(self, i: int, out: int) -> Span:
        """Where tile ``i`` lands on an output of ``out`` samples: the samples whose centres
        ``p_j = (j + 1/2) L / out`` lie in its extent, and their weights."""
        a, e = self.extent(i)
        L = self.length
        # a <= p_j  <=>  j >= (2 a out - L) / (2 L);  p_j < e  <=>  j < (2 e out - L) / (2 L)
        j0 = min(out, max(0, -((L - 2 * a * out) // (2 * L))))
        j1 = min(out, max(j0, -((L - 2 * e * out) // (2 * L))))
        p = (np.arange(j0, j1, dtype=np.float64) + 0.5) * (L / out)
        weights = np.ones(j1 - j0)
        if self.margin and i > 0:
            weights *= ramp((p - (self.bound(i) - self.margin)) / (2 * self.margin))
        if self.margin and i < self.count - 1:
            weights *= 1.0 - ramp((p - (self.bound(i + 1) - self.margin)) / (2 * self.margin))
        return Span(j0, j1, 2.0 * (p - a) / (e - a) - 1.0, weights, out == L)


def ramp(x: np.ndarray) -> np.ndarray:
    """The raised-cosine cross-fade ``sin^2(pi x / 2)`` on [0, 1], 0 before and 1 after."""
    return np.sin(0.5 * np.pi * np.clip(x, 0.0, 1.0)) ** 2


def split_axis(length: int, size: int, margin: int) -> int:
    """Tiles along an axis of ``length`` pixels whose cores are at most ``size`` pixels and at
    least ``2 margin`` (so that cross-fades never meet), one at least."""
    count = max(1, math.ceil(length / size))
    while count > 1 and length // count < max(1, 2 * margin):
        count -= 1
    return count


class TiledImage(INR):
    """``tiles_y x tiles_x`` latent grids of one inner architecture, cross-faded where they
    overlap. Built from the header, it holds no tile until :meth:`attach` gives it the payload;
    rendering then decodes one tile row at a time."""

    name = "tiled"
    family_id = 5
    input_dims = (2,)

    def __init__(self, height: int, width: int, out_dim: int, *, tiles_y: int, tiles_x: int, margin: int,
                 inner: tuple[int, ...]) -> None:  # fmt: skip
        """``inner``: the tiles' grid architecture without its height and width (levels, first
        level, hidden, depth, activation, kernel, context width, channels per level)."""
        super().__init__(2, out_dim)
        self.height, self.width = height, width
        self.rows = TileAxis(height, tiles_y, margin)
        self.cols = TileAxis(width, tiles_x, margin)
        self.inner = tuple(inner)
        self._header: Header | None = None
        self._streams: list[bytes] = []

    # -- architecture ---------------------------------------------------------------------------

    @property
    def count(self) -> int:
        return self.rows.count * self.cols.count

    def arch(self) -> tuple[int, ...]:
        return (self.height, self.width, self.rows.count, self.cols.count, self.rows.margin, *self.inner)

    def tile_shape(self, index: int) -> tuple[int, int]:
        ty, tx = divmod(index, self.cols.count)
        (a, e), (c, d) = self.rows.extent(ty), self.cols.extent(tx)
        return e - a, d - c

    def tile_arch(self, index: int) -> tuple[int, ...]:
        """The inner grid architecture of tile ``index`` (row-major), its size included."""
        return (*self.tile_shape(index), *self.inner)

    @classmethod
    def _parse(cls, arch) -> dict:
        if len(arch) < _FIXED_ARCH + 1:
            raise FormatError(f"tiled architecture too short ({len(arch)} numbers)")
        h, w, ny, nx, m = arch[:_FIXED_ARCH]
        if h < 1 or w < 1 or ny < 1 or nx < 1 or ny * nx > MAX_TILES or m < 0 or m > max(h, w):
            raise FormatError(f"invalid tiled architecture {tuple(arch)}")
        for length, count in ((h, ny), (w, nx)):
            if length // count < max(1, 2 * m if count > 1 else 1):
                raise FormatError(f"tiled architecture {tuple(arch)}: {count} tiles with a margin of {m} "
                                  f"do not fit {length} pixels")  # fmt: skip
        inner = tuple(arch[_FIXED_ARCH:])
        GridImage._parse((1, 1, *inner))  # the inner architecture's own checks
        return dict(height=h, width=w, tiles_y=ny, tiles_x=nx, margin=m, inner=inner)

    @classmethod
    def from_arch(cls, arch, in_dim, out_dim) -> TiledImage:
        if in_dim != 2:
            raise FormatError("the tiled family stores images only")
        return cls(out_dim=out_dim, **cls._parse(arch))

    @classmethod
    def tensors_per_tile(cls, arch) -> int:
        """Coded tensors of one tile: the context network's four, the synthesis layers' weights
        and biases, one per latent level (:meth:`GridImage.coded_tensors`)."""
        a = GridImage._parse((1, 1, *cls._parse(arch)["inner"]))
        return CONTEXT_TENSORS + 2 * (a["depth"] + 1) + len(a["channels"])

    @classmethod
    def count_parameters(cls, arch, in_dim, out_dim) -> int:
        model = cls.from_arch(arch, 2, out_dim)
        return sum(GridImage.count_parameters(model.tile_arch(i), 2, out_dim) for i in range(model.count))

    @classmethod
    def resident_parameters(cls, arch, in_dim, out_dim) -> int:
        """A decoder holds one tile row at a time: the largest row's parameters."""
        model = cls.from_arch(arch, 2, out_dim)
        n = model.cols.count
        sizes = [GridImage.count_parameters(model.tile_arch(i), 2, out_dim) for i in range(model.count)]
        return max(sum(sizes[i : i + n]) for i in range(0, model.count, n))

    @classmethod
    def layer_count(cls, arch) -> int:
        return GridImage.layer_count((1, 1, *cls._parse(arch)["inner"]))

    @classmethod
    def decode_cost(cls, arch, in_dim, out_dim, shape) -> DecodeCost:
        """Rendering (:meth:`render_tiles`): every tile's grid rendering onto its share of the
        output (the tiles one after another, so the peak is the largest tile's), the blend, and
        the float rows of one tile row with the overlap carried to the next. Decoding the tiles'
        latents is the family's cost (:mod:`inrcodec.tiled`)."""
        model = cls.from_arch(arch, 2, out_dim)
        out_h, out_w = shape
        work = memory = point_floats = 0
        for i in range(model.count):
            ty, tx = divmod(i, model.cols.count)
            ys, xs = model.rows.span(ty, out_h), model.cols.span(tx, out_w)
            if ys.n == 0 or xs.n == 0:
                continue
            tile = GridImage.decode_cost(model.tile_arch(i), 2, out_dim, (ys.n, xs.n))
            # the weighted sum into the rows: a few float passes per output value
            work += tile.work + 8 * ys.n * xs.n * out_dim
            memory = max(memory, tile.memory)
            point_floats = max(point_floats, tile.point_floats)
        # the float rows of a tile row, and the overlap carried from the previous one (held
        # together while the carry is copied in or out); a band's values, weights and products
        spans = [model.rows.span(ty, out_h) for ty in range(model.rows.count)]
        rows = max(s.n for s in spans)
        carried = max([a.j1 - b.j0 for a, b in zip(spans, spans[1:])] + [0])
        band = min(out_h * out_w, band_points(point_floats or 1))
        memory += 4 * out_dim * out_w * (rows + carried) + (8 * out_dim + 4) * band
        return DecodeCost(work, memory, point_floats)

    # -- the tiles ------------------------------------------------------------------------------

    def tile_header(self, header: Header, index: int, per_tile: int) -> Header:
        """The grid header tile ``index`` would have on its own: its size, architecture and
        tensor fields, the file's version (which names the context schemes it may use)."""
        h, w = self.tile_shape(index)
        s = header.signal
        return Header(ImageFields(w, h, s.mode, s.bit_depth), GridImage.family_id, self.tile_arch(index),
                      header.tensors[index * per_tile : (index + 1) * per_tile], header.coords,
                      version=header.version)  # fmt: skip

    def attach(self, header: Header, payload: bytes) -> None:
        """Keep the file's header and split its payload into the tiles' streams (nothing decoded)."""
        self._header = header
        self._streams = split_payload(payload, self.count)

    def tile(self, index: int) -> GridImage:
        """Tile ``index``, rebuilt from the attached payload (its latents entropy-decoded)."""
        return self.tiles([index])[0]

    def tiles(self, indices: list[int]) -> list[GridImage]:
        """The tiles ``indices``, rebuilt together: their latents are decoded in one pass
        (:func:`~inrcodec.grid.payload.decode_payloads`), which for a row of tiles costs little
        more than for one."""
        subs, models = self.empty_tiles(indices)
        decode_payloads(models, subs, [self._streams[i] for i in indices])
        return [model.eval() for model in models]

    def empty_tiles(self, indices: list[int]) -> tuple[list[Header], list[GridImage]]:
        """The tiles ``indices``' own headers (their share of the attached file's tensors) and
        their grids, built but not yet filled from the payload."""
        if self._header is None:
            raise RuntimeError("no payload attached")
        per_tile = len(self._header.tensors) // self.count
        subs = [self.tile_header(self._header, i, per_tile) for i in indices]
        return subs, [GridImage.from_arch(sub.arch, 2, self.out_dim) for sub in subs]

    def streams(self) -> list[bytes]:
        return list(self._streams)

    def coded_tensors(self):
        """Every tile's coded tensors in file order (for shapes: build it on the ``meta`` device)."""
        out = []
        for i in range(self.count):
            grid = GridImage.from_arch(self.tile_arch(i), 2, self.out_dim)
            out += [(f"tiles.{i}.{name}", p) for name, p in grid.coded_tensors()]
        return out

    # -- sampling -------------------------------------------------------------------------------

    def forward(self, points: torch.Tensor) -> torch.Tensor:
        """Values at arbitrary (x, y) points: every tile whose extent holds a point, weighted."""
        pts = points.detach().cpu().double().numpy()
        out = torch.zeros(len(pts), self.out_dim, dtype=torch.float32)
        px = (pts[:, 0] + 1.0) * self.width / 2.0
        py = (pts[:, 1] + 1.0) * self.height / 2.0
        for i in range(self.count):
            ty, tx = divmod(i, self.cols.count)
            wy, ly = _weights_at(self.rows, ty, py)
            wx, lx = _weights_at(self.cols, tx, px)
            w = wy * wx
            sel = np.flatnonzero(w > 0)
            if not len(sel):
                continue
            model = self.tile(i)
            local = torch.from_numpy(np.stack([lx[sel], ly[sel]], 1).astype(np.float32))
            with torch.no_grad():
                out[torch.from_numpy(sel)] += model(local) * torch.from_numpy(w[sel].astype(np.float32))[:, None]
        return out

    @torch.no_grad()
    def render_tiles(self, height: int, width: int, device: torch.device,
                     band_pixels: int = 1 << 16) -> Iterator[tuple[int, int, np.ndarray]]:  # fmt: skip
        """As :meth:`INR.render_tiles`, in bands of whole output rows: each tile row's rows are
        accumulated from its tiles (decoded together, rendered one at a time), then the rows the next tile row does
        not reach are yielded and the overlap carried."""
        carry = np.zeros((0, width, self.out_dim), np.float32)
        for ty in range(self.rows.count):
            ys = self.rows.span(ty, height)
            done = self.rows.span(ty + 1, height).j0 if ty + 1 < self.rows.count else height
            acc = np.zeros((ys.n, width, self.out_dim), np.float32)
            acc[: len(carry)] = carry
            row = [(tx, xs) for tx in range(self.cols.count) if (xs := self.cols.span(tx, width)).n] if ys.n else []
            models = self.tiles([ty * self.cols.count + tx for tx, _ in row])
            for (_, xs), model in zip(row, models):
                _blend_tile(model.to(device), acc, ys, xs, device, band_pixels)
            del models
            final = max(0, done - ys.j0)
            for r0 in range(0, final, max(1, band_pixels // max(1, width))):
                r1 = min(final, r0 + max(1, band_pixels // max(1, width)))
                yield ys.j0 + r0, 0, acc[r0:r1]
            carry = acc[final:].copy()
            del acc


def _weights_at(axis: TileAxis, i: int, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Tile ``i``'s blend weights at pixel positions ``p`` (0 outside its extent) and the
    positions in its own coordinates."""
    a, e = axis.extent(i)
    inside = (p >= a) & (p < e) if i < axis.count - 1 else (p >= a) & (p <= e)
    w = inside.astype(np.float64)
    if axis.margin and i > 0:
        w *= ramp((p - (axis.bound(i) - axis.margin)) / (2 * axis.margin))
    if axis.margin and i < axis.count - 1:
        w *= 1.0 - ramp((p - (axis.bound(i + 1) - axis.margin)) / (2 * axis.margin))
    return w, 2.0 * (p - a) / (e - a) - 1.0


def _blend_tile(model: GridImage, acc: np.ndarray, ys: Span, xs: Span, device: torch.device, band_pixels: int) -> None:
    """Add tile ``model``'s weighted values on the output samples ``ys`` x ``xs`` into ``acc``
    (whose row 0 is output row ``ys.j0``), a band of rows (and columns) at a time."""
    grid = model.feature_grid()  # (C, h, w)
    by_row = grid.permute(1, 0, 2)  # (h, C, w): a band of rows is a leading slice or gather
    if not ys.exact:
        by_row = by_row.contiguous()
    cols = min(xs.n, max(1, band_pixels))
    rows = max(1, band_pixels // max(cols, model.width))
    starts = range(0, xs.n, cols)
    wy = ys.weights.astype(np.float32)
    wx = xs.weights.astype(np.float32)

    def col_taps(c0: int):
        return None if xs.exact else axis_taps(model.width, xs.local[c0 : c0 + cols], model.kernel)

    once = {0: col_taps(0)} if len(starts) == 1 else None
    for k0 in range(0, ys.n, rows):
        k1 = min(ys.n, k0 + rows)
        if ys.exact:
            band = by_row[k0:k1]  # at the stored size the span starts at the tile's first pixel
        else:
            band = resample_leading(by_row, *axis_taps(model.height, ys.local[k0:k1], model.kernel))
        by_col = band.permute(2, 0, 1)  # (w, rows, C)
        if not xs.exact:
            by_col = by_col.contiguous()
        for c0 in starts:
            c1 = min(xs.n, c0 + cols)
            taps = once[c0] if once is not None else col_taps(c0)
            tile = by_col[c0:c1] if taps is None else resample_leading(by_col, *taps)
            values = model.synthesize(tile.permute(1, 0, 2).reshape(-1, tile.shape[2]))
            values = values.reshape(k1 - k0, c1 - c0, -1).cpu().numpy()
            weight = wy[k0:k1, None, None] * wx[None, c0:c1, None]
            acc[k0:k1, xs.j0 + c0 : xs.j0 + c1] += values * weight


# --- the payload: a length table, then the tiles' streams ---------------------------------------------


def join_payload(streams: list[bytes]) -> bytes:
    """The tiled payload: each tile's stream length (uint32, little-endian), then the streams."""
    return b"".join([struct.pack(f"<{len(streams)}I", *map(len, streams)), *streams])


def split_payload(payload: bytes, count: int) -> list[bytes]:
    """The tiles' streams of a tiled payload (:func:`join_payload`), checked to fill it exactly."""
    table = LENGTH_BYTES * count
    if len(payload) < table:
        raise FormatError(f"tiled payload of {len(payload)} bytes is shorter than its table of {count} tile lengths")
    lengths = struct.unpack_from(f"<{count}I", payload)
    if sum(lengths) != len(payload) - table:
        raise FormatError(f"tile lengths add up to {sum(lengths)} bytes, the payload holds {len(payload) - table}")
    streams, at = [], table
    for n in lengths:
        streams.append(bytes(payload[at : at + n]))
        at += n
    return streams
