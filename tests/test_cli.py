"""Every CLI command and error path, through click's CliRunner."""

import json
import os
import stat
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from inrcodec.cli import main

from .conftest import smooth_image

FAST = ["--steps", "20", "--quiet"]


@pytest.fixture
def runner():
    return CliRunner()


def leftovers(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def test_encode_info_decode(runner, rgb_png, tmp_path):
    out = tmp_path / "img.inr"
    r = runner.invoke(main, ["encode", str(rgb_png), "-o", str(out), "--bpp", "4", "--json", *FAST])
    assert r.exit_code == 0, r.output
    record = json.loads(r.stdout)
    assert record["bytes"] == out.stat().st_size
    r = runner.invoke(main, ["info", str(out), "--json"])
    assert r.exit_code == 0 and json.loads(r.stdout)["width"] == 32
    r = runner.invoke(main, ["info", str(out)])
    assert r.exit_code == 0 and "bits each" in r.output
    for args, size in ((["--scale", "2"], (64, 48)), (["--width", "40"], (40, 30)), ([], (32, 24))):
        png = tmp_path / "out.png"
        r = runner.invoke(main, ["decode", str(out), "-o", str(png), *args])
        assert r.exit_code == 0, r.output
        assert Image.open(png).size == size
    r = runner.invoke(main, ["decode", str(out), "-o", str(tmp_path / "out.jpg")])
    assert r.exit_code == 0 and Image.open(tmp_path / "out.jpg").format == "JPEG"
    assert leftovers(tmp_path) == []


def test_default_output_name(runner, rgb_png):
    r = runner.invoke(main, ["encode", str(rgb_png), "--bpp", "4", *FAST])
    assert r.exit_code == 0, r.output
    assert rgb_png.with_suffix(".inr").exists()


def test_python_dash_m_help():
    import subprocess
    import sys

    r = subprocess.run([sys.executable, "-m", "inrcodec", "--help"], capture_output=True, text=True)
    assert r.returncode == 0 and "encode" in r.stdout


def _assert_one_line_error(r, pattern):
    assert r.exit_code != 0
    assert "Traceback" not in r.output
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, r.stderr
    assert pattern in lines[0], lines[0]


def test_missing_input(runner, tmp_path):
    r = runner.invoke(main, ["encode", str(tmp_path / "nope.png"), "-o", str(tmp_path / "x.inr")])
    _assert_one_line_error(r, "not found")
    assert not (tmp_path / "x.inr").exists()


def test_directory_as_input(runner, tmp_path):
    r = runner.invoke(main, ["encode", str(tmp_path), "-o", str(tmp_path / "x.inr")])
    _assert_one_line_error(r, "directory")


def test_unreadable_image(runner, tmp_path):
    fake = tmp_path / "fake.png"
    fake.write_text("this is not a png")
    r = runner.invoke(main, ["encode", str(fake), "-o", str(tmp_path / "x.inr"), *FAST])
    _assert_one_line_error(r, "not an image")
    assert not (tmp_path / "x.inr").exists() and leftovers(tmp_path) == []


def test_truncated_image(runner, tmp_path, rgb_png):
    cut = tmp_path / "cut.png"
    cut.write_bytes(rgb_png.read_bytes()[:60])
    r = runner.invoke(main, ["encode", str(cut), "-o", str(tmp_path / "x.inr"), *FAST])
    _assert_one_line_error(r, "error:")
    assert not (tmp_path / "x.inr").exists()


def test_non_inr_and_corrupt_files(runner, tmp_path, rgb_png):
    r = runner.invoke(main, ["decode", str(rgb_png), "-o", str(tmp_path / "o.png")])
    _assert_one_line_error(r, "not an .inr file")
    good = tmp_path / "g.inr"
    runner.invoke(main, ["encode", str(rgb_png), "-o", str(good), "--bpp", "4", *FAST])
    data = bytearray(good.read_bytes())
    data[len(data) // 2] ^= 0x40
    bad = tmp_path / "bad.inr"
    bad.write_bytes(bytes(data))
    r = runner.invoke(main, ["decode", str(bad), "-o", str(tmp_path / "o.png")])
    _assert_one_line_error(r, "checksum")
    short = tmp_path / "short.inr"
    short.write_bytes(good.read_bytes()[:-9])
    r = runner.invoke(main, ["decode", str(short), "-o", str(tmp_path / "o.png")])
    _assert_one_line_error(r, "truncated")
    r = runner.invoke(main, ["info", str(short)])
    _assert_one_line_error(r, "truncated")
    assert not (tmp_path / "o.png").exists() and leftovers(tmp_path) == []


def test_output_in_missing_folder(runner, rgb_png, tmp_path):
    r = runner.invoke(main, ["encode", str(rgb_png), "-o", str(tmp_path / "no" / "x.inr"), *FAST])
    _assert_one_line_error(r, "output folder does not exist")


@pytest.mark.skipif(os.geteuid() == 0 if hasattr(os, "geteuid") else True, reason="root ignores file permissions")
def test_unwritable_output(runner, rgb_png, tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        r = runner.invoke(main, ["encode", str(rgb_png), "-o", str(locked / "x.inr"), *FAST])
        _assert_one_line_error(r, "permission denied")
    finally:
        locked.chmod(stat.S_IRWXU)


def test_unwritable_output_via_read_only_target(runner, rgb_png, tmp_path, monkeypatch):
    # Works as root too: simulate a failing write at the rename step.
    import inrcodec.io.files as files

    def fail(*a, **k):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(files.os, "replace", fail)
    out = tmp_path / "x.inr"
    r = runner.invoke(main, ["encode", str(rgb_png), "-o", str(out), *FAST])
    assert r.exit_code != 0 and not out.exists() and leftovers(tmp_path) == []


def test_encode_refuses_to_overwrite_its_input(runner, tmp_path):
    inr = tmp_path / "a.inr"
    Image.fromarray(smooth_image()).save(tmp_path / "a.png")
    runner.invoke(main, ["encode", str(tmp_path / "a.png"), "-o", str(inr), *FAST])
    r = runner.invoke(main, ["decode", str(inr), "-o", str(inr)])
    assert r.exit_code != 0


def test_bad_options(runner, rgb_png, tmp_path):
    out = str(tmp_path / "x.inr")
    _assert_one_line_error(runner.invoke(main, ["encode", str(rgb_png), "-o", out, "--bpp", "-3", *FAST]), "bpp")
    _assert_one_line_error(runner.invoke(main, ["encode", str(rgb_png), "-o", out, "--size", "lots", *FAST]), "size")
    _assert_one_line_error(runner.invoke(main, ["encode", str(rgb_png), "-o", out, "--steps", "0"]), "steps")
    _assert_one_line_error(runner.invoke(main, ["encode", str(rgb_png), "-o", out, "--device", "tpu", *FAST]), "device")
    good = tmp_path / "g.inr"
    runner.invoke(main, ["encode", str(rgb_png), "-o", str(good), *FAST])
    _assert_one_line_error(runner.invoke(main, ["decode", str(good), "-o", str(tmp_path / "o.xyz")]), "extension")
    _assert_one_line_error(
        runner.invoke(main, ["decode", str(good), "-o", str(tmp_path / "o.png"), "--scale", "1000"]), "limit"
    )
    _assert_one_line_error(
        runner.invoke(main, ["decode", str(good), "-o", str(tmp_path / "o.png"), "--scale", "2", "--width", "4"]),
        "not both",
    )
    assert not (tmp_path / "x.inr").exists()


def test_debug_shows_the_traceback(runner, tmp_path):
    r = runner.invoke(main, ["--debug", "info", str(tmp_path / "missing.inr")])
    assert r.exit_code != 0 and r.exception is not None


@pytest.mark.parametrize("mode,notice", [("P", "palette"), ("CMYK", "CMYK")])
def test_converted_modes_give_a_notice(runner, tmp_path, mode, notice):
    src = tmp_path / ("in.tif" if mode == "CMYK" else "in.png")
    Image.fromarray(smooth_image()).convert(mode).save(src)
    r = runner.invoke(main, ["encode", str(src), "-o", str(tmp_path / "x.inr"), "--bpp", "4", *FAST])
    assert r.exit_code == 0, r.output
    assert notice in r.stderr


def test_animated_gif_encodes_the_first_frame_with_a_notice(runner, tmp_path):
    frames = [Image.fromarray(smooth_image(seed=s)) for s in range(3)]
    gif = tmp_path / "anim.gif"
    frames[0].save(gif, save_all=True, append_images=frames[1:])
    r = runner.invoke(main, ["encode", str(gif), "-o", str(tmp_path / "x.inr"), *FAST])
    assert r.exit_code == 0 and "3 frames" in r.stderr


def test_sixteen_bit_png_round_trips_at_sixteen_bits(runner, tmp_path):
    src = tmp_path / "g16.png"
    Image.fromarray(smooth_image(16, 16, 1)[:, :, 0].astype(np.uint16) * 257).save(src)
    runner.invoke(main, ["encode", str(src), "-o", str(tmp_path / "x.inr"), "--bpp", "8", *FAST])
    r = runner.invoke(main, ["decode", str(tmp_path / "x.inr"), "-o", str(tmp_path / "o.png")])
    assert r.exit_code == 0 and Image.open(tmp_path / "o.png").mode.startswith("I")


# --- usage errors: one line, exit status 2 ------------------------------------------------------


@pytest.mark.parametrize(
    "args, expected",
    [
        (["encode", "{png}", "--bpp", "abc"], "invalid value for '--bpp'"),
        (["encode", "{png}", "--effort", "ultra"], "invalid value for '--effort'"),
        (["encode"], "missing argument 'INPUT...'"),  # no input at all
        (["encode", "{png}", "--frob"], "no such option '--frob'"),
        (["decode", "{png}", "-o"], "option '-o' requires an argument"),
        (["info"], "missing argument 'INPUT'"),
        (["frobnicate"], "no such command 'frobnicate'"),
        (["--frob", "info"], "no such option '--frob'"),
        (["--debug", "encode", "{png}", "--bpp", "abc"], "invalid value for '--bpp'"),
    ],
)
def test_usage_errors_are_one_line_with_status_2(runner, rgb_png, args, expected):
    r = runner.invoke(main, [a.format(png=rgb_png) for a in args])
    assert r.exit_code == 2, r.output
    assert r.stdout == "" and "Usage:" not in r.stderr and "Try '" not in r.stderr
    lines = r.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("inrcodec: error: "), r.stderr
    assert expected in lines[0]


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ["--width", "64"],
            "encode has no --width (the layer width is --layer-width; output size is chosen at decode)",
        ),
        (["--width=64"], "encode has no --width (the layer width is --layer-width; output size is chosen at decode)"),
        (["-q", "50"], "inrcodec has no quality scale; use --bpp or --size"),
        (["-q50"], "inrcodec has no quality scale; use --bpp or --size"),
        (["--quality", "50"], "inrcodec has no quality scale; use --bpp or --size"),
    ],
)
def test_options_from_other_tools_get_a_hint(runner, rgb_png, tmp_path, args, message):
    r = runner.invoke(main, ["encode", str(rgb_png), "-o", str(tmp_path / "x.inr"), *args])
    assert r.exit_code == 2
    assert r.stderr == f"inrcodec: error: {message}\n"
    assert not (tmp_path / "x.inr").exists()


def test_help_still_works(runner):
    for args in (["--help"], ["encode", "--help"], ["decode", "-h"], []):
        r = runner.invoke(main, args)
        assert "Usage: " in r.output and "inrcodec: error" not in r.output, args
    assert runner.invoke(main, ["encode", "--help"]).exit_code == 0


def test_command_summaries_fit_an_80_column_help(runner):
    r = runner.invoke(main, ["--help"], terminal_width=80)
    commands = r.output.split("Commands:")[1].strip().splitlines()
    assert len(commands) == len(main.commands)
    for line in commands:
        assert not line.endswith("..."), line
        assert line.rstrip().endswith("."), line  # the whole sentence, not a cut one


# --- options that would silently do the wrong thing ----------------------------------------------


@pytest.mark.parametrize("name", ["out.jpg", "out.txt", "out", "out.inr.png"])
def test_encode_output_must_be_an_inr_file(runner, rgb_png, tmp_path, name):
    r = runner.invoke(main, ["encode", str(rgb_png), "-o", str(tmp_path / name), "--bpp", "4", *FAST])
    assert r.exit_code == 2
    _assert_one_line_error(r, ".inr")
    assert "-o " + str((tmp_path / name).with_suffix(".inr")) in r.stderr
    assert [p.name for p in tmp_path.iterdir()] == [rgb_png.name]


def test_encode_output_extension_is_case_blind(runner, rgb_png, tmp_path):
    r = runner.invoke(main, ["encode", str(rgb_png), "-o", str(tmp_path / "x.INR"), "--bpp", "4", *FAST])
    assert r.exit_code == 0, r.output


@pytest.mark.parametrize("model", ["grid", "siren", "fourier"])
def test_an_unreachable_size_is_refused_before_fitting(runner, rgb_png, tmp_path, monkeypatch, model):
    import re

    import inrcodec.grid.family
    import inrcodec.point_codec

    def no_fit(*args, **kwargs):
        raise AssertionError("fitted for an unreachable target")

    out = tmp_path / "x.inr"
    with monkeypatch.context() as m:
        m.setattr(inrcodec.grid.family, "fit", no_fit)
        m.setattr(inrcodec.point_codec, "fit_and_pack", no_fit)
        r = runner.invoke(main, ["encode", str(rgb_png), "-o", str(out), "--size", "10", "--model", model, "--quiet"])
        assert r.exit_code == 2
        _assert_one_line_error(r, f"--size 10 is below the smallest file the {model} model can write")
        smallest = int(re.search(r"at least (\d+) bytes", r.stderr).group(1))
        assert f"use --size {smallest} or more" in r.stderr
        r = runner.invoke(main, ["encode", str(rgb_png), "-o", str(out), "--bpp", "0.01", "--model", model])
        _assert_one_line_error(r, f"use --bpp {8 * smallest / (24 * 32):.3f}"[:-1])
        assert not out.exists()
    # the smallest size is accepted, and it is a lower bound: no real file is smaller
    r = runner.invoke(main, ["encode", str(rgb_png), "-o", str(out), "--size", str(smallest), "--model", model,
                             "--steps", "5", "--quiet"])  # fmt: skip
    assert r.exit_code == 0, r.output
    assert out.stat().st_size >= smallest


def test_an_unreachable_size_is_refused_through_the_api_too():
    import inrcodec

    with pytest.raises(inrcodec.OptionError, match="smallest file the grid model can write"):
        inrcodec.encode(smooth_image(), size=10, steps=5)


# --- inrcodec info --------------------------------------------------------------------------------


def _info(runner, path):
    r = runner.invoke(main, ["info", str(path)])
    assert r.exit_code == 0, r.output
    fields = {}
    for line in r.stdout.splitlines():
        label, _, text = line.strip().partition("  ")
        fields[label] = text.strip()
    r = runner.invoke(main, ["info", str(path), "--json"])
    return fields, json.loads(r.stdout)


def test_info_reads_like_a_report_and_json_keeps_the_raw_fields(runner, rgb_png, tmp_path):
    grid = tmp_path / "g.inr"
    assert runner.invoke(main, ["encode", str(rgb_png), "-o", str(grid), "--bpp", "4", *FAST]).exit_code == 0
    fields, raw = _info(runner, grid)
    assert fields["holds"] == "image 32x24 RGB, 8-bit"
    assert fields["target"].startswith("4 bpp")
    assert fields["bytes"] == f"header {raw['header_bytes']}, payload {raw['payload_bytes']}, framing 18"
    finest = raw["latent_levels"][0]
    assert fields["latent levels"].startswith(
        f"{len(raw['latent_levels'])}, the finest at {'full' if finest['level'] == 0 else '1/2'} resolution: "
        f"{finest['width']}x{finest['height']}x{finest['channels']}, "
    )
    assert fields["synthesis"].startswith(" -> ".join(map(str, raw["synthesis_layers"])))
    assert fields["context"] == f"{raw['context_scheme']} scheme, {raw['context_hidden']} hidden units"
    assert "arch" not in fields and "target_value" not in fields
    # the raw values, unchanged
    assert raw["target"] == "bpp" and raw["target_value"] == 40000
    assert raw["width"] == 32 and raw["height"] == 24 and isinstance(raw["arch"], list)
    assert sum(v["channels"] for v in raw["latent_levels"]) == raw["synthesis_layers"][0]

    siren = tmp_path / "s.inr"
    r = runner.invoke(main, ["encode", str(rgb_png), "-o", str(siren), "--size", "600", "--model", "siren",
                             "--depth", "3", "--layer-width", "12", *FAST])  # fmt: skip
    assert r.exit_code == 0, r.output
    fields, raw = _info(runner, siren)
    assert fields["target"].startswith("600 bytes")
    assert fields["network"] == "3 hidden layers of 12, sine activations, omega 30"
    assert (raw["depth"], raw["layer_width"], raw["omega"], raw["width"]) == (3, 12, 30.0, 32)
    assert (raw["target"], raw["target_value"]) == ("bytes", 600)


def test_info_of_audio_names_its_segments(runner, tmp_path):
    import soundfile as sf

    wav = tmp_path / "a.wav"
    t = np.arange(4000) / 8000
    sf.write(wav, (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), 8000)
    out = tmp_path / "a.inr"
    r = runner.invoke(main, ["encode", str(wav), "-o", str(out), "--model", "siren", "--kbps", "24", "--steps", "5",
                             "--quiet"])  # fmt: skip
    assert r.exit_code == 0, r.output
    fields, raw = _info(runner, out)
    assert fields["target"].startswith("24 kbps")
    assert fields["segments"].startswith(f"{raw['segments']} siren networks, overlapping by")
    assert fields["network"].startswith(f"each {raw['depth']} hidden layers of {raw['layer_width']}")
    assert raw["target_value"] == 24000 and raw["channels"] == 1


# --- progress ---------------------------------------------------------------------------------------


def test_progress_on_a_terminal_is_a_bar_rewritten_in_place(capsys, monkeypatch):
    import shutil

    from inrcodec.cli.common import ProgressLine
    from inrcodec.fit import Progress

    monkeypatch.setattr(shutil, "get_terminal_size", lambda fallback=None: os.terminal_size((80, 24)))
    bar = ProgressLine()
    bar.tty = True
    bar(Progress("fit", 500, 1200, 12.3, 17.2, 28.314, 28.4))
    bar(Progress("fit", 600, 1200, 14.0, 14.0, 28.5, 28.5))
    bar(Progress("quantize", 10, 100, 1.0, 9.0, 28.0, 28.0))
    bar.done()
    err = capsys.readouterr().err
    first, second, third = err.split("\r")[1:]  # (click drops the line-clearing code off a terminal)
    assert first.startswith("fit       42% [") and "] 500/1200  PSNR 28.31 dB  0:12 elapsed  0:17 left" in first
    assert "#" in first and "." in first and len(first) <= 79
    assert second.startswith("fit       50% [") and second.endswith("\n")  # a new phase starts a new line
    assert third.startswith("quantize  10% [") and third.endswith("\n")


def test_a_plain_progress_line_without_a_best_psnr_is_printed(capsys):
    # a tiled fit reports each tile's PSNR but no best over the image: the line must still print
    from inrcodec.cli.common import ProgressLine
    from inrcodec.fit import Progress

    line = ProgressLine(every=0.0)
    line.tty = False
    line(Progress("fit", 10, 20, 1.0, 1.0, 25.5, None, "  tile 1/4"))
    err = capsys.readouterr().err
    assert "fit       step 10/20  PSNR  25.50 dB  0:01 elapsed, 0:01 left  tile 1/4" in err and "best" not in err


def test_progress_off_a_terminal_is_plain_lines_and_quiet_silences_it(runner, rgb_png, tmp_path):
    r = runner.invoke(main, ["encode", str(rgb_png), "-o", str(tmp_path / "a.inr"), "--bpp", "4", "--steps", "200"])
    assert r.exit_code == 0, r.output
    assert "\r" not in r.stderr and "fit       step 100/200  PSNR" in r.stderr and "elapsed" in r.stderr
    r = runner.invoke(main, ["encode", str(rgb_png), "-o", str(tmp_path / "b.inr"), "--bpp", "4", "--steps", "200",
                             "--quiet"])  # fmt: skip
    assert r.exit_code == 0 and "fit " not in r.stderr and "elapsed" not in r.stderr


# --- the size notice is truthful --------------------------------------------------------------------


@pytest.fixture(scope="module")
def colour_wheel(tmp_path_factory):
    from skimage import data, transform

    wheel = transform.resize(data.colorwheel(), (64, 64), anti_aliasing=True)
    path = tmp_path_factory.mktemp("wheel") / "wheel.png"
    Image.fromarray((wheel * 255).round().astype(np.uint8)).save(path)
    return path


@pytest.mark.parametrize("model, target", [("grid", ["--bpp", "1"]), ("grid", ["--size", "1500"]),
                                           ("grid", ["--bpp", "6"]), ("siren", ["--bpp", "2"])])  # fmt: skip
def test_the_size_notice_appears_exactly_when_the_file_is_more_than_ten_percent_off(
    runner, colour_wheel, tmp_path, model, target
):
    out = tmp_path / "w.inr"
    r = runner.invoke(main, ["encode", str(colour_wheel), "-o", str(out), "--model", model, *target, "--steps", "30",
                             "--json", "--quiet"])  # fmt: skip
    assert r.exit_code == 0, r.output
    size = json.loads(r.stdout)["bytes"]
    assert size == out.stat().st_size
    goal = 64 * 64 * float(target[1]) / 8 if target[0] == "--bpp" else float(target[1])
    off = size / goal - 1
    notices = [ln for ln in r.stderr.splitlines() if "% over the target" in ln or "% under the target" in ln]
    assert bool(notices) == (abs(off) > 0.10), (size, goal, r.stderr)
    if notices:
        side = "over" if off > 0 else "under"
        assert notices == [
            f"inrcodec: note: file is {size} bytes, {abs(100 * off):.0f} % {side} the target of {goal:.0f}"
        ]


# --- the demo ---------------------------------------------------------------------------------------


@pytest.fixture
def small_astronaut(monkeypatch):
    from skimage import data

    monkeypatch.setattr(data, "astronaut", lambda: smooth_image(48, 64))


def test_demo_compares_with_jpeg_and_webp_at_the_same_size(runner, tmp_path, small_astronaut):
    out = tmp_path / "demo"
    r = runner.invoke(main, ["demo", "-o", str(out), "--bpp", "4", "--time", "1"])
    assert r.exit_code == 0, r.output
    lines = r.stdout.splitlines()
    assert lines[0].startswith("encoding scikit-image's astronaut (64x48) at 4 bpp with the grid model")
    inr_bytes = (out / "astronaut.inr").stat().st_size
    assert lines[1].startswith(f"inrcodec: {inr_bytes} bytes")
    for codec, setting in (("JPEG", "optimize=True"), ("WebP", "method=6")):
        line = next(ln for ln in lines if ln.startswith(codec))
        assert setting in line
        found = int(line.split("): ")[1].split(" bytes")[0])
        assert found <= inr_bytes
    assert "astronaut_original.png" in lines[-1]
    for name in ("astronaut.inr", "astronaut_original.png", "astronaut_decoded.png", "astronaut_4x.png",
                 "astronaut_comparison.png"):  # fmt: skip
        assert (out / name).stat().st_size > 0


def test_demo_speaks_before_it_encodes(tmp_path, small_astronaut, monkeypatch):
    from inrcodec import demo

    said = []
    encode = demo.codec.encode_image

    def checked_encode(*args, **kwargs):
        assert len(said) == 1 and said[0].startswith("encoding")
        return encode(*args, **kwargs)

    monkeypatch.setattr(demo.codec, "encode_image", checked_encode)
    lines = demo.run_demo(tmp_path, bpp=4, seconds=0.5, say=said.append)
    assert lines == said and len(said) == 5


def test_the_classical_search_finds_the_largest_file_that_fits():
    import io

    from inrcodec.demo import classical_at_size

    pixels = smooth_image(64, 64)
    for codec, fmt, options in (("JPEG", "JPEG", {"optimize": True}), ("WebP", "WEBP", {"method": 6})):
        found = classical_at_size(pixels, 900, codec)
        sizes = {}
        for q in range(0, 101):
            buf = io.BytesIO()
            Image.fromarray(pixels).save(buf, format=fmt, quality=max(q, 1 if codec == "JPEG" else 0), **options)
            sizes[q] = buf.tell()
        assert found.bytes <= 900 and found.bytes == max(s for s in sizes.values() if s <= 900)
    assert classical_at_size(pixels, 10, "JPEG") is None


# --- bench: the published Kodak curves -----------------------------------------------------------


@pytest.fixture
def drawn(monkeypatch):
    """What the benchmark hands the RD plot as published curves, by name."""
    import inrcodec.bench.harness as harness

    seen = []
    plot_rd = harness.plot_rd

    def spy(curves, path, published=(), **kwargs):
        seen.append([c.name for c in published])
        return plot_rd(curves, path, published, **kwargs)

    monkeypatch.setattr(harness, "plot_rd", spy)
    return seen


@pytest.fixture
def two_photos(tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    for seed in (1, 2):
        Image.fromarray(smooth_image(128, 128, seed=seed)).save(folder / f"p{seed}.png")
    return folder


def _bench(runner, folder, out, *args):
    r = runner.invoke(main, ["bench", str(folder), "-o", str(out), "--codec", "jpeg", "--settings", "jpeg=10,40",
                             "--no-ms-ssim", *args])  # fmt: skip
    assert r.exit_code == 0, r.output
    return r


def test_bench_leaves_out_the_published_kodak_curves_on_other_images(runner, two_photos, tmp_path, drawn):
    r = _bench(runner, two_photos, tmp_path / "out")
    assert drawn == [[]]
    assert "published reference curves left out of the plot" in r.stderr
    r = _bench(runner, two_photos, tmp_path / "out2", "--published", "coin,c3")
    assert drawn[1] and all(name.endswith(" (published, Kodak)") for name in drawn[1])
    assert "left out" not in r.stderr


def test_bench_draws_the_published_curves_on_kodak(runner, two_photos, tmp_path, drawn, monkeypatch):
    import hashlib

    from inrcodec.bench import datasets
    from inrcodec.bench.published import DEFAULT_PUBLISHED, load_published

    # These two files stand in for the Kodak set: the check goes by the files' SHA-256.
    digests = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in two_photos.iterdir()}
    monkeypatch.setattr(datasets, "KODAK_SHA256", digests)
    r = _bench(runner, two_photos, tmp_path / "out")
    assert drawn == [[c.name for c in load_published(DEFAULT_PUBLISHED)]] and "left out" not in r.stderr
    _bench(runner, two_photos, tmp_path / "crop", "--crop", "64")  # a crop is not what they measured
    assert drawn[1] == []
    _bench(runner, two_photos, tmp_path / "one", "--images", "1")  # nor is a part of the set
    assert drawn[2] == []


def test_the_real_kodak_set_is_recognised():
    from inrcodec.bench.datasets import is_kodak
    from inrcodec.bench.images import list_image_files

    kodak = Path(__file__).resolve().parents[2] / "shared" / "data" / "kodak"
    if not kodak.is_dir():
        pytest.skip("no Kodak images in shared/data")
    files = list_image_files(kodak)
    assert is_kodak(files)
    assert not is_kodak(files[:23])
