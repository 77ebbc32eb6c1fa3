"""Rate control: from what the user asks (bpp, a file size, kbit/s) to a bit budget and a model.

For coordinate networks (SIREN, Fourier-feature MLP) the rate is set by the architecture and the
quantization step: the plan picks the parameter count the budget affords at about ``bits`` bits
per weight, and after fitting, :func:`match_steps` moves every tensor's step by a common number of
notches until the real entropy-coded size meets the target.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass

from . import container
from .errors import OptionError
from .models import INR, Siren

_SIZE_RE = re.compile(r"^\s*([0-9]*\.?[0-9]+)\s*([kKmM]?)(i?)([bB]?)\s*$")


def parse_size(text: str) -> int:
    """'20KB', '20k', '1.5MB', '4096' -> bytes (K = 1000, Ki = 1024)."""
    m = _SIZE_RE.match(str(text))
    if not m:
        raise OptionError(f"cannot read size '{text}' (examples: 20KB, 1.5MB, 4096)")
    number, prefix, binary, _ = m.groups()
    base = 1024 if binary else 1000
    mult = {"": 1, "k": base, "m": base * base}[prefix.lower()]
    value = int(round(float(number) * mult))
    if value < 1:
        raise OptionError(f"size must be at least 1 byte, got '{text}'")
    return value


@dataclass(frozen=True)
class RateTarget:
    """A target file size in bits, and how the user expressed it (stored in the header)."""

    bits: float
    kind: int = container.TARGET_NONE
    value: int = 0

    @property
    def bytes(self) -> float:
        return self.bits / 8


def image_target(pixels: int, bpp: float | None = None, size: str | int | None = None) -> RateTarget:
    if bpp is not None and size is not None:
        raise OptionError("give --bpp or --size, not both")
    if size is not None:
        n = parse_size(size) if isinstance(size, str) else int(size)
        if n < 1:
            raise OptionError(f"size must be at least 1 byte, got {size}")
        return RateTarget(8.0 * n, container.TARGET_BYTES, n)
    if bpp is None:
        raise OptionError("a rate target is needed (bpp or size)")
    if not (bpp > 0 and math.isfinite(bpp)) or bpp > 64:
        raise OptionError(f"bpp must be a number in (0, 64], got {bpp}")
    return RateTarget(bpp * pixels, container.TARGET_BPP, round(bpp * 10_000))


#: the highest audio rate accepted: 10 Mbit/s is above uncompressed 32-bit stereo at 96 kHz
MAX_KBPS = 10_000.0


def audio_target(seconds: float, kbps: float | None = None, size: str | int | None = None) -> RateTarget:
    """The bit budget of a clip of ``seconds``: kbit/s (stored x 1000) or a file size."""
    if kbps is not None and size is not None:
        raise OptionError("give --kbps or --size, not both")
    if size is not None:
        return image_target(1, size=size)  # a size means the same for every modality
    if kbps is None:
        raise OptionError("a rate target is needed (kbps or size)")
    if not (kbps > 0 and math.isfinite(kbps)) or kbps > MAX_KBPS:
        raise OptionError(f"kbps must be a number in (0, {MAX_KBPS:g}], got {kbps}")
    return RateTarget(kbps * 1000 * seconds, container.TARGET_KBPS, round(kbps * 1000))


# --- coordinate networks -----------------------------------------------------------------------

#: expected entropy-coded bits per weight at a step spreading a tensor over 2^bits levels
_CODING_GAIN_BITS = 0.4
#: header bytes a coordinate network needs beyond the tensors' own fields (measured: ~30)
_HEADER_BASE_BYTES = 40


def _depth_for(params: float) -> int:
    # Deeper networks for larger budgets, roughly as COIN's architectures grow (5x20 ... 13x49).
    for limit, depth in ((600, 3), (2500, 4), (8000, 5), (25000, 7)):
        if params < limit:
            return depth
    return 9


def _width_for(params: float, depth: int, in_dim: int, out_dim: int, extra_in: int) -> int:
    # Solve (depth-1) W^2 + (in + depth + out) W + out = params for W.
    a = depth - 1
    b = in_dim + extra_in + 1 + (depth - 1) + out_dim
    if a == 0:
        w = (params - out_dim) / b
    else:
        w = (-b + math.sqrt(b * b + 4 * a * max(0.0, params - out_dim))) / (2 * a)
    return max(2, int(round(w)))


def plan_point_model(
    family: type[INR],
    target: RateTarget,
    in_dim: int,
    out_dim: int,
    bits: float,
    depth: int | None = None,
    width: int | None = None,
    models: int = 1,
) -> tuple[int, int]:
    """(depth, width) of a coordinate network that fits the budget at ``bits`` per weight.

    With ``models`` > 1 the budget is shared by that many equal networks whose tensors are stored
    stacked (audio segments), so the header cost stays that of one.
    """
    n_tensors_guess = 2 * ((depth or 6) + 1)
    overhead = 8 * (_HEADER_BASE_BYTES + container.FRAMING_BYTES + 6 * n_tensors_guess)
    coded_bits = max(bits - _CODING_GAIN_BITS, 1.0)
    params = max(8.0, (target.bits - overhead) / coded_bits / models)
    extra_in = 0 if family is Siren else in_dim * 2 * 16  # Fourier features: 16 per axis, sin and cos
    depth = depth or _depth_for(params)
    width = width or _width_for(params, depth, in_dim, out_dim, extra_in)
    return depth, width


def match_steps(
    base_exps: list[int],
    size_for: Callable[[list[int]], int],
    target_bytes: float,
    search: int = 48,
) -> tuple[list[int], int]:
    """Shift all step exponents by one common offset so the size lands nearest ``target_bytes``.

    ``size_for(exps)`` returns the file size in bytes; it shrinks as exponents grow. Among the
    offsets it finds the one closest to the target in log size, preferring a file within 10 % of it.
    Returns the exponents and their size.
    """

    def sized(offset: int) -> tuple[int, list[int]]:
        exps = [e + offset for e in base_exps]
        return size_for(exps), exps

    lo, hi = -search, search
    # Bisection on the monotone size(offset) curve for the last offset still above the target.
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if sized(mid)[0] > target_bytes:
            lo = mid
        else:
            hi = mid
    candidates = [sized(lo), sized(hi)]
    best = min(candidates, key=lambda c: abs(math.log(max(c[0], 1) / target_bytes)))
    return best[1], best[0]
