"""A ReLU MLP on a Fourier-feature encoding of the coordinates (Tancik et al. 2020).

The encoding is deterministic, as in Strumpler et al. 2022: for each coordinate p and k = 0..n-1,
``sin(pi * s^k * p)`` and ``cos(pi * s^k * p)`` with a frequency ratio ``s`` (1.4 there), plus p
itself. No random matrix has to be stored or reproduced.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from ..errors import FormatError
from .base import ELEMENT_WORK, INR, SINE_WORK, DecodeCost, check_arch, mlp_cost, mlp_parameters

#: the frequency ratio is stored in 1/16 units
RATIO_UNITS = 16
#: the highest frequency a file may ask for is pi * 2^MAX_OCTAVES
MAX_OCTAVES = 32


class FourierMLP(INR):
    name = "fourier"
    family_id = 2

    def __init__(
        self,
        in_dim: int,
        out_dim: int,
        depth: int = 4,
        width: int = 32,
        frequencies: int = 16,
        ratio: float = 1.4,
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__(in_dim, out_dim)
        if depth < 1 or width < 1 or frequencies < 0 or ratio <= 0:
            raise ValueError("invalid Fourier-feature MLP shape")
        self.depth, self.width, self.frequencies = depth, width, frequencies
        self.ratio = round(ratio * RATIO_UNITS) / RATIO_UNITS
        freqs = math.pi * self.ratio ** torch.arange(frequencies, dtype=torch.float64)
        self.register_buffer("freqs", freqs.float(), persistent=False)
        dims = [in_dim * (1 + 2 * frequencies)] + [width] * depth
        self.hidden = nn.ModuleList(nn.Linear(a, b) for a, b in zip(dims[:-1], dims[1:]))
        self.out = nn.Linear(width, out_dim)
        with torch.no_grad():
            for layer in [*self.hidden, self.out]:
                bound = math.sqrt(6.0 / layer.in_features) / 2  # He-uniform for ReLU
                layer.weight.uniform_(-bound, bound, generator=generator)
                layer.bias.zero_()

    def encode(self, points: torch.Tensor) -> torch.Tensor:
        angles = points[:, :, None] * self.freqs  # (N, in_dim, n)
        return torch.cat([points, angles.sin().flatten(1), angles.cos().flatten(1)], dim=1)

    def forward(self, points: torch.Tensor) -> torch.Tensor:
        h = self.encode(points)
        for layer in self.hidden:
            h = torch.relu(layer(h))
        return self.out(h)

    def arch(self) -> tuple[int, ...]:
        return (self.depth, self.width, self.frequencies, round(self.ratio * RATIO_UNITS))

    @classmethod
    def _parse(cls, arch):
        check_arch(arch, 4, "Fourier-feature MLP")
        depth, width, n, ratio = arch
        if depth < 1 or width < 1 or not 0 <= n <= 64 or ratio <= 0:
            raise FormatError(f"invalid Fourier-feature MLP architecture {arch}")
        # the top frequency pi * ratio^(n-1), in exact integers: beyond MAX_OCTAVES octaves it
        # resolves nothing a signal of at most 2^31 samples holds, and far beyond, float32 overflows
        if n and ratio ** (n - 1) > RATIO_UNITS ** (n - 1) << MAX_OCTAVES:
            raise FormatError(f"Fourier-feature MLP architecture {arch}: frequencies beyond 2^{MAX_OCTAVES}")
        return depth, width, n, ratio / RATIO_UNITS

    @classmethod
    def from_arch(cls, arch, in_dim, out_dim) -> FourierMLP:
        return cls(in_dim, out_dim, *cls._parse(arch))

    @classmethod
    def count_parameters(cls, arch, in_dim, out_dim) -> int:
        depth, width, n, _ = cls._parse(arch)
        return mlp_parameters(in_dim * (1 + 2 * n), width, depth, out_dim)

    @classmethod
    def layer_count(cls, arch) -> int:
        return cls._parse(arch)[0] + 1

    @classmethod
    def decode_cost(cls, arch, in_dim, out_dim, shape) -> DecodeCost:
        depth, width, n, _ = cls._parse(arch)
        encoded = in_dim * (1 + 2 * n)
        return mlp_cost(encoded, width, depth, out_dim, math.prod(shape), extra=(SINE_WORK + ELEMENT_WORK) * encoded)
