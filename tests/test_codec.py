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
