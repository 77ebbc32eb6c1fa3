"""The audio latent grid (the default audio model): synthesis, context, coding, rate, decoding, errors.

Clips are short and the context trains for a few dozen steps: these tests check behaviour and
bounds; the benchmark (benchmarks/results/audio/) measures quality.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from click.testing import CliRunner

import inrcodec
from inrcodec import container, decoder
from inrcodec.audio import AudioEncodeOptions, decode_audio, encode_audio_clip, open_audio
from inrcodec.cli import main
from inrcodec.errors import FormatError, OptionError
from inrcodec.grid import audio as grid_audio
from inrcodec.grid import lapped
from inrcodec.metrics import snr_db

#: context training steps: enough to exercise every path, not to code well
QUICK = {"steps": 24, "seed": 0}


def chord(seconds: float = 1.0, rate: int = 16000, channels: int = 1, seed: int = 0) -> np.ndarray:
    """Decaying harmonic notes with a little noise: small, deterministic and music-like."""
    rng = np.random.default_rng(seed)
    t = np.arange(round(seconds * rate)) / rate
    out = []
    for _ in range(channels):
        x = np.zeros_like(t)
        for f in rng.uniform(150, 900, 3):
            x += sum(0.25 / k * np.sin(2 * np.pi * k * f * t + rng.uniform(0, 6)) for k in (1, 2, 3, 4))
        out.append(x * np.exp(-1.5 * t) + 0.003 * rng.standard_normal(len(t)))
    return (np.stack(out, axis=1) * 0.8).astype(np.float32)


@pytest.fixture(scope="module")
def stereo_blob() -> bytes:
    return inrcodec.encode_audio(chord(0.5, 16000, 2), 16000, kbps=48, **QUICK)


# --- the synthesis ---------------------------------------------------------------------------------


def test_the_lapped_transform_reconstructs_exactly():
    x = np.random.default_rng(1).standard_normal(3000)
    c = lapped.analysis(x, 256)
    assert c.shape == (lapped.frame_count(3000, 256), 256)
    assert np.abs(lapped.synthesis(c, 3000, 256) - x).max() < 1e-10
    # any block of the clip, from the frames that reach it
    assert np.abs(lapped.synthesis(c, 700, 256, start=1100) - x[1100:1800]).max() < 1e-10
    # the general synthesis at whole positions is the same function
    assert np.abs(lapped.synthesis_at(c, np.arange(3000.0), 256) - x).max() < 1e-10


def test_the_synthesis_is_orthonormal():
    """Squared error in the coefficients is squared error in the samples: what lets the encoder
    measure distortion on the grid."""
    rng = np.random.default_rng(2)
    c = np.zeros((lapped.frame_count(4096, 128), 128))
    c[1:-1] = rng.standard_normal((len(c) - 2, 128))  # frames entirely inside the clip
    x = lapped.synthesis(c, 4096, 128)
    assert math.isclose(float((x**2).sum()), float((c**2).sum()), rel_tol=1e-9)


def test_the_synthesis_is_continuous_between_samples():
    rng = np.random.default_rng(3)
    c = lapped.analysis(rng.standard_normal(2048), 128)
    p = np.sort(rng.uniform(-200, 2300, 4000))
    # a jump anywhere (a window's edge, a frame's start) would show at some position
    delta = np.abs(lapped.synthesis_at(c, p + 1e-7, 128) - lapped.synthesis_at(c, p, 128))
    assert delta.max() < 1e-4
    # positions in any order give the same values
    perm = rng.permutation(len(p))
    assert np.array_equal(lapped.synthesis_at(c, p[perm], 128), lapped.synthesis_at(c, p, 128)[perm])


def test_the_hop_follows_the_rate():
    assert [lapped.default_hop(r) for r in (8000, 16000, 22050, 44100, 48000, 96000)] == [
        256,
        512,
        512,
        1024,
        1024,
        2048,
    ]


# --- the context -------------------------------------------------------------------------------------


def test_magnitude_features_are_mitchell_logarithms_in_q4():
    values = np.array([0, 1, -1, 2, 3, 7, 255, -1000, 1 << 17])
    expected = [0, 16, 16, 24, 32, 48, 128, 16 * 9 + 15, 16 * 17]
    assert grid_audio.magnitude_feature(values).tolist() == expected


def test_frame_inputs_read_earlier_frames_only():
    z = np.arange(5 * 8).reshape(5, 8) - 20
    inputs = grid_audio.frame_inputs(z, 2, 3)
    later = z.copy()
    later[2:] = 999  # the frame itself and later ones must not matter
    assert np.array_equal(grid_audio.frame_inputs(later, 2, 3), inputs)
    # every frame at once equals frame by frame (the encoder's and the decoder's ways)
    whole = grid_audio.frame_inputs(z, 0, 5)
    assert np.array_equal(whole, np.concatenate([grid_audio.frame_inputs(z, m, m + 1) for m in range(5)]))


# --- encode and decode --------------------------------------------------------------------------------


def test_the_grid_is_the_default_audio_model_and_lands_on_the_target():
    x = chord()
    for kbps in (16, 48):
        result = encode_audio_clip(x, AudioEncodeOptions(kbps=kbps, **QUICK), rate=16000)
        header, _ = container.unpack(result.data)
        assert header.family == lapped.AudioGrid.family_id and header.version == (2, 2)
        assert abs(result.kbps / kbps - 1) <= 0.10, result.kbps
        assert result.snr > 15


def test_snr_rises_with_the_bitrate():
    x = chord()
    snrs = [encode_audio_clip(x, AudioEncodeOptions(kbps=k, **QUICK), rate=16000).snr for k in (8, 24, 64)]
    assert snrs[0] < snrs[1] < snrs[2], snrs


def test_the_same_options_give_the_same_bytes():
    x = chord(0.5)
    a = inrcodec.encode_audio(x, 16000, kbps=32, **QUICK)
    assert a == inrcodec.encode_audio(x, 16000, kbps=32, **QUICK)


def test_stereo_is_coded_as_mid_and_side(stereo_blob):
    header, _ = container.unpack(stereo_blob)
    assert header.arch[3] == 1 and header.signal.channels == 2
    y, rate = decode_audio(stereo_blob)
    assert rate == 16000 and y.shape == (8000, 2)
    assert snr_db(chord(0.5, 16000, 2), y) > 15


def test_the_entropy_decoded_latents_are_the_coded_ones(stereo_blob):
    symbols = decoder.entropy_decoded(stereo_blob)
    assert len(symbols) == 4 + 2  # the context network, then one latent grid per channel
    header, _ = container.unpack(stereo_blob)
    hop, frames = header.arch[:2]
    assert symbols[4].shape == (lapped.frame_count(frames, hop), hop)
    for t, z in zip(header.tensors[4:], symbols[4:]):
        assert (int(z.min()), int(z.max())) == (t.lo, t.hi)


@pytest.mark.parametrize("rate", [16000, 8000, 11025, 44100, 96000])
def test_any_rate_decodes_to_the_right_length(stereo_blob, rate):
    y, got = decode_audio(stereo_blob, rate=rate)
    assert got == rate and y.shape == (math.floor(8000 * rate / 16000 + 0.5), 2)
    assert np.isfinite(y).all()


def test_an_upsampled_decode_is_smooth_and_holds_nothing_above_the_original_nyquist(stereo_blob):
    base, _ = decode_audio(stereo_blob)
    up, _ = decode_audio(stereo_blob, rate=64000)
    assert np.abs(np.diff(up, axis=0)).max() <= np.abs(np.diff(base, axis=0)).max()
    # (windowed: the clip's abrupt start and end would spread over every frequency)
    spectrum = np.abs(np.fft.rfft(up[:, 0].astype(np.float64) * np.hanning(len(up)))) ** 2
    freqs = np.fft.rfftfreq(len(up), 1 / 64000)
    assert spectrum[freqs > 8000].sum() < 1e-6 * spectrum.sum()
    # and it passes through the stored-rate decode: every fourth sample sits between two stored
    # ones, so their mean is close
    mid = (base[:-1] + base[1:]) / 2
    assert snr_db(mid[100:-100], up[2:-2:4][100 : len(mid) - 100]) > 10


def test_a_long_clip_decodes_in_bounded_blocks():
    x = chord(20.0, 8000) * 0.5
    blob = inrcodec.encode_audio(x, 8000, kbps=16, steps=8, seed=0)
    decoding = open_audio(blob)
    sizes = [len(b) for b in decoding.blocks()]
    assert sum(sizes) == len(x) and max(sizes) <= 1 << 16


def test_the_cli_encodes_and_describes_the_grid(tmp_path):
    import soundfile as sf

    src = tmp_path / "c.wav"
    sf.write(src, chord(0.5), 16000, subtype="PCM_16")
    inr = tmp_path / "c.inr"
    runner = CliRunner()
    r = runner.invoke(
        main, ["encode", str(src), "-o", str(inr), "--kbps", "32", "--effort", "fast", "--json", "--quiet"]
    )
    assert r.exit_code == 0, r.output
    record = json.loads(r.stdout)
    assert record["steps"] >= grid_audio.EFFORT_STEPS["fast"]
    assert record["model"] == "grid" and "segments" not in record
    r = runner.invoke(main, ["info", str(inr), "--json"])
    assert r.exit_code == 0, r.output
    info = json.loads(r.stdout)
    assert info["model"] == "grid" and info["hop"] in grid_audio.candidate_hops(16000) == (512, 1024)
    r = runner.invoke(main, ["decode", str(inr), "-o", str(tmp_path / "d.flac"), "--rate", "48000"])
    assert r.exit_code == 0, r.output
    assert sf.info(tmp_path / "d.flac").frames == 24000


# --- errors ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("options, named", [
    ({"omega": 40.0}, "--omega"), ({"segment": 0.1}, "--segment"), ({"time": 5.0}, "--time"),
    ({"psnr": 30.0}, "--psnr"), ({"depth": 2}, "--depth"), ({"checkpoint": "x.ckpt"}, "--checkpoint"),
])  # fmt: skip
def test_options_of_the_segments_models_are_refused(options, named):
    with pytest.raises(OptionError, match=f"{named}.*does not apply to the audio grid"):
        inrcodec.encode_audio(chord(0.1), 16000, kbps=24, **options)


def test_a_gpu_is_refused_for_the_grid():
    with pytest.raises(OptionError, match="CPU only"):
        inrcodec.encode_audio(chord(0.1), 16000, kbps=24, device="cuda")


def test_an_unknown_model_lists_the_grid():
    with pytest.raises(OptionError, match="choose from grid, siren, fourier"):
        inrcodec.encode_audio(chord(0.1), 16000, kbps=24, model="wavelet")


def _repacked(blob: bytes, **changes) -> bytes:
    import dataclasses

    header, payload = container.unpack(blob)
    return container.pack(dataclasses.replace(header, **changes), payload)


def test_inconsistent_headers_are_format_errors(stereo_blob):
    import dataclasses

    header, _ = container.unpack(stereo_blob)
    with pytest.raises(FormatError, match="frames"):
        decode_audio(_repacked(stereo_blob, arch=(header.arch[0], 123, *header.arch[2:])))
    with pytest.raises(FormatError, match="hop"):
        decode_audio(_repacked(stereo_blob, arch=(300, *header.arch[1:])))
    with pytest.raises(FormatError, match="tensors"):
        decode_audio(_repacked(stereo_blob, tensors=header.tensors[:5]))
    side = dataclasses.replace(header.tensors[5], step_exp=header.tensors[5].step_exp + 1)
    with pytest.raises(FormatError, match="disagree on their step"):
        decode_audio(_repacked(stereo_blob, tensors=(*header.tensors[:5], side)))


def test_a_damaged_payload_fails_in_one_line(tmp_path, stereo_blob):
    header, payload = container.unpack(stereo_blob)
    broken = container.pack(header, payload[: len(payload) // 2])
    path = tmp_path / "b.inr"
    path.write_bytes(broken)
    r = CliRunner().invoke(main, ["decode", str(path), "-o", str(tmp_path / "b.wav")])
    assert r.exit_code != 0 and "Traceback" not in r.output and len(r.output.strip().splitlines()) == 1
    assert not (tmp_path / "b.wav").exists()
