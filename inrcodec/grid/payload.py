"""The grid file's payload: which integers it stores, in which order, with which coder.

In this order: the context network (integers in Q(WEIGHT_BITS), Laplace-coded), the synthesis
MLP (per-tensor steps, Laplace-coded), and the latent pyramid (integers, coded with the context
model under the file's context scheme, :mod:`inrcodec.grid.coding`). docs/format.md has the
bytes.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from .. import quantize
from ..container import CODER_FAMILY, CODER_LAPLACE, Header, TensorCode
from ..entropy import StreamDecoder, StreamEncoder
from ..errors import FormatError
from ..tensors import laplace_code, read_laplace
from .coding import ContextScheme, LatentStream, latent_bound, scheme_of_file
from .context import WEIGHT_BITS, IntegerContext
from .model import GridImage

#: the context network is stored exactly as the integers the coder computes with
CONTEXT_STEP_EXP = -quantize.STEPS_PER_OCTAVE * WEIGHT_BITS
#: a synthesis tensor may lose at most this much PSNR to quantization, spread over the tensors
SYNTHESIS_LOSS_DB = 0.04


def _synthesis_steps(model: GridImage, render: Callable[[], float]) -> list[int]:
    """Per synthesis tensor, the coarsest step (in 1/8 octaves) that keeps PSNR within budget."""
    tensors = [p for _, p in model.synthesis_tensors()]
    originals = [p.detach().clone() for p in tensors]
    reference = render()
    allowed = SYNTHESIS_LOSS_DB / len(tensors)
    exps = []
    with torch.no_grad():
        for p, original in zip(tensors, originals):
            chosen = -quantize.STEPS_PER_OCTAVE * 16
            for e in range(-quantize.STEPS_PER_OCTAVE * 2, -quantize.STEPS_PER_OCTAVE * 16, -4):
                step = quantize.step_from_exp(e)
                p.copy_(torch.round(original / step) * step)
                if reference - render() <= allowed:
                    chosen = e
                    break
            step = quantize.step_from_exp(chosen)
            p.copy_(torch.round(original / step) * step)  # later tensors are judged with this one
            exps.append(chosen)
        for p, original in zip(tensors, originals):
            p.copy_(original)
    return exps


def encode_payload(model: GridImage, scheme: ContextScheme, psnr_of: Callable[[], float]
                   ) -> tuple[tuple[TensorCode, ...], bytes]:  # fmt: skip
    """Quantize and code a fitted model, its latents under ``scheme``; ``psnr_of()`` measures
    the current model's PSNR (the synthesis steps are chosen by it)."""
    encoder = StreamEncoder()
    codes = []
    context_symbols = []
    for _, p in model.context_tensors():
        q = quantize.quantize(p.detach().cpu().numpy(), CONTEXT_STEP_EXP)
        context_symbols.append(q)
        codes.append(laplace_code(encoder, q, CONTEXT_STEP_EXP))
    for (_, p), e in zip(model.synthesis_tensors(), _synthesis_steps(model, psnr_of)):
        codes.append(laplace_code(encoder, quantize.quantize(p.detach().cpu().numpy(), e), e))
    ctx = integer_context(model, context_symbols)
    levels = [np.round(z.detach().cpu().double().numpy()).astype(np.int64) for z in model.latents]
    ranges = scheme.encode(encoder, ctx, levels)
    codes += [TensorCode(0, lo, hi, CODER_FAMILY, scheme.id) for lo, hi in ranges]
    return tuple(codes), encoder.finish()


def integer_context(model: GridImage, symbols: list[np.ndarray]) -> IntegerContext:
    """The coder's context network: the context tensors' symbols, which are its Q(WEIGHT_BITS)
    integer weights (the production path of both encoder and decoder)."""
    w1, b1, w2, bias = symbols
    return IntegerContext(w1=w1, b1=b1, w2=w2, level_bias=bias, kernel=model.kernel)


def decode_payload(model: GridImage, header: Header, payload: bytes) -> None:
    """Fill an (untrained) model of the header's architecture from the payload."""
    decode_payloads([model], [header], [payload])


def decode_payloads(models: list[GridImage], headers: list[Header], payloads: list[bytes]) -> None:
    """:func:`decode_payload` of several grid streams (a tiled file's tiles), their latents
    decoded together (:func:`read_grid_symbols_many`)."""
    for model, header, (symbols, levels) in zip(models, headers, read_grid_symbols_many(models, headers, payloads)):
        weights = model.context_tensors() + model.synthesis_tensors()
        with torch.no_grad():
            for (_, p), q, code in zip(weights, symbols, header.tensors):
                p.copy_(torch.from_numpy(quantize.dequantize(q, code.step_exp)))
            for z, q in zip(model.latents, levels):
                z.copy_(torch.from_numpy(q.astype(np.float32)))


def read_grid_symbols(model: GridImage, header: Header, payload: bytes) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The entropy-decoded integers of a grid file: the weights' symbols (context network, then
    synthesis) and the latent levels (finest first). Bit-exact on every machine."""
    return read_grid_symbols_many([model], [header], [payload])[0]


def read_grid_symbols_many(models: list[GridImage], headers: list[Header], payloads: list[bytes]
                           ) -> list[tuple[list[np.ndarray], list[np.ndarray]]]:  # fmt: skip
    """:func:`read_grid_symbols` of several grid streams. Each stream's weights are read first;
    then the latents of the streams that share a context scheme, depth and kernel are decoded
    together (:meth:`ContextScheme.decode_many`: one vectorised step per wavefront of all of
    them), each stream still reading its own symbols in its own order."""
    opened = [_read_weights(m, h, p) for m, h, p in zip(models, headers, payloads)]
    levels: list[list[np.ndarray]] = [[] for _ in opened]
    groups: dict[tuple, list[int]] = {}
    for i, (_, scheme, stream) in enumerate(opened):
        groups.setdefault((scheme.id, len(stream.shapes), stream.ctx.kernel), []).append(i)
    for members in groups.values():
        scheme = opened[members[0]][1]
        for i, decoded in zip(members, scheme.decode_many([opened[i][2] for i in members])):
            opened[i][2].decoder.finish()
            levels[i] = decoded
    return [(symbols, z) for (symbols, _, _), z in zip(opened, levels)]


def _read_weights(model: GridImage, header: Header, payload: bytes
                  ) -> tuple[list[np.ndarray], ContextScheme, LatentStream]:  # fmt: skip
    """A grid stream's weight symbols, its context scheme, and its latents ready to decode."""
    n_ctx, n_syn = len(model.context_tensors()), len(model.synthesis_tensors())
    codes = header.tensors
    if len(codes) != n_ctx + n_syn + len(model.latents):
        raise FormatError(f"header lists {len(codes)} tensors, the grid model has "
                          f"{n_ctx + n_syn + len(model.latents)}")  # fmt: skip
    decoder = StreamDecoder(payload)
    weights = model.context_tensors() + model.synthesis_tensors()
    symbols = []
    for i, ((_, p), code) in enumerate(zip(weights, codes)):
        if code.coder != CODER_LAPLACE:
            raise FormatError(f"tensor {i}: the grid family codes weights with the Laplace coder")
        if i < n_ctx and code.step_exp != CONTEXT_STEP_EXP:
            raise FormatError(f"tensor {i}: context weights must use step 2^-{WEIGHT_BITS}")
        symbols.append(read_laplace(decoder, code, tuple(p.shape), i))
    latent_codes = codes[n_ctx + n_syn :]
    for code in latent_codes:
        if code.coder != CODER_FAMILY or code.step_exp != 0:
            raise FormatError("latent tensors must use the family coder with step 1")
    ctx = integer_context(model, symbols[:n_ctx])
    shapes = [tuple(z.shape) for z in model.latents]
    bound = latent_bound([(c.lo, c.hi) for c in codes[:n_ctx]], model.context_hidden, model.kernel)
    stream = LatentStream(decoder, ctx, shapes, [(c.lo, c.hi) for c in latent_codes], bound)
    return symbols, scheme_of(header), stream


def scheme_of(header: Header) -> ContextScheme:
    """The latent context scheme a grid file was coded with: the latent tensors' coder parameter,
    the same for every level; format 1.x knows only the checkerboard."""
    return scheme_of_file({code.param for code in header.tensors if code.coder == CODER_FAMILY}, header.version)
