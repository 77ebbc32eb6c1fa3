"""The small interface every INR family implements.

A model maps coordinates in [-1, 1]^in_dim (see :mod:`inrcodec.coords`) to ``out_dim`` values,
normalised so that [-1, 1] spans the signal's range. Its architecture is a tuple of integers,
which is all the .inr header stores about it; the coded tensors are its parameters, in a fixed
order, which the codec quantizes and entropy-codes. Models know nothing about files or bits.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import torch
from torch import nn

from ..errors import FormatError
from ..limits import STEP_WORK

#: float values one band of a decode may hold in activations (64 MB): sets the band size
BAND_FLOATS = 1 << 24
#: samples per band at most
BAND_SAMPLES = 1 << 16

# The cost model's work units (inrcodec.limits): a layer's multiply-adds count one each; these
# convert the rest (measured: benchmarks/decode_cost.py).
#: per activation value a layer writes (its bias, activation function and memory traffic:
#: 1 to 3 ns for bands too large for the caches)
ELEMENT_WORK = 20
#: per sine or cosine evaluated, with its scaling (some 7 ns for bands too large for the caches)
SINE_WORK = 60
#: bytes of memory per activation value of a band in flight (``point_floats``), and per sample:
#: the layers' outputs and temporaries as torch allocates them, with the allocator's
#: fragmentation (measured up to 22 per value; benchmarks/decode_cost.py)
BAND_BYTES_PER_FLOAT = 24
BAND_BYTES_PER_SAMPLE = 256


@dataclass(frozen=True)
class DecodeCost:
    """What sampling a model on an output grid costs, known from its architecture alone, so that
    the decoder can refuse a file before allocating anything (see :class:`inrcodec.limits.Limits`)."""

    work: int  # work units of the whole decode (multiply-adds and their equivalents, see above)
    memory: int  # bytes held at the peak beyond parameters, one band's activations and the output
    point_floats: int  # activations each sample in flight holds; sets the band size

    def band_points(self) -> int:
        """Samples per band: 65 536, or fewer for a network so wide that the band's activations
        would pass :data:`BAND_FLOATS`."""
        return band_points(self.point_floats)

    def band_bytes(self, samples: int) -> int:
        """Memory one band in flight takes (its activations and per-sample buffers) in a decode
        of ``samples`` samples."""
        points = min(samples, self.band_points())
        return points * (BAND_BYTES_PER_FLOAT * self.point_floats + BAND_BYTES_PER_SAMPLE)


def band_points(point_floats: int) -> int:
    """Samples per band for a network whose samples each hold ``point_floats`` activations."""
    return max(1, min(BAND_SAMPLES, BAND_FLOATS // max(1, point_floats)))


def mlp_parameters(in_dim: int, width: int, depth: int, out_dim: int) -> int:
    """Weights and biases of an MLP with ``depth`` hidden layers of ``width``."""
    return (in_dim + 1) * width + (depth - 1) * (width + 1) * width + (width + 1) * out_dim


def mlp_sample_work(in_dim: int, width: int, depth: int, out_dim: int) -> int:
    """Work units of one sample through an MLP: its multiply-adds and the values its layers write."""
    return mlp_parameters(in_dim, width, depth, out_dim) + ELEMENT_WORK * (depth * width + out_dim)


def mlp_cost(in_dim: int, width: int, depth: int, out_dim: int, samples: int, extra: int = 0) -> DecodeCost:
    """The cost of an MLP with ``depth`` hidden layers of ``width`` on ``samples`` points, each
    with ``extra`` units of work before the first layer (an input encoding), in bands."""
    point_floats = 3 * max(in_dim, width, out_dim)
    steps = -(-samples // band_points(point_floats))
    work = samples * (mlp_sample_work(in_dim, width, depth, out_dim) + extra) + steps * STEP_WORK
    return DecodeCost(work, 0, point_floats)


class INR(nn.Module):
    """Base class of the model families."""

    #: the name users give (``--model``) and the number the header stores
    name: ClassVar[str]
    family_id: ClassVar[int]
    #: the coordinate dimensions the family can model: 1 for audio, 2 for images
    input_dims: ClassVar[tuple[int, ...]] = (1, 2)
    #: the coordinates' dtype an audio decode passes (float64 for sub-sample precision on long clips)
    coordinate_dtype: ClassVar[type] = np.float32

    def __init__(self, in_dim: int, out_dim: int) -> None:
        super().__init__()
        self.in_dim = in_dim
        self.out_dim = out_dim

    # -- architecture <-> header -----------------------------------------------------------------

    def arch(self) -> tuple[int, ...]:
        """The integers that rebuild this architecture with :meth:`from_arch`."""
        raise NotImplementedError

    @classmethod
    def from_arch(cls, arch: tuple[int, ...], in_dim: int, out_dim: int) -> INR:
        """Rebuild an (untrained) model; raises FormatError for an invalid architecture."""
        raise NotImplementedError

    @classmethod
    def count_parameters(cls, arch: tuple[int, ...], in_dim: int, out_dim: int) -> int:
        """Parameters a model of this architecture has, computed without allocating it."""
        raise NotImplementedError

    @classmethod
    def resident_parameters(cls, arch: tuple[int, ...], in_dim: int, out_dim: int) -> int:
        """Parameters a decoder holds at once (what ``max_parameters`` bounds): all of them,
        unless the family decodes in parts (the tiled family: one tile at a time)."""
        return cls.count_parameters(arch, in_dim, out_dim)

    @classmethod
    def layer_count(cls, arch: tuple[int, ...]) -> int:
        """Layers a model of this architecture has, for resource limits."""
        raise NotImplementedError

    @classmethod
    def decode_cost(cls, arch: tuple[int, ...], in_dim: int, out_dim: int, shape: tuple[int, ...]) -> DecodeCost:
        """Work and memory of sampling this architecture on an output grid of ``shape`` (rows and
        columns of an image, or the number of audio samples), computed without allocating."""
        raise NotImplementedError

    # -- parameters the codec stores -------------------------------------------------------------

    def coded_tensors(self) -> list[tuple[str, nn.Parameter]]:
        """The parameters the file stores, in coding order."""
        return list(self.named_parameters())

    def forward(self, points: torch.Tensor) -> torch.Tensor:  # (N, in_dim) -> (N, out_dim)
        raise NotImplementedError

    def render(self, height: int, width: int, device: torch.device, band_pixels: int = 1 << 16) -> np.ndarray:
        """Sample an image model on a height x width pixel-centre grid. Returns (H, W, out_dim)
        float32; :meth:`render_tiles` yields the same values a piece at a time."""
        out = np.empty((height, width, self.out_dim), dtype=np.float32)
        for r0, c0, values in self.render_tiles(height, width, device, band_pixels):
            out[r0 : r0 + values.shape[0], c0 : c0 + values.shape[1]] = values
        return out

    @torch.no_grad()
    def render_tiles(
        self, height: int, width: int, device: torch.device, band_pixels: int = 1 << 16
    ) -> Iterator[tuple[int, int, np.ndarray]]:
        """(first row, first column, (rows, cols, out_dim) float32 values) of successive tiles of
        at most ``band_pixels`` pixels (bands of whole rows unless a row is longer), in row-major
        order, so that memory stays bounded at any output size."""
        from .. import coords

        model = self.to(device)
        for (r0, r1), (c0, c1) in tiles(height, width, band_pixels):
            ys = torch.from_numpy(coords.axis(height, r0, r1).astype(np.float32)).to(device)
            xs = torch.from_numpy(coords.axis(width, c0, c1).astype(np.float32)).to(device)
            grid = torch.stack(torch.meshgrid(ys, xs, indexing="ij")[::-1], dim=-1)
            pred = model(grid.reshape(-1, 2))
            yield r0, c0, pred.reshape(r1 - r0, c1 - c0, -1).cpu().numpy()


def tiles(height: int, width: int, pixels: int) -> Iterator[tuple[tuple[int, int], tuple[int, int]]]:
    """Row and column ranges of tiles of at most ``pixels`` pixels covering height x width, in
    row-major order: whole-row bands, or pieces of single rows when a row holds more pixels."""
    rows = max(1, pixels // width)
    cols = min(width, max(1, pixels))
    for r0 in range(0, height, rows):
        for c0 in range(0, width, cols):
            yield (r0, min(height, r0 + rows)), (c0, min(width, c0 + cols))


def check_arch(arch: tuple[int, ...], length: int, family: str) -> None:
    if len(arch) != length:
        raise FormatError(f"{family} architecture needs {length} numbers, header has {len(arch)}")
