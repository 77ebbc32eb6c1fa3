"""Mutation fuzzing on a CI budget, the fuzzers' corpus replayed, and the resource limits.

Every input must end in a decoded signal or an InrError with a one-line message
(:func:`tests.fuzz.harness.check_outcome`); the coverage-guided campaign is
``tests/fuzz/fuzz_decode.py`` (docs/reliability.md). Mutations that keep the CRC valid reach the
header parser, the limits and the entropy decoder instead of stopping at the checksum.
"""

from __future__ import annotations

import dataclasses
import struct
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import inrcodec
from inrcodec import container, decoder, limits
from inrcodec.errors import FormatError, LimitError, OptionError
from inrcodec.limits import Limits

from .fuzz import fuzz_structured, harness, resources

FUZZ = Path(__file__).resolve().parent / "fuzz"
SEEDS = {p.name: p.read_bytes() for p in sorted((FUZZ / "seeds").glob("*.inr"))}
#: the minimised corpus of the atheris campaign and any input that once crashed the decoder
REPLAY = sorted((FUZZ / "corpus").glob("*")) + sorted((FUZZ / "regressions").glob("*"))

seeds = st.sampled_from(sorted(SEEDS))
budget = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def test_every_seed_decodes():
    assert {harness.check_outcome(data) for data in SEEDS.values()} == {"decoded"}
    families = {container.unpack(d)[0].family for d in SEEDS.values()}
    assert families == {1, 2, 3, 4, 6}


def reframed(data: bytes, header: bytes | None = None, payload: bytes | None = None) -> bytes:
    version, h, p = harness.split(data)
    return harness.frame(version, h if header is None else header, p if payload is None else payload)


@budget
@given(seeds, st.data())
def test_byte_flips(name, data):
    raw = bytearray(SEEDS[name])
    for _ in range(data.draw(st.integers(1, 4))):
        raw[data.draw(st.integers(0, len(raw) - 1))] ^= data.draw(st.integers(1, 255))
    harness.check_outcome(bytes(raw))
    if harness.split(bytes(raw)):  # the same damage behind a valid CRC
        harness.check_outcome(reframed(bytes(raw)))


@budget
@given(seeds, st.data())
def test_truncations_and_insertions(name, data):
    raw = SEEDS[name]
    cut = data.draw(st.integers(0, len(raw) - 1))
    assert harness.check_outcome(raw[:cut]) != "decoded"
    at = data.draw(st.integers(0, len(raw)))
    harness.check_outcome(raw[:at] + data.draw(st.binary(min_size=1, max_size=16)) + raw[at:])


@budget
@given(seeds, seeds, st.data())
def test_splices_behind_a_valid_crc(a, b, data):
    _, ha, pa = harness.split(SEEDS[a])
    _, hb, pb = harness.split(SEEDS[b])
    header = ha[: data.draw(st.integers(0, len(ha)))] + hb[data.draw(st.integers(0, len(hb))) :]
    payload = pa[: data.draw(st.integers(0, len(pa)))] + pb[data.draw(st.integers(0, len(pb))) :]
    harness.check_outcome(reframed(SEEDS[a], header=header, payload=payload))


@budget
@given(seeds, st.data())
def test_header_field_edits_behind_a_valid_crc(name, data):
    raw = SEEDS[name]
    _, header, _ = harness.split(raw)
    for _ in range(data.draw(st.integers(1, 3))):
        value = data.draw(st.sampled_from(harness.INTERESTING) | st.integers(0, 1 << 70))
        header = harness.edit_field(header, data.draw(st.integers(0, 200)), value)
    harness.check_outcome(reframed(raw, header=header))


@budget
@given(seeds, st.data())
def test_payload_edits_behind_a_valid_crc(name, data):
    raw = SEEDS[name]
    _, _, payload = harness.split(raw)
    payload = bytearray(payload)
    if payload:
        for _ in range(data.draw(st.integers(1, 4))):
            payload[data.draw(st.integers(0, len(payload) - 1))] = data.draw(st.integers(0, 255))
    payload += data.draw(st.binary(max_size=12))
    harness.check_outcome(reframed(raw, payload=bytes(payload)))


@budget
@given(seeds, st.data())
def test_structured_header_edits(name, data):
    """Edits through the parsed Header, so that every arch number and tensor field is hit with
    the rest of the header intact."""
    header, payload = container.unpack(SEEDS[name])
    for _ in range(data.draw(st.integers(1, 2))):
        field = data.draw(st.sampled_from(harness.header_fields(header)))
        value = harness.nearby(harness.get_field(header, field), data.draw(st.integers(0, 1 << 16)))
        header = harness.with_field(header, field, value)
    harness.check_outcome(container.pack(header, payload))


@pytest.mark.parametrize("path", REPLAY, ids=lambda p: p.name[:16])
def test_fuzz_corpus_replays_cleanly(path):
    harness.check_outcome(path.read_bytes())


@pytest.mark.skipif(not resources.can_measure_memory(), reason="needs Linux's /proc/self/clear_refs")
def test_structure_aware_fuzzing_on_a_budget(tmp_path, monkeypatch):
    """The structure-aware fuzzer (extreme values in every header field, valid CRCs) for a few
    hundred inputs: each ends in a decode or a one-line InrError *and* stays within the cost
    model's memory and time (tests/fuzz/fuzz_structured.py; the campaign is docs/reliability.md)."""
    # CPU time on another (slower, loaded) CI machine: twice the campaign's allowance, and room for
    # one-time costs (first calls, lazy imports) that an in-process decode pays on its first input
    monkeypatch.setattr(fuzz_structured, "TIME_FACTOR", 2 * fuzz_structured.TIME_FACTOR)
    monkeypatch.setattr(fuzz_structured, "TIME_SLACK", 0.5)
    stats = fuzz_structured.run(minutes=2.0, seed=7, artifacts=tmp_path, executions=150)
    assert stats.findings == 0, sorted(p.name for p in tmp_path.iterdir())
    assert stats.decoded and stats.refused


def test_the_issue_14_regressions_are_refused_or_decoded_within_bounds():
    """Each input of issue 14 (tests/fuzz/regressions), under the default limits: a one-line
    refusal, or a decode the cost model bounds."""
    names = ["rgb16.inr", "grid_latent_overflow.inr", "grid_context_256.inr", "grid_tall_1e6.inr"]
    outcomes = {}
    for name in names:
        data = (FUZZ / "regressions" / name).read_bytes()
        try:
            cost = resources.estimate(data, {}, limits.DEFAULT_LIMITS)
        except (FormatError, LimitError) as e:
            outcomes[name] = str(e)
            continue
        outcomes[name] = cost
    assert "16-bit depth is for grayscale" in outcomes["rgb16.inr"]
    assert outcomes["grid_latent_overflow.inr"].memory < 1 << 28  # refused while decoding (below)
    with pytest.raises(FormatError, match="beyond"):
        inrcodec.decode((FUZZ / "regressions" / "grid_latent_overflow.inr").read_bytes())
    assert outcomes["grid_context_256.inr"].memory < 256 << 20  # decodes within --max-memory 256
    assert outcomes["grid_tall_1e6.inr"].work > 10**9 * 100  # more than --max-work 100


# --- resource limits: refused from the header, before allocating -------------------------------


def _image_with(**changes) -> bytes:
    header, payload = container.unpack(SEEDS["siren_rgb.inr"])
    signal = dataclasses.replace(header.signal, **changes.pop("signal", {}))
    return container.pack(dataclasses.replace(header, signal=signal, **changes), payload)


@pytest.mark.parametrize(
    "data,message",
    [
        (_image_with(signal={"width": 10**9, "height": 10**9}), "max_output_pixels"),
        (_image_with(arch=(10**6, 2, 480, 480)), "max_layers"),
        (_image_with(arch=(4, 10**5, 480, 480)), "max_parameters"),
        (_image_with(arch=(1, 10**7, 480, 480)), "max_parameters"),
    ],
    ids=["1e9x1e9 pixels", "1e6 layers", "1e5 wide", "1e7 wide, 1 layer"],
)
def test_absurd_headers_are_refused_by_name(data, message):
    with pytest.raises(LimitError, match=message):
        inrcodec.decode(data)


def test_a_wide_network_at_a_large_size_is_refused_by_work():
    # 1 layer of 5e6 units: 3e7 parameters, within max_parameters; at 100x (1.2 M pixels) it
    # would take some 4e13 multiply-adds, an hour of CPU
    data = _image_with(arch=(1, 5_000_000, 480, 480))
    with pytest.raises(LimitError, match="max_work"):
        inrcodec.decode(data, scale=100)


def test_a_huge_grid_canvas_is_refused_before_allocating():
    """One 1x1 latent level of 64 channels on a 40 000^2 canvas: a few hundred parameters, but
    its feature grid would be 10^11 floats, built whatever the output size."""
    data = (FUZZ / "regressions" / "grid_huge_canvas.inr").read_bytes()
    with pytest.raises(LimitError, match="max_memory"):
        inrcodec.decode(data, width=4)


def test_decode_scale_1000_and_infinite_scale():
    data = SEEDS["grid_rgb.inr"]  # 16 x 12: 192 M pixels at 1000x
    with pytest.raises(LimitError, match="max_output_pixels"):
        inrcodec.decode(data, scale=1000)
    with pytest.raises(OptionError):
        inrcodec.decode(data, scale=1e308)


def test_a_ten_gigabyte_file_is_refused_unread(tmp_path):
    big = tmp_path / "huge.inr"
    with open(big, "wb") as f:
        f.write(SEEDS["siren_rgb.inr"])
        f.truncate(10 * 2**30)  # sparse: nothing is written or read
    with pytest.raises(LimitError, match="over the limit"):
        inrcodec.decode(big)


def test_a_payload_length_past_the_file_is_truncation():
    raw = bytearray(SEEDS["siren_rgb.inr"])
    (h,) = struct.unpack_from("<I", raw, 6)
    struct.pack_into("<I", raw, 10 + h, 0xFFFF_FFFF)  # a 4 GB payload in a tiny file
    with pytest.raises(FormatError, match="truncated"):
        inrcodec.decode(bytes(raw))


def test_an_absurd_stored_sample_rate_is_malformed():
    header, payload = container.unpack(SEEDS["segments_siren_mono.inr"])
    fast = dataclasses.replace(header, signal=dataclasses.replace(header.signal, rate=2**31 - 1))
    with pytest.raises(FormatError, match="sample rate"):
        inrcodec.decode_audio(container.pack(fast, payload))


def test_wide_symbol_tables_are_refused_cheaply():
    """A table far from zero used to cost a Python loop of 2|lo| steps (hours for lo = 2^31)."""
    header, payload = container.unpack(SEEDS["siren_rgb.inr"])
    t = dataclasses.replace(header.tensors[0], lo=2**31 - 5, hi=2**31)
    bad = dataclasses.replace(header, tensors=(t, *header.tensors[1:]))
    with pytest.raises(FormatError, match="entropy table"):
        inrcodec.decode(container.pack(bad, payload))


def test_limits_can_be_raised_for_users_who_need_more():
    data = SEEDS["siren_rgb.inr"]
    tight = Limits(max_output_pixels=100)
    with pytest.raises(LimitError):
        inrcodec.decode(data, limits=tight)
    assert inrcodec.decode(data, scale=40, limits=Limits(max_output_pixels=1 << 28)).shape == (400, 480, 3)


def test_wide_networks_decode_in_smaller_bands():
    """Band size follows the widest layer, so activations stay bounded (BAND_FLOATS)."""
    header, _ = container.unpack(SEEDS["siren_rgb.inr"])
    cost = decoder.check_decode(header, 2, 3, (10, 12), limits.DEFAULT_LIMITS, 360)
    assert cost.band_points() == 1 << 16
    wide = dataclasses.replace(header, arch=(1, 2_000_000, 480, 480))
    cost = decoder.check_decode(wide, 2, 3, (10, 12), Limits(max_parameters=10**8, max_memory=1 << 40), 360)
    assert cost.band_points() * cost.point_floats <= 1 << 24
    assert np.prod((10, 12)) > 0
