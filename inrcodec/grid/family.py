"""The latent grid as a codec family: its hooks for :mod:`inrcodec.codec` (see :class:`~inrcodec.family.Family`)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import torch

from .. import entropy
from ..container import CODER_FAMILY, CODER_LAPLACE, Header, TensorCode
from ..errors import FormatError
from ..family import Family, ImageFit, ImageJob, smallest_file
from ..fit import Budget
from ..models.base import INR, DecodeCost
from ..rate import RateTarget
from .coding import CHECKERBOARD, SCHEME_BY_ID
from .model import GridImage, level_sizes
from .payload import CONTEXT_STEP_EXP, decode_payload, encode_payload, read_grid_symbols, scheme_of
from .recipe import EFFORT_STEPS, GridConfig, bpp_for_lmbda, build_model, scheme_for
from .training import fit

#: what the lower bound on a file (:func:`_min_bytes`) counts per weight, in bits: well under
#: the least measured. The context network's hidden weights start uniform in +-0.41 and are stored
#: in Q10 (9.9 bits or more each, measured); synthesis weight matrices, at the coarsest step the
#: encoder picks (1/4), took 1.5 bits or more; biases and everything else may code to nothing.
_CONTEXT_HIDDEN_BITS = 4.0
_SYNTHESIS_WEIGHT_BITS = 0.5


def fit_grid_image(job: ImageJob) -> ImageFit:
    """Fit the grid rate-aware to the image (steered to the target, or at a fixed lambda), then
    quantize and code it."""
    opts = job.options
    config = GridConfig().with_overrides(opts.grid)
    task, steps = fit(
        job.image.pixels, job.target, opts.lmbda, job.budget, config, seed=opts.seed, device=job.device,
        progress=job.progress, checkpoint=job.checkpoint,
    )  # fmt: skip
    codes, payload = encode_payload(task.model, task.scheme, task.evaluate)
    return ImageFit(task.model, codes, payload, steps)


def grid_budget(opts) -> Budget:
    """Steps for ``opts.effort`` (the same file on any machine), unless steps or a time are given."""
    if opts.steps is not None or opts.time is not None:
        return Budget(steps=opts.steps, seconds=opts.time, target_psnr=opts.psnr)
    return Budget(steps=EFFORT_STEPS[opts.effort], target_psnr=opts.psnr)


def _read_symbols(model: INR, header: Header, payload: bytes) -> list[np.ndarray]:
    weights, levels = read_grid_symbols(model, header, payload)
    return weights + levels


def _check_header(header: Header) -> None:
    if tuple(header.arch[:2]) != (header.signal.height, header.signal.width):
        raise FormatError("grid size in the architecture does not match the image size")


def _decode_cost(header: Header, in_dim: int, out_dim: int, shape: tuple[int, ...]) -> DecodeCost:
    """Decoding the latents (the file's context scheme), then rendering them onto ``shape``: one
    after the other, so the peak memory is the larger of the two phases'."""
    render = GridImage.decode_cost(header.arch, in_dim, out_dim, shape)
    work, memory = latent_decode_cost(header)
    return DecodeCost(render.work + work, max(render.memory, memory), render.point_floats)


def latent_decode_cost(header: Header) -> tuple[int, int]:
    """(work units, peak transient bytes) of entropy-decoding a grid header's latents."""
    a = GridImage._parse(header.arch)
    sizes = level_sizes(a["height"], a["width"], a["first_level"], len(a["channels"]))
    shapes = [(c, h, w) for c, (h, w) in zip(a["channels"], sizes)]
    # The payload's own checks (tensor count, ranges, scheme) come later; the cost assumes the
    # widest ranges a level may have where the header's are missing or malformed.
    widest = entropy.MAX_SHIFTED_SYMBOL
    ranges = [(max(t.lo, -widest), min(max(t.hi, t.lo), widest)) for t in header.tensors if t.coder == CODER_FAMILY]
    ranges = (ranges + [(-widest, widest)] * len(shapes))[: len(shapes)]
    scheme = SCHEME_BY_ID.get(next((t.param for t in header.tensors if t.coder == CODER_FAMILY), -1), CHECKERBOARD)
    return scheme.decode_cost(shapes, ranges, a["context_hidden"])


def _describe(header: Header) -> dict[str, Any]:
    a = GridImage._parse(header.arch)
    sizes = level_sizes(a["height"], a["width"], a["first_level"], len(a["channels"]))
    levels = [
        {"level": a["first_level"] + i, "height": h, "width": w, "channels": c}
        for i, ((h, w), c) in enumerate(zip(sizes, a["channels"]))
    ]
    return {
        "context_scheme": scheme_of(header).name,
        "context_hidden": a["context_hidden"],
        "latent_levels": levels,
        "synthesis_layers": [sum(a["channels"])] + [a["hidden"]] * a["depth"] + [header.signal.channels],
        "activation": a["activation"],
        "upsampling": a["kernel"],
    }


def _planned(
    image_shape: tuple[int, int, int], opts, target_bpp: float | None
) -> tuple[GridImage, tuple[TensorCode, ...]]:
    """The (untrained, ``meta``-device: nothing allocated) model the recipe builds for an image of
    ``image_shape`` and a target density (None: the low-rate pyramid), and its tensors' fields at
    their fewest bytes."""
    height, width, channels = image_shape
    target_bpp = 0.0 if target_bpp is None else target_bpp
    config = GridConfig().with_overrides(opts.grid).for_target(target_bpp)  # as inrcodec.grid.training.fit does
    with torch.device("meta"):
        model = build_model(config, height, width, channels, None)
    scheme = scheme_for(config, target_bpp)
    codes = (
        [TensorCode(CONTEXT_STEP_EXP, 0, 0, CODER_LAPLACE, 0)] * len(model.context_tensors())
        + [TensorCode(0, 0, 0, CODER_LAPLACE, 0)] * len(model.synthesis_tensors())
        + [TensorCode(0, 0, 0, CODER_FAMILY, scheme.id)] * len(model.latents)
    )
    return model, tuple(codes)


def _plan(
    image_shape: tuple[int, int, int], opts, target: RateTarget
) -> tuple[tuple[int, ...], tuple[TensorCode, ...]]:
    """What :func:`fit_grid_image` will build: the pyramid goes by the target's density (or the
    one a fixed lambda starts from), as in :func:`inrcodec.grid.training.fit`."""
    height, width, _ = image_shape
    config = GridConfig().with_overrides(opts.grid)
    target_bpp = bpp_for_lmbda(config, opts.lmbda) if opts.lmbda is not None else target.bits / (height * width)
    model, codes = _planned(image_shape, opts, target_bpp)
    return model.arch(), codes


def _min_bytes(image_shape: tuple[int, int, int], opts) -> int:
    """A lower bound on any grid file for an image of ``image_shape``: the framing and header of
    the model the recipe builds (its smallest, low-rate pyramid) with every tensor's fields at
    their fewest bytes, and the weights at the floors above; the latents at nothing."""
    model, codes = _planned(image_shape, opts, None)
    codes = tuple(replace(c, param=0) for c in codes)
    bits = _CONTEXT_HIDDEN_BITS * model.context.hidden.weight.numel()
    bits += _SYNTHESIS_WEIGHT_BITS * sum(p.numel() for name, p in model.synthesis_tensors() if name.endswith("weight"))
    return smallest_file(image_shape, model.family_id, model.arch(), codes, bits)


#: the encoder's working set (docs/reliability.md; measured on 256 x 256 to 1024 x 1024 images):
#: per pixel (the targets, the feature grid and the synthesis of the whole image at each
#: evaluation, a band's activations and gradients), per feature channel and hidden value of a
#: pixel, per latent and context unit (the rate term over every latent, with its gradients), and
#: the rest
_ENCODE_BYTES_PER_PIXEL = 220
_ENCODE_BYTES_PER_PIXEL_VALUE = 8
_ENCODE_BYTES_PER_LATENT = 48
_ENCODE_BYTES_PER_LATENT_UNIT = 12
_ENCODE_BASE_BYTES = 48 << 20


def _encode_memory(image_shape: tuple[int, int, int], opts, arch: tuple[int, ...]) -> int:
    height, width, channels = image_shape
    a = GridImage._parse(arch)
    sizes = level_sizes(height, width, a["first_level"], len(a["channels"]))
    latents = sum(c * h * w for c, (h, w) in zip(a["channels"], sizes))
    per_pixel = _ENCODE_BYTES_PER_PIXEL + _ENCODE_BYTES_PER_PIXEL_VALUE * (
        sum(a["channels"]) + a["hidden"] * a["depth"] + channels)  # fmt: skip
    per_latent = _ENCODE_BYTES_PER_LATENT + _ENCODE_BYTES_PER_LATENT_UNIT * a["context_hidden"]
    return _ENCODE_BASE_BYTES + height * width * per_pixel + latents * per_latent


GRID = Family(
    GridImage, grid_budget, _read_symbols, decode_payload, options=frozenset({"lmbda", "grid", "tile", "jobs"}),
    encode_image=fit_grid_image, check_header=_check_header, describe=_describe, min_bytes=_min_bytes,
    decode_cost=_decode_cost, plan=_plan, encode_memory=_encode_memory,
)  # fmt: skip
