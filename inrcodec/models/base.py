"""The small interface every INR family implements.

A model maps coordinates in [-1, 1]^in_dim (see :mod:`inrcodec.coords`) to ``out_dim`` values,
normalised so that [-1, 1] spans the signal's range. Its architecture is a tuple of integers,
which is all the .inr header stores about it; the coded tensors are its parameters, in a fixed
order, which the codec quantizes and entropy-codes. Models know nothing about files or bits.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import torch
from torch import nn

from ..errors import FormatError


class INR(nn.Module):
    """Base class of the model families."""

    #: the name users give (``--model``) and the number the header stores
    name: ClassVar[str]
    family_id: ClassVar[int]

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
    def layer_count(cls, arch: tuple[int, ...]) -> int:
        """Layers a model of this architecture has, for resource limits."""
        raise NotImplementedError

    # -- parameters the codec stores -------------------------------------------------------------

    def coded_tensors(self) -> list[tuple[str, nn.Parameter]]:
        """The parameters the file stores, in coding order."""
        return list(self.named_parameters())

    def forward(self, points: torch.Tensor) -> torch.Tensor:  # (N, in_dim) -> (N, out_dim)
        raise NotImplementedError

    @torch.no_grad()
    def render(self, height: int, width: int, device: torch.device, band_pixels: int = 1 << 16) -> np.ndarray:
        """Sample an image model on a height x width pixel-centre grid, a band of rows at a time,
        so memory stays bounded at any output size. Returns (H, W, out_dim) float32."""
        from .. import coords

        out = np.empty((height, width, self.out_dim), dtype=np.float32)
        xs = torch.from_numpy(coords.axis(width).astype(np.float32)).to(device)
        ys = coords.axis(height).astype(np.float32)
        rows = max(1, band_pixels // width)
        model = self.to(device)
        for r0 in range(0, height, rows):
            band = torch.from_numpy(ys[r0 : r0 + rows]).to(device)
            grid = torch.stack(torch.meshgrid(band, xs, indexing="ij")[::-1], dim=-1)
            pred = model(grid.reshape(-1, 2))
            out[r0 : r0 + len(band)] = pred.reshape(len(band), width, -1).cpu().numpy()
        return out


def check_arch(arch: tuple[int, ...], length: int, family: str) -> None:
    if len(arch) != length:
        raise FormatError(f"{family} architecture needs {length} numbers, header has {len(arch)}")
