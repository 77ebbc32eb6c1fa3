from pathlib import Path

import numpy as np
import pytest
import torch

import inrcodec
from inrcodec import codec, coords, decoder, limits
from inrcodec.errors import FormatError, InputError, LimitError, OptionError
from inrcodec.options import EncodeOptions

from .conftest import FAST, smooth_image


@pytest.mark.slow
def test_small_synthetic_image_reaches_a_stated_psnr():
    img = smooth_image(32, 32)
    result = codec.encode_image(img, EncodeOptions(model="siren", bpp=8.0, steps=400, seed=0, lr=2e-3, qat=0.1))
    # A smooth 32x32 image at 8 bpp: the fit must get well past a flat-colour guess (~15 dB).
    assert result.psnr >= 30.0


@pytest.mark.parametrize("model", ["siren", "fourier"])
def test_round_trip_through_bytes(model):
    img = smooth_image()
    blob = inrcodec.encode(img, bpp=4.0, model=model, **FAST)
    out = inrcodec.decode(blob)
    assert out.shape == img.shape and out.dtype == np.uint8
    assert inrcodec.info(blob)["model"] == model


def test_scale_one_reproduces_the_fitted_samples():
    img = smooth_image()
    opts = EncodeOptions(bpp=4.0, **FAST)
    blob = codec.encode_image(img, opts).data
    header, payload = codec.container.unpack(blob)
    model = decoder.rebuild_model(header, payload, 2, 3, limits.DEFAULT_LIMITS)
    pts = torch.from_numpy(coords.image_points(img.shape[0], img.shape[1]))
    with torch.no_grad():
        direct = model(pts).numpy().reshape(img.shape)
    expected = inrcodec.io.image.from_values(direct)
    np.testing.assert_array_equal(inrcodec.decode(blob), expected)


def test_any_output_size_is_exact():
    blob = inrcodec.encode(smooth_image(24, 32), bpp=4.0, **FAST)
    assert inrcodec.decode(blob, scale=3).shape == (72, 96, 3)
    assert inrcodec.decode(blob, width=50).shape == (38, 50, 3)  # 24 * 50/32 = 37.5 -> 38
    assert inrcodec.decode(blob, width=7, height=5).shape == (5, 7, 3)
    assert inrcodec.decode(blob, height=1).shape == (1, 1, 3)


def test_pixel_centre_convention():
    np.testing.assert_allclose(coords.axis(2), [-0.5, 0.5])
    np.testing.assert_allclose(coords.axis(4)[[0, -1]], [-0.75, 0.75])
    # a 3x upsampled grid has a sample at each original centre
    np.testing.assert_allclose(coords.axis(9)[1::3], coords.axis(3))


@pytest.mark.slow
def test_same_seed_same_file_and_decoding_is_repeatable():
    img = smooth_image()
    a = inrcodec.encode(img, bpp=2.0, **FAST)
    b = inrcodec.encode(img, bpp=2.0, **FAST)
    assert a == b
    np.testing.assert_array_equal(inrcodec.decode(a), inrcodec.decode(a))
    assert inrcodec.encode(img, bpp=2.0, steps=20, seed=1) != a


@pytest.mark.parametrize("bpp", [1.0, 3.0, 6.0])
def test_rate_control_lands_within_ten_percent(bpp):
    # The coordinate networks plan their size from the target, so they land on it in any budget.
    img = smooth_image(64, 64)
    blob = inrcodec.encode(img, bpp=bpp, model="siren", **FAST)
    assert abs(8 * len(blob) / (64 * 64) / bpp - 1) <= 0.10


def test_size_target():
    blob = inrcodec.encode(smooth_image(64, 64), size="2KB", model="siren", **FAST)
    assert abs(len(blob) / 2000 - 1) <= 0.10


def test_entropy_coding_beats_fixed_width_packing():
    blob = inrcodec.encode(smooth_image(64, 64), bpp=3.0, **FAST)
    info = inrcodec.info(blob)
    assert info["bits_per_weight"] < info["fixed_width_bits_per_weight"]


def test_fp16_mode_stores_sixteen_bits_per_weight():
    blob = inrcodec.encode(smooth_image(64, 64), bpp=3.0, quant="fp16", model="siren", **FAST)
    info = inrcodec.info(blob)
    assert 15.9 < info["bits_per_weight"] < 16.2
    assert inrcodec.decode(blob).shape == (64, 64, 3)


@pytest.mark.parametrize("channels,mode", [(1, "L"), (2, "LA"), (3, "RGB"), (4, "RGBA")])
def test_modes_round_trip_in_their_own_mode(channels, mode):
    img = smooth_image(16, 16, channels)
    blob = inrcodec.encode(img, bpp=8.0, **FAST)
    out = codec.decode_image(blob)
    assert out.mode == mode and out.pixels.shape == (16, 16, channels)


def test_sixteen_bit_grayscale_stays_sixteen_bit():
    img = smooth_image(16, 16, 1).astype(np.uint16) * 257
    out = codec.decode_image(inrcodec.encode(img, bpp=8.0, **FAST))
    assert out.pixels.dtype == np.uint16 and out.mode == "L"


@pytest.mark.parametrize("shape", [(1, 1, 3), (1, 9, 3), (7, 1, 1)])
def test_tiny_images_work(shape):
    img = np.full(shape, 90, dtype=np.uint8)
    blob = inrcodec.encode(img, size=400, **FAST)  # no bpp reaches a network's header on 1 pixel
    assert inrcodec.decode(blob).shape == shape


def test_bad_arrays_and_options_are_refused():
    with pytest.raises(InputError):
        inrcodec.encode(np.zeros((4, 4, 3), np.float32), bpp=1)
    with pytest.raises(InputError):
        inrcodec.encode(np.zeros((4, 4, 5), np.uint8), bpp=1)
    with pytest.raises(OptionError):
        inrcodec.encode(smooth_image(), bpp=-1, **FAST)
    with pytest.raises(OptionError):
        inrcodec.encode(smooth_image(), bpp=1, model="nope", **FAST)
    with pytest.raises(OptionError):
        inrcodec.encode(smooth_image(), bpp=1, warp=9)


def test_decode_refuses_sizes_over_the_limit_before_allocating():
    blob = inrcodec.encode(smooth_image(), bpp=4.0, **FAST)
    with pytest.raises(LimitError, match="exceeds the limit"):
        inrcodec.decode(blob, scale=1000)
    with pytest.raises(OptionError):
        inrcodec.decode(blob, scale=-2)


def test_garbage_is_not_an_inr_file():
    with pytest.raises(FormatError):
        inrcodec.decode(b"hello world, not a codec file")


# --- issue 14: hostile values that used to end in tracebacks or runaway allocations ----------------


def test_a_sixteen_bit_colour_header_is_malformed():
    """docs/format.md has always said 16-bit is for grayscale; the reader now says so too, so
    that no writer (the CLI's PNG, Pillow, batch decode) is handed 16-bit colour."""
    import dataclasses

    from inrcodec import container

    seed = (Path(__file__).resolve().parent / "fuzz" / "seeds" / "siren_rgb.inr").read_bytes()
    header, payload = container.unpack(seed)
    for mode in (2, 3, 4):
        bad = dataclasses.replace(header, signal=dataclasses.replace(header.signal, mode=mode, bit_depth=16))
        with pytest.raises(FormatError, match="16-bit depth is for grayscale"):
            inrcodec.decode(container.pack(bad, payload))


def test_a_sixteen_bit_colour_array_is_encoded_at_eight_bits_with_a_notice():
    img = (smooth_image(12, 16).astype(np.uint16) * 257) + 3
    result = codec.encode_image(img, EncodeOptions(model="siren", bpp=8.0, **FAST))
    assert inrcodec.info(result.data)["bit_depth"] == 8
    assert any("16-bit RGB image encoded at 8 bits" in n for n in result.notices)
    assert inrcodec.decode(result.data).dtype == np.uint8


def test_writing_sixteen_bit_colour_pixels_falls_back_to_eight_bits(tmp_path):
    from inrcodec.io.image import write_image

    notices = write_image(tmp_path / "x.png", np.full((2, 3, 3), 40000, np.uint16), "RGB")
    assert notices == ["PNG cannot hold 16 bits in RGB; written at 8 bits"]


@pytest.mark.parametrize(
    "option, message",
    [
        ({"seed": 10**23}, "--seed must be a whole number in 0..2^63-1"),
        ({"seed": -1}, "--seed must be a whole number in 0..2^63-1"),
        ({"threads": 100_000}, "--threads must be at most 1024"),
        ({"model": "siren", "omega": 0.01}, "--omega must be in [1/16, 1e9]"),
        ({"steps": 0}, "--steps must be a whole number, at least 1"),
        ({"time": float("inf")}, "--time must be a positive number of seconds"),
    ],
)
def test_option_values_that_used_to_raise_other_exceptions_are_refused(option, message):
    with pytest.raises(OptionError) as e:
        codec.encode_image(smooth_image(), EncodeOptions(bpp=8.0, **option))
    assert str(e.value).startswith(message)


def test_decode_threads_are_checked_by_the_api():
    blob = (Path(__file__).resolve().parent / "fuzz" / "seeds" / "siren_rgb.inr").read_bytes()
    for threads in (-3, 0, 5000):
        with pytest.raises(OptionError, match="threads must be"):
            codec.decode_image(blob, threads=threads)


@pytest.mark.parametrize(
    "options, limit",
    [
        ({"model": "siren", "width": 100_000}, "max_parameters"),
        ({"model": "siren", "depth": 100_000}, "max_layers"),
        ({"model": "fourier", "depth": 300}, "max_layers"),
        ({"model": "grid", "grid": {"hidden": 5000}}, "invalid grid architecture"),
        ({"model": "grid", "grid": {"context_hidden": 300}}, "invalid grid architecture"),
    ],
)
def test_the_encoder_refuses_before_fitting_what_its_decoder_would_refuse(monkeypatch, options, limit):
    """The planned (or given) architecture goes through the decoder's own checks first: a
    100 000-wide SIREN used to try to allocate 40 GB, 100 000 layers ran for minutes."""
    import dataclasses

    from inrcodec import families

    def never(job):
        raise AssertionError("fitted")

    family = families.IMAGE_FAMILIES[options["model"]]
    monkeypatch.setitem(families.IMAGE_FAMILIES, family.name, dataclasses.replace(family, encode_image=never))
    with pytest.raises((LimitError, FormatError), match=limit) as e:
        codec.encode_image(smooth_image(), EncodeOptions(bpp=8.0, **options))
    assert str(e.value).startswith(f"the {family.name} model this encode plans could not be decoded: ")


def test_a_float_tiff_with_an_infinite_sample_is_refused(tmp_path):
    from PIL import Image

    values = np.linspace(0, 1, 64, dtype=np.float32).reshape(8, 8)
    values[3, 3] = np.inf
    Image.fromarray(values, "F").save(tmp_path / "inf.tif")
    with pytest.raises(InputError, match="has 1 NaN or infinite samples"):
        codec.encode_image(str(tmp_path / "inf.tif"), EncodeOptions(bpp=8.0, **FAST))
    values[3, 3] = np.nan
    Image.fromarray(values, "F").save(tmp_path / "nan.tif")
    with pytest.raises(InputError, match="has 1 NaN or infinite samples"):
        codec.encode_image(str(tmp_path / "nan.tif"), EncodeOptions(bpp=8.0, **FAST))


def test_a_png_whose_data_ends_early_is_refused(tmp_path):
    """Pillow fills the rows a truncated stream lacks with zeros, silently."""
    import struct
    import zlib

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    rows = b"".join(b"\0" + bytes(range(40)) for _ in range(10))
    ihdr = chunk(b"IHDR", struct.pack(">IIBBBBB", 40, 30, 8, 0, 0, 0, 0))
    (tmp_path / "short.png").write_bytes(b"\x89PNG\r\n\x1a\n" + ihdr + chunk(b"IDAT", zlib.compress(rows))
                                         + chunk(b"IEND", b""))  # fmt: skip
    with pytest.raises(InputError, match="ends after 410 of 1230 bytes"):
        codec.encode_image(str(tmp_path / "short.png"), EncodeOptions(bpp=8.0, **FAST))
