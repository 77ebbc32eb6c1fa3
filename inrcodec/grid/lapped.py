"""The audio latent grid's synthesis: a lapped cosine basis, and one continuous function of time.

A clip is held as a grid of latents ``z[c, m, k]`` (channel, frame, frequency) and one step
``delta``. Its samples are the inverse MDCT with a sine window,

    x(n) = delta * sum_m sum_k z[m, k] * phi_k(n - m H + H),
    phi_k(v) = sqrt(2/H) * sin(pi (v + 1/2) / (2H)) * cos(pi/H (v + 1/2 + H/2)(k + 1/2)), 0 <= v < 2H,

exact without quantization (TDAC, Princen-Bradley) and orthonormal, so squared error in the
latents (times ``delta^2``) is squared error in the samples: the encoder measures distortion on
the grid, without synthesis. Between samples the signal is ``x(p) = sum_n x(n) h(p - n)`` with a
Kaiser-windowed sinc ``h`` (:func:`interpolation_kernel`): it passes through the samples, holds
next to nothing above the stored Nyquist frequency, and is continuous, so it is one continuous
function of time that any rate samples (:class:`inrcodec.audio.AudioDecoding` then low-passes as
for any audio model). Evaluating the windowed cosines themselves between samples was the first
version: exact too, but every output sample took two frames' cosines (15-29 s for bach.wav at 64
kbit/s decoded at 48 or 96 kHz, against 0.7-1.7 s now), and their energy above the stored
Nyquist frequency was removed by the decoder's low-pass anyway.

Stereo is coded as mid and side, ``(L +- R)/sqrt 2``: orthonormal, so squared error is the same in
both, and the side of most music is small.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from ..errors import FormatError
from ..models.base import INR, DecodeCost

#: structural bounds on the architecture
MIN_HOP, MAX_HOP = 16, 1 << 14
MAX_FRAMES = 1 << 31
#: output samples one general (off-grid) synthesis call evaluates at once: bounds its temporaries
_OFF_GRID_POINTS = 4096
#: the interpolation kernel between stored samples: half-width in samples and Kaiser's beta
#: (stop band from the stored Nyquist frequency about 80 dB down)
INTERPOLATION_HALF_WIDTH = 32
INTERPOLATION_BETA = 8.0
#: decode work units per sample and log2 of the hop of the synthesis (DCT-IV, overlap-add), and per
#: interpolation weight of a sample elsewhere (a Kaiser-windowed sinc, a gather and a product;
#: benchmarks/decode_cost.py)
SYNTHESIS_WORK = 40
INTERPOLATION_WORK = 600


def frame_count(frames: int, hop: int) -> int:
    """Latent frames of a clip of ``frames`` samples: one per hop, plus one for the overlap."""
    return math.ceil(frames / hop) + 1


def window(hop: int) -> np.ndarray:
    """The sine window of a frame, ``sin(pi (n + 1/2) / (2H))`` for n = 0 .. 2H - 1."""
    return np.sin(math.pi * (np.arange(2 * hop) + 0.5) / (2 * hop))


def _fold(blocks: np.ndarray) -> np.ndarray:
    """(frames, 2H) windowed blocks (a, b, c, d) -> the (frames, H) sequences (-c' - d, a - b')
    whose orthonormal DCT-IV is their MDCT (' is reversal)."""
    q = blocks.shape[1] // 4
    a, b, c, d = blocks[:, :q], blocks[:, q : 2 * q], blocks[:, 2 * q : 3 * q], blocks[:, 3 * q :]
    return np.concatenate([-c[:, ::-1] - d, a - b[:, ::-1]], axis=1)


def _unfold(u: np.ndarray) -> np.ndarray:
    """The inverse's counterpart: (frames, H) DCT-IV outputs (u1, u2) -> (frames, 2H) blocks
    (u2, -u2', -u1', -u1) before the window."""
    q = u.shape[1] // 2
    u1, u2 = u[:, :q], u[:, q:]
    return np.concatenate([u2, -u2[:, ::-1], -u1[:, ::-1], -u1], axis=1)


def analysis(x: np.ndarray, hop: int) -> np.ndarray:
    """(frames,) signal -> (T, hop) coefficients, T = :func:`frame_count`: the MDCT with ``hop``
    zeros in front of the clip and zeros to whole frames after it, through the DCT-IV (an FFT:
    no basis matrix, whose 2 H^2 values would be 64 MB at a hop of 2 048)."""
    from scipy.fft import dct

    t = frame_count(len(x), hop)
    padded = np.zeros((t + 1) * hop)
    padded[hop : hop + len(x)] = x
    blocks = np.lib.stride_tricks.sliding_window_view(padded, 2 * hop)[::hop][:t]
    return dct(_fold(blocks * window(hop)), type=4, norm="ortho", axis=1)


def synthesis(coeffs: np.ndarray, frames: int, hop: int, start: int = 0) -> np.ndarray:
    """(T, hop) coefficients -> samples ``start .. start + frames - 1`` of the signal (at the
    stored rate), by windowed overlap-add of the frames that reach them."""
    from scipy.fft import dct

    t = len(coeffs)
    a = max(0, (start + hop) // hop - 1)
    b = min(t, (start + frames + hop - 1) // hop + 1)
    blocks = _unfold(dct(coeffs[a:b], type=4, norm="ortho", axis=1)) * window(hop)
    out = np.zeros((b - a + 1) * hop)
    out[: (b - a) * hop] += blocks[:, :hop].reshape(-1)
    out[hop : (b - a + 1) * hop] += blocks[:, hop:].reshape(-1)
    first = start + hop - a * hop
    part = out[max(0, first) : first + frames]
    if first < 0 or len(part) < frames:  # positions beyond the frames' reach are silence
        full = np.zeros(frames)
        lo = max(0, -first)
        full[lo : lo + len(part)] = part
        return full
    return part


def interpolation_kernel(offsets: np.ndarray) -> np.ndarray:
    """The kernel that makes the stored samples one continuous function of time: a sinc (cut off
    at the stored Nyquist frequency) under a Kaiser window of half-width
    :data:`INTERPOLATION_HALF_WIDTH` and :data:`INTERPOLATION_BETA`, shifted and scaled to be 0 at
    its ends, so the kernel and the function are continuous. It is 1 at 0 and 0 at every other
    whole offset, so the function passes through the stored samples."""
    from scipy.special import i0  # numpy's i0 is the same function, ten times slower

    d = np.asarray(offsets, dtype=np.float64)
    r = np.clip(1.0 - (d / INTERPOLATION_HALF_WIDTH) ** 2, 0.0, None)
    window = (i0(INTERPOLATION_BETA * np.sqrt(r)) - 1.0) / (i0(INTERPOLATION_BETA) - 1.0)
    return np.where(np.abs(d) < INTERPOLATION_HALF_WIDTH, np.sinc(d) * window, 0.0)


def synthesis_at(coeffs: np.ndarray, positions: np.ndarray, hop: int) -> np.ndarray:
    """The continuous signal of (T, hop) coefficients at any ``positions`` (in samples, float64):
    the stored-rate samples (:func:`synthesis`) interpolated by :func:`interpolation_kernel`,
    exact at whole positions. Positions go in chunks, each with the stored samples it reaches."""
    out = np.zeros(len(positions))
    reach = INTERPOLATION_HALF_WIDTH
    taps = np.arange(-reach + 1, reach + 1)
    for a in range(0, len(positions), _OFF_GRID_POINTS):
        p = positions[a : a + _OFF_GRID_POINTS]
        lo = int(np.floor(p.min())) - reach + 1
        hi = int(np.floor(p.max())) + reach + 1
        stored = synthesis(coeffs, hi - lo, hop, lo)
        whole = np.floor(p)
        # the kernel's weights depend on the fraction only: a resampling by p/q has q of them
        fractions, which = np.unique(p - whole, return_inverse=True)
        weights = interpolation_kernel(fractions[:, None] - taps[None, :])
        nearby = whole.astype(np.int64)[:, None] + taps[None, :] - lo  # the 2 * reach stored samples
        out[a : a + _OFF_GRID_POINTS] = np.einsum("ij,ij->i", stored[nearby], weights[which])
    return out


def to_coded(samples: np.ndarray) -> tuple[np.ndarray, bool]:
    """(frames, channels) -> the channels as coded (mid and side for stereo) and whether mid/side."""
    x = samples.astype(np.float64)
    if x.shape[1] == 2:
        return np.stack([x[:, 0] + x[:, 1], x[:, 0] - x[:, 1]], axis=1) / math.sqrt(2), True
    return x, False


def from_coded(x: np.ndarray, mid_side: bool) -> np.ndarray:
    if mid_side:
        return np.stack([x[:, 0] + x[:, 1], x[:, 0] - x[:, 1]], axis=1) / math.sqrt(2)
    return x


def default_hop(rate: int) -> int:
    """1024 at 44.1 and 48 kHz (23 ms, the MDCT reference's frames), scaled with the rate to a
    power of two (512 at 22.05 kHz, 256 at 8-11 kHz)."""
    return int(2 ** round(math.log2(max(MIN_HOP, 1024 * rate / 44100))))


class AudioGrid(INR):
    """Audio as a latent grid over (channel, frame, frequency) and a lapped cosine synthesis.

    Architecture integers: ``(hop, frames, context_hidden, mid_side)``; the clip's channels are
    ``out_dim``. The latents and the step are the decoded file's (:meth:`set_latents`); the
    context network that codes them lives in :mod:`inrcodec.grid.audio` and is not needed to
    synthesise.
    """

    name = "grid"
    family_id = 6
    input_dims = (1,)
    coordinate_dtype = np.float64

    def __init__(self, hop: int, frames: int, hidden: int, mid_side: bool, channels: int) -> None:
        super().__init__(1, channels)
        self.hop, self.frames, self.hidden, self.mid_side = hop, frames, hidden, mid_side
        self.latent_frames = frame_count(frames, hop)
        self.coefficients = np.zeros((channels, self.latent_frames, hop))

    def arch(self) -> tuple[int, ...]:
        return (self.hop, self.frames, self.hidden, int(self.mid_side))

    @classmethod
    def _parse(cls, arch: tuple[int, ...], out_dim: int) -> tuple[int, int, int, bool]:
        if len(arch) != 4:
            raise FormatError(f"audio grid architecture needs 4 numbers, header has {len(arch)}")
        hop, frames, hidden, mid_side = arch
        if not MIN_HOP <= hop <= MAX_HOP or hop & (hop - 1):
            raise FormatError(f"audio grid hop {hop} is not a power of two in {MIN_HOP}..{MAX_HOP}")
        if not 1 <= frames <= MAX_FRAMES:
            raise FormatError(f"audio grid frames {frames} out of range")
        if not 1 <= hidden <= 256:
            raise FormatError(f"audio grid context width {hidden} out of range")
        if mid_side not in (0, 1) or (mid_side and out_dim != 2):
            raise FormatError("audio grid mid/side flag must be 0, or 1 for stereo")
        return hop, frames, hidden, bool(mid_side)

    @classmethod
    def from_arch(cls, arch: tuple[int, ...], in_dim: int, out_dim: int) -> AudioGrid:
        if in_dim != 1:
            raise FormatError("the audio grid family holds audio only")
        return cls(*cls._parse(arch, out_dim), out_dim)

    @classmethod
    def count_parameters(cls, arch: tuple[int, ...], in_dim: int, out_dim: int) -> int:
        hop, frames, hidden, _ = cls._parse(arch, out_dim)
        return out_dim * frame_count(frames, hop) * hop + 8 * hidden + 2 + 2 * out_dim

    @classmethod
    def layer_count(cls, arch: tuple[int, ...]) -> int:
        return 2

    @classmethod
    def decode_cost(cls, arch: tuple[int, ...], in_dim: int, out_dim: int, shape: tuple[int, ...]) -> DecodeCost:
        """Sampling at the stored rate (``shape`` is the clip's frames) is an inverse MDCT per
        frame (FFTs: :data:`SYNTHESIS_WORK` times log2 of the hop per sample); any other sampling
        adds, per sample, the interpolation's 2 x :data:`INTERPOLATION_HALF_WIDTH` weights
        (:data:`INTERPOLATION_WORK` each, the worst case of every fraction distinct) and products."""
        hop, frames = arch[0], arch[1]  # checked by the decoder before any cost (count_parameters)
        (samples,) = shape
        per_sample = SYNTHESIS_WORK * max(1, hop.bit_length())
        if samples != frames:
            per_sample += 2 * INTERPOLATION_HALF_WIDTH * INTERPOLATION_WORK
        # one chunk's kernel weights, gathered samples and indices, and their temporaries
        memory = 64 * _OFF_GRID_POINTS * 2 * INTERPOLATION_HALF_WIDTH + 64 * hop
        return DecodeCost(samples * out_dim * per_sample, memory, 2)

    def coded_tensors(self) -> list:
        return []

    def set_latents(self, latents: np.ndarray, step: float) -> None:
        """Load decoded latents (channels, frames, hop) and their step."""
        self.coefficients = latents.astype(np.float64) * step

    def sample(self, positions: np.ndarray) -> np.ndarray:
        """The signal at ``positions`` (in samples, float64): (len, channels) float64. Whole
        positions take the inverse MDCT of the frames they need; others the general synthesis."""
        whole = np.rint(positions)
        coded = np.zeros((len(positions), self.out_dim))
        on_grid = len(positions) and np.abs(whole - positions).max() < 1e-6 and np.all(np.diff(whole) == 1)
        if on_grid:
            start = int(whole[0])
            for c in range(self.out_dim):
                coded[:, c] = synthesis(self.coefficients[c], len(positions), self.hop, start)
        else:
            for c in range(self.out_dim):
                coded[:, c] = synthesis_at(self.coefficients[c], positions, self.hop)
        return from_coded(coded, self.mid_side)

    def forward(self, points: torch.Tensor) -> torch.Tensor:
        """(N, 1) times in [-1, 1] (float64 keeps sub-sample precision on long clips) -> (N, channels)."""
        t = points[:, 0].detach().cpu().double().numpy()
        positions = (t + 1.0) / 2.0 * self.frames - 0.5
        return torch.from_numpy(self.sample(positions)).to(points.dtype)
