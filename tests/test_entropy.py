import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from inrcodec import entropy
from inrcodec.errors import FormatError


@settings(max_examples=60, deadline=None)
@given(
    arrays(np.int64, st.integers(1, 300), elements=st.integers(-600, 600)),
    st.integers(0, entropy.NUM_SCALES - 1),
)
def test_random_arrays_round_trip_exactly(symbols, scale_index):
    lo, hi = int(symbols.min()), int(symbols.max())
    model = entropy.SymbolModel.laplace(scale_index, lo, hi)
    enc = entropy.StreamEncoder()
    enc.add(symbols, model)
    dec = entropy.StreamDecoder(enc.finish())
    out = dec.read(symbols.size, model)
    dec.finish()
    np.testing.assert_array_equal(out, symbols)


@settings(max_examples=25, deadline=None)
@given(st.lists(arrays(np.int64, st.integers(0, 50), elements=st.integers(-40, 40)), max_size=5))
def test_several_chunks_come_back_in_order(chunks):
    models = [entropy.SymbolModel.laplace(24, -40, 40) for _ in chunks]
    enc = entropy.StreamEncoder()
    for c, m in zip(chunks, models):
        enc.add(c, m)
    dec = entropy.StreamDecoder(enc.finish())
    for c, m in zip(chunks, models):
        np.testing.assert_array_equal(dec.read(c.size, m), c)
    dec.finish()


def test_phi_table_is_the_documented_laplace_parameter():
    for s, phi in enumerate(entropy._PHI_Q32):
        exact = 2**32 * math.exp(-1 / (2 * entropy.laplace_scale(s)))
        assert abs(phi - exact) <= 1


def test_tables_are_integer_positive_and_peaked_at_zero():
    counts = entropy.laplace_counts(20, -30, 30)
    assert counts.dtype == np.int64 and (counts > 0).all()
    assert counts.argmax() == 30
    np.testing.assert_array_equal(counts, counts[::-1])


def _reference_powers(base: int, bits: int, count: int) -> list[int]:
    """The whole recurrence of entropy._powers, run to ``count`` terms without stopping early."""
    out = [1 << bits]
    for _ in range(count):
        out.append((out[-1] * base + (1 << (bits - 1))) >> bits)
    return out


def _reference_shifted(scale: int, frac: int, lo: int, hi: int) -> np.ndarray:
    """shifted_laplace_counts from its docstring, with psi's powers computed in full."""
    powers = _reference_powers(entropy._PSI_Q30[scale], 30, 32 * (hi - lo + abs(lo) + abs(hi) + 2) + 16)
    out = []
    for r in range(lo, hi + 1):
        low = 32 * r - 2 * frac - 16
        up = low + 32
        if low >= 0:
            mass = (powers[low] - powers[up]) >> 1
        elif up <= 0:
            mass = (powers[-up] - powers[-low]) >> 1
        else:
            mass = (1 << 30) - (powers[up] >> 1) - (powers[-low] >> 1)
        out.append((mass >> 6) + 1)
    return np.array(out)


@pytest.mark.parametrize("scale", [0, 20, 57, entropy.NUM_SCALES - 1])
def test_shifted_tables_depend_on_the_symbol_only_not_the_range(scale):
    # A bank slices one block per scale over -R..R, built lazily and widened on demand: every
    # range must get what a table built for that range alone holds.
    entropy._SHIFTED_BLOCKS.pop(scale, None)
    for lo, hi in [(-2, 3), (-40, 1), (0, 0), (-70, 90), (-3, 2)]:  # the second and fourth widen the block
        for frac in (-8, -1, 0, 7):
            np.testing.assert_array_equal(entropy.shifted_laplace_counts(scale, frac, lo, hi),
                                          _reference_shifted(scale, frac, lo, hi))  # fmt: skip
    bank = entropy.ShiftedLaplaceBank(-5, 4)
    keys = entropy.ShiftedLaplaceBank.key(np.array([scale, scale, 3]), np.array([-8, 7, 0]))
    np.testing.assert_array_equal(bank.rows(keys)[1], _reference_shifted(scale, 7, -5, 4))


def test_powers_extended_on_demand_are_the_whole_recurrence():
    base = entropy._PHI_Q32[70]
    entropy._POWERS.pop((32, base), None)
    reference = _reference_powers(base, 32, 5000)
    for n in ([3], [100, 7], [4999, 0, 2500]):  # extends twice, then serves from what it has
        np.testing.assert_array_equal(entropy._powers(base, 32, np.array(n)), [reference[i] for i in n])


def test_coding_cost_is_close_to_the_ideal():
    q = np.random.default_rng(1).laplace(0, 4, 20000).round().astype(np.int64)
    s = entropy.best_scale_index(q)
    model = entropy.SymbolModel.laplace(s, int(q.min()), int(q.max()))
    enc = entropy.StreamEncoder()
    enc.add(q, model)
    real_bits = 8 * len(enc.finish())
    assert real_bits <= model.ideal_bits(q) * 1.01 + 64
    # and well below fixed-width packing of the same range
    assert real_bits < q.size * math.ceil(math.log2(q.max() - q.min() + 1)) * 0.85


def test_constant_tensor_costs_nothing():
    enc = entropy.StreamEncoder()
    enc.add(np.full(100, 7), entropy.SymbolModel.laplace(3, 7, 7))
    assert enc.finish() == b""


def test_symbol_outside_model_range_is_refused():
    enc = entropy.StreamEncoder()
    with pytest.raises(ValueError):
        enc.add(np.array([5]), entropy.SymbolModel.laplace(3, -2, 2))


def test_leftover_payload_is_detected():
    model = entropy.SymbolModel.laplace(20, -5, 5)
    enc = entropy.StreamEncoder()
    enc.add(np.arange(-5, 6), model)
    dec = entropy.StreamDecoder(enc.finish())
    dec.read(3, model)
    with pytest.raises(FormatError):
        dec.finish()


@pytest.mark.parametrize("bad", [b"\x00\x00\x00", b"\x00\x00\x00\x00"])
def test_malformed_payload_is_a_format_error(bad):
    with pytest.raises(FormatError):
        entropy.StreamDecoder(bad)
