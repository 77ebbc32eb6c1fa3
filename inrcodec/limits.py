"""Resource limits: what a decode (or encode) may cost before it is refused, from the header alone."""

from __future__ import annotations

import os
from dataclasses import dataclass

from .errors import LimitError
from .io.files import check_input_file

# The cost model (docs/reliability.md) counts decoding time in *work units*: one unit is about the
# time of one float32 multiply-add in a matrix product on one core, some 10^10 a second. Each
# family counts its networks' multiply-adds and converts whatever else its decoder does into
# units by factors measured on the development machine (benchmarks/decode_cost.py); these are
# the ones every family shares.
#: one step of Python-level work: a wavefront of latents, a tile, an entropy-coder call (~40 us)
STEP_WORK = 400_000
#: per output sample: its coordinates, copies between bands, clamping and rounding
SAMPLE_WORK = 800
#: per entropy-decoded weight symbol: the coder, the dequantization, the copy into the model
SYMBOL_WORK = 100
#: per entry of an entropy table built (the integer counts, their normalisation, the coder's copy)
TABLE_WORK = 50


@dataclass(frozen=True)
class Limits:
    """Resource bounds the decoder (and encoder) enforce before allocating; all configurable.

    Every check runs on the header's numbers alone, so a file is refused before any large
    allocation or long computation. ``max_work`` bounds decode time in work units (about a
    multiply-add each, some 10^10 a second on one core). ``max_memory`` bounds the decoder's own
    estimate of its working set (parameters, family-specific buffers, one band, the output).
    ``max_encode_memory`` bounds the encoder's estimate of its working set, checked before fitting.
    """

    max_input_pixels: int = 200_000_000
    max_output_pixels: int = 1 << 27  # 134 M pixels: about 400 MB of RGB output
    max_parameters: int = 50_000_000
    max_layers: int = 256
    max_file_bytes: int = 1 << 30
    max_work: int = 1 << 42  # 4.4e12 work units: minutes on one core
    max_memory: int = 1 << 32  # 4 GiB
    max_encode_memory: int = 16 << 30  # 16 GiB: an encode fits a 24 GB machine

    def check_output(self, height: int, width: int) -> None:
        if height * width > self.max_output_pixels:
            raise LimitError(
                f"decoded size {width}x{height} = {height * width} pixels exceeds the limit of "
                f"{self.max_output_pixels} (max_output_pixels / --max-pixels)"
            )

    def check(self, what: str, value: int, name: str) -> None:
        """Refuse ``value`` over the limit called ``name`` (a field of this class)."""
        limit = getattr(self, name)
        if value > limit:
            flag = _LIMIT_FLAGS.get(name)
            raise LimitError(f"{what} {value} exceeds the limit of {limit} ({name}{f' / {flag}' if flag else ''})")


#: the command-line flag that sets each limit
_LIMIT_FLAGS = {"max_output_pixels": "--max-pixels", "max_parameters": "--max-params",
                "max_work": "--max-work", "max_memory": "--max-memory",
                "max_encode_memory": "--max-memory"}  # fmt: skip

DEFAULT_LIMITS = Limits()


def read_inr(source: bytes | str | os.PathLike, limits: Limits = DEFAULT_LIMITS) -> bytes:
    """The bytes of an .inr file given as bytes or a path, refusing oversized files unread."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source)
    path = check_input_file(source, ".inr file")
    size = path.stat().st_size
    if size > limits.max_file_bytes:
        raise LimitError(f"{path} is {size} bytes, over the limit of {limits.max_file_bytes}")
    return path.read_bytes()
