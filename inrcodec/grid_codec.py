"""Encoding and decoding images with the latent-grid family.

The file stores, in this order: the context network (integers in Q10, Laplace-coded), the synthesis
MLP (per-tensor steps, Laplace-coded), and the latent pyramid (integers, coded with the context
model by :mod:`inrcodec.latent_coding`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from . import entropy, quantize
from .container import CODER_FAMILY, CODER_LAPLACE, Header, TensorCode
from .entropy import StreamDecoder, StreamEncoder
from .errors import FormatError
from .fit import Budget, Checkpoint, ProgressCallback, Schedule, run
from .latent_coding import (
    SCHEME_BY_ID,
    SCHEMES,
    WEIGHT_BITS,
    IntegerContext,
    decode_levels,
    encode_levels,
)
from .models.grid import GridImage
from .tasks import GridFitTask

#: the context network is stored exactly as the integers the coder computes with
CONTEXT_STEP_EXP = -quantize.STEPS_PER_OCTAVE * WEIGHT_BITS
#: a synthesis tensor may lose at most this much PSNR to quantization, spread over the tensors
SYNTHESIS_LOSS_DB = 0.04


@dataclass(frozen=True)
class GridConfig:
    """Architecture and training recipe of the latent-grid family."""

    levels: int = 7
    # No full-resolution grid: level 1 carries two channels instead. Measured on kodim15 at equal
    # steps, -35 % rate at 0.2 bpp against -24 % for seven one-channel levels from level 0, and
    # less than half the latents to code and to train (docs/grid.md).
    first_level: int = 1
    channels: tuple[int, ...] = (2, 1, 1, 1, 1, 1)
    hidden: int = 16
    depth: int = 2
    activation: str = "relu"
    kernel: str = "bicubic"
    context_hidden: int = 8
    # "wavefront" (raster-causal: each latent sees its left, up and diagonal neighbours),
    # "checkerboard" (format 1.x), or "auto": the wavefront, except for rate targets below
    # ``wavefront_min_bpp``, where its sharp predictions left the rate unsteerable and the finest
    # level collapsed, and the checkerboard measured better (docs/grid.md).
    context_scheme: str = "auto"
    wavefront_min_bpp: float = 0.2
    lr_latents: float = 0.05
    lr_synthesis: float = 5e-3
    lr_context: float = 2e-2  # the entropy model must follow the latents quickly, or the rate lags
    half_share: float = 0.0  # share of the fit at half resolution (superseded by bands)
    ste_share: float = 0.15
    bf16: bool = True
    # Rate term: "split" weighs the noisy latents' bits under an entropy model that learns the
    # rounded latents (what the coder sees); "noise" lets that model learn the noisy ones too,
    # which put the rate it reports far from the file's and sent lambda astray (docs/grid.md).
    rate_proxy: str = "split"
    # Once rounded, the latents move at this share of their learning rate: the synthesis adapts
    # to the integers while the rate, steered to the target under noise, stays near it.
    ste_latent_lr: float = 0.1
    bands: int = 4  # full-resolution steps fit one of this many bands of rows, in turn
    # Rate control: lambda is held for the first ``feedback_start`` of the fit (while the entropy
    # model learns the latents' scales, the rate says little), then steered by this gain per step,
    # on the error plus ``damping`` steps of its trend (lowered ``feedback_down`` times as fast).
    feedback: float = 0.01
    feedback_start: float = 0.1
    feedback_down: float = 1.0
    damping: float = 100.0
    decay_start: float = 0.5  # learning rates hold until this share of the fit, then decay (cosine)


def scheme_for(config: GridConfig, target_bpp: float | None, lam: float | None) -> str:
    """The context scheme a fit uses: the config's, with "auto" resolved by the rate target."""
    if config.context_scheme != "auto":
        return config.context_scheme
    low = lam is None and target_bpp is not None and target_bpp < config.wavefront_min_bpp
    return "checkerboard" if low else "wavefront"


def initial_lambda(bpp: float) -> float:
    """A starting lambda for a target bpp; feedback during the fit corrects it per image."""
    return 0.0021 * (0.3 / bpp) ** 1.6


def overhead_bits(model: GridImage) -> float:
    """Bits a file spends besides the latents: the header and tensor table (about 110 bytes) and
    the weights, measured at some 10 bits per context weight and 6 per synthesis weight."""
    context = sum(p.numel() for _, p in model.context_tensors())
    synthesis = sum(p.numel() for _, p in model.synthesis_tensors())
    return 8 * 110 + 10 * context + 6 * synthesis


def fit_grid(
    pixels: np.ndarray,
    target_bpp: float | None,
    lam: float | None,
    budget: Budget,
    config: GridConfig = GridConfig(),
    seed: int = 0,
    device: torch.device = torch.device("cpu"),
    progress: ProgressCallback | None = None,
    checkpoint: Checkpoint | None = None,
) -> tuple[GridImage, GridFitTask, int]:
    """Fit a latent-grid model to (H, W, C) integer pixels; returns it, its task, and the steps.
    With a ``checkpoint`` the fit saves its state there and resumes from it."""
    h, w, c = pixels.shape
    g = torch.Generator().manual_seed(seed)
    # Small images get fewer levels: the coarsest has one or two cells a side.
    levels = min(config.levels, max(1, math.ceil(math.log2(max(h, w))) + 1))
    first = min(config.first_level, levels - 1)
    channels = (tuple(config.channels) + (1,) * levels)[: levels - first]
    model = GridImage(
        h, w, c, levels=levels, first_level=first, channels=channels, hidden=config.hidden,
        depth=config.depth, activation=config.activation, kernel=config.kernel,
        context_hidden=config.context_hidden, context_scheme=scheme_for(config, target_bpp, lam), generator=g,
    ).to(device)  # fmt: skip
    peak = 65535 if pixels.dtype == np.uint16 else 255
    target = torch.from_numpy(pixels.astype(np.float32) / peak).permute(2, 0, 1).contiguous().to(device)
    task = GridFitTask(
        model, target, peak,
        lam=lam if lam is not None else initial_lambda(target_bpp),
        target_bpp=None if lam is not None else target_bpp,
        overhead_bits=overhead_bits(model),
        lr_latents=config.lr_latents, lr_synthesis=config.lr_synthesis, lr_context=config.lr_context,
        half_share=config.half_share, ste_share=config.ste_share, bf16=config.bf16, rate_proxy=config.rate_proxy,
        ste_latent_lr=config.ste_latent_lr,
        bands=config.bands, feedback=config.feedback,
        feedback_start=config.feedback_start, feedback_down=config.feedback_down, damping=config.damping,
        generator=g,
    )  # fmt: skip
    result = run(
        task, budget, schedule=Schedule(warmup=0.0, decay_start=config.decay_start, final=0.0),
        eval_every=100, progress=progress, keep_best=False, checkpoint=checkpoint,
    )  # fmt: skip
    return model, task, result.steps


# --- payload ---------------------------------------------------------------------------------------


def _laplace_code(encoder: StreamEncoder, q: np.ndarray, step_exp: int) -> TensorCode:
    lo, hi = int(q.min()), int(q.max())
    s = entropy.best_scale_index(q)
    encoder.add(q, entropy.SymbolModel.laplace(s, lo, hi))
    return TensorCode(step_exp, lo, hi, CODER_LAPLACE, s)


def _synthesis_steps(model: GridImage, render) -> list[int]:
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


def encode_payload(model: GridImage, psnr_of) -> tuple[tuple[TensorCode, ...], bytes]:
    """Quantize and code a fitted model; ``psnr_of()`` measures the current model's PSNR."""
    encoder = StreamEncoder()
    codes = []
    context_symbols = []
    for _, p in model.context_tensors():
        q = quantize.quantize(p.detach().cpu().numpy(), CONTEXT_STEP_EXP)
        context_symbols.append(q)
        codes.append(_laplace_code(encoder, q, CONTEXT_STEP_EXP))
    for (_, p), e in zip(model.synthesis_tensors(), _synthesis_steps(model, psnr_of)):
        codes.append(_laplace_code(encoder, quantize.quantize(p.detach().cpu().numpy(), e), e))
    ctx = _integer_context(model, context_symbols)
    levels = [np.round(z.detach().cpu().double().numpy()).astype(np.int64) for z in model.latents]
    ranges = encode_levels(encoder, ctx, levels, model.context_scheme)
    scheme = SCHEMES[model.context_scheme]
    codes += [TensorCode(0, lo, hi, CODER_FAMILY, scheme) for lo, hi in ranges]
    return tuple(codes), encoder.finish()


def _integer_context(model: GridImage, symbols: list[np.ndarray]) -> IntegerContext:
    w1, b1, w2, bias = symbols
    return IntegerContext(w1=w1, b1=b1, w2=w2, level_bias=bias, kernel=model.kernel)


def decode_payload(model: GridImage, header: Header, payload: bytes) -> None:
    """Fill an (untrained) model of the header's architecture from the payload."""
    symbols, levels = decode_symbols(model, header, payload)
    weights = model.context_tensors() + model.synthesis_tensors()
    with torch.no_grad():
        for (_, p), q, code in zip(weights, symbols, header.tensors):
            p.copy_(torch.from_numpy(quantize.dequantize(q, code.step_exp)))
        for z, q in zip(model.latents, levels):
            z.copy_(torch.from_numpy(q.astype(np.float32)))


def decode_symbols(model: GridImage, header: Header, payload: bytes) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The entropy-decoded integers of a grid file: the weights' symbols (context network, then
    synthesis) and the latent levels (finest first). Bit-exact on every machine."""
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
        if abs(code.step_exp) > quantize.STEP_EXP_LIMIT:
            raise FormatError(f"tensor {i}: quantization step out of range")
        q = decoder.read(p.numel(), entropy.SymbolModel.laplace(code.param, code.lo, code.hi))
        symbols.append(q.reshape(tuple(p.shape)))
    latent_codes = codes[n_ctx + n_syn :]
    for code in latent_codes:
        if code.coder != CODER_FAMILY or code.step_exp != 0:
            raise FormatError("latent tensors must use the family coder with step 1")
    model.context_scheme = context_scheme(header)
    ctx = _integer_context(model, symbols[:n_ctx])
    shapes = [tuple(z.shape) for z in model.latents]
    levels = decode_levels(decoder, ctx, shapes, [(c.lo, c.hi) for c in latent_codes], model.context_scheme)
    decoder.finish()
    return symbols, levels


def context_scheme(header: Header) -> str:
    """The latent context scheme a grid file was coded with: the latent tensors' coder parameter,
    the same for every level; format 1.x knows only the checkerboard."""
    schemes = {code.param for code in header.tensors if code.coder == CODER_FAMILY}
    if not schemes:
        raise FormatError("grid file lists no latent tensors")
    if len(schemes) != 1:
        raise FormatError(f"latent levels disagree on their context scheme {sorted(schemes)}")
    (scheme,) = schemes
    if scheme not in SCHEME_BY_ID:
        raise FormatError(f"unknown latent context scheme {scheme}")
    if header.version[0] < 2 and scheme != SCHEMES["checkerboard"]:
        raise FormatError(f"latent context scheme {scheme} needs format 2.0 (file is {header.version[0]}.{header.version[1]})")
    return SCHEME_BY_ID[scheme]
