"""The coordinate-network model families (the latent grid has its own package, :mod:`inrcodec.grid`).

Each is an :class:`INR`: coordinates in [-1, 1]^in_dim to values, an architecture of integers
that the header stores, and coded tensors. The codec finds families through
:mod:`inrcodec.families`.
"""

from __future__ import annotations

from .base import INR
from .fourier import FourierMLP
from .segments import Segments
from .siren import Siren

__all__ = ["INR", "FourierMLP", "Segments", "Siren"]
