"""The Pillow plugin: .inr files open, thumbnail and convert like any image (read-only)."""

from pathlib import Path

import numpy as np
import pytest
from PIL import Image, UnidentifiedImageError

import inrcodec
import inrcodec.pillow as inr_pillow

from .conftest import smooth_image


@pytest.fixture(scope="module")
def inr_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("pil") / "photo.inr"
    path.write_bytes(inrcodec.encode(smooth_image(40, 60), bpp=4.0, steps=20))
    return path


def test_open_reads_the_header_and_decodes_on_load(inr_file):
    im = Image.open(inr_file)
    assert (im.format, im.mode, im.size) == ("INR", "RGB", (60, 40))
    np.testing.assert_array_equal(np.asarray(im), inrcodec.decode(inr_file.read_bytes()))


def test_thumbnail_decodes_directly_at_the_reduced_size(inr_file, tmp_path):
    im = Image.open(inr_file)
    im.thumbnail((30, 30))
    assert im.size == (30, 20)
    im.save(tmp_path / "thumb.png")
    assert Image.open(tmp_path / "thumb.png").size == (30, 20)


def test_draft_never_upscales_and_keeps_the_aspect_ratio(inr_file):
    im = Image.open(inr_file)
    im.draft(None, (12, 4))
    assert im.size == (12, 8)
    im = Image.open(inr_file)
    im.draft(None, (600, 400))
    assert im.size == (60, 40)


def test_open_at_any_size_and_convert(inr_file):
    im = inr_pillow.open(inr_file, scale=2.5)
    assert im.size == (150, 100) and np.asarray(im).shape == (100, 150, 3)
    assert inr_pillow.open(inr_file, size=(7, 9)).convert("L").size == (7, 9)


def test_non_inr_files_are_left_to_other_plugins(tmp_path):
    png = tmp_path / "a.png"
    Image.fromarray(smooth_image()).save(png)
    assert Image.open(png).format == "PNG"
    bad = tmp_path / "bad.inr"
    bad.write_bytes(b"\x89INR" + b"\x00" * 20)
    with pytest.raises(UnidentifiedImageError):
        Image.open(bad)


def test_thumbnail_with_a_real_reduction_matches_the_full_decode(tmp_path):
    # draft() must return the original's box in the *reduced* image, or resize reads outside it
    path = tmp_path / "big.inr"
    path.write_bytes(inrcodec.encode(smooth_image(80, 120), bpp=6.0, steps=30))
    im = Image.open(path)
    im.thumbnail((20, 20))
    assert im.size == (20, 13)
    full = Image.fromarray(inrcodec.decode(path)).resize(im.size, Image.Resampling.LANCZOS)
    assert np.abs(np.asarray(im, dtype=int) - np.asarray(full, dtype=int)).mean() < 3


def test_sixteen_bit_gray_opens_as_i16_and_saves_through_the_writer(tmp_path):
    gray = (np.arange(12 * 16).reshape(12, 16) * 300).astype(np.uint16)
    Image.fromarray(gray).save(tmp_path / "g.inr", bpp=8.0, steps=20, model="siren")  # the .inr writer
    im = Image.open(tmp_path / "g.inr")
    assert (im.mode, im.size, im.info["inr_model"]) == ("I;16", (16, 12), "siren")
    np.testing.assert_array_equal(np.asarray(im), inrcodec.decode(tmp_path / "g.inr")[:, :, 0])
    with pytest.raises(OSError, match="cannot write mode P"):
        Image.fromarray(smooth_image()).convert("P").save(tmp_path / "p.inr")


def test_loading_releases_the_file(inr_file):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error", ResourceWarning)
        im = Image.open(inr_file)
        im.load()
        assert im.fp is None


def test_open_size_options_are_checked(inr_file):
    from inrcodec.errors import OptionError

    with pytest.raises(OptionError, match="not both"):
        inr_pillow.open(inr_file, size=(10, 10), scale=2)
    with pytest.raises(OptionError, match="positive"):
        inr_pillow.open(inr_file, scale=0)
    im = inr_pillow.open(inr_file)
    im.load()
    with pytest.raises(OptionError, match="already decoded"):
        im.decode_at(5, 5)


BAD = Path(__file__).resolve().parent / "data" / "bad"


def test_a_file_over_the_size_limit_is_refused_unread(inr_file, tmp_path):
    """Issue 14: Image.open read a 1.2 GB file that starts with the magic whole (2.7 GB RSS)."""
    big = tmp_path / "huge.inr"
    with open(big, "wb") as f:
        f.write(inr_file.read_bytes())
        f.truncate(1_200_000_000)  # sparse: nothing is written, and nothing may be read
    with pytest.raises(OSError, match=r"over the limit of 1073741824 \(max_file_bytes"):
        Image.open(big)
    with pytest.raises(OSError, match="over the limit of 1000"):
        inr_pillow.open(inr_file, limits=inrcodec.Limits(max_file_bytes=1000))


def test_the_command_line_limits_apply_to_decodes_through_pillow(inr_file, monkeypatch):
    im = inr_pillow.open(inr_file, scale=4, limits=inrcodec.Limits(max_work=10**6))
    with pytest.raises(OSError, match="max_work"):
        im.load()
    monkeypatch.setattr(inr_pillow, "LIMITS", inrcodec.Limits(max_output_pixels=100))
    with pytest.raises(OSError, match="max_output_pixels"):
        Image.open(inr_file).load()


def test_a_sixteen_bit_colour_header_is_not_an_image_pillow_can_open():
    """Issue 14: a TypeError from Pillow on load; now the header is malformed (docs/format.md)."""
    with pytest.raises(UnidentifiedImageError):
        Image.open(BAD / "rgb16_valid_crc.inr")
