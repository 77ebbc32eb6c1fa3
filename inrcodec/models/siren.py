"""SIREN: an MLP with sine activations (Sitzmann et al., NeurIPS 2020).

Layer i computes ``sin(omega_i * (W_i x + b_i))``; the last layer is linear. Initialisation follows
the paper: the first layer's weights are U(-1/in, 1/in) and later layers' U(-sqrt(6/in)/omega,
+sqrt(6/in)/omega), so that pre-activations stay distributed alike through depth. omega for the
first layer (``first_omega``, 30 for images, ~3000 for audio) sets the highest frequency the
network starts with; hidden layers use ``hidden_omega``.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from ..errors import FormatError
from .base import INR, SINE_WORK, DecodeCost, check_arch, mlp_cost, mlp_parameters

#: omegas are stored in the header in 1/16 units
OMEGA_UNITS = 16


class Siren(INR):
    name = "siren"
    family_id = 1

    def __init__(
        self,
        in_dim: int,
        out_dim: int,
        depth: int = 5,
        width: int = 32,
        first_omega: float = 30.0,
        hidden_omega: float = 30.0,
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__(in_dim, out_dim)
        if depth < 1 or width < 1:
            raise ValueError(f"SIREN needs depth >= 1 and width >= 1, got {depth}x{width}")
        self.depth, self.width = depth, width
        # Round omegas to what the header can hold, so that encoder and decoder agree exactly.
        self.first_omega = round(first_omega * OMEGA_UNITS) / OMEGA_UNITS
        self.hidden_omega = round(hidden_omega * OMEGA_UNITS) / OMEGA_UNITS
        dims = [in_dim] + [width] * depth
        self.hidden = nn.ModuleList(nn.Linear(a, b) for a, b in zip(dims[:-1], dims[1:]))
        self.out = nn.Linear(width, out_dim)
        self._init(generator)

    @torch.no_grad()
    def _init(self, g: torch.Generator | None) -> None:
        for i, layer in enumerate([*self.hidden, self.out]):
            fan_in = layer.in_features
            bound = 1.0 / fan_in if i == 0 else math.sqrt(6.0 / fan_in) / self.hidden_omega
            layer.weight.uniform_(-bound, bound, generator=g)
            b = 1.0 / math.sqrt(fan_in)
            layer.bias.uniform_(-b, b, generator=g)

    def forward(self, points: torch.Tensor) -> torch.Tensor:
        h = torch.sin(self.first_omega * self.hidden[0](points))
        for layer in self.hidden[1:]:
            h = torch.sin(self.hidden_omega * layer(h))
        return self.out(h)

    def arch(self) -> tuple[int, ...]:
        return (
            self.depth,
            self.width,
            round(self.first_omega * OMEGA_UNITS),
            round(self.hidden_omega * OMEGA_UNITS),
        )

    @classmethod
    def _parse(cls, arch: tuple[int, ...]) -> tuple[int, int, float, float]:
        check_arch(arch, 4, "SIREN")
        depth, width, w0, wh = arch
        if depth < 1 or width < 1 or w0 <= 0 or wh <= 0:
            raise FormatError(f"invalid SIREN architecture {arch}")
        return depth, width, w0 / OMEGA_UNITS, wh / OMEGA_UNITS

    @classmethod
    def from_arch(cls, arch, in_dim, out_dim) -> Siren:
        depth, width, w0, wh = cls._parse(arch)
        return cls(in_dim, out_dim, depth, width, w0, wh)

    @classmethod
    def count_parameters(cls, arch, in_dim, out_dim) -> int:
        depth, width, _, _ = cls._parse(arch)
        return mlp_parameters(in_dim, width, depth, out_dim)

    @classmethod
    def layer_count(cls, arch) -> int:
        return cls._parse(arch)[0] + 1

    @classmethod
    def decode_cost(cls, arch, in_dim, out_dim, shape) -> DecodeCost:
        depth, width, _, _ = cls._parse(arch)
        return mlp_cost(in_dim, width, depth, out_dim, math.prod(shape), extra=SINE_WORK * depth * width)
