"""Known answers for the Bjøntegaard delta rate and PSNR."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inrcodec.bench.bdrate import METHODS, BDError, bd_psnr, bd_rate, monotone_curve

RATE = [0.1, 0.2, 0.35, 0.6, 1.0, 1.6]
PSNR = [24.0, 26.8, 29.1, 31.5, 34.0, 36.4]


@pytest.mark.parametrize("method", METHODS)
def test_a_curve_against_itself_is_zero(method):
    result = bd_rate(RATE, PSNR, RATE, PSNR, method=method)
    assert result.value == pytest.approx(0.0, abs=1e-9)
    assert result.overlap == (24.0, 36.4)
    assert bd_psnr(RATE, PSNR, RATE, PSNR, method=method).value == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize("method", METHODS)
def test_rates_scaled_by_0_8_give_minus_20_percent(method):
    result = bd_rate(RATE, PSNR, [0.8 * r for r in RATE], PSNR, method=method)
    assert result.value == pytest.approx(-20.0, abs=1e-6)


@pytest.mark.parametrize("method", METHODS)
def test_psnr_shifted_by_one_db_gives_bd_psnr_one(method):
    assert bd_psnr(RATE, PSNR, RATE, [p + 1 for p in PSNR], method=method).value == pytest.approx(1.0)


@pytest.mark.parametrize("method", METHODS)
def test_curves_without_psnr_overlap_raise_a_clear_error(method):
    with pytest.raises(BDError, match="share no PSNR range"):
        bd_rate(RATE, PSNR, RATE, [p + 20 for p in PSNR], method=method)


def test_the_cubic_fit_needs_four_points():
    with pytest.raises(BDError, match="needs 4"):
        bd_rate(RATE, PSNR, RATE[:3], PSNR[:3], method="cubic")
    assert abs(bd_rate(RATE, PSNR, RATE[:3], PSNR[:3], method="pchip").value) < 2.0


def test_the_overlap_is_the_shared_psnr_range():
    result = bd_rate(RATE, PSNR, RATE[2:], PSNR[2:])
    assert result.overlap == (29.1, 36.4)


def test_dominated_points_are_dropped_before_fitting():
    rate, psnr = monotone_curve([0.4, 0.1, 0.2, 0.3], [30.0, 25.0, 28.0, 27.5])
    assert rate.tolist() == [0.1, 0.2, 0.4]
    assert psnr.tolist() == [25.0, 28.0, 30.0]


def test_bad_values_are_rejected():
    with pytest.raises(BDError, match="positive"):
        bd_rate([0.0, 0.1], [20, 21], [0.1, 0.2], [20, 21])
    with pytest.raises(BDError, match="finite"):
        bd_rate([0.1, 0.2], [20, float("inf")], [0.1, 0.2], [20, 21])
    with pytest.raises(BDError, match="unknown BD method"):
        bd_rate(RATE, PSNR, RATE, PSNR, method="akima")


@settings(max_examples=40, deadline=None)
@given(
    steps=st.lists(st.floats(0.2, 3.0), min_size=4, max_size=8),
    factor=st.floats(0.3, 3.0),
    method=st.sampled_from(METHODS),
)
def test_a_constant_rate_factor_is_recovered_exactly(steps, factor, method):
    psnr = np.cumsum(steps) + 20.0
    rate = 0.05 * np.exp(0.23 * (psnr - 20.0))  # any increasing rate curve
    result = bd_rate(rate, psnr, factor * rate, psnr, method=method)
    assert result.value == pytest.approx(100.0 * (factor - 1.0), rel=1e-6, abs=1e-6)
