"""Options refused before any work: those that do not apply to the chosen model, and values out of range.

A user who passes ``--omega`` to the grid must not believe it did something
(:func:`inrcodec.options.refuse_inapplicable`), and a value out of range must be refused in one line
(:func:`inrcodec.options.check_values`). Both happen before the input is read, so nothing here fits
anything: every test installs a tripwire on the input readers that fails the test if an encode gets
that far.
"""

import math

import numpy as np
import pytest
import soundfile as sf
from click.testing import CliRunner

import inrcodec
from inrcodec.cli import main
from inrcodec.errors import OptionError
from inrcodec.options import API_ONLY, FAMILY_OPTIONS

from .conftest import smooth_image

#: OptionError's exit status (inrcodec.errors); other InrErrors exit with 1
OPTION_EXIT = 2


@pytest.fixture
def nothing_is_read(monkeypatch):
    """Fail the test if an encode reads its input, i.e. gets past the option checks."""

    def tripwire(*args, **kwargs):
        raise AssertionError("the encode read its input: the option was not refused up front")

    for module in ("inrcodec.codec", "inrcodec.cli.codec"):
        monkeypatch.setattr(f"{module}.read_image", tripwire)
    monkeypatch.setattr("inrcodec.cli.audio.read_audio", tripwire)
    monkeypatch.setattr("inrcodec.audio._as_audio", tripwire)


@pytest.fixture
def wav(tmp_path):
    p = tmp_path / "tone.wav"
    t = np.arange(800) / 8000
    sf.write(p, 0.5 * np.sin(2 * np.pi * 440 * t), 8000, subtype="PCM_16")
    return p


def refused(r, *words):
    """A CLI refusal: OptionError's exit status and one line on stderr, naming ``words``; the line."""
    assert r.exit_code == OPTION_EXIT, (r.exit_code, r.output)
    assert r.exception is None or isinstance(r.exception, SystemExit), r.exception
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("inrcodec: error: "), r.stderr
    for word in words:
        assert word in lines[0], (word, lines[0])
    return lines[0]


def encode(*args):
    return CliRunner().invoke(main, ["encode", *map(str, args), "--steps", "5", "--quiet"])


# --- options a family does not use ---------------------------------------------------------------

#: (model, command-line flags, the flag the message names); the grid uses none of the coordinate
#: networks' options, Fourier features have no omega_0
CLI_INAPPLICABLE = [
    ("grid", ["--quant", "fp16"], "--quant"),
    ("grid", ["--quant", "int"], "--quant"),
    ("grid", ["--depth", "2"], "--depth"),
    ("grid", ["--layer-width", "16"], "--layer-width"),
    ("grid", ["--omega", "30"], "--omega"),
    ("fourier", ["--omega", "30"], "--omega"),
]


@pytest.mark.parametrize(
    "model, flags, name", CLI_INAPPLICABLE, ids=[f"{m} {' '.join(f)}" for m, f, _ in CLI_INAPPLICABLE]
)
def test_cli_refuses_an_option_the_model_does_not_use(nothing_is_read, rgb_png, tmp_path, model, flags, name):
    out = tmp_path / "o.inr"
    line = refused(encode(rgb_png, "-o", out, "--model", model, *flags))
    assert line == f"inrcodec: error: {name} does not apply to the {model} model"
    assert not out.exists()


def test_the_grid_is_the_default_model_and_refuses_too(nothing_is_read, rgb_png, tmp_path):
    refused(encode(rgb_png, "-o", tmp_path / "o.inr", "--omega", "30"), "--omega", "the grid model")


@pytest.mark.parametrize("model", ["siren", "fourier"])
def test_coordinate_networks_accept_their_options(monkeypatch, rgb_png, tmp_path, model):
    """The refusals are per family: the same flags pass the checks for the networks that use them
    (the encode goes on to read the image, where this test stops it)."""

    def stop(*args, **kwargs):
        raise RuntimeError("got past the option checks")

    monkeypatch.setattr("inrcodec.cli.codec.read_image", stop)
    flags = ["--quant", "fp16", "--depth", "2", "--layer-width", "16"] + (["--omega", "20"] if model == "siren" else [])
    r = encode(rgb_png, "-o", tmp_path / "o.inr", "--model", model, *flags)
    assert isinstance(r.exception, RuntimeError) and "option checks" in str(r.exception), r.output


#: (model, API-only options) the model does not use
API_INAPPLICABLE = [
    ("grid", {"lr": 1e-3}),
    ("grid", {"batch": 4096}),
    ("grid", {"qat": 0.1}),
    ("grid", {"compile": False}),
    ("grid", {"bits": 8}),
    ("grid", {"quant": "fp16"}),
    ("grid", {"depth": 2}),
    ("grid", {"width": 16}),
    ("grid", {"omega": 30}),
    ("siren", {"lmbda": 0.004}),
    ("siren", {"grid": {"levels": 5}}),
    ("fourier", {"lmbda": 0.004}),
    ("fourier", {"grid": {"levels": 5}}),
    ("fourier", {"omega": 30}),
    ("siren", {"tile": 512}),
    ("fourier", {"jobs": 2}),
]


@pytest.mark.parametrize("model, option", API_INAPPLICABLE, ids=[f"{m}-{next(iter(o))}" for m, o in API_INAPPLICABLE])
def test_api_refuses_an_option_the_model_does_not_use(nothing_is_read, model, option):
    (name,) = option
    named = f"option {name}" if name in API_ONLY else ("--layer-width" if name == "width" else f"--{name}")
    with pytest.raises(OptionError) as e:
        inrcodec.encode(smooth_image(), bpp=1.0, model=model, steps=5, **option)
    assert str(e.value) == f"{named} does not apply to the {model} model"


def test_every_family_option_is_refused_by_some_family():
    """Each option in FAMILY_OPTIONS appears above for a family that refuses it (so a new one
    gets a test here)."""
    assert {next(iter(o)) for _, o in API_INAPPLICABLE} == set(FAMILY_OPTIONS)


def test_api_grid_refusal_of_omega_through_encode_image(nothing_is_read):
    with pytest.raises(OptionError, match=r"^--omega does not apply to the grid model$"):
        inrcodec.encode_image(smooth_image(), inrcodec.EncodeOptions(omega=30))


def test_options_left_at_none_are_not_refused(monkeypatch):
    """Passing a family option as None means "the family chooses": not a refusal."""

    def stop(*args, **kwargs):
        raise RuntimeError("got past the option checks")

    monkeypatch.setattr("inrcodec.codec.read_image", stop)
    with pytest.raises(RuntimeError, match="option checks"):
        inrcodec.encode(smooth_image(), bpp=1.0, omega=None, depth=None, lr=None, lmbda=None)


# --- audio ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "flags, words",
    [
        (["--bpp", "0.3"], ("--bpp", "audio")),
        (["--model", "wavelet"], ("wavelet", "audio model")),
    ],
    ids=["bpp", "unknown-model"],
)
def test_audio_refuses_image_options(nothing_is_read, wav, tmp_path, flags, words):
    out = tmp_path / "o.inr"
    refused(encode(wav, "-o", out, *flags), *words)
    assert not out.exists()


def test_images_refuse_kbps(nothing_is_read, rgb_png, tmp_path):
    refused(encode(rgb_png, "-o", tmp_path / "o.inr", "--kbps", "24"), "--kbps", "audio")


@pytest.mark.parametrize("option", [{"bpp": 0.3}, {"lmbda": 0.01}, {"grid": {}}])
def test_audio_api_refuses_image_options(nothing_is_read, option):
    with pytest.raises(OptionError, match=f"unknown audio encode option.*{next(iter(option))}"):
        inrcodec.encode_audio(np.zeros(800, np.float32), 8000, steps=5, **option)


# --- values out of range -------------------------------------------------------------------------

CLI_VALUES = [
    (["--psnr", "nan"], "--psnr must be a positive number of dB, got nan"),
    (["--psnr", "-1"], "--psnr must be a positive number of dB, got -1.0"),
    (["--threads", "0"], "--threads must be at least 1, got 0"),
    (["--model", "siren", "--depth", "0"], "--depth must be at least 1, got 0"),
    (["--model", "siren", "--layer-width", "0"], "--layer-width must be at least 1, got 0"),
    (["--model", "siren", "--omega", "inf"], "--omega must be a positive number, got inf"),
    (["--model", "siren", "--omega", "0"], "--omega must be a positive number, got 0.0"),
    (["--effort", "max", "--model", "nope"], "unknown model 'nope' (choose from grid, siren, fourier)"),
]


@pytest.mark.parametrize("flags, message", CLI_VALUES, ids=[" ".join(f) for f, _ in CLI_VALUES])
def test_cli_refuses_values_out_of_range(nothing_is_read, rgb_png, tmp_path, flags, message):
    out = tmp_path / "o.inr"
    assert refused(encode(rgb_png, "-o", out, *flags)).endswith(message)
    assert not out.exists()


@pytest.mark.parametrize("flags, message", [(["--threads", "0"], "--threads"), (["--psnr", "nan"], "--psnr"),
                                            (["--omega", "-3"], "--omega")])  # fmt: skip
def test_audio_cli_refuses_values_out_of_range(nothing_is_read, wav, tmp_path, flags, message):
    refused(encode(wav, "-o", tmp_path / "o.inr", *flags), message)


API_VALUES = [
    ({"bits": 0}, "option bits must be in 1..16, got 0"),
    ({"bits": 17}, "option bits must be in 1..16, got 17"),
    ({"bits": math.nan}, "option bits must be in 1..16, got nan"),
    ({"qat": 1.0}, "option qat must be in [0, 1), got 1.0"),
    ({"batch": 0}, "option batch must be at least 1, got 0"),
    ({"lr": -1e-3}, "option lr must be a positive number, got -0.001"),
    ({"quant": "int4"}, "--quant must be 'int' or 'fp16', got 'int4'"),
    ({"threads": 0}, "--threads must be at least 1, got 0"),
    ({"psnr": math.inf}, "--psnr must be a positive number of dB, got inf"),
    ({"effort": "slow"}, "effort must be one of fast, default, high, max, got 'slow'"),
]


@pytest.mark.parametrize("option, message", API_VALUES, ids=[f"{k}={v}" for o, _ in API_VALUES for k, v in o.items()])
def test_api_refuses_values_out_of_range(nothing_is_read, option, message):
    """Checked before the family's own refusals, so a bad value is named as such on any model."""
    with pytest.raises(OptionError) as e:
        inrcodec.encode(smooth_image(), bpp=1.0, model="siren", steps=5, **option)
    assert str(e.value) == message


def test_api_value_check_comes_before_the_family_check(nothing_is_read):
    with pytest.raises(OptionError, match=r"^option bits must be in 1\.\.16, got 0$"):
        inrcodec.encode(smooth_image(), bpp=1.0, bits=0)  # the grid would refuse bits=8 as inapplicable


@pytest.mark.parametrize("option, message", [({"bits": 0}, "bits"), ({"overlap": 2.0}, "overlap"),
                                             ({"segment": 0}, "segment"), ({"psnr": -1}, "psnr")])  # fmt: skip
def test_audio_api_refuses_values_out_of_range(nothing_is_read, option, message):
    with pytest.raises(OptionError, match=message):
        inrcodec.encode_audio(np.zeros(800, np.float32), 8000, steps=5, **option)
