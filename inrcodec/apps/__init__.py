"""The brief's applications of implicit neural representations, beyond compression.

Each one fits a coordinate network to the samples that are known and samples it where something
is wanted (:mod:`.common` has the shared machinery, docs/applications.md the measurements):

- :func:`upscale`: super-resolution, a denser grid of the function fitted to a small image;
- :func:`denoise`: a fit stopped, on held-out pixels, before it reaches the noise;
- :func:`inpaint`: missing pixels, from a fit to the known ones only;
- :func:`inpaint_audio`: dropouts in audio, from fits to the samples around each gap.

The plain functions take and return arrays; the ``run_*`` variants take :class:`FitOptions`
and a progress callback and return an :class:`AppResult` with the fit's statistics.
"""

from __future__ import annotations

from .common import AppResult, FitOptions
from .denoise import denoise, estimate_sigma, run_denoise
from .gaps import GapOptions, inpaint_audio, parse_gaps, run_inpaint_audio
from .inpaint import inpaint, missing_mask, run_inpaint
from .upscale import run_upscale, upscale

__all__ = [
    "AppResult",
    "FitOptions",
    "GapOptions",
    "denoise",
    "estimate_sigma",
    "inpaint",
    "inpaint_audio",
    "missing_mask",
    "parse_gaps",
    "run_denoise",
    "run_inpaint",
    "run_inpaint_audio",
    "run_upscale",
    "upscale",
]
