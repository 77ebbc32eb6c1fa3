"""Bjøntegaard delta rate and delta PSNR between two rate-distortion curves.

BD-rate is the average rate difference of a test curve against an anchor at equal quality:
log-rate is interpolated as a function of PSNR for each curve, both are integrated over the PSNR
range the two curves share (the *overlap*), and the mean difference is turned back into a
percentage, ``100 * (10**mean_diff - 1)``. Negative means the test codec needs fewer bits.
BD-PSNR swaps the axes: PSNR as a function of log-rate, integrated over the shared log-rate range.

Two interpolations are offered:

- ``"pchip"``: piecewise-cubic Hermite interpolation through the points (Fritsch-Carlson
  monotone slopes), as modern BD tools use; it never overshoots between points.
- ``"cubic"``: the classic VCEG-M33 least-squares cubic polynomial, which needs 4 points.

A point that costs more rate than an earlier one without giving more quality says nothing about
the trade-off and breaks monotone interpolation, so curves are reduced to their strictly
increasing part (sorted by rate) before fitting.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

from ..errors import InrError

METHODS = ("pchip", "cubic")


class BDError(InrError, ValueError):
    """A BD figure cannot be computed (no overlap, too few points, bad values)."""


@dataclass(frozen=True)
class BDResult:
    """One BD figure and the range it was integrated over."""

    value: float  # percent for BD-rate, dB for BD-PSNR
    method: str
    overlap: tuple[float, float]  # PSNR in dB for BD-rate, bpp for BD-PSNR

    def to_dict(self) -> dict:
        return asdict(self)


def monotone_curve(rate: Sequence[float], quality: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    """The points sorted by rate, keeping only those that raise the quality.

    Raises BDError for non-positive or non-finite rates or non-finite quality.
    """
    r = np.asarray(rate, dtype=np.float64)
    q = np.asarray(quality, dtype=np.float64)
    if r.shape != q.shape or r.ndim != 1:
        raise BDError("rate and quality must be 1-D sequences of equal length")
    if not (np.all(np.isfinite(r)) and np.all(r > 0)):
        raise BDError("rates must be positive and finite")
    if not np.all(np.isfinite(q)):
        raise BDError("quality values must be finite")
    order = np.lexsort((-q, r))  # by rate; at equal rate the best quality first
    keep_r, keep_q = [], []
    for ri, qi in zip(r[order], q[order], strict=True):
        if not keep_q or (qi > keep_q[-1] and ri > keep_r[-1]):
            keep_r.append(ri)
            keep_q.append(qi)
    return np.array(keep_r), np.array(keep_q)


def _integral(x: np.ndarray, y: np.ndarray, lo: float, hi: float, method: str) -> float:
    """Integral over [lo, hi] of y interpolated as a function of x (x strictly increasing)."""
    if method == "pchip":
        from scipy.interpolate import PchipInterpolator

        return float(PchipInterpolator(x, y, extrapolate=False).integrate(lo, hi))
    if method == "cubic":
        poly = np.polynomial.Polynomial.fit(x, y, 3).integ()  # integ() respects the fit's scaled domain
        return float(poly(hi) - poly(lo))
    raise BDError(f"unknown BD method '{method}' (known: {', '.join(METHODS)})")


def _check_points(n: int, method: str, which: str) -> None:
    need = 4 if method == "cubic" else 2
    if n < need:
        raise BDError(f"the {which} curve has {n} usable point(s); {method} BD needs {need}")


def _delta(
    x_a: np.ndarray, y_a: np.ndarray, x_b: np.ndarray, y_b: np.ndarray, method: str, what: str
) -> tuple[float, tuple[float, float]]:
    """Mean of (y_b - y_a) over the shared x range; both curves strictly increasing in x."""
    _check_points(len(x_a), method, "anchor")
    _check_points(len(x_b), method, "test")
    lo, hi = max(x_a.min(), x_b.min()), min(x_a.max(), x_b.max())
    if not hi > lo:
        raise BDError(
            f"the curves share no {what} range (anchor {x_a.min():.4g}-{x_a.max():.4g}, "
            f"test {x_b.min():.4g}-{x_b.max():.4g})"
        )
    mean = (_integral(x_b, y_b, lo, hi, method) - _integral(x_a, y_a, lo, hi, method)) / (hi - lo)
    return mean, (float(lo), float(hi))


def bd_rate(
    anchor_rate: Sequence[float],
    anchor_psnr: Sequence[float],
    test_rate: Sequence[float],
    test_psnr: Sequence[float],
    method: str = "pchip",
) -> BDResult:
    """BD-rate of the test curve against the anchor, in percent (negative = fewer bits)."""
    r_a, q_a = monotone_curve(anchor_rate, anchor_psnr)
    r_b, q_b = monotone_curve(test_rate, test_psnr)
    mean, overlap = _delta(q_a, np.log10(r_a), q_b, np.log10(r_b), method, "PSNR")
    return BDResult(float(100.0 * (10.0**mean - 1.0)), method, overlap)


def bd_psnr(
    anchor_rate: Sequence[float],
    anchor_psnr: Sequence[float],
    test_rate: Sequence[float],
    test_psnr: Sequence[float],
    method: str = "pchip",
) -> BDResult:
    """BD-PSNR of the test curve against the anchor, in dB (positive = better quality)."""
    r_a, q_a = monotone_curve(anchor_rate, anchor_psnr)
    r_b, q_b = monotone_curve(test_rate, test_psnr)
    mean, (lo, hi) = _delta(np.log10(r_a), q_a, np.log10(r_b), q_b, method, "rate")
    return BDResult(float(mean), method, (float(10.0**lo), float(10.0**hi)))
