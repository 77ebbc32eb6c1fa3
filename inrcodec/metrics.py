"""Every quality metric inrcodec reports, in one place.

Images are compared as decoded integers (uint8, or uint16 for 16-bit inputs), never as the
network's float output, so that a figure always describes the file a user gets. Audio is compared
as float samples in [-1, 1].

Conventions (the benchmark reports and docs/results.md rely on them):
- ``psnr`` is computed over all channels of one image at once (PSNR-RGB for colour images). A
  dataset average is the mean of per-image PSNR, not the PSNR of the mean MSE.
- ``ms_ssim`` follows Wang et al. 2003 as implemented by ``pytorch_msssim`` (the implementation
  CompressAI reports): 11-tap Gaussian window, sigma 1.5, five scales, computed per channel on
  [0, 1] data and averaged over channels. Images too small for five scales use as many scales as
  fit, with the weights renormalised.
- Audio PSNR takes the peak-to-peak range of [-1, 1], i.e. 2, as the peak.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = [
    "audio_psnr",
    "log_spectral_distance",
    "ms_ssim",
    "mse",
    "psnr",
    "psnr_from_mse",
    "segmental_snr_db",
    "snr_db",
    "ssim",
]

_MS_SSIM_WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)


def _as_float(a: np.ndarray) -> np.ndarray:
    return np.asarray(a, dtype=np.float64)


def _check_same_shape(a: np.ndarray, b: np.ndarray) -> None:
    if np.shape(a) != np.shape(b):
        raise ValueError(f"shapes differ: {np.shape(a)} vs {np.shape(b)}")


#: elements from which :func:`mse` goes a slice at a time (a 24-megapixel RGB image in float64
#: would take 576 MB per copy)
_MSE_CHUNK = 1 << 22


def mse(a: np.ndarray, b: np.ndarray) -> float:
    """Mean squared error over every element (of large arrays, a slice at a time)."""
    _check_same_shape(a, b)
    a, b = np.asarray(a), np.asarray(b)
    if a.size <= _MSE_CHUNK or a.ndim == 0:
        d = _as_float(a) - _as_float(b)
        return float(np.mean(d * d))
    rows = max(1, _MSE_CHUNK // max(1, a[0].size))
    total = 0.0
    for r in range(0, a.shape[0], rows):
        d = _as_float(a[r : r + rows]) - _as_float(b[r : r + rows])
        total += float(np.sum(d * d))
    return total / a.size


def psnr_from_mse(err: float, peak: float = 255.0) -> float:
    """PSNR in dB for a mean squared error; identical signals give +inf."""
    if err <= 0:
        return math.inf
    return 10.0 * math.log10(peak * peak / err)


def psnr(a: np.ndarray, b: np.ndarray, peak: float | None = None) -> float:
    """PSNR in dB between two integer images; ``peak`` defaults to the dtype's maximum."""
    if peak is None:
        peak = 65535.0 if np.asarray(a).dtype == np.uint16 else 255.0
    return psnr_from_mse(mse(a, b), peak)


def _gaussian_window(size: int = 11, sigma: float = 1.5) -> np.ndarray:
    x = np.arange(size, dtype=np.float64) - (size - 1) / 2
    g = np.exp(-(x * x) / (2 * sigma * sigma))
    return g / g.sum()


def _ssim_maps(x, y, window, c1, c2):
    """Per-channel SSIM and contrast-structure means; x, y are (1, C, H, W) float64 tensors."""
    import torch
    import torch.nn.functional as F

    channels = x.shape[1]
    g = torch.from_numpy(window).to(x.dtype)
    wx = g.view(1, 1, 1, -1).repeat(channels, 1, 1, 1)
    wy = g.view(1, 1, -1, 1).repeat(channels, 1, 1, 1)

    def blur(t):  # separable 'valid' Gaussian filter, as pytorch_msssim does
        return F.conv2d(F.conv2d(t, wx, groups=channels), wy, groups=channels)

    mu_x, mu_y = blur(x), blur(y)
    sxx = blur(x * x) - mu_x * mu_x
    syy = blur(y * y) - mu_y * mu_y
    sxy = blur(x * y) - mu_x * mu_y
    cs_map = (2 * sxy + c2) / (sxx + syy + c2)
    ssim_map = ((2 * mu_x * mu_y + c1) / (mu_x * mu_x + mu_y * mu_y + c1)) * cs_map
    return ssim_map.flatten(2).mean(-1)[0], cs_map.flatten(2).mean(-1)[0]


def ms_ssim(a: np.ndarray, b: np.ndarray, peak: float | None = None) -> float:
    """Multi-scale SSIM of two (H, W) or (H, W, C) images, in [0, 1] (1 = identical)."""
    import torch
    import torch.nn.functional as F

    _check_same_shape(a, b)
    if peak is None:
        peak = 65535.0 if np.asarray(a).dtype == np.uint16 else 255.0
    x = _as_float(a) / peak
    y = _as_float(b) / peak
    if x.ndim == 2:
        x, y = x[..., None], y[..., None]
    window = _gaussian_window()
    win = len(window)
    # Scale k needs the image to be at least win pixels after k halvings.
    scales = 1
    while scales < 5 and min(x.shape[:2]) >= win * 2**scales:
        scales += 1
    if min(x.shape[:2]) < win:
        # Too small for even one Gaussian window: plain SSIM over the whole image.
        return ssim(a, b, peak=peak)
    weights = np.array(_MS_SSIM_WEIGHTS[:scales])
    weights = weights / weights.sum()
    # float32, as pytorch_msssim computes it: 4x faster than float64, same figures to 1e-6
    tx = torch.from_numpy(np.ascontiguousarray(x.transpose(2, 0, 1), dtype=np.float32))[None]
    ty = torch.from_numpy(np.ascontiguousarray(y.transpose(2, 0, 1), dtype=np.float32))[None]
    c1, c2 = (0.01) ** 2, (0.03) ** 2
    factors = []
    for level in range(scales):
        s, cs = _ssim_maps(tx, ty, window, c1, c2)
        if level < scales - 1:
            factors.append(torch.relu(cs))
            pad = (tx.shape[2] % 2, tx.shape[3] % 2)
            tx = F.avg_pool2d(tx, kernel_size=2, padding=pad)
            ty = F.avg_pool2d(ty, kernel_size=2, padding=pad)
        else:
            factors.append(torch.relu(s))
    stacked = torch.stack(factors)  # (scales, C)
    w = torch.from_numpy(weights).view(-1, 1)
    per_channel = torch.prod(stacked.double() ** w, dim=0)
    return float(per_channel.mean())


def ssim(a: np.ndarray, b: np.ndarray, peak: float | None = None) -> float:
    """Single-scale SSIM (scikit-image, Gaussian weights as in Wang et al. 2004)."""
    from skimage.metrics import structural_similarity

    _check_same_shape(a, b)
    if peak is None:
        peak = 65535.0 if np.asarray(a).dtype == np.uint16 else 255.0
    x, y = _as_float(a), _as_float(b)
    channel_axis = 2 if x.ndim == 3 else None
    small = min(x.shape[:2])
    kwargs = {"gaussian_weights": True, "sigma": 1.5, "use_sample_covariance": False}
    if small < 11:
        # skimage needs an odd window no larger than the image.
        kwargs = {"win_size": max(3, small - (1 - small % 2))} if small >= 3 else None
        if kwargs is None:
            return 1.0 if np.array_equal(x, y) else float("nan")
    return float(structural_similarity(x, y, data_range=peak, channel_axis=channel_axis, **kwargs))


# --- audio -----------------------------------------------------------------------------------


def snr_db(reference: np.ndarray, test: np.ndarray) -> float:
    """Signal-to-noise ratio in dB of ``test`` against ``reference`` (float samples)."""
    _check_same_shape(reference, test)
    ref = _as_float(reference)
    noise = np.sum((ref - _as_float(test)) ** 2)
    signal = np.sum(ref * ref)
    if noise <= 0:
        return math.inf
    if signal <= 0:
        return -math.inf
    return 10.0 * math.log10(signal / noise)


def segmental_snr_db(
    reference: np.ndarray, test: np.ndarray, frame: int = 512, lo: float = -10.0, hi: float = 35.0
) -> float:
    """Mean of per-frame SNR, each clipped to [lo, hi] dB (the usual speech-coding convention).

    Frames of pure silence in the reference carry no information and are skipped.
    """
    _check_same_shape(reference, test)
    ref = _as_float(reference).reshape(len(reference), -1)
    tst = _as_float(test).reshape(len(test), -1)
    values = []
    for start in range(0, len(ref), frame):
        r = ref[start : start + frame]
        e = np.sum((r - tst[start : start + frame]) ** 2)
        s = np.sum(r * r)
        if s <= 0:
            continue
        values.append(hi if e <= 0 else min(hi, max(lo, 10.0 * math.log10(s / e))))
    return float(np.mean(values)) if values else math.inf


def audio_psnr(reference: np.ndarray, test: np.ndarray) -> float:
    """PSNR of float audio in [-1, 1], with the peak-to-peak range 2 as the peak."""
    return psnr_from_mse(mse(reference, test), peak=2.0)


def log_spectral_distance(reference: np.ndarray, test: np.ndarray, frame: int = 2048, hop: int = 512) -> float:
    """Log-spectral distance in dB: RMS over frequency of the log power ratio, meaned over frames."""
    _check_same_shape(reference, test)
    ref = _as_float(reference).reshape(len(reference), -1)
    tst = _as_float(test).reshape(len(test), -1)
    if len(ref) < frame:
        frame = max(2, 1 << (len(ref).bit_length() - 1))
        hop = max(1, frame // 4)
    window = np.hanning(frame)
    distances = []
    for ch in range(ref.shape[1]):
        for start in range(0, len(ref) - frame + 1, hop):
            pr = np.abs(np.fft.rfft(ref[start : start + frame, ch] * window)) ** 2
            pt = np.abs(np.fft.rfft(tst[start : start + frame, ch] * window)) ** 2
            diff = 10.0 * np.log10((pr + 1e-10) / (pt + 1e-10))
            distances.append(math.sqrt(float(np.mean(diff * diff))))
    return float(np.mean(distances)) if distances else 0.0
