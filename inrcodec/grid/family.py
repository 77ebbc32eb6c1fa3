"""The latent grid as a codec family: its hooks for :mod:`inrcodec.codec` (see :class:`~inrcodec.family.Family`)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..container import Header
from ..errors import FormatError
from ..family import Family, ImageFit, ImageJob
from ..fit import Budget
from ..models.base import INR
from .model import GridImage
from .payload import decode_payload, encode_payload, read_grid_symbols, scheme_of
from .recipe import EFFORT_STEPS, GridConfig
from .training import fit


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


def _describe(header: Header) -> dict[str, Any]:
    return {"context_scheme": scheme_of(header).name}


GRID = Family(
    GridImage, grid_budget, _read_symbols, decode_payload, options=frozenset({"lmbda", "grid"}),
    encode_image=fit_grid_image, check_header=_check_header, describe=_describe,
)  # fmt: skip
