"""Segments: a long 1-D signal as a chain of small models, cross-faded where they overlap.

One network for a whole clip of minutes would need to be huge and would train slowly, since every
step runs every point through all of it. Instead the time axis [-1, 1] is cut into ``count``
equal *cores*; segment ``i`` owns core ``i`` plus a margin on each side, and its own small model
(any point family: SIREN by default) sees that span mapped onto [-1, 1], so the inner model's
settings (SIREN's omega_0) mean the same for every segment, whatever the clip's length.

Joins: around each interior core boundary lies a cross-fade zone ``overlap`` core widths wide
(split evenly across the boundary). Inside it the output is ``(1 - w) * left + w * right`` with
the raised-cosine ramp ``w = sin^2(pi x / 2)``, x going 0 -> 1 across the zone. The weights sum
to one (the two models fit the same signal, so their outputs are correlated and equal-gain is the
right fade), and their slopes vanish at both ends of the zone, so the output stays smooth even
where the two models disagree. Outside the zones exactly one segment is evaluated.

Storage: the segments' parameters are stacked, one tensor per inner tensor with a leading
segment axis, so the header lists as many tensors as one inner model has, whatever the segment
count (per-segment tensors cost about 8 header bytes each: a fifth of a 24 kbit/s file with
0.1 s segments), and all the segments a batch touches run as one batched network (``torch.func.vmap``).

Architecture integers: ``(count, overlap_units, inner_family_id, *inner_arch)``, the overlap in
1/:data:`OVERLAP_UNITS` of a core width. Only 1-D inputs (time) are supported.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn
from torch.func import functional_call, vmap

from ..errors import FormatError
from .base import INR, DecodeCost
from .fourier import FourierMLP
from .siren import Siren

#: the families a segment can be, by header number
_INNER: dict[int, type[INR]] = {cls.family_id: cls for cls in (Siren, FourierMLP)}
#: the overlap is stored in 1/256 of a core width
OVERLAP_UNITS = 256
#: structural bound on the segment count (resource limits come on top, from codec.Limits)
MAX_SEGMENTS = 1 << 20
#: decode work units per sample: finding its segments, sorting a batch by segment, scattering back
SEGMENT_SAMPLE_WORK = 2000


class Segments(INR):
    """``count`` models of one inner architecture along the time axis, cross-faded at the joins."""

    name = "segments"
    family_id = 4
    input_dims = (1,)

    def __init__(self, parts: Sequence[INR], overlap_units: int) -> None:
        if not parts:
            raise ValueError("a segments model needs at least one segment")
        template = parts[0]
        if template.in_dim != 1:
            raise ValueError("the segments family is for 1-D signals (in_dim = 1)")
        if any(type(p) is not type(template) or p.arch() != template.arch() for p in parts):
            raise ValueError("all segments must share one architecture")
        if not 0 <= overlap_units <= OVERLAP_UNITS:
            raise ValueError(f"overlap must be 0..{OVERLAP_UNITS} units, got {overlap_units}")
        super().__init__(1, template.out_dim)
        self.overlap_units = int(overlap_units)
        self.inner_names = [name for name, _ in template.coded_tensors()]
        per_part = [dict(p.coded_tensors()) for p in parts]
        self.stacked = nn.ParameterList(
            nn.Parameter(torch.stack([p[name].detach() for p in per_part])) for name in self.inner_names
        )
        # The template supplies only the inner forward (its parameters are swapped for each
        # segment's); it is kept out of the module tree so that it adds no parameters.
        object.__setattr__(self, "_template", template)

    @classmethod
    def build(
        cls,
        inner: type[INR],
        count: int,
        overlap: float,
        out_dim: int,
        generator: torch.Generator | None = None,
        **inner_kwargs,
    ) -> Segments:
        """``count`` freshly initialised inner models (drawn in order from ``generator``)."""
        parts = [inner(1, out_dim, generator=generator, **inner_kwargs) for _ in range(count)]
        return cls(parts, round(overlap * OVERLAP_UNITS))

    def _apply(self, fn, recurse=True):
        super()._apply(fn, recurse)
        self._template._apply(fn, recurse)  # buffers such as Fourier frequencies follow .to()
        return self

    # -- geometry --------------------------------------------------------------------------------

    @property
    def count(self) -> int:
        return int(self.stacked[0].shape[0])

    @property
    def overlap(self) -> float:
        """Width of each cross-fade zone, in core widths (0 = hard cuts)."""
        return self.overlap_units / OVERLAP_UNITS

    def _pairs(self, t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """(point index, segment, local coordinate, weight) of every evaluation the points need."""
        s, r = self.count, self.overlap
        pos = (t + 1.0) * (s / 2.0)  # in core widths from -1: core i is [i, i + 1)
        primary = pos.floor().clamp(0, s - 1).long()
        idx = torch.arange(len(t), device=t.device)
        if r <= 0 or s == 1:
            return idx, primary, self._local(pos, primary), torch.ones_like(t)
        boundary = pos.round().clamp(0, s)
        x = (pos - boundary) / r + 0.5  # 0 -> 1 across the zone around that boundary
        zone = (x > 0) & (x < 1) & (boundary > 0) & (boundary < s)
        w_right = torch.sin(0.5 * math.pi * x.clamp(0, 1)) ** 2
        right_of = primary == boundary.long()
        w_primary = torch.where(zone, torch.where(right_of, w_right, 1.0 - w_right), 1.0)
        neighbour = torch.where(right_of, primary - 1, primary + 1)[zone]
        pidx = torch.cat([idx, idx[zone]])
        seg = torch.cat([primary, neighbour])
        weights = torch.cat([w_primary, (1.0 - w_primary)[zone]])
        return pidx, seg, self._local(pos[pidx], seg), weights

    def _local(self, pos: torch.Tensor, seg: torch.Tensor) -> torch.Tensor:
        # Segment i's span [i - r/2, i + 1 + r/2] (in core widths) onto [-1, 1].
        return (pos - seg - 0.5) * (2.0 / (1.0 + self.overlap))

    # -- evaluation ------------------------------------------------------------------------------

    def forward(self, points: torch.Tensor) -> torch.Tensor:
        t = points[:, 0]
        if len(t) == 0:
            return points.new_zeros((0, self.out_dim))
        pidx, seg, local, weights = self._pairs(t)
        # Group the evaluations by segment into a padded (active, longest, 1) batch, so all the
        # segments a batch touches run as one batched network instead of a Python loop.
        counts = torch.bincount(seg, minlength=self.count)
        active = torch.nonzero(counts).flatten()
        order = torch.argsort(seg, stable=True)
        seg_sorted = seg[order]
        starts = torch.cumsum(counts, 0) - counts
        rank = torch.arange(len(seg), device=t.device) - starts[seg_sorted]
        slot = torch.full((self.count,), -1, dtype=torch.long, device=t.device)
        slot[active] = torch.arange(len(active), device=t.device)
        row = slot[seg_sorted]
        batch = local.new_zeros((len(active), int(counts.max()), 1))
        batch[row, rank, 0] = local[order]
        out = self._run(active, batch)[row, rank]  # (evaluations, out_dim), in sorted order
        result = points.new_zeros((len(t), self.out_dim))
        return result.index_add(0, pidx[order], out * weights[order, None])

    def _run(self, active: torch.Tensor, batch: torch.Tensor) -> torch.Tensor:
        """Each active segment's model on its row of ``batch``: (A, M, 1) -> (A, M, out_dim)."""
        everyone = len(active) == self.count
        params = {name: (p if everyone else p[active]) for name, p in zip(self.inner_names, self.stacked)}
        template = self._template
        return vmap(lambda prm, x: functional_call(template, prm, (x,)))(params, batch)

    def segment(self, i: int) -> INR:
        """A standalone copy of segment ``i``'s model (on its local coordinates)."""
        part = type(self._template).from_arch(self._template.arch(), 1, self.out_dim)
        with torch.no_grad():
            for (_, p), stacked in zip(part.coded_tensors(), self.stacked):
                p.copy_(stacked[i])
        return part

    # -- architecture <-> header -----------------------------------------------------------------

    def arch(self) -> tuple[int, ...]:
        inner = self._template
        return (self.count, self.overlap_units, inner.family_id, *inner.arch())

    @classmethod
    def _parse(cls, arch: tuple[int, ...]) -> tuple[int, int, type[INR], tuple[int, ...]]:
        if len(arch) < 4:
            raise FormatError(f"segments architecture needs at least 4 numbers, header has {len(arch)}")
        count, units, family, *inner_arch = arch
        if not 1 <= count <= MAX_SEGMENTS:
            raise FormatError(f"segments architecture: {count} segments (must be 1..{MAX_SEGMENTS})")
        if not 0 <= units <= OVERLAP_UNITS:
            raise FormatError(f"segments architecture: overlap {units} (must be 0..{OVERLAP_UNITS})")
        if family == cls.family_id:
            raise FormatError("segments architecture: segments cannot nest")
        inner = _INNER.get(family)
        if inner is None:
            raise FormatError(
                f"segments architecture: a segment must be model family {' or '.join(map(str, _INNER))}, not {family}"
            )
        inner.layer_count(tuple(inner_arch))  # validates the inner architecture
        return count, units, inner, tuple(inner_arch)

    @classmethod
    def from_arch(cls, arch, in_dim, out_dim) -> Segments:
        if in_dim != 1:
            raise FormatError("the segments family holds 1-D signals only")
        count, units, inner, inner_arch = cls._parse(arch)
        template = inner.from_arch(inner_arch, 1, out_dim)
        model = cls([template], units)
        # Only the shapes matter here: the decoder overwrites every value.
        model.stacked = nn.ParameterList(nn.Parameter(p.new_zeros((count, *p.shape[1:]))) for p in model.stacked)
        return model

    @classmethod
    def count_parameters(cls, arch, in_dim, out_dim) -> int:
        count, _, inner, inner_arch = cls._parse(arch)
        return count * inner.count_parameters(inner_arch, in_dim, out_dim)

    @classmethod
    def layer_count(cls, arch) -> int:
        # A point runs through at most two segments, each as deep as the inner model.
        _, _, inner, inner_arch = cls._parse(arch)
        return inner.layer_count(inner_arch)

    @classmethod
    def decode_cost(cls, arch, in_dim, out_dim, shape) -> DecodeCost:
        # A sample in a cross-fade runs two segments; a batch gathers the parameters of the
        # segments it touches (at most all of them, as float32) and sorts and indexes its samples.
        count, _, inner, inner_arch = cls._parse(arch)
        one = inner.decode_cost(inner_arch, in_dim, out_dim, shape)
        gathered = count * inner.count_parameters(inner_arch, in_dim, out_dim)
        return DecodeCost(2 * one.work + SEGMENT_SAMPLE_WORK * math.prod(shape), 4 * gathered,
                          2 * one.point_floats + 16)  # fmt: skip

    # -- parameters the codec stores -------------------------------------------------------------

    def coded_tensors(self) -> list[tuple[str, nn.Parameter]]:
        """One (count, ...) tensor per inner tensor, in the inner family's order."""
        return [(f"stacked.{i}", p) for i, p in enumerate(self.stacked)]
