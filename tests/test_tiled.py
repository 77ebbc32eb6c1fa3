"""Large images as tiles (the tiled family, format 2.1): geometry, seams at any scale, rate,
parallel fits, memory, and the file layout. Small images forced into tiles stand in for large
ones (docs/scaling.md measures the large ones)."""

from __future__ import annotations

import dataclasses
import struct
import zlib

import numpy as np
import pytest
import torch

import inrcodec
from inrcodec import codec, container, families
from inrcodec.errors import FormatError, LimitError, OptionError
from inrcodec.grid.tiles import TileAxis, TiledImage, split_axis
from inrcodec.limits import Limits
from inrcodec.options import EncodeOptions
from inrcodec.tiled import TILE_ABOVE, TILED, tile_geometry

from .conftest import smooth_image


@pytest.fixture(scope="module")
def photo():
    from skimage import data

    return np.ascontiguousarray(data.astronaut()[100:196, 150:278])  # 96 x 128: face and hair


@pytest.fixture(scope="module")
def tiled_file(photo):
    """The photo forced into 2 x 2 tiles, a short fit."""
    return codec.encode_image(photo, EncodeOptions(bpp=2.0, steps=40, seed=3, tile=64)).data


# --- geometry --------------------------------------------------------------------------------------


@pytest.mark.parametrize("length, count, margin", [(96, 2, 8), (128, 3, 8), (1000, 7, 16), (50, 1, 8), (33, 2, 0)])
@pytest.mark.parametrize("out", [1, 7, 50, 96, 131, 240, 1000, 2500])
def test_every_output_sample_gets_weights_that_sum_to_one(length, count, margin, out):
    axis = TileAxis(length, count, margin)
    total = np.zeros(out)
    for i in range(count):
        s = axis.span(i, out)
        assert 0 <= s.j0 <= s.j1 <= out and np.all(s.weights >= 0)
        assert np.all(np.abs(s.local) <= 1 + 1e-12)  # inside the tile's own domain
        total[s.j0 : s.j1] += s.weights
    np.testing.assert_allclose(total, 1.0, atol=1e-12)


def test_tiles_overlap_by_twice_the_margin_and_cores_cover_the_axis():
    axis = TileAxis(1000, 4, 16)
    assert [axis.extent(i) for i in range(4)] == [(0, 266), (234, 516), (484, 766), (734, 1000)]
    assert axis.span(1, 1000).exact and axis.span(1, 1000).j0 == 234 and axis.span(1, 1000).n == 282


def test_automatic_tiling_starts_above_a_megapixel_and_can_be_forced_or_refused():
    opts = EncodeOptions()
    assert tile_geometry((1024, 1024, 3), opts) is None  # exactly 2^20 pixels: one grid
    assert tile_geometry((1200, 1800, 3), opts) == (2, 3, 8)  # 600 x 600 cores
    assert tile_geometry((4000, 6000, 3), opts) == (6, 8, 8)
    assert tile_geometry((4000, 6000, 3), EncodeOptions(tile=0)) is None
    assert tile_geometry((96, 128, 3), EncodeOptions(tile=64)) == (2, 2, 8)
    assert tile_geometry((96, 128, 3), EncodeOptions(tile=128)) is None  # one tile is one grid
    assert TILE_ABOVE == 1 << 20 and split_axis(40, 32, 16) == 1  # cores never narrower than the fade
    assert families.for_image("grid", (4000, 6000, 3), opts) is TILED
    assert families.for_image("grid", (512, 768, 3), opts).name == "grid"
    assert families.for_image("siren", (4000, 6000, 3), opts).name == "siren"


# --- seams -----------------------------------------------------------------------------------------


def _model(data: bytes) -> TiledImage:
    from inrcodec.decoder import build_model_from

    header, payload = container.unpack(data)
    return build_model_from(header, payload, 2, header.signal.channels)


def _at(model: TiledImage, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """The model's values at pixel positions (x, y) of the stored image."""
    pts = np.stack([2 * xs / model.width - 1, 2 * ys / model.height - 1], 1)
    return model(torch.from_numpy(pts.astype(np.float32))).numpy()


def test_the_picture_is_continuous_across_every_seam(tiled_file):
    """Approaching a core boundary or a fade's edge from either side gives the same value (a
    jump there would be a seam), in both directions, everywhere along it."""
    model = _model(tiled_file)
    eps = 1e-3
    along = np.linspace(0.5, model.width - 0.5, 37)
    for b in (model.rows.bound(1), model.rows.bound(1) - 8, model.rows.bound(1) + 8):
        before, after = _at(model, along, np.full_like(along, b - eps)), _at(model, along, np.full_like(along, b + eps))
        assert np.abs(before - after).max() < 2e-3, b
    along = np.linspace(0.5, model.height - 0.5, 29)
    for b in (model.cols.bound(1), model.cols.bound(1) - 8, model.cols.bound(1) + 8):
        before, after = _at(model, np.full_like(along, b - eps), along), _at(model, np.full_like(along, b + eps), along)
        assert np.abs(before - after).max() < 2e-3, b


def test_hard_cuts_would_show_a_seam(tiled_file):
    """The check above can fail: the same tiles without the cross-fade (margin 0) jump."""
    model = _model(tiled_file)
    b = model.cols.bound(1)
    along = np.linspace(0.5, model.height - 0.5, 29)
    left = model.tile(0)  # the tiles' own values on either side of the boundary
    right = model.tile(1)
    (_, e), (a, _) = model.cols.extent(0), model.cols.extent(1)
    ys = torch.from_numpy((2 * along / left.height - 1).astype(np.float32))
    xl = torch.full_like(ys, 2 * (b - 0) / e - 1)
    xr = torch.full_like(ys, 2 * (b - a) / (model.width - a) - 1)
    with torch.no_grad():
        jump = (left(torch.stack([xl, ys], 1)) - right(torch.stack([xr, ys], 1))).abs().max().item()
    assert jump > 2e-2


@pytest.mark.parametrize("scale", [1, 2.5, 0.5, 0.37])
def test_the_streaming_decode_samples_that_picture_at_any_scale(tiled_file, scale):
    """Decoding at any size renders, band by band and tile by tile, exactly the continuous
    function the seams were checked on."""
    model = _model(tiled_file)
    out_h, out_w = round(model.height * scale), round(model.width * scale)
    rendered = model.render(out_h, out_w, torch.device("cpu"), band_pixels=700)
    ys, xs = (np.arange(out_h) + 0.5) * model.height / out_h, (np.arange(out_w) + 0.5) * model.width / out_w
    gy, gx = np.meshgrid(ys, xs, indexing="ij")
    direct = _at(model, gx.ravel(), gy.ravel()).reshape(out_h, out_w, -1)
    assert np.abs(rendered - direct).max() < 1e-4
    pixels = inrcodec.decode(tiled_file, scale=scale)
    assert pixels.shape == (out_h, out_w, 3)


def test_at_the_stored_size_a_core_is_its_tile(tiled_file):
    """Away from the fades, the 1x decode is the tile's own grid decoded alone."""
    model = _model(tiled_file)
    full = model.render(model.height, model.width, torch.device("cpu"))
    tile = model.tile(3).render(*model.tile_shape(3), torch.device("cpu"))
    a, c = model.rows.extent(1)[0], model.cols.extent(1)[0]
    inner = full[model.rows.bound(1) + 8 :, model.cols.bound(1) + 8 :]
    np.testing.assert_array_equal(inner, tile[16:, 16:])
    assert (a, c) == (model.rows.bound(1) - 8, model.cols.bound(1) - 8)


# --- the file --------------------------------------------------------------------------------------


def test_a_tiled_file_is_format_2_1_and_says_what_it_holds(tiled_file):
    info = inrcodec.info(tiled_file)
    assert info["format_version"] == "2.1" and info["model"] == "tiled"
    assert info["tiles"] == [2, 2] and info["tile_margin"] == 8 and info["tile_heights"] == [56, 56]
    assert len(info["tensors"]) == 4 * TiledImage.tensors_per_tile(info["arch"])
    # an untiled file of the same encoder stays 2.0, readable by inrcodec 0.4.0
    small = codec.encode_image(smooth_image(), EncodeOptions(bpp=8, steps=5)).data
    assert small[4:6] == bytes([2, 0])


def _with_version(data: bytes, minor: int) -> bytes:
    body = data[:5] + bytes([minor]) + data[6:-4]
    return body + struct.pack("<I", zlib.crc32(body))


def test_a_file_that_claims_the_tiled_family_under_2_0_is_refused(tiled_file):
    with pytest.raises(FormatError, match=r"model family 5 needs format 2\.1 \(file is 2\.0\)"):
        inrcodec.decode(_with_version(tiled_file, 0))


def test_a_tile_length_table_that_does_not_add_up_is_refused(tiled_file):
    header, payload = container.unpack(tiled_file)
    bad = struct.pack("<I", struct.unpack_from("<I", payload)[0] + 4) + payload[4:]
    with pytest.raises(FormatError, match="tile lengths add up to"):
        inrcodec.decode(container.pack(header, bad))
    with pytest.raises(FormatError, match="header lists"):
        inrcodec.decode(container.pack(dataclasses.replace(header, tensors=header.tensors[:-1]), payload))


# --- encoding ---------------------------------------------------------------------------------------


def test_the_encoder_refuses_what_would_not_fit_its_memory_and_tiles_keep_a_large_photo_small():
    huge = np.zeros((3000, 4000, 3), np.uint8)
    with pytest.raises(LimitError, match=r"with the tiled model needs about \d+ MiB, over the limit of 256 MiB"):
        codec.encode_image(huge, EncodeOptions(steps=1), limits=Limits(max_encode_memory=256 << 20))
    shape = (4000, 6000, 3)  # 24 megapixels
    opts, target = codec.image_rate(EncodeOptions(), 24_000_000)
    arch, _ = TILED.plan(shape, opts, target)
    tiled = TILED.encode_memory(shape, opts, arch)
    grid = families.by_name("grid")
    untiled = grid.encode_memory(shape, opts, grid.plan(shape, opts, target)[0])
    assert tiled < 2 << 30 < 8 * tiled < untiled
    assert TILED.encode_memory(shape, dataclasses.replace(opts, jobs=2), arch) > tiled


def test_decoding_a_large_tiled_file_is_bounded(tiled_file):
    """The decode's estimate for a 24-megapixel tiled file at 1x stays under a gigabyte."""
    shape = (4000, 6000, 3)
    opts, target = codec.image_rate(EncodeOptions(), 24_000_000)
    arch, codes = TILED.plan(shape, opts, target)
    header = container.Header(container.ImageFields(6000, 4000, 3, 8), TILED.id, arch, codes)
    from inrcodec.decoder import check_decode

    cost = check_decode(header, 2, 3, (4000, 6000), Limits(), 4000 * 6000 * 3)
    assert cost.memory < 1 << 30


@pytest.mark.slow
def test_parallel_tiles_write_the_bytes_serial_tiles_write(photo):
    opts = EncodeOptions(bpp=2.0, steps=30, seed=5, tile=64)
    serial = codec.encode_image(photo, opts).data
    assert codec.encode_image(photo, dataclasses.replace(opts, jobs=2)).data == serial


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0])
def test_a_tiled_photo_lands_near_its_target(seed):
    """The image's budget is shared over its tiles by their JPEG sizes and met by the tiles'
    own rate control, the second half of the tiles making up for the first half's miss: the
    lower half of the astronaut (256 x 512) in 2 x 4 tiles, a short fit (300 steps, where the
    grid alone lands up to 25 % under on tiles this small). Measured: docs/scaling.md."""
    from skimage import data

    photo = np.ascontiguousarray(data.astronaut()[256:])
    data_ = inrcodec.encode(photo, bpp=1.0, steps=300, seed=seed, tile=128)
    got = 8 * len(data_) / photo.shape[0] / photo.shape[1]
    assert inrcodec.info(data_)["tiles"] == [2, 4]
    assert abs(got - 1.0) <= 0.10, f"{got:.3f} bpp for a 1.0 bpp target"


def test_an_interrupted_tiled_encode_resumes_from_its_finished_tiles(photo, tmp_path):
    opts = EncodeOptions(bpp=2.0, steps=20, seed=4, tile=64, checkpoint=tmp_path / "fit.ckpt", checkpoint_every=0)
    whole = codec.encode_image(photo, dataclasses.replace(opts, checkpoint=None)).data
    fitted = []

    def stop_in_the_third_tile(p):
        fitted.append(p.extra)
        if "tile 3/4" in p.extra:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        codec.encode_image(photo, opts, progress=stop_in_the_third_tile)
    assert (tmp_path / "fit.ckpt").exists()
    seen = []
    resumed = codec.encode_image(photo, opts, progress=lambda p: seen.append(p.extra)).data
    assert resumed == whole and not (tmp_path / "fit.ckpt").exists()
    assert seen and not any("tile 1/4" in e or "tile 2/4" in e for e in seen)  # finished tiles are not refitted
    assert any("tile 1/4" in e for e in fitted)


def test_parallel_fitting_is_refused_where_nothing_is_tiled():
    small = smooth_image()
    with pytest.raises(OptionError, match=r"--jobs and --executor fit a large image's tiles in parallel; this 32x24"):
        codec.encode_image(small, EncodeOptions(steps=1, jobs=2))
    with pytest.raises(OptionError, match="--tile does not apply to the siren model"):
        codec.encode_image(small, EncodeOptions(model="siren", steps=1, tile=64))


@pytest.mark.slow
def test_the_command_line_encodes_in_parallel_and_decodes_at_any_scale(photo, tmp_path):
    """As a user runs it: ``encode --jobs 2`` writes what a serial encode writes, ``info`` shows
    the tiles, ``decode --scale`` any size; ``--max-memory`` refuses before fitting."""
    from click.testing import CliRunner
    from PIL import Image

    from inrcodec.cli import main

    png = tmp_path / "big.png"
    Image.fromarray(photo).save(png)
    runner = CliRunner()
    common = ["--bpp", "2", "--steps", "8", "--seed", "5", "--tile", "64", "--quiet"]
    for name, extra in (("serial.inr", []), ("jobs.inr", ["--jobs", "2"])):
        r = runner.invoke(main, ["encode", str(png), "-o", str(tmp_path / name), *common, *extra])
        assert r.exit_code == 0, r.output
    assert (tmp_path / "jobs.inr").read_bytes() == (tmp_path / "serial.inr").read_bytes()
    r = runner.invoke(main, ["info", str(tmp_path / "jobs.inr")])
    assert r.exit_code == 0 and "2 x 2, 72-72 x 56-56 pixels each, overlapping by 16 pixels" in r.output
    for scale, size in (("0.5", (64, 48)), ("1.5", (192, 144))):
        out = tmp_path / f"x{scale}.png"
        r = runner.invoke(main, ["decode", str(tmp_path / "jobs.inr"), "--scale", scale, "-o", str(out)])
        assert r.exit_code == 0, r.output
        assert Image.open(out).size == size
    r = runner.invoke(main, ["encode", str(png), "-o", str(tmp_path / "m.inr"), *common, "--max-memory", "64"])
    assert r.exit_code == 1 and "with the tiled model needs about" in r.output and "limit of 64 MiB" in r.output
    r = runner.invoke(main, ["encode", str(png), "-o", str(tmp_path / "s.inr"), "--tile", "0", "--jobs", "2"])
    assert r.exit_code == 2 and "fit a large image's tiles in parallel" in r.output


def test_the_command_line_refuses_tile_for_audio(tmp_path):
    import wave

    from click.testing import CliRunner

    from inrcodec.cli import main

    with wave.open(str(tmp_path / "a.wav"), "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(8000)
        w.writeframes(np.zeros(400, "<i2").tobytes())
    r = CliRunner().invoke(main, ["encode", str(tmp_path / "a.wav"), "-o", str(tmp_path / "a.inr"), "--tile", "64"])
    assert r.exit_code == 2 and "--tile is for images" in r.output
