"""The audio benchmark: the MDCT reference coder, the references at their best, the outputs.

Clips are a fraction of a second: these tests check behaviour (exact transforms, real bytes that
decode, rates met, the envelope rule), not the published numbers (benchmarks/results/audio/).
"""

from __future__ import annotations

import math
from typing import ClassVar

import numpy as np
import pytest
import soundfile as sf

from inrcodec.bench import audio as bench
from inrcodec.bench import mdct
from inrcodec.metrics import snr_db


def music(seconds: float = 0.5, rate: int = 16000, channels: int = 1, seed: int = 0) -> np.ndarray:
    """Decaying harmonic tones with a little noise: (frames, channels) float in [-1, 1]."""
    rng = np.random.default_rng(seed)
    t = np.arange(round(seconds * rate)) / rate
    out = []
    for c in range(channels):
        f = 220.0 * (1 + 0.5 * c)
        x = sum(0.3 / k * np.sin(2 * np.pi * k * f * t + k) for k in range(1, 6)) * np.exp(-1.5 * t)
        out.append(x + 0.01 * rng.standard_normal(len(t)))
    return np.stack(out, axis=1)


# --- the transform -------------------------------------------------------------------------------


@pytest.mark.parametrize("frames", [1, 100, mdct.HOP, mdct.FRAME, 5001])
def test_mdct_and_its_inverse_reconstruct_exactly(frames):
    x = np.random.default_rng(frames).standard_normal(frames)
    coeffs = mdct.mdct(x)
    assert coeffs.shape == (mdct.frame_count(frames), mdct.HOP)
    assert np.abs(mdct.imdct(coeffs, frames) - x).max() < 1e-10  # TDAC: the aliasing cancels


def test_the_transform_is_orthonormal_so_coefficient_error_is_signal_error():
    x = np.random.default_rng(1).standard_normal(4 * mdct.HOP)
    noise = 1e-3 * np.random.default_rng(2).standard_normal((mdct.frame_count(len(x)), mdct.HOP))
    y = mdct.imdct(mdct.mdct(x) + noise, len(x))
    # The frames at the padded ends lose part of their error outside the clip; the rest keeps it.
    assert np.sum((y - x) ** 2) == pytest.approx(np.sum(noise**2), rel=0.35)
    assert np.sum((y - x) ** 2) <= np.sum(noise**2) * (1 + 1e-9)


# --- the coder -----------------------------------------------------------------------------------


def test_a_fine_step_reconstructs_almost_exactly():
    x = music()
    y, rate = mdct.decode(mdct.encode_at_step(x, 16000, 1e-3))
    assert rate == 16000 and y.shape == x.shape
    assert np.abs(y - x).max() < 5e-3
    assert snr_db(x, y) > 45


def test_decoding_gives_exactly_the_encoders_quantised_coefficients():
    """The entropy coding is lossless: the decoder rebuilds the same integers."""
    x, step = music(), 0.01
    q = np.rint(mdct.mdct(x[:, 0]) / np.float32(step)) * np.float32(step)
    y, _ = mdct.decode(mdct.encode_at_step(x, 16000, step))
    assert np.abs(y[:, 0] - mdct.imdct(q, len(x))).max() < 1e-12


def test_stereo_is_coded_as_mid_side_and_comes_back():
    x = music(channels=2)
    data = mdct.encode_at_step(x, 16000, 1e-3)
    assert data[13] == 1  # the mid/side flag
    y, _ = mdct.decode(data)
    assert y.shape == x.shape and np.abs(y - x).max() < 5e-3
    three = np.concatenate([x, x[:, :1]], axis=1)
    y3, _ = mdct.decode(mdct.encode_at_step(three, 16000, 1e-3))
    assert y3.shape == three.shape and np.abs(y3 - three).max() < 5e-3


@pytest.mark.parametrize("kbps", [16.0, 64.0])
def test_the_real_file_meets_the_target_rate(kbps):
    x = music(1.0)
    encoding = mdct.encode(x, 16000, kbps)
    assert abs(8 * len(encoding.data) / 1.0 / 1000 / kbps - 1) <= 0.03
    assert encoding.data == mdct.encode_at_step(x, 16000, encoding.step)


def test_snr_rises_with_rate():
    x = music(1.0)
    snrs = [snr_db(x, mdct.decode(mdct.encode(x, 16000, k).data)[0]) for k in (8, 16, 32, 64)]
    assert all(a < b for a, b in zip(snrs, snrs[1:])), snrs


def test_silence_codes_to_silence():
    x = np.zeros((3000, 1))
    y, _ = mdct.decode(mdct.encode(x, 8000, 16).data)
    assert np.array_equal(y, x)


def test_a_foreign_file_is_refused():
    with pytest.raises(ValueError, match="not an MDCT reference file"):
        mdct.decode(b"RIFF" + bytes(40))


def test_a_step_too_fine_for_the_integer_range_is_refused():
    with pytest.raises(ValueError, match="too fine"):
        mdct.encode_at_step(music(), 16000, 1e-9)


def test_the_context_classes_cover_the_scale_table():
    q = np.random.default_rng(0).integers(-300, 300, (5, mdct.HOP))
    classes = mdct.context_classes(q)
    assert classes.min() >= 0 and classes.max() < mdct.BUCKETS * mdct.BANDS
    assert np.all(classes[0] // mdct.BANDS == 0)  # the first frame has no previous one


# --- the references at their best ----------------------------------------------------------------


def test_mp3_and_opus_try_the_sample_rates_they_support():
    assert bench.Mp3().coding_rates(44100) == [44100, 32000, 22050, 16000, 11025]
    assert bench.Mp3().coding_rates(48000) == [48000, 32000, 24000, 16000, 12000]
    assert bench.Opus().coding_rates(44100) == [48000, 24000, 16000, 12000]
    assert bench.Mp3.modes == ("VARIABLE", "CONSTANT")


class _Fake(bench._Libsndfile):
    """A format whose 'files' are as long as its SNR table says, to test the choice rule alone."""

    name = "fake"
    table: ClassVar[dict] = {(8000, None): (100, 30.0), (16000, None): (110, 20.0), (24000, None): (90, 10.0)}

    def coding_rates(self, rate):
        return [8000, 16000, 24000]

    def _write(self, samples, rate, level, mode):
        return bytes([rate // 8000]) * self.table[(rate, mode)][0]

    def decode(self, data, clip):
        snr = self.table[(8000 * data[0], None)][1]
        return clip.samples * (1 + 10 ** (-snr / 20))


def test_the_best_snr_at_no_more_than_the_target_rate_is_kept():
    clip = bench.Clip("c", np.ones((1000, 1), np.float32), 1000, "ones")
    choice = _Fake().choose(clip, kbps=0.8)  # the target: 100 bytes
    assert len(choice["candidates"]) == 3
    assert choice["coding_rate"] == 8000  # 30 dB at 100 bytes; 16000 is over the target
    too_big = _Fake()
    too_big.table = {(8000, None): (200, 30.0), (16000, None): (300, 20.0), (24000, None): (250, 10.0)}
    assert too_big.choose(clip, kbps=0.8)["coding_rate"] == 8000  # none fits: the nearest


def test_opus_choice_keeps_the_best_candidate():
    clip = bench.Clip("m", music(0.5, 48000).astype(np.float32), 48000, "music")
    choice = bench.Opus().choose(clip, 32)
    fitting = [c for c in choice["candidates"] if c["kbps"] <= 1.05 * 32]
    assert fitting and max(c["snr"] for c in fitting) == next(
        c["snr"] for c in fitting if c["coding_rate"] == choice["coding_rate"]
    )


# --- the run and its outputs ---------------------------------------------------------------------


def test_a_small_run_writes_rows_tables_excerpts_and_spectrograms(tmp_path):
    clip = bench.Clip("tiny", music(0.4, 16000).astype(np.float32), 16000, "tiny music")
    config = bench.AudioBenchConfig(
        clips=[clip], output=tmp_path, codecs=[("mdct", {}), ("opus", {})], kbps=[16.0, 32.0],
        listen_clips=["tiny"], listen_kbps=[16.0], listen_seconds=0.25,
    )  # fmt: skip
    outcome = bench.run_audio_benchmark(config)
    assert (outcome.tasks, outcome.computed) == (4, 4)
    rows = {(r["codec"], r["target_kbps"]): r for r in bench.RowCache(tmp_path).rows()}
    assert rows[("mdct", 32.0)]["snr"] > rows[("mdct", 16.0)]["snr"]
    assert all(r["encode_cpu_s"] >= 0 for r in rows.values())
    for name in ("summary.md", "references.md", "encode_time.md", "audio.csv", "rd_snr.png", "mdct.json"):
        assert (tmp_path / name).exists(), name
    assert "| tiny | opus | 16 |" in (tmp_path / "references.md").read_text()
    excerpts = sorted(p.name for p in (tmp_path / "listen").iterdir())
    assert excerpts == ["tiny-mdct-16kbps.flac", "tiny-opus-16kbps.flac", "tiny-original.flac"]
    assert math.isclose(sf.info(tmp_path / "listen" / "tiny-original.flac").duration, 0.25)
    assert (tmp_path / "spectrograms-tiny.png").stat().st_size > 1000
    again = bench.run_audio_benchmark(config)
    assert again.computed == 0  # cached


def test_the_summary_sets_the_codecs_side_by_side_with_inrcodecs_gap():
    def row(variant, kbps, real, snr):
        return {"variant": variant, "target_kbps": kbps, "kbps": real, "snr": snr, "segsnr": snr - 1, "lsd": 40 - snr}

    rows = [row("inr-effort=default", 16.0, 16.1, 10.0), row("mp3", 16.0, 16.2, 19.0), row("mdct", 16.0, 16.0, 26.5),
            row("inr-effort=default", 64.0, 63.8, 17.5), row("opus", 64.0, 80.0, 28.0)]  # fmt: skip
    lines = bench.comparison_markdown(rows)
    assert lines[0].startswith("| target kbit/s | inr-effort=default SNR / segSNR dB | mdct")
    assert lines[2] == "| 16 | 10.00 / 9.00 | 26.50 / 25.50 | 19.00 / 18.00 | – | -16.50 |"
    assert lines[3] == "| 64 | 17.50 / 16.50 | – | – | 28.00 / 27.00 (80.0 kbit/s) | -10.50 |"
    lsd = bench.comparison_markdown(rows, ("lsd",))
    assert lsd[0].endswith("| opus LSD dB |") and lsd[2] == "| 16 | 30.00 | 13.50 | 21.00 | – |"
