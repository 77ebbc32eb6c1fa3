"""The Pillow plugin: .inr files open, thumbnail and convert like any image (read-only)."""

import numpy as np
import pytest
from PIL import Image

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
    with pytest.raises(Exception):
        Image.open(bad)
