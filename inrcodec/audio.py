"""Audio orchestration: clip -> segments model -> fit -> quantize -> entropy -> container, and back.

The encoder cuts the time axis into segments of about :data:`DEFAULT_SEGMENT_SECONDS`, each with
its own small 1-D SIREN (:class:`~inrcodec.models.segments.Segments`), fits them all at once on
random mini-batches of samples, and then goes through the same quantization, QAT and entropy
coding as images (:func:`inrcodec.codec.fit_and_pack`). The decoder samples the continuous
function at any rate; see :class:`AudioDecoding` for what happens to frequencies the original
rate could not hold.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, fields, replace

import numpy as np
import torch

from . import container, coords
from .codec import open_checkpoint
from .container import CODER_LAPLACE, CODER_RAW16, AudioFields, Header, TensorCode
from .decoder import build_model_from, check_decode
from .errors import FormatError, InputError, LimitError, OptionError
from .fit import Budget, ProgressCallback, seeded_generator
from .grid import audio as grid_audio
from .grid.lapped import AudioGrid
from .io.audio import Audio, check_rate, from_array, read_audio
from .limits import DEFAULT_LIMITS, STEP_WORK, Limits, read_inr
from .metrics import audio_psnr, log_spectral_distance, psnr_from_mse, segmental_snr_db, snr_db
from .models import INR, FourierMLP, Segments, Siren
from .models.base import DecodeCost
from .models.segments import OVERLAP_UNITS
from .options import EFFORTS, OMEGA_RANGE, check_values, flag
from .point_codec import Quantization, fit_and_pack
from .rate import RateTarget, audio_target, plan_point_model
from .runtime import resolve_device, torch_threads
from .tasks import EVAL_CHUNK, PointFitTask

#: the rate used when neither kbps nor size is given
DEFAULT_KBPS = 24.0
#: seconds of audio per segment core (measured on bach.wav; docs/audio.md)
DEFAULT_SEGMENT_SECONDS = 0.05
#: cross-fade zone at each join, as a share of a core
DEFAULT_OVERLAP = 0.125
#: first-layer omega_0 per sample of a segment's span: with segment-local coordinates the
#: frequency a given omega_0 reaches scales with the samples the span holds. The SIREN paper's
#: 3000 for bach.wav's 308 207 samples is 0.0097 per sample; 1.5x that measured best here
#: (docs/audio.md)
OMEGA_PER_SAMPLE = 0.0145
#: a segment covers at least this many samples, so that tiny clips get one segment
MIN_SEGMENT_FRAMES = 256
#: ``--effort`` presets as fitting steps for a clip of up to :data:`EFFORT_CLIP_SECONDS`; longer
#: clips get proportionally more (each step sees one batch, wherever in the clip it falls). Steps,
#: not seconds, so that an effort gives the same file on any machine under any load. "default"
#: keeps a whole encode of bach.wav (7 s, 44.1 kHz) within 30 CPU-seconds on one thread at
#: 64 kbit/s, the largest network of the benchmark's rates (docs/audio.md)
EFFORT_STEPS = {"fast": 600, "default": 2000, "high": 6000, "max": 20000}
#: the clip length the presets are for
EFFORT_CLIP_SECONDS = 7.5


@dataclass(frozen=True)
class AudioEncodeOptions:
    """Everything that steers an audio encode. ``None`` means: choose automatically."""

    kbps: float | None = None
    size: str | int | None = None
    model: str = "grid"  # the audio latent grid, or the family of each segment (siren, fourier)
    effort: str = "default"  # a preset step count (effort_steps); steps or time, when given, replace it
    steps: int | None = None
    time: float | None = None  # seconds of fitting instead of steps (depends on the machine's speed)
    psnr: float | None = None  # stop early at this audio PSNR (dB, peak-to-peak 2)
    seed: int = 0
    device: str = "cpu"
    threads: int = 1
    quant: str = "int"
    bits: float = 10.0
    depth: int | None = None
    width: int | None = None
    omega: float | None = None  # first-layer omega_0 in segment-local coordinates
    hidden_omega: float = 30.0
    segment: float | None = None  # seconds per segment
    overlap: float = DEFAULT_OVERLAP
    lr: float = 3e-3
    batch: int = 1 << 13
    qat: float = 0.15
    compile: bool = False
    checkpoint: str | os.PathLike | None = None  # resume file: an interrupted encode continues
    checkpoint_every: float = 10.0  # seconds between checkpoint saves

    def validated(self) -> AudioEncodeOptions:
        check_values(self)
        if self.effort not in EFFORTS:
            raise OptionError(f"effort must be one of {', '.join(EFFORTS)}, got '{self.effort}'")
        if self.model == AudioGrid.name:
            given = [
                flag(f.name) for f in fields(self) if f.name in SEGMENT_OPTIONS and getattr(self, f.name) != f.default
            ]
            if given:
                raise OptionError(f"{', '.join(given)} {'does' if len(given) == 1 else 'do'} not apply to the "
                                  "audio grid model (they are for --model siren or fourier)")  # fmt: skip
            if self.device != "cpu":
                raise OptionError("the audio grid model encodes on the CPU only (--device cpu)")
        else:
            segment_family(self.model)
        return self


#: the options only the segments models use: refused with the grid
SEGMENT_OPTIONS = frozenset({"time", "psnr", "quant", "bits", "depth", "width", "omega", "hidden_omega",
                             "segment", "overlap", "lr", "batch", "qat", "compile", "checkpoint"})  # fmt: skip


@dataclass
class AudioEncodeResult:
    """An encoded audio file, what it cost, and how close its decoding is to the input."""

    data: bytes
    kbps: float  # the file's real rate: 8 * bytes / duration
    snr: float  # dB, decoded at the original rate
    psnr: float  # dB, peak-to-peak 2
    steps: int
    seconds: float
    segments: int
    notices: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class AudioPlan:
    """The segments model an encode builds."""

    count: int
    overlap: float
    depth: int
    width: int
    omega: float


def effort_steps(effort: str, duration: float) -> int:
    """Fitting steps for an ``--effort`` preset and a clip of ``duration`` seconds:
    :data:`EFFORT_STEPS`, scaled up linearly for clips over :data:`EFFORT_CLIP_SECONDS`."""
    steps = EFFORT_STEPS[effort]
    return max(steps, round(steps * duration / EFFORT_CLIP_SECONDS))


def audio_budget(opts: AudioEncodeOptions, duration: float) -> Budget:
    """``steps`` or ``time`` when given (both: whichever ends first), else the effort's steps."""
    if opts.steps is not None or opts.time is not None:
        return Budget(steps=opts.steps, seconds=opts.time, target_psnr=opts.psnr)
    return Budget(steps=effort_steps(opts.effort, duration), target_psnr=opts.psnr)


#: the coordinate networks a segment can be
SEGMENT_FAMILIES: dict[str, type[INR]] = {Siren.name: Siren, FourierMLP.name: FourierMLP}


#: the ``--model`` names audio takes: the latent grid, or the network of each segment
AUDIO_MODELS = (AudioGrid.name, *SEGMENT_FAMILIES)


def segment_family(name: str) -> type[INR]:
    """The network class of each segment, by ``--model`` name."""
    try:
        return SEGMENT_FAMILIES[name]
    except KeyError:
        raise OptionError(f"unknown audio model '{name}' (choose from {', '.join(AUDIO_MODELS)})") from None


def plan_audio(audio: Audio, target: RateTarget, opts: AudioEncodeOptions) -> AudioPlan:
    """Segment count, per-segment network shape and omega_0 for a clip and a bit budget."""
    inner = segment_family(opts.model)
    bits = 16.0 if opts.quant == "fp16" else opts.bits
    seconds = opts.segment or DEFAULT_SEGMENT_SECONDS
    count = max(1, min(round(audio.duration / seconds), audio.frames // MIN_SEGMENT_FRAMES))
    depth, width = plan_point_model(inner, target, 1, audio.channels, bits, opts.depth, opts.width, models=count)
    span = audio.frames / count * (1.0 + opts.overlap)
    # at least the smallest omega the header holds (1/16): a clip of a few samples would get 0
    omega = opts.omega or max(OMEGA_PER_SAMPLE * span, OMEGA_RANGE[0])
    return AudioPlan(count, opts.overlap, depth, width, omega)


#: the audio encoder's working set (docs/reliability.md): per sample and channel (the samples,
#: their decoding after the fit), per sample (coordinates), per value of a training batch's
#: activations (forward and backward, two segments per sample in a cross-fade), per parameter
#: (optimiser state, the segments a batch gathers, float64 copies), and the rest
_ENCODE_BYTES_PER_VALUE = 24
_ENCODE_BYTES_PER_SAMPLE = 16
_ENCODE_BYTES_PER_ACTIVATION = 32
_ENCODE_BYTES_PER_PARAMETER = 112
_ENCODE_BASE_BYTES = 64 << 20


def check_audio_encode(audio: Audio, plan: AudioPlan, opts: AudioEncodeOptions, target: RateTarget,
                       limits: Limits) -> None:  # fmt: skip
    """Refuse, before fitting, an audio encode whose planned segments model its own decoder would
    refuse (layers, parameters, work, memory, or numbers the format cannot hold), or whose
    working set would pass ``limits.max_encode_memory``."""
    inner = segment_family(opts.model)
    kwargs = {"first_omega": plan.omega, "hidden_omega": opts.hidden_omega} if inner is Siren else {}
    inner_arch = (plan.depth, plan.width, *inner(1, audio.channels, depth=1, width=1, **kwargs).arch()[2:])
    arch = (plan.count, round(plan.overlap * OVERLAP_UNITS), inner.family_id, *inner_arch)
    code = TensorCode(0, 0, 65535, CODER_RAW16, 0) if opts.quant == "fp16" else TensorCode(0, 0, 0, CODER_LAPLACE, 0)
    header = _audio_header(audio, Segments.family_id, arch, target, (code,) * (2 * (plan.depth + 1)))
    params = Segments.count_parameters(arch, 1, audio.channels)
    batch = min(opts.batch, audio.frames)
    need = (_ENCODE_BASE_BYTES + audio.frames * (_ENCODE_BYTES_PER_SAMPLE + _ENCODE_BYTES_PER_VALUE * audio.channels)
            + _ENCODE_BYTES_PER_ACTIVATION * 2 * batch * (plan.width * plan.depth + audio.channels)
            + _ENCODE_BYTES_PER_PARAMETER * params)  # fmt: skip
    what = f"the segments model this encode plans ({plan.count} x {plan.depth} x {plan.width})"
    refuse_before_fitting(audio, header, what, need, limits)


def refuse_before_fitting(audio: Audio, header: Header, what: str, need: int, limits: Limits) -> None:
    """Refuse an audio encode whose planned file (``header``, its tensors at their smallest) its
    own decoder would refuse or the format cannot hold, or whose working set ``need`` (bytes)
    would pass ``limits.max_encode_memory``; ``what`` names the planned model."""
    try:
        _audio_decode_plan(header, None, limits)
        container.unpack(container.pack(header, b""))
    except (FormatError, LimitError) as e:  # (the flag is decode's: encode's --max-memory is its own)
        raise type(e)(f"{what} could not be decoded: {str(e).replace(' / --', ' / decode --')}") from None
    except ValueError as e:
        raise OptionError(f"{what} cannot be written: {e}") from None
    if need > limits.max_encode_memory:
        raise LimitError(
            f"encoding this clip ({audio.frames} frames x {audio.channels} channels) needs about "
            f"{need >> 20} MiB, over the limit of {limits.max_encode_memory >> 20} MiB "
            "(max_encode_memory / --max-memory)"
        )


def build_segments(plan: AudioPlan, opts: AudioEncodeOptions, channels: int, seed: int) -> Segments:
    """The untrained segments model of a plan."""
    inner = segment_family(opts.model)
    kwargs = {"first_omega": plan.omega, "hidden_omega": opts.hidden_omega} if inner is Siren else {}
    return Segments.build(
        inner, plan.count, plan.overlap, channels, generator=seeded_generator(seed),
        depth=plan.depth, width=plan.width, **kwargs,
    )  # fmt: skip


#: samples the fit scores itself on (a fixed random subset for longer clips)
EVAL_POINTS = 1 << 18


def _psnr_on_values(pred: torch.Tensor, values: torch.Tensor) -> float:
    return psnr_from_mse(torch.mean((pred.clamp(-1, 1) - values) ** 2).item(), peak=2.0)


class _AudioFitTask(PointFitTask):
    """:class:`PointFitTask` scoring on at most :data:`EVAL_POINTS` samples.

    Scoring every sample of a minutes-long clip every 100 steps would cost more than the steps
    themselves; a fixed random subset ranks the fit's states just as well.
    """

    def __init__(self, model, points, values, score, **kwargs) -> None:
        n = len(points)
        if n > EVAL_POINTS:
            g = torch.Generator().manual_seed(0)
            idx = torch.sort(torch.randperm(n, generator=g)[:EVAL_POINTS]).values.to(points.device)
        else:
            idx = torch.arange(n, device=points.device)
        self._eval_points, self._eval_values = points[idx], values[idx]
        super().__init__(model, points, values, lambda pred: score(pred, self._eval_values), **kwargs)

    @torch.no_grad()
    def predict_all(self) -> torch.Tensor:
        return torch.cat([self.predict(c) for c in torch.split(self._eval_points, EVAL_CHUNK)])


def _audio_header(audio: Audio, family_id: int, arch: tuple[int, ...], target: RateTarget,
                  codes: tuple[TensorCode, ...]) -> Header:  # fmt: skip
    """The header of an audio file of model family ``family_id`` (its version follows the family
    when packed)."""
    return Header(
        signal=AudioFields(audio.frames, audio.rate, audio.channels, audio.subtype, audio.format),
        family=family_id,
        arch=arch,
        tensors=codes,
        coords=coords.CONVENTION_PIXEL_CENTRES,
        target_kind=target.kind,
        target_value=target.value,
    )


def _as_audio(source: Audio | np.ndarray | str | os.PathLike, rate: int | None, limits: Limits) -> Audio:
    if isinstance(source, Audio):
        return source
    if isinstance(source, np.ndarray):
        if rate is None:
            raise InputError("encoding a sample array needs its sample rate")
        return from_array(source, rate, limits.max_input_pixels)
    return read_audio(source, limits.max_input_pixels)


def _encode_segments(audio: Audio, target: RateTarget, opts: AudioEncodeOptions, progress: ProgressCallback | None,
                     limits: Limits) -> tuple[bytes, int, int, list[str]]:  # fmt: skip
    """The segments models' encode: (file, steps, segments, notices)."""
    plan = plan_audio(audio, target, opts)
    check_audio_encode(audio, plan, opts, target, limits)
    budget = audio_budget(opts, audio.duration)
    device = resolve_device(opts.device)
    checkpoint = open_checkpoint(opts, audio.samples, audio.rate)
    with torch_threads(opts.threads):
        model = build_segments(plan, opts, audio.channels, opts.seed).to(device)
        points = torch.from_numpy(coords.audio_axis(audio.frames, audio.rate, audio.rate).astype(np.float32))
        values = torch.from_numpy(audio.samples).to(device)

        task = _AudioFitTask(
            model, points[:, None].to(device), values, _psnr_on_values, lr=opts.lr,
            batch_size=opts.batch, generator=seeded_generator(opts.seed), compile=opts.compile,
        )  # fmt: skip
        data, steps = fit_and_pack(
            task, budget, target, lambda codes: _audio_header(audio, model.family_id, model.arch(), target, codes),
            Quantization.of(opts), progress=progress, checkpoint=checkpoint,
        )  # fmt: skip
    notices: list[str] = []
    if checkpoint:
        notices += checkpoint.notices
        checkpoint.remove()
    return data, steps, plan.count, notices


def _encode_grid(audio: Audio, target: RateTarget, opts: AudioEncodeOptions, progress: ProgressCallback | None,
                 limits: Limits) -> tuple[bytes, int, int, list[str]]:  # fmt: skip
    """The audio grid's encode (:mod:`inrcodec.grid.audio`): (file, steps, 0 segments, notices)."""

    def header(arch: tuple[int, ...], codes: tuple[TensorCode, ...]) -> Header:
        return _audio_header(audio, AudioGrid.family_id, arch, target, codes)

    arch = grid_audio.planned_arch(audio.samples, audio.rate)
    what = f"the audio grid this encode plans ({audio.channels} x {arch[1]} samples, hop {arch[0]})"
    need = grid_audio.encode_memory(arch, audio.channels)
    refuse_before_fitting(audio, header(arch, grid_audio.planned_codes(audio.channels)), what, need, limits)
    steps = opts.steps if opts.steps is not None else grid_audio.EFFORT_STEPS[opts.effort]
    with torch_threads(opts.threads):
        fit = grid_audio.fit_clip(
            audio.samples, audio.rate, target.bytes,
            lambda arch, codes, payload: len(container.pack(header(arch, codes), payload)),
            steps, seed=opts.seed, progress=progress,
        )  # fmt: skip
    return container.pack(header(fit.arch, fit.codes), fit.payload), fit.steps, 0, []


#: each audio ``--model``'s encode
_ENCODERS = {AudioGrid.name: _encode_grid, **{name: _encode_segments for name in SEGMENT_FAMILIES}}


def encode_audio_clip(
    clip: Audio | np.ndarray | str | os.PathLike,
    options: AudioEncodeOptions = AudioEncodeOptions(),
    progress: ProgressCallback | None = None,
    limits: Limits = DEFAULT_LIMITS,
    rate: int | None = None,
) -> AudioEncodeResult:
    """Fit, quantize and pack an audio clip (an :class:`Audio`, a path, or samples and ``rate``)."""
    opts = options.validated()
    audio = _as_audio(clip, rate, limits)
    if opts.kbps is None and opts.size is None:
        opts = replace(opts, kbps=DEFAULT_KBPS)
    target = audio_target(audio.duration, opts.kbps, opts.size)
    start = time.perf_counter()
    data, steps, count, more = _ENCODERS[opts.model](audio, target, opts, progress, limits)
    seconds = time.perf_counter() - start
    decoded, _ = decode_audio(data, threads=opts.threads, limits=limits)
    notices = list(audio.notices) + more
    if abs(len(data) / target.bytes - 1) > 0.10:
        notices.append(
            f"file is {len(data)} bytes against a target of {target.bytes:.0f} "
            f"({'the smallest this model can be' if len(data) > target.bytes else 'the largest useful'})"
        )
    return AudioEncodeResult(
        data, 8 * len(data) / audio.duration / 1000, snr_db(audio.samples, decoded),
        audio_psnr(audio.samples, decoded), steps, seconds, count, notices,
    )  # fmt: skip


# --- decoding ----------------------------------------------------------------------------------

#: low-pass design: pass up to 90 % of the lower Nyquist frequency, stop at 100 %, 80 dB down
_PASS, _ATTEN_DB, _MAX_TAPS = 0.9, 80.0, (1 << 16) - 1


def lowpass_kernel(cutoff: float, transition: float) -> np.ndarray:
    """A Kaiser-windowed-sinc low-pass (odd length, unit DC gain); both in cycles per sample.

    The tap count follows Kaiser's formula for :data:`_ATTEN_DB` of stop-band attenuation,
    capped at :data:`_MAX_TAPS` (extreme rate ratios then get a wider transition band).
    """
    beta = 0.1102 * (_ATTEN_DB - 8.7)
    taps = math.ceil((_ATTEN_DB - 8.0) / (2.285 * 2.0 * math.pi * transition)) + 1
    taps = min(taps, _MAX_TAPS) | 1
    n = np.arange(taps) - (taps - 1) / 2
    h = 2.0 * cutoff * np.sinc(2.0 * cutoff * n) * np.kaiser(taps, beta)
    return h / h.sum()


def _filter_valid(x: np.ndarray, h: np.ndarray) -> np.ndarray:
    """'valid' convolution of each column of ``x`` with ``h``, through the FFT."""
    n, taps = len(x), len(h)
    size = 1 << (n + taps - 2).bit_length()
    spectrum = np.fft.rfft(x, size, axis=0) * np.fft.rfft(h, size)[:, None]
    return np.fft.irfft(spectrum, size, axis=0)[taps - 1 : n]


def oversampling(stored_rate: int, rate: int) -> int:
    """The odd factor ``k``: decoding at ``rate`` samples the network at ``k * rate``, at least
    the stored rate, so that the low-pass can remove what ``rate`` cannot hold (1 when upsampling)."""
    if rate >= stored_rate:
        return 1
    k = math.ceil(stored_rate / rate)
    return k if k % 2 else k + 1


def resampling_kernel(stored_rate: int, rate: int) -> np.ndarray:
    """The low-pass applied at ``oversampling(...) * rate`` when decoding at another rate."""
    fine_rate = oversampling(stored_rate, rate) * rate
    nyquist = min(stored_rate, rate) / 2
    return lowpass_kernel((1 + _PASS) / 2 * nyquist / fine_rate, (1 - _PASS) * nyquist / fine_rate)


#: decode work units per value of an FFT, times the log2 of its length (numpy's pocketfft)
FFT_WORK = 8


def _decode_load(fields: AudioFields, rate: int) -> tuple[int, int, int]:
    """(samples the network evaluates, bytes one block holds, work units besides the network)
    when decoding at ``rate``, as :meth:`AudioDecoding.blocks` goes: for the resource limits,
    before anything is allocated."""
    n_out = coords.resampled_length(fields.frames, fields.rate, rate)
    if rate == fields.rate:
        # float64 samples, the float32 block
        return n_out, EVAL_CHUNK * fields.channels * 12, math.ceil(n_out / EVAL_CHUNK) * STEP_WORK
    k = oversampling(fields.rate, rate)
    taps = len(resampling_kernel(fields.rate, rate))
    per_block = max(1, EVAL_CHUNK // k)
    block = per_block * k + taps
    blocks = math.ceil(n_out / per_block)
    # per block: the fine samples' and the kernel's spectra (padded to a power of two), their
    # product and its inverse, over every channel; the kernel's design once
    size = 1 << (block - 1).bit_length()
    fft = 4 * size * max(1, size.bit_length()) * (fields.channels + 1) * FFT_WORK
    work = blocks * (fft + STEP_WORK) + taps * 100
    # fine samples in float64, their spectrum (complex128, padded to a power of two), the result
    return n_out * k + blocks * taps, size * (fields.channels + 1) * 64, work


@dataclass
class AudioDecoding:
    """An audio .inr opened for decoding at ``rate``; :meth:`blocks` yields the samples.

    - At the original rate the model is sampled exactly at the training sample times.
    - At a higher rate it is sampled at the new times, then low-passed at the original Nyquist
      frequency: the network can put energy above it that the original could not hold.
    - At a lower rate it is sampled at an odd multiple ``k`` of the new rate (at least the
      original rate), low-passed at the new Nyquist frequency, and every ``k``-th sample kept,
      so nothing aliases; the kept samples fall exactly on the new sample times.

    The low-pass is a Kaiser-windowed sinc (:func:`lowpass_kernel`); beyond the clip's ends the
    signal counts as silence. Blocks are bounded in size, so memory does not grow with the clip.
    """

    fields: AudioFields
    rate: int
    model: INR
    device: torch.device
    chunk: int = EVAL_CHUNK  # samples per network call (fewer for wide networks)

    @property
    def frames(self) -> int:
        return coords.resampled_length(self.fields.frames, self.fields.rate, self.rate)

    @property
    def channels(self) -> int:
        return self.fields.channels

    def _sample(self, t: np.ndarray) -> np.ndarray:
        """The model at coordinates ``t``, silence outside [-1, 1]; (len(t), channels) float64."""
        out = np.zeros((len(t), self.channels))
        inside = np.flatnonzero(np.abs(t) <= 1.0)
        with torch.no_grad():
            for chunk in np.array_split(inside, max(1, math.ceil(len(inside) / self.chunk))):
                if len(chunk):
                    pts = torch.from_numpy(t[chunk, None].astype(self.model.coordinate_dtype)).to(self.device)
                    # a hostile file's network may give NaN or inf: make them silence or full scale
                    out[chunk] = np.nan_to_num(self.model(pts).cpu().numpy(), nan=0.0, posinf=1.0, neginf=-1.0)
        return out

    def blocks(self) -> Iterator[np.ndarray]:
        """The decoded samples, float32 (n, channels) in [-1, 1], a block at a time."""
        s, n_out = self.fields, self.frames
        if self.rate == s.rate:
            for a in range(0, n_out, EVAL_CHUNK):
                t = coords.audio_axis(s.frames, s.rate, s.rate, a, min(n_out, a + EVAL_CHUNK))
                yield np.clip(self._sample(t), -1, 1).astype(np.float32)
            return
        k = oversampling(s.rate, self.rate)
        h = resampling_kernel(s.rate, self.rate)
        half = len(h) // 2
        per_block = max(1, EVAL_CHUNK // k)
        for j0 in range(0, n_out, per_block):
            j1 = min(n_out, j0 + per_block)
            # Output sample j sits on fine sample j*k + (k-1)/2; add the filter's reach each side.
            lo = j0 * k + (k - 1) // 2 - half
            hi = (j1 - 1) * k + (k - 1) // 2 + half + 1
            fine = self._sample(coords.audio_axis(s.frames, s.rate, k * self.rate, lo, hi))
            yield np.clip(_filter_valid(fine, h)[::k], -1, 1).astype(np.float32)


def open_audio(
    source: bytes | str | os.PathLike,
    rate: int | None = None,
    *,
    device: str = "cpu",
    limits: Limits = DEFAULT_LIMITS,
) -> AudioDecoding:
    """Read and check an audio .inr and rebuild its model, ready to decode at ``rate`` Hz."""
    header, payload = container.unpack(read_inr(source, limits))
    out_rate, cost = _audio_decode_plan(header, rate, limits)
    s = header.signal
    dev = resolve_device(device)
    model = build_model_from(header, payload, 1, s.channels)
    return AudioDecoding(s, out_rate, model.to(dev), dev, min(EVAL_CHUNK, cost.band_points()))


def audio_decode_cost(source: bytes | str | os.PathLike, rate: int | None = None, *,
                      limits: Limits = DEFAULT_LIMITS) -> DecodeCost:  # fmt: skip
    """What :func:`decode_audio` at ``rate`` would cost (work units, estimated peak bytes), from
    the header alone; the same refusals."""
    header, _ = container.unpack(read_inr(source, limits))
    return _audio_decode_plan(header, rate, limits)[1]


def _audio_decode_plan(header: Header, rate: int | None, limits: Limits) -> tuple[int, DecodeCost]:
    if not isinstance(header.signal, AudioFields):
        raise InputError("this .inr file holds an image, not audio (use decode)")
    s = header.signal
    out_rate = s.rate if rate is None else check_rate(rate, "output rate (--rate)", OptionError)
    decoding_frames = coords.resampled_length(s.frames, s.rate, out_rate)
    limits.check(f"decoding at {out_rate} Hz: samples ({decoding_frames} x {s.channels})",
                 decoding_frames * s.channels, "max_output_pixels")  # fmt: skip
    evaluated, block_bytes, resampling = _decode_load(s, out_rate)
    # the float32 blocks, and decode_audio's concatenation of them
    output_bytes = 2 * decoding_frames * s.channels * 4 + block_bytes
    return out_rate, check_decode(header, 1, s.channels, (evaluated,), limits, output_bytes, resampling)


def decode_audio(
    source: bytes | str | os.PathLike,
    rate: int | None = None,
    *,
    device: str = "cpu",
    threads: int | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> tuple[np.ndarray, int]:
    """Decode an audio .inr to (samples float32 (frames, channels) in [-1, 1], rate)."""
    with torch_threads(threads):
        decoding = open_audio(source, rate, device=device, limits=limits)
        samples = np.concatenate(list(decoding.blocks()), axis=0)
    return samples, decoding.rate


def encode_audio(
    samples: np.ndarray | str | os.PathLike,
    rate: int | None = None,
    *,
    kbps: float | None = None,
    size: str | int | None = None,
    progress: ProgressCallback | None = None,
    limits: Limits = DEFAULT_LIMITS,
    **options,
) -> bytes:
    """Encode audio into the bytes of an .inr file.

    ``samples``: float (frames,) or (frames, channels) in [-1, 1] (or int16/int32 PCM) with its
    ``rate``, or a path to any file libsndfile reads. ``options`` are the fields of
    :class:`AudioEncodeOptions` (effort, steps, time, seed, segment, omega ...).
    """
    unknown = set(options) - set(AudioEncodeOptions.__dataclass_fields__)
    if unknown:
        raise OptionError(f"unknown audio encode option(s): {', '.join(sorted(unknown))}")
    opts = AudioEncodeOptions(kbps=kbps, size=size, **options)
    return encode_audio_clip(samples, opts, progress=progress, limits=limits, rate=rate).data


def quality(reference: np.ndarray, decoded: np.ndarray) -> dict[str, float]:
    """SNR, segmental SNR, PSNR and log-spectral distance of a decoding (all from metrics)."""
    return {
        "snr": snr_db(reference, decoded),
        "segsnr": segmental_snr_db(reference, decoded),
        "psnr": audio_psnr(reference, decoded),
        "lsd": log_spectral_distance(reference, decoded),
    }
