"""Per-tensor coding of network weights: integer symbols under one Laplace table, or raw fp16.

Every family stores its weights this way (the grid adds its latents with a context model,
:mod:`inrcodec.grid.coding`). A tensor's :class:`~inrcodec.container.TensorCode` carries what
the decoder needs: the quantization step, the symbol range and the coder with its parameter.
"""

from __future__ import annotations

import numpy as np

from . import entropy, quantize
from .container import CODER_LAPLACE, CODER_RAW16, TensorCode
from .entropy import StreamDecoder, StreamEncoder
from .errors import FormatError, OptionError

#: raw fp16: every 16-bit pattern equally likely, so exactly 16 bits per value
RAW16_MODEL = entropy.SymbolModel(0, 65535, np.ones(65536, dtype=np.int64))


def laplace_code(encoder: StreamEncoder, q: np.ndarray, step_exp: int) -> TensorCode:
    """Add the integer symbols ``q`` (a tensor quantized at step 2^(step_exp/8)) under the
    Laplace table that fits them best; their header fields."""
    lo, hi = int(q.min()), int(q.max())
    try:
        entropy.check_table(lo, hi, entropy.MAX_SYMBOL)
    except FormatError:
        raise OptionError("quantization step too fine for the entropy coder; use fewer bits") from None
    s = entropy.best_scale_index(q)
    encoder.add(q, entropy.SymbolModel.laplace(s, lo, hi))
    return TensorCode(step_exp, lo, hi, CODER_LAPLACE, s)


def raw16_code(encoder: StreamEncoder, values: np.ndarray) -> TensorCode:
    """Add a tensor as its float16 bit patterns, 16 bits each."""
    encoder.add(quantize.to_fp16_symbols(values), RAW16_MODEL)
    return TensorCode(0, 0, 65535, CODER_RAW16, 0)


def read_laplace(decoder: StreamDecoder, code: TensorCode, shape: tuple[int, ...], index: int) -> np.ndarray:
    """The symbols of a Laplace-coded tensor (the ``index``-th, for messages)."""
    if abs(code.step_exp) > quantize.STEP_EXP_LIMIT:
        raise FormatError(f"tensor {index}: quantization step 2^({code.step_exp}/8) out of range")
    n = int(np.prod(shape))
    return decoder.read(n, entropy.SymbolModel.laplace(code.param, code.lo, code.hi)).reshape(shape)


def read_tensor_symbols(decoder: StreamDecoder, code: TensorCode, shape: tuple[int, ...], index: int) -> np.ndarray:
    """The symbols of a weight tensor coded either way."""
    if code.coder == CODER_RAW16:
        if (code.lo, code.hi) != (0, 65535):
            raise FormatError(f"tensor {index}: raw fp16 needs symbols 0..65535")
        return decoder.read(int(np.prod(shape)), RAW16_MODEL).reshape(shape)
    if code.coder == CODER_LAPLACE:
        return read_laplace(decoder, code, shape, index)
    raise FormatError(f"tensor {index}: coder {code.coder} is not valid for this model family")


def symbol_values(code: TensorCode, q: np.ndarray) -> np.ndarray:
    """The float values of a tensor's symbols (non-finite fp16 patterns read as 0)."""
    values = quantize.from_fp16_symbols(q) if code.coder == CODER_RAW16 else quantize.dequantize(q, code.step_exp)
    return np.nan_to_num(values, nan=0.0, posinf=0.0, neginf=0.0)
