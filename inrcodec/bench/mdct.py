"""A plain MDCT transform coder: the audio benchmark's reference for waveform fidelity (issue 18).

Not part of the codec: it lives in the benchmark so that inrcodec's audio has a yardstick that
spends its bits purely on mean squared error (MP3 and Opus spend theirs on what the ear hears, so
their SNR says little about what a waveform coder could reach). It writes real bytes through
constriction, and :func:`decode` inverts them; nothing is an ideal code length.

**Transform.** The codec's own lapped transform (:mod:`inrcodec.grid.lapped`, the audio grid's
synthesis at whole samples): the MDCT with a sine window ``w[n] = sin(pi (n + 1/2) / N)``, frames of
``N = 2048`` samples advanced by ``M = 1024`` (50 % overlap), scaled to be orthonormal:
``X[k] = sqrt(2/M) sum_n w[n] x[n] cos(pi/M (n + 1/2 + M/2)(k + 1/2))``. The inverse applies the
transposed basis and the same window, and overlap-adds: the aliasing of neighbouring frames
cancels (TDAC, Princen-Bradley: ``w[n]^2 + w[n+M]^2 = 1``), so without quantisation the
reconstruction is exact to float round-off. The clip is padded with ``M`` zeros in front and
zeros to whole frames at the end. Stereo is coded as mid/side, ``(L +- R)/sqrt 2`` (orthonormal,
so squared error is the same in both bases); other channel counts channel by channel.

**Quantiser.** One uniform step ``delta`` for every coefficient of every frame and channel,
rounding to the nearest integer (mid-tread): ``q = round(X / delta)``, ``X' = q delta``. With an
orthonormal transform this is what minimises squared error at high rate (reverse water-filling:
equal distortion everywhere, coefficients below the step become zero). :func:`encode` finds
``delta`` by bisection on its logarithm so that the *real* file size meets the target. (For
measurements only, ``rounding`` < 1/2 gives a dead zone, ``|q| = floor(|X| / delta + rounding)``;
the decoder is the same. The benchmark's rows use plain rounding.)

**Entropy model.** Each ``q[t, k]`` (frame ``t``, frequency ``k``) is a discretised Laplace of
mean 0 and a scale chosen by its *context class*: the class is the pair (activity bucket,
frequency band), where

- activity ``c = (|q[t-1,k-1]| + 2 |q[t-1,k]| + |q[t-1,k+1]|) / 4`` from the previous frame (0
  for the first), bucketed as 0 for ``c = 0``, else ``1 + floor(2 log2(4c))`` clipped to
  ``[1, 15]`` (16 buckets, half-octave steps);
- band ``clip(floor(log2(k + 1)) - 2, 0, 7)`` (8 octave bands: ``k < 8``, 8-15, ..., 512-1023).

The encoder picks, for each of the 128 classes of each channel, the scale ``2^(s/4 - 4)``,
``s`` in 0..63, that codes that class's symbols in the fewest bits (exact discrete code lengths),
and transmits the 128 indices (one byte each). The decoder derives every class from what it has
already decoded, so a frame decodes in one batched call. Symbols are coded with constriction's
ANS coder and ``QuantizedLaplace`` on ``[-qmax, qmax]`` (``qmax`` per channel in the header).

**Bytes.** ``b"MDCT"``, then little-endian: rate (u32), frames (u32), channels (u8), mid/side
(u8), ``delta`` (f32); per channel ``qmax`` (u16) and 128 scale indices (u8); then the ANS words
(u32). Every byte counts towards the measured rate.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass

import numpy as np

from ..grid import lapped
from ..grid.lapped import from_coded as _from_coded
from ..grid.lapped import to_coded as _to_coded

#: bumped whenever the bytes change
VERSION = 1
#: frame length N and hop M
FRAME = 2048
HOP = FRAME // 2
#: context classes: activity buckets x frequency bands
BUCKETS, BANDS = 16, 8
#: scale index s means a Laplace scale of 2^(s/4 - 4)
SCALES = 64
MAGIC = b"MDCT"
_HEAD = struct.Struct("<4sIIBBf")
_QMAX_LIMIT = 32767


def scale_of(index: np.ndarray | int) -> np.ndarray:
    return 2.0 ** (np.asarray(index, dtype=np.float64) / 4 - 4)


def frame_count(frames: int, hop: int = HOP) -> int:
    return lapped.frame_count(frames, hop)


def mdct(x: np.ndarray, hop: int = HOP) -> np.ndarray:
    """(frames,) signal -> (T, hop) coefficients: the codec's lapped transform (the audio grid's)."""
    return lapped.analysis(x, hop)


def imdct(coeffs: np.ndarray, frames: int, hop: int = HOP) -> np.ndarray:
    """(T, hop) coefficients -> the (frames,) signal, by windowed overlap-add."""
    return lapped.synthesis(coeffs, frames, hop)


def _bands(hop: int = HOP) -> np.ndarray:
    return np.clip(np.floor(np.log2(np.arange(hop) + 1)).astype(int) - 2, 0, BANDS - 1)


def _buckets(previous: np.ndarray) -> np.ndarray:
    """Activity buckets of a frame from the previous frame's integers (last axis: frequency)."""
    a = np.abs(previous).astype(np.float64)
    padded = np.pad(a, [(0, 0)] * (a.ndim - 1) + [(1, 1)])
    c = (padded[..., :-2] + 2 * a + padded[..., 2:]) / 4
    with np.errstate(divide="ignore"):
        b = 1 + np.floor(2 * np.log2(4 * c))
    return np.where(c > 0, np.clip(b, 1, BUCKETS - 1), 0).astype(int)


def context_classes(q: np.ndarray) -> np.ndarray:
    """The class of every coefficient of one channel's (T, hop) integers."""
    previous = np.concatenate([np.zeros((1, q.shape[1]), q.dtype), q[:-1]])
    return _buckets(previous) * BANDS + _bands(q.shape[1])[None, :]


def _laplace_bits(values: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Bits to code |q| = values (with multiplicities) under each candidate scale: (SCALES,)."""
    b = scale_of(np.arange(SCALES))[:, None]
    v = values[None, :].astype(np.float64)
    p_zero = -np.expm1(-0.5 / b)
    p_other = 0.5 * (np.exp(-(v - 0.5) / b) - np.exp(-(v + 0.5) / b))
    p = np.where(v == 0, p_zero, p_other)
    return -(np.log2(np.maximum(p, 1e-300)) * counts[None, :]).sum(axis=1)


def choose_scales(q: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """Per class, the scale index that codes its symbols in the fewest bits (128 uint8)."""
    out = np.zeros(BUCKETS * BANDS, np.uint8)
    flat_c, flat_q = classes.reshape(-1), np.abs(q).reshape(-1)
    for c in np.unique(flat_c):
        values, counts = np.unique(flat_q[flat_c == c], return_counts=True)
        out[c] = int(np.argmin(_laplace_bits(values, counts)))
    return out


@dataclass(frozen=True)
class MdctEncoding:
    data: bytes
    step: float

    @property
    def bits(self) -> int:
        return 8 * len(self.data)


def _model(qmax: int):
    import constriction

    return constriction.stream.model.QuantizedLaplace(-qmax, qmax)


def quantise(coeffs: np.ndarray, step: float, rounding: float = 0.5) -> np.ndarray:
    """The integers of ``coeffs``: nearest (``rounding`` 1/2), or with a dead zone (below 1/2)."""
    if rounding == 0.5:
        return np.rint(coeffs / step).astype(np.int64)
    return (np.sign(coeffs) * np.floor(np.abs(coeffs) / step + rounding)).astype(np.int64)


def encode_at_step(
    samples: np.ndarray,
    rate: int,
    step: float,
    coefficients: list[np.ndarray] | None = None,
    rounding: float = 0.5,
) -> bytes:
    """The bytes of ``samples`` (frames, channels) coded with quantiser step ``step``."""
    import constriction

    x, mid_side = _to_coded(samples)
    coefficients = coefficients if coefficients is not None else [mdct(x[:, c]) for c in range(x.shape[1])]
    step = float(np.float32(step))
    head = [_HEAD.pack(MAGIC, rate, len(samples), samples.shape[1], int(mid_side), step)]
    coder = constriction.stream.stack.AnsCoder()
    pending = []
    for coeffs in coefficients:
        q = quantise(coeffs, step, rounding)
        qmax = max(1, int(np.abs(q).max()))
        if qmax > _QMAX_LIMIT:
            raise ValueError(f"step {step:g} is too fine for this coder (|q| up to {qmax})")
        classes = context_classes(q)
        scales = choose_scales(q, classes)
        head.append(struct.pack("<H", qmax) + scales.tobytes())
        pending.append((q.reshape(-1).astype(np.int32), qmax, scale_of(scales[classes.reshape(-1)])))
    # The ANS coder is a stack: push the last channel first so that the decoder pops in order.
    for symbols, qmax, scales in reversed(pending):
        coder.encode_reverse(symbols, _model(qmax), np.zeros_like(scales), scales)
    return b"".join(head) + coder.get_compressed().tobytes()


def encode(samples: np.ndarray, rate: int, kbps: float, rounds: int = 40, rounding: float = 0.5) -> MdctEncoding:
    """Code ``samples`` at about ``kbps``: the step whose real file size is nearest the target.

    Bisection on log(step): the file shrinks as the step grows (monotone up to the coder's
    rounding), so it brackets the target and keeps the size nearest to it in log terms.
    """
    samples = np.asarray(samples, dtype=np.float64)
    if samples.ndim == 1:
        samples = samples[:, None]
    target = kbps * 1000 * len(samples) / rate / 8
    x, _ = _to_coded(samples)
    coefficients = [mdct(x[:, c]) for c in range(x.shape[1])]
    peak = max(float(np.abs(c).max()) for c in coefficients) or 1.0
    lo, hi = math.log(peak / _QMAX_LIMIT), math.log(4 * peak)
    tried: dict[float, bytes] = {}
    for _ in range(rounds):
        mid = (lo + hi) / 2
        data = tried.setdefault(mid, encode_at_step(samples, rate, math.exp(mid), coefficients, rounding))
        if len(data) > target:
            lo = mid
        else:
            hi = mid
        if hi - lo < 1e-4:
            break
    best = min(tried, key=lambda s: abs(math.log(len(tried[s]) / target)))
    return MdctEncoding(tried[best], float(np.float32(math.exp(best))))


def decode(data: bytes) -> tuple[np.ndarray, int]:
    """Bytes from :func:`encode` -> (float64 (frames, channels), rate)."""
    import constriction

    magic, rate, frames, channels, mid_side, step = _HEAD.unpack_from(data)
    if magic != MAGIC:
        raise ValueError("not an MDCT reference file")
    at = _HEAD.size
    tables = []
    for _ in range(channels):
        (qmax,) = struct.unpack_from("<H", data, at)
        scales = np.frombuffer(data, np.uint8, BUCKETS * BANDS, at + 2)
        tables.append((qmax, scales))
        at += 2 + BUCKETS * BANDS
    words = np.frombuffer(data[at:], np.uint32)
    coder = constriction.stream.stack.AnsCoder(words.copy())
    t = frame_count(frames)
    bands = _bands()
    out = np.zeros((frames, channels))
    for c, (qmax, scales) in enumerate(tables):
        model = _model(qmax)
        q = np.zeros((t, HOP), np.int64)
        previous = np.zeros(HOP, np.int64)
        for i in range(t):
            cls = _buckets(previous) * BANDS + bands
            s = scale_of(scales[cls])
            q[i] = coder.decode(model, np.zeros_like(s), s)
            previous = q[i]
        out[:, c] = imdct(q * step, frames)
    return _from_coded(out, bool(mid_side)), rate
