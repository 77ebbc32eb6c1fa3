"""Float parameters <-> integer symbols.

Each coded tensor is quantized uniformly with its own step, ``step = 2^(e/8)`` for an integer
``e`` stored in the header: eight steps per octave are fine enough for rate control (one notch
changes a tensor's size by about 1/8 bit per value) and the step needs no float in the file.

The ``fp16`` mode instead stores IEEE half-precision bit patterns, as COIN does; it is kept as a
reference point and for users who want it.
"""

from __future__ import annotations

import math

import numpy as np

STEPS_PER_OCTAVE = 8
#: steps outside 2^(+-STEP_EXP_LIMIT/8) are refused: no sane tensor needs them
STEP_EXP_LIMIT = 8 * 40


def step_from_exp(step_exp: int) -> float:
    return 2.0 ** (step_exp / STEPS_PER_OCTAVE)


def exp_for_bits(values: np.ndarray, bits: float) -> int:
    """The step exponent that spreads ``values`` over about 2^bits levels (rounded to a notch)."""
    peak = float(np.max(np.abs(values))) if np.size(values) else 0.0
    if peak <= 0 or not math.isfinite(peak):
        return 0
    step = 2.0 * peak / (2.0**bits - 1.0)
    return int(math.floor(STEPS_PER_OCTAVE * math.log2(step)))


def quantize(values: np.ndarray, step_exp: int) -> np.ndarray:
    """Round ``values / step`` to the nearest integer (int64)."""
    return np.round(np.asarray(values, dtype=np.float64) / step_from_exp(step_exp)).astype(np.int64)


def dequantize(symbols: np.ndarray, step_exp: int) -> np.ndarray:
    return (np.asarray(symbols, dtype=np.float64) * step_from_exp(step_exp)).astype(np.float32)


def to_fp16_symbols(values: np.ndarray) -> np.ndarray:
    """IEEE float16 bit patterns of ``values``, as int64 symbols in 0..65535."""
    return np.asarray(values, dtype=np.float16).view(np.uint16).astype(np.int64)


def from_fp16_symbols(symbols: np.ndarray) -> np.ndarray:
    return np.asarray(symbols, dtype=np.uint16).view(np.float16).astype(np.float32)


def fake_quantize(tensor, step: float):
    """Straight-through rounding for quantization-aware training (torch)."""
    q = tensor / step
    return (q + (q.round() - q).detach()) * step
