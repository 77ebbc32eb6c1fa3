"""Every CLI command and error path, through click's CliRunner."""

import json
import os
import stat

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
    assert r.exit_code == 0 and "bits_per_weight" in r.output
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
