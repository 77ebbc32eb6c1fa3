"""Audio gap filling: fit the known samples around each gap, sample the function inside it.

Each gap gets its own small 1-D SIREN, fitted to a local segment (``context`` seconds of known
audio on each side of the gap; other gaps inside the segment are left out too) and sampled at
the gap's sample times. The default SIREN has one hidden layer, so it *is* a sum of sinusoids,
``sum_i a_i sin(omega_0 (w_i t + b_i))``, with frequencies, phases and amplitudes fitted to the
notes on both sides: it continues them through the gap, where straight-line interpolation draws
a line between the two edge samples. (Deeper SIRENs fitted the context as well but swung wildly
inside the gaps; docs/applications.md.)

omega_0 is set from the highest frequency the fit should start with (``max_hz``): with the
segment's T seconds mapped onto [-1, 1], a first-layer weight w makes ``omega_0 w / (pi T)`` Hz,
and first-layer weights start in [-1, 1].

Gaps are given in seconds, as ``start-end`` pairs; sample i (at time i / rate) is missing when
``start <= i / rate < end``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import torch

from ..errors import InputError, OptionError
from ..fit import ProgressCallback, seeded_generator
from ..io.audio import from_array
from ..metrics import snr_db
from ..runtime import torch_threads
from .common import AppResult, FitOptions, build_network, device_of, fit_known_points, options_from, resolve


@dataclass(frozen=True)
class GapOptions:
    """Audio-only knobs: seconds of known audio each side of a gap, at least ``min_context`` and
    ``context_factor`` times the gap; the top starting frequency (sets omega_0 unless given)."""

    min_context: float = 0.05
    context_factor: float = 2.0
    max_hz: float = 4000.0

    def validated(self) -> GapOptions:
        for name in ("min_context", "context_factor", "max_hz"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not (v > 0 and math.isfinite(v)):
                raise OptionError(f"{name} must be a positive number, got {v!r}")
        return self


def parse_gaps(text: str) -> list[tuple[float, float]]:
    """``"1.2-1.3,4.0-4.05"`` -> [(1.2, 1.3), (4.0, 4.05)] (seconds); OptionError if malformed."""
    gaps = []
    for part in str(text).split(","):
        part = part.strip()
        if not part:
            continue
        start, sep, end = part.partition("-")
        try:
            if not sep:
                raise ValueError
            a, b = float(start), float(end)
        except ValueError:
            raise OptionError(f"malformed gap '{part}': write START-END in seconds, e.g. 1.2-1.3") from None
        gaps.append((a, b))
    if not gaps:
        raise OptionError("no gaps given: write START-END in seconds, e.g. 1.2-1.3,4.0-4.05")
    return gaps


def gap_ranges(gaps: list[tuple[float, float]], frames: int, rate: int) -> list[tuple[int, int]]:
    """The sample ranges [i0, i1) the gaps cover, sorted and merged where they overlap."""
    duration = frames / rate
    ranges = []
    for a, b in gaps:
        if not (math.isfinite(a) and math.isfinite(b)):
            raise OptionError(f"gap {a:g}-{b:g} is not a pair of finite times")
        if a < 0 or b > duration + 0.5 / rate:
            raise OptionError(f"gap {a:g}-{b:g} s lies outside the clip (0-{duration:.3f} s)")
        if b <= a:
            raise OptionError(f"gap {a:g}-{b:g} ends before it starts")
        i0, i1 = math.ceil(a * rate - 1e-9), min(frames, math.ceil(b * rate - 1e-9))
        if i1 <= i0:
            raise OptionError(f"gap {a:g}-{b:g} s holds no sample at {rate} Hz")
        ranges.append((i0, i1))
    ranges.sort()
    merged = [ranges[0]]
    for i0, i1 in ranges[1:]:
        if i0 <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], i1))
        else:
            merged.append((i0, i1))
    if sum(i1 - i0 for i0, i1 in merged) >= frames:
        raise OptionError("the gaps cover the whole clip: nothing is known to fit")
    return merged


def default_options() -> FitOptions:
    """The knobs chosen by measurement (docs/applications.md); omega is set per gap from max_hz."""
    # A step budget only: a time limit would make the learning-rate schedule depend on the
    # machine's speed, and the fit inside a gap amplifies such differences (measured: +-2 dB).
    return FitOptions(model="siren", depth=1, width=256, steps=600, holdout=0.0, eval_every=100)


def _snr_score(pred: torch.Tensor, values: torch.Tensor) -> float:
    return snr_db(values.detach().cpu().numpy(), pred.detach().cpu().numpy())


def _phase(progress: ProgressCallback | None, k: int, n: int) -> ProgressCallback | None:
    if progress is None:
        return None
    return lambda p: progress(replace(p, phase=f"gap {k}/{n}"))


def run_inpaint_audio(
    samples: np.ndarray,
    rate: int,
    gaps: list[tuple[float, float]] | str,
    *,
    options: FitOptions = FitOptions(),
    gap_options: GapOptions = GapOptions(),
    progress: ProgressCallback | None = None,
) -> AppResult:
    """Fill the gaps of a clip: (frames[, channels]) float in [-1, 1] (or int16/int32 PCM).

    Returns float32 samples of the input's shape; samples outside the gaps come back unchanged.
    ``score`` is the mean over gaps of the fit's SNR on its known samples (dB).
    """
    clip = from_array(samples, rate)
    flat = np.asarray(samples).ndim == 1
    ranges = gap_ranges(parse_gaps(gaps) if isinstance(gaps, str) else list(gaps), clip.frames, clip.rate)
    gap_options = gap_options.validated()
    if options.model == "grid":
        raise OptionError("the grid model is for images; fill audio gaps with siren or fourier")
    base = resolve(options, default_options())
    # omega_0 follows each gap's segment length unless the user fixed it
    base = replace(base, omega=options.omega)
    device = device_of(base)
    missing = np.zeros(clip.frames, dtype=bool)
    for i0, i1 in ranges:
        missing[i0:i1] = True
    out = clip.samples.copy()
    steps, seconds, scores, reasons = 0, 0.0, [], set()
    with torch_threads(base.threads):
        for k, (i0, i1) in enumerate(ranges, 1):
            fit = _fill_one(clip.samples, missing, clip.rate, i0, i1, base, gap_options, device,
                            _phase(progress, k, len(ranges)), out)  # fmt: skip
            steps, seconds = steps + fit.steps, seconds + fit.seconds
            scores.append(fit.psnr)
            reasons.add(fit.stop_reason)
    settings = {"gaps": [[a / clip.rate, b / clip.rate] for a, b in ranges], **base.settings(),
                "max_hz": gap_options.max_hz, "context": gap_options.min_context}  # fmt: skip
    result = out[:, 0] if flat else out
    return AppResult(result, steps, seconds, ",".join(sorted(reasons)), float(np.mean(scores)), settings, clip.notices)


def _fill_one(samples, missing, rate, i0, i1, base, gap_opts, device, progress, out):
    """Fit the segment around gap [i0, i1) and write the gap's samples into ``out``."""
    frames = len(samples)
    ctx = max(int(round(gap_opts.min_context * rate)), int(round(gap_opts.context_factor * (i1 - i0))))
    s0, s1 = max(0, i0 - ctx), min(frames, i1 + ctx)
    span = s1 - s0
    # Segment-local coordinates: sample centres of [s0, s1) spread over [-1, 1].
    t = torch.from_numpy(((2.0 * np.arange(span) + 1.0) / span - 1.0).astype(np.float32))[:, None].to(device)
    omega = base.omega if base.omega is not None else math.pi * (span / rate) * gap_opts.max_hz
    opts = replace(base, omega=omega)
    g = seeded_generator(opts.seed + i0)
    model = build_network(opts, 1, samples.shape[1], g).to(device)
    known = torch.from_numpy(~missing[s0:s1]).to(device)
    values = torch.from_numpy(samples[s0:s1]).to(device)
    if int(known.sum()) < 4:
        raise InputError(f"gap at {i0 / rate:.3f} s has no known audio around it to fit")
    fit = fit_known_points(model, t[known], values[known], _snr_score, opts, g, phase="gap", progress=progress)
    model.eval()
    with torch.no_grad():
        pred = model(t[i0 - s0 : i1 - s0]).clamp(-1, 1).cpu().numpy()
    out[i0:i1] = pred
    return fit


def inpaint_audio(
    samples: np.ndarray,
    rate: int,
    gaps: list[tuple[float, float]] | str,
    *,
    progress: ProgressCallback | None = None,
    **options,
) -> np.ndarray:
    """Fill gaps (``[(start_s, end_s), ...]`` or ``"1.2-1.3,4.0-4.05"``) in float samples.

    ``options`` are :class:`~inrcodec.apps.common.FitOptions` fields, plus ``max_hz``,
    ``min_context`` and ``context_factor`` (:class:`GapOptions`).
    """
    gap_keys = {"max_hz", "min_context", "context_factor"}
    gap_opts = GapOptions(**{k: v for k, v in options.items() if k in gap_keys})
    fit_opts = options_from({k: v for k, v in options.items() if k not in gap_keys})
    return run_inpaint_audio(samples, rate, gaps, options=fit_opts, gap_options=gap_opts, progress=progress).output
