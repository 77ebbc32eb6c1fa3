"""The audio latent grid: context model, coding, fitting, rate control and its family hooks.

The model (:class:`~inrcodec.grid.lapped.AudioGrid`) is a grid of integer latents over (channel,
frame, frequency) under a lapped cosine synthesis; this module decides the latents and codes them.

**Context.** Each latent is a discretised Laplace of mean 0 whose scale the grid's integer context
network (:class:`~inrcodec.grid.context.IntegerContext`, the image grid's, in the same fixed point)
predicts from six inputs, all decoded before it (:data:`NEIGHBOURS`): the frequency index and five
latents of the previous two frames, each as ``log2(1 + |z|)`` in Q4 (:func:`magnitude_feature`:
exact integers, Mitchell's piecewise-linear logarithm). The scale of a spectral coefficient follows
the magnitudes around it over orders of magnitude, which a small ReLU network sees in the log
domain and not in the raw values; signs carry nothing, so the mean is 0. Latents of a frame
depend only on earlier frames, so a frame decodes in one vectorised step, its symbols grouped
by table. (Same-frame neighbours, the image wavefront's "left", saved 0.9 % of the bits of
bach.wav at 32 kbit/s and would take ``hop + 2 frames`` steps instead of ``frames``.)

**Fitting.** Distortion is measured on the grid, exact by the orthonormal synthesis. For a step
``delta``: the latents start rounded; the context network trains on them (Adam on random
batches of latents, the float twin :class:`~inrcodec.grid.context.ContextModel`); then each latent
is moved one level towards zero wherever that lowers ``D + lambda R`` (squared error in steps
plus :data:`RDO_LAMBDA` times its bits under the trained context), and the context trains again:
:data:`RDO_ROUNDS` times. ``lambda = ln 2 / 6`` is the slope of uniform quantisation's high-rate
curve (D = delta^2/12, dD/dR = -2 ln 2 D) in these units.

**Hop.** Each file takes one of two hops (:func:`candidate_hops`), the one whose coefficients,
simply rounded at the step whose context-free entropy meets the target, have the higher SNR.

**Rate control.** ``delta`` is found by secant steps on log(delta) against log(bytes of the real
file), from a start the context-free entropy of the rounded latents suggests; the file nearest
the target (within :data:`RATE_TOLERANCE`) is kept. Effort presets are numbers of context
training steps, so a file depends on its input and options only.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from .. import entropy, quantize
from ..container import CODER_FAMILY, CODER_LAPLACE, Header, TensorCode
from ..entropy import StreamDecoder, StreamEncoder, SymbolModel
from ..errors import FormatError
from ..family import Family
from ..fit import Progress, ProgressCallback
from ..limits import STEP_WORK, TABLE_WORK
from ..models.base import DecodeCost
from ..tensors import laplace_code, read_laplace
from .context import LOG2_SCALE_MAX, LOG2_SCALE_MIN, ContextModel, IntegerContext, laplace_bits
from .lapped import AudioGrid, analysis, default_hop, frame_count, to_coded
from .payload import CONTEXT_STEP_EXP

#: the context inputs besides the frequency: (frames back, frequency offset) of decoded latents
NEIGHBOURS = ((1, 0), (1, -1), (1, 1), (2, 0), (1, 2))
#: fractional bits of the context inputs
FEATURE_BITS = 4
#: hidden units of the context network
CONTEXT_HIDDEN = 16
#: the step delta is stored as an exponent in 1/64 octave (0.01 dB of SNR resolution)
STEP_UNITS_PER_OCTAVE = 64
#: the latents' coder parameter: the frame-causal context above (the only scheme so far)
SCHEME_FRAMES = 0
#: rate-distortion trade-off of the latents, in squared steps per bit: ln 2 / 6 (module docstring)
RDO_LAMBDA = math.log(2) / 6
#: context training: latents per batch and the learning rate
BATCH = 1 << 15
LEARNING_RATE = 1e-2
#: ``--effort`` presets: context training steps at the first step size tried (later ones, warm,
#: a quarter; not scaled with the clip's length: a step trains on one batch however many latents
#: there are), and the rounds of rate-distortion optimisation
EFFORT_STEPS = {"fast": 100, "default": 400, "high": 1500, "max": 4000}
RDO_ROUNDS = 2
#: bisection rounds of the context-free probe (a step within 2^-20 of an octave's range of 17)
PROBE_ROUNDS = 20
#: rate control stops within this relative error of the target, or after MAX_TRIALS files
RATE_TOLERANCE = 0.02
MAX_TRIALS = 8
#: latents processed at once by the whole-grid passes (their inputs and temporaries: a few MB)
_CHUNK_LATENTS = 1 << 16


def _chunk_frames(hop: int) -> int:
    """Frames per chunk of the whole-grid passes: about _CHUNK_LATENTS latents."""
    return max(1, _CHUNK_LATENTS // hop)


# --- the context inputs -------------------------------------------------------------------------


def magnitude_feature(values: np.ndarray) -> np.ndarray:
    """``log2(1 + |v|)`` in Q(FEATURE_BITS), exactly in integers: the exponent of ``1 + |v|`` and the
    next four bits of its mantissa (Mitchell's approximation), 0 for 0."""
    v = np.abs(np.asarray(values, dtype=np.int64)) + 1
    e = np.frexp(v.astype(np.float64))[1].astype(np.int64) - 1  # exact below 2^53
    frac = ((v << FEATURE_BITS) >> e) - (1 << FEATURE_BITS)
    return (e << FEATURE_BITS) + frac


def frame_inputs(z: np.ndarray, first: int, last: int) -> np.ndarray:
    """Context inputs (frames x hop, 6) in Q(FEATURE_BITS) for frames ``first .. last - 1`` of one
    channel's latents ``z`` (frames, hop): only earlier frames are read."""
    t, hop = z.shape
    back = max(b for b, _ in NEIGHBOURS)
    reach = max(abs(d) for _, d in NEIGHBOURS)
    # row i holds frame first - back + i (zeros before the clip), with zero columns either side
    padded = np.zeros((last - first + back, hop + 2 * reach), dtype=np.int64)
    lo, hi = max(0, first - back), min(last, t)
    padded[lo - (first - back) : hi - (first - back), reach : reach + hop] = z[lo:hi]
    feats = magnitude_feature(padded)
    cols = [np.broadcast_to(magnitude_feature(np.arange(hop)), (last - first, hop))]
    for b, d in NEIGHBOURS:
        cols.append(feats[back - b : back - b + last - first, reach + d : reach + d + hop])
    return np.stack(cols, axis=-1).reshape(-1, len(cols))


def _scales(ctx: IntegerContext, channel: int, inputs: np.ndarray) -> np.ndarray:
    """Scale indices (the coder's) of the latents whose inputs are ``inputs``."""
    return ctx.predict(channel, inputs, FEATURE_BITS)[1]


# --- coding ---------------------------------------------------------------------------------------


class _Tables:
    """A channel's Laplace tables by scale index over its latents' range, built once each."""

    def __init__(self, lo: int, hi: int) -> None:
        entropy.check_table(lo, hi, entropy.MAX_SYMBOL, "audio latent")
        self.lo, self.hi = lo, hi
        self._models: dict[int, SymbolModel] = {}

    def __getitem__(self, scale: int) -> SymbolModel:
        if scale not in self._models:
            self._models[scale] = SymbolModel.laplace(scale, self.lo, self.hi)
        return self._models[scale]


def _groups(scales: np.ndarray) -> list[np.ndarray]:
    """Positions of a frame's latents grouped by scale index, in ascending scale order."""
    order = np.argsort(scales, kind="stable")
    return np.split(order, np.flatnonzero(np.diff(scales[order])) + 1)


def encode_latents(encoder: StreamEncoder, ctx: IntegerContext, latents: np.ndarray) -> list[tuple[int, int]]:
    """Add every channel's latents (channels, frames, hop), frame by frame, each frame's grouped
    by table; returns each channel's (lowest, highest) latent, which its tables span."""
    ranges = []
    for c, z in enumerate(latents):
        tables = _Tables(int(z.min()), int(z.max()))
        ranges.append((tables.lo, tables.hi))
        step = _chunk_frames(z.shape[1])
        for a in range(0, len(z), step):
            b = min(len(z), a + step)
            scales = _scales(ctx, c, frame_inputs(z, a, b)).reshape(b - a, -1)
            for m in range(a, b):
                for g in _groups(scales[m - a]):
                    encoder.add(z[m, g], tables[int(scales[m - a, g[0]])])
    return ranges


def decode_latents(decoder: StreamDecoder, ctx: IntegerContext, shape: tuple[int, int, int],
                   ranges: list[tuple[int, int]]) -> np.ndarray:  # fmt: skip
    """Read back what :func:`encode_latents` added."""
    out = np.zeros(shape, dtype=np.int64)
    for c, (lo, hi) in enumerate(ranges):
        tables = _Tables(lo, hi)
        z = out[c]
        for m in range(shape[1]):
            scales = _scales(ctx, c, frame_inputs(z, m, m + 1))
            for g in _groups(scales):
                z[m, g] = decoder.read(len(g), tables[int(scales[g[0]])])
    return out


# --- fitting ----------------------------------------------------------------------------------------


def _inputs_int16(z: np.ndarray) -> np.ndarray:
    """Every latent's context inputs, (6, N) int16 (they stay below 2^9): the training set."""
    step = _chunk_frames(z.shape[1])
    parts = [frame_inputs(z, a, min(len(z), a + step)).T.astype(np.int16) for a in range(0, len(z), step)]
    return np.concatenate(parts, axis=1)


def _as_float(inputs: np.ndarray) -> torch.Tensor:
    """Context inputs in Q(FEATURE_BITS) as the float twin takes them, in units of one."""
    return torch.from_numpy(inputs.astype(np.float32) / (1 << FEATURE_BITS))


def _log2_scale(context: ContextModel, channel: int, x: torch.Tensor) -> torch.Tensor:
    """The float twin's log2 scale of the latents whose inputs are ``x`` (6, N)."""
    hidden = F.relu(torch.addmm(context.hidden.bias[:, None], context.hidden.weight, x))
    log2_scale = context.out.weight[1] @ hidden + context.level_bias[channel, 1]
    return log2_scale.clamp(LOG2_SCALE_MIN, LOG2_SCALE_MAX)


class _Fit:
    """One clip's context model being trained, with its optimiser and random batches."""

    def __init__(self, channels: int, hidden: int, seed: int) -> None:
        self.generator = torch.Generator().manual_seed(seed)
        self.context = ContextModel(channels, hidden)
        self.context.reset(self.generator)
        self.optimiser = torch.optim.Adam(self.context.parameters(), lr=LEARNING_RATE)

    def train(self, latents: np.ndarray, steps: int) -> None:
        """Adam steps on the mean bits of random batches of ``latents`` under the context."""
        if steps <= 0:
            return
        channels, frames, hop = latents.shape
        n = frames * hop
        inputs = [_inputs_int16(latents[c]) for c in range(channels)]
        targets = [latents[c].reshape(-1).astype(np.float32) for c in range(channels)]
        for _ in range(steps):
            loss = torch.zeros(())
            for c in range(channels):
                idx = torch.randint(n, (min(BATCH, n),), generator=self.generator).numpy()
                y = torch.from_numpy(targets[c][idx])
                s = _log2_scale(self.context, c, _as_float(inputs[c][:, idx]))
                loss = loss + laplace_bits(y, torch.zeros_like(y), s).mean()
            self.optimiser.zero_grad()
            loss.backward()
            self.optimiser.step()

    @torch.no_grad()
    def rdo(self, latents: np.ndarray, scaled: np.ndarray) -> np.ndarray:
        """Move latents one level towards zero where that lowers squared error (in steps) plus
        RDO_LAMBDA times their bits, under the current context (neighbours as they are)."""
        out = latents.copy()

        def bits(values: np.ndarray, log2_scale: torch.Tensor) -> np.ndarray:
            y = torch.from_numpy(values.reshape(-1).astype(np.float32))
            return laplace_bits(y, torch.zeros_like(y), log2_scale).numpy().reshape(values.shape)

        for c in range(len(latents)):
            z = latents[c]
            step = _chunk_frames(z.shape[1])
            for a in range(0, len(z), step):
                b = min(len(z), a + step)
                # both candidates share their context: the neighbours stay as they are
                log2_scale = _log2_scale(self.context, c, _as_float(frame_inputs(z, a, b).T))
                now, target = z[a:b], scaled[c, a:b]
                moved = now - np.sign(now)
                keep = (now - target) ** 2 + RDO_LAMBDA * bits(now, log2_scale)
                cost = (moved - target) ** 2 + RDO_LAMBDA * bits(moved, log2_scale)
                out[c, a:b] = np.where(cost < keep, moved, now)
        return out

    def integer_context(self) -> tuple[IntegerContext, list[np.ndarray]]:
        """The coder's context (the trained weights in Q(WEIGHT_BITS)) and its tensors' symbols."""
        symbols = [quantize.quantize(p.detach().cpu().numpy(), CONTEXT_STEP_EXP) for _, p in self.context.tensors()]
        return integer_context(symbols), symbols


def integer_context(symbols: list[np.ndarray]) -> IntegerContext:
    """The coder's context network from its four tensors' symbols (the Q(WEIGHT_BITS) weights);
    the audio grid has no parent levels, so no upsampling kernel."""
    w1, b1, w2, bias = symbols
    return IntegerContext(w1=w1, b1=b1, w2=w2, level_bias=bias, kernel="none")


def step_of(exponent: int) -> float:
    """The step delta of a stored exponent (in 1/STEP_UNITS_PER_OCTAVE octave)."""
    return 2.0 ** (exponent / STEP_UNITS_PER_OCTAVE)


def _entropy_bits(scaled: np.ndarray, step_ratio: float) -> float:
    """Bits of the latents rounded at ``step_ratio`` times the current step, coded with one
    empirical table per octave band of frequencies and no context: the start of the search."""
    q = np.rint(scaled / step_ratio).astype(np.int64)
    hop = q.shape[-1]
    bands = np.clip(np.floor(np.log2(np.arange(hop) + 1)).astype(int), 0, None)
    total = 0.0
    for band in np.unique(bands):
        v = q[..., bands == band].reshape(-1)
        _, counts = np.unique(v, return_counts=True)
        p = counts / counts.sum()
        total -= float((counts * np.log2(p)).sum())
    return total


@dataclass(frozen=True)
class AudioGridFit:
    """A coded clip: the model's architecture, the tensors' fields and the payload."""

    arch: tuple[int, ...]
    codes: tuple[TensorCode, ...]
    payload: bytes
    steps: int


def code(context: IntegerContext, symbols: list[np.ndarray], latents: np.ndarray,
         exponent: int) -> tuple[tuple[TensorCode, ...], bytes]:  # fmt: skip
    """The tensors' fields and payload: the context network, then the latents."""
    encoder = StreamEncoder()
    codes = [laplace_code(encoder, q, CONTEXT_STEP_EXP) for q in symbols]
    ranges = encode_latents(encoder, context, latents)
    codes += [TensorCode(exponent, lo, hi, CODER_FAMILY, SCHEME_FRAMES) for lo, hi in ranges]
    return tuple(codes), encoder.finish()


def candidate_hops(rate: int) -> tuple[int, ...]:
    """The hops an encode chooses from: the rate's default (23 ms) and twice it (46 ms)."""
    return (default_hop(rate), 2 * default_hop(rate))


def _probe(coded: np.ndarray, hop: int, target_bytes: float) -> tuple[int, np.ndarray, int, float]:
    """(hop, coefficients, step exponent, SNR in dB) of the step whose context-free entropy
    (:func:`_entropy_bits`) meets the target, with plain rounding: what an encode starts from, and
    how it compares hops before fitting anything."""
    coefficients = np.stack([analysis(coded[:, c], hop) for c in range(coded.shape[1])])
    peak = float(np.abs(coefficients).max()) or 1.0
    lo, hi = math.log2(peak) - 16, math.log2(peak) + 1
    for _ in range(PROBE_ROUNDS):
        mid = (lo + hi) / 2
        if _entropy_bits(coefficients, 2.0**mid) / 8 > target_bytes:
            lo = mid
        else:
            hi = mid
    step = 2.0**hi
    error = float(((np.rint(coefficients / step) * step - coefficients) ** 2).sum())
    snr = 10 * math.log10(max(float((coefficients**2).sum()), 1e-300) / max(error, 1e-300))
    return hop, coefficients, round(hi * STEP_UNITS_PER_OCTAVE), snr


def fit_clip(samples: np.ndarray, rate: int, target_bytes: float, file_bytes: Callable[[tuple, tuple, bytes], int],
             steps: int, seed: int = 0, progress: ProgressCallback | None = None) -> AudioGridFit:  # fmt: skip
    """Fit and code ``samples`` (frames, channels) to about ``target_bytes``; ``file_bytes(arch,
    codes, payload)`` is the size of the file they make (header and framing included)."""
    start = time.perf_counter()
    coded, _ = to_coded(samples)
    # the hop whose context-free rounding is best at the target, and the step that gives it
    probes = [_probe(coded, hop, target_bytes) for hop in candidate_hops(rate)]
    hop, coefficients, exponent, _ = max(probes, key=lambda probe: probe[3])
    del probes  # the other hop's coefficients: not needed while fitting
    arch = (hop, *planned_arch(samples, rate)[1:])
    peak = float(np.abs(coefficients).max()) or 1.0
    fit = _Fit(len(coefficients), CONTEXT_HIDDEN, seed)
    # the finest step whose latents stay within one coder table (a span of MAX_TABLE_SYMBOLS)
    reach = math.log2(entropy.MAX_TABLE_SYMBOLS // 2 - 1)
    finest = math.ceil((math.log2(peak) - reach + 0.01) * STEP_UNITS_PER_OCTAVE)
    exponent = max(exponent, finest)
    tried: dict[int, tuple[int, tuple, bytes]] = {}
    history: list[tuple[int, int]] = []
    done = 0
    for trial in range(MAX_TRIALS):
        step = step_of(exponent)
        scaled = coefficients / step
        latents = np.rint(scaled).astype(np.int64)
        budget = steps if trial == 0 else max(1, steps // 4)
        per_round = max(1, budget // (RDO_ROUNDS + 1))
        fit.train(latents, budget - RDO_ROUNDS * per_round)
        for _ in range(RDO_ROUNDS):
            latents = fit.rdo(latents, scaled)
            fit.train(latents, per_round)
        done += budget
        context, symbols = fit.integer_context()
        codes, payload = code(context, symbols, latents, exponent)
        size = file_bytes(arch, codes, payload)
        tried[exponent] = (size, codes, payload)
        history.append((exponent, size))
        if progress is not None:
            progress(Progress("fit", done, None, time.perf_counter() - start, None, None, None,
                              f"step {step:.3g}: {size} bytes"))  # fmt: skip
        error = math.log(size / target_bytes)
        if abs(error) < math.log1p(RATE_TOLERANCE):
            break
        if len(history) >= 2 and history[-1][1] != history[-2][1]:
            (e0, s0), (e1, s1) = history[-2], history[-1]
            slope = (math.log(s1) - math.log(s0)) / (e1 - e0)
            slope = min(slope, -1e-4)
        else:  # bytes fall by about 1.5 % per 1/64 octave at these rates (bach.wav, 16-64 kbit/s)
            slope = -0.015
        step_change = round(-error / slope)
        step_change = max(-4 * STEP_UNITS_PER_OCTAVE, min(4 * STEP_UNITS_PER_OCTAVE, step_change))
        nxt = max(finest, exponent + (step_change or (1 if error > 0 else -1)))
        if nxt in tried:
            break
        exponent = nxt
    best = min(tried, key=lambda e: abs(math.log(tried[e][0] / target_bytes)))
    _, codes, payload = tried[best]
    return AudioGridFit(arch, codes, payload, done)


def planned_arch(samples: np.ndarray, rate: int) -> tuple[int, ...]:
    """The architecture :func:`fit_clip` writes for a clip, known before fitting, with the larger
    of its candidate hops (the dearer to decode: what the limits are checked against)."""
    return (max(candidate_hops(rate)), len(samples), CONTEXT_HIDDEN, int(samples.shape[1] == 2))


def planned_codes(channels: int) -> tuple[TensorCode, ...]:
    """The tensors' fields of a file, at their smallest (for the decoder's checks before fitting)."""
    context = (TensorCode(CONTEXT_STEP_EXP, 0, 0, CODER_LAPLACE, 0),) * 4
    return context + (TensorCode(0, 0, 0, CODER_FAMILY, SCHEME_FRAMES),) * channels


#: the encoder's working set (benchmarks/audio_encode_memory.py: 166, 470 and 979 MB measured for
#: 7 s mono, 60 s and 180 s stereo): per latent, the coefficients of both candidate hops while they
#: are compared (float64), latents and their working copies (int64), the training inputs (int16);
#: and the rest (torch's first backward pass, the check decode)
_ENCODE_BYTES_PER_LATENT = 80
_ENCODE_BASE_BYTES = 160 << 20


def encode_memory(arch: tuple[int, ...], channels: int) -> int:
    """The encoder's working set in bytes for a clip of ``channels`` and the planned ``arch``."""
    hop, frames = arch[0], arch[1]
    return _ENCODE_BASE_BYTES + _ENCODE_BYTES_PER_LATENT * channels * frame_count(frames, hop) * hop


# --- reading --------------------------------------------------------------------------------------------


def _context_shapes(hidden: int, channels: int) -> list[tuple[int, ...]]:
    return [(hidden, 6), (hidden,), (2, hidden), (channels, 2)]


def read_symbols(model: AudioGrid, header: Header, payload: bytes) -> list[np.ndarray]:
    """The context network's integers, then every channel's latents: the file's symbols in order."""
    _check_codes(header, model.out_dim)
    decoder = StreamDecoder(payload)
    shapes = _context_shapes(model.hidden, model.out_dim)
    symbols = [read_laplace(decoder, code, shape, i) for i, (code, shape) in enumerate(zip(header.tensors, shapes))]
    ranges = [(t.lo, t.hi) for t in header.tensors[4:]]
    latents = decode_latents(decoder, integer_context(symbols), (model.out_dim, model.latent_frames, model.hop), ranges)
    decoder.finish()
    return symbols + list(latents)


def fill(model: AudioGrid, header: Header, payload: bytes) -> None:
    latents = np.stack(read_symbols(model, header, payload)[4:])
    model.set_latents(latents, step_of(header.tensors[4].step_exp))


def _check_codes(header: Header, channels: int) -> None:
    tensors = header.tensors
    if len(tensors) != 4 + channels:
        raise FormatError(f"audio grid file needs {4 + channels} tensors, header has {len(tensors)}")
    for i, t in enumerate(tensors[:4]):
        if t.coder != CODER_LAPLACE or t.step_exp != CONTEXT_STEP_EXP:
            raise FormatError(f"tensor {i}: the audio grid's context must be Laplace-coded in Q10")
    for i, t in enumerate(tensors[4:], 4):
        if t.coder != CODER_FAMILY or t.param != SCHEME_FRAMES:
            raise FormatError(f"tensor {i}: unknown audio latent scheme")
        if t.step_exp != tensors[4].step_exp:
            raise FormatError("audio latent channels disagree on their step")
        entropy.check_table(t.lo, t.hi, entropy.MAX_SYMBOL, f"tensor {i} latent")


def check_header(header: Header) -> None:
    if header.arch and header.arch[1] != header.signal.frames:
        raise FormatError("audio grid frames in the architecture do not match the clip's")
    _check_codes(header, header.signal.channels)


def describe(header: Header) -> dict:
    hop, frames, hidden, mid_side = header.arch
    return {
        "hop": hop,
        "latent_frames": frame_count(frames, hop),
        "context_hidden": hidden,
        "mid_side": bool(mid_side),
        "step": step_of(header.tensors[4].step_exp) if len(header.tensors) > 4 else None,
    }


def _decode_cost(header: Header, in_dim: int, out_dim: int, shape: tuple[int, ...]) -> DecodeCost:
    """Decoding the latents frame by frame, then synthesising onto ``shape``."""
    synthesis = AudioGrid.decode_cost(header.arch, in_dim, out_dim, shape)
    hop, frames, hidden, _ = AudioGrid._parse(header.arch, out_dim)
    latent_frames = frame_count(frames, hop)
    span = max((t.hi - t.lo + 1 for t in header.tensors[4:]), default=1)
    # per frame: its inputs and context network, and a table (built once per scale) and a
    # coder call for each scale index it uses
    per_frame = hop * (6 * 40 + 2 * hidden * 8) + min(hop, entropy.NUM_SCALES) * STEP_WORK
    # a table per scale index used, over the channel's whole range: its powers come from a
    # sequential recurrence, 4 x TABLE_WORK per entry (measured: the "wide range" case of
    # benchmarks/decode_cost.py, latents of +-60 000)
    work = out_dim * (latent_frames * per_frame + entropy.NUM_SCALES * 4 * TABLE_WORK * span)
    memory = 8 * out_dim * latent_frames * hop * 2 + hop * (6 * 8 * 4 + 16 * hidden) + entropy.NUM_SCALES * 16 * span
    return DecodeCost(synthesis.work + work, max(synthesis.memory, memory), synthesis.point_floats)


def _no_image_budget(opts):
    raise AssertionError("the audio grid has no image budget")


AUDIO_GRID = Family(AudioGrid, _no_image_budget, read_symbols, fill, check_header=check_header,
                    describe=describe, decode_cost=_decode_cost)  # fmt: skip
