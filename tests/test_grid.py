"""The latent-grid family: exact integer latent coding, any-size decoding, rate control."""

import dataclasses
import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import inrcodec
from inrcodec import coords, entropy, quantize
from inrcodec.codec import encode_image
from inrcodec.errors import FormatError, OptionError
from inrcodec.grid import coding, context, payload
from inrcodec.grid.context import laplace_bits
from inrcodec.grid.recipe import GridConfig, build_model
from inrcodec.grid.training import GridFitTask
from inrcodec.grid.upsampling import UP2_TAPS, axis_taps, up2, up2_int
from inrcodec.options import EncodeOptions
from inrcodec.rate import RateTarget

from .conftest import smooth_image

FAST = {"model": "grid", "steps": 30, "seed": 0}


def random_context(rng, levels, kernel="bicubic"):
    return context.IntegerContext(
        w1=rng.integers(-2000, 2000, (8, context.CONTEXT_INPUTS)),
        b1=rng.integers(-500, 500, 8),
        w2=rng.integers(-800, 800, (2, 8)),
        level_bias=rng.integers(-3000, 3000, (levels, 2)),
        kernel=kernel,
    )


@settings(max_examples=30, deadline=None)
@given(
    st.integers(1, 23), st.integers(1, 23), st.integers(1, 4), st.integers(1, 2),
    st.sampled_from(["bilinear", "bicubic"]), st.sampled_from(["checkerboard", "wavefront"]),
    st.integers(0, 2**32 - 1),
)  # fmt: skip
def test_latent_pyramids_round_trip_exactly(h, w, levels, channels, kernel, scheme, seed):
    rng = np.random.default_rng(seed)
    shapes = [(channels, -(-h // 2**k), -(-w // 2**k)) for k in range(levels)]
    grids = [np.round(rng.laplace(0, rng.uniform(0.1, 6), s)).astype(np.int64) for s in shapes]
    ctx = random_context(rng, levels, kernel)
    enc = entropy.StreamEncoder()
    ranges = coding.SCHEMES[scheme].encode(enc, ctx, grids)
    dec = entropy.StreamDecoder(enc.finish())
    back = coding.SCHEMES[scheme].decode(dec, ctx, shapes, ranges)
    dec.finish()
    for a, b in zip(grids, back):
        np.testing.assert_array_equal(a, b)


def _coded_pyramids(seed, sizes, levels=3, channels=2, scheme="wavefront"):
    """Independent pyramids (their own sizes, weights and streams), as a tiled file's tiles."""
    rng = np.random.default_rng(seed)
    out = []
    for h, w in sizes:
        shapes = [(channels if k == 0 else 1, -(-h // 2**k), -(-w // 2**k)) for k in range(levels)]
        grids = [np.round(rng.laplace(0, rng.uniform(0.3, 4), s)).astype(np.int64) for s in shapes]
        ctx = random_context(rng, levels)
        enc = entropy.StreamEncoder()
        ranges = coding.SCHEMES[scheme].encode(enc, ctx, grids)
        stream = coding.LatentStream(entropy.StreamDecoder(enc.finish()), ctx, shapes, ranges, coding.own_bound(ctx))
        out.append((grids, stream))
    return out


@pytest.mark.parametrize("scheme", ["checkerboard", "wavefront"])
def test_pyramids_decoded_together_are_those_decoded_alone(scheme):
    # uneven sizes: some pyramids run out of wavefronts before others
    coded = _coded_pyramids(3, [(17, 23), (16, 9), (1, 30), (21, 22)], scheme=scheme)
    decoded = coding.SCHEMES[scheme].decode_many([stream for _, stream in coded])
    for (grids, stream), back in zip(coded, decoded):
        stream.decoder.finish()  # each stream read exactly its own symbols
        for a, b in zip(grids, back):
            np.testing.assert_array_equal(a, b)


def test_pyramids_decoded_together_keep_their_own_latent_bound():
    coded = _coded_pyramids(4, [(12, 12), (12, 13)])
    streams = [stream for _, stream in coded]
    largest = max(int(np.abs(z).max()) for z in coded[1][0])
    streams[1] = dataclasses.replace(streams[1], bound=largest - 1)  # the second one's header allows less
    with pytest.raises(FormatError, match="beyond"):
        coding.WAVEFRONT.decode_many(streams)


def test_pyramids_decoded_together_share_depth_and_kernel():
    coded = _coded_pyramids(5, [(8, 8), (8, 8)])
    other = _coded_pyramids(5, [(8, 8)], levels=2)[0][1]
    with pytest.raises(ValueError, match="depth"):
        coding.WAVEFRONT.decode_many([coded[0][1], other])


def test_wavefront_predictions_in_float_are_the_integer_ones_up_to_their_reach():
    # The decoder predicts in float64 BLAS while every input is within float_reach, in int64
    # beyond: both must give the same integers at the limit.
    rng = np.random.default_rng(6)
    ctx = random_context(rng, 2)
    level = coding._WavefrontLevel([ctx], 0, [(2, 9, 11)], [rng.integers(-3, 4, (1, 5, 6))])
    reach = level.float_reach
    assert 0 < reach < 2**40
    cells = np.arange(len(level.at))[None, :]
    for times, same in ((1, True), (4096, False)):  # far beyond it, float64 rounds
        level.padded[:] = rng.choice([-reach * times, 0, reach * times], level.padded.shape)
        level.reach, level.float_reach = 0, reach  # the float64 path, whatever the inputs
        in_float = level.head_outputs(cells)
        level.float_reach = -1  # the int64 path
        assert np.array_equal(in_float, level.head_outputs(cells)) == same


@pytest.mark.parametrize("kernel", ["bilinear", "bicubic"])
def test_integer_upsampling_is_the_float_one_exactly(kernel):
    rng = np.random.default_rng(0)
    z = rng.integers(-50, 50, (2, 5, 7))
    den = UP2_TAPS[kernel][2]
    exact = up2_int(z, kernel, (9, 13))
    approx = up2(torch.from_numpy(z).double(), kernel, (9, 13)).numpy()
    np.testing.assert_allclose(exact / den**2, approx, atol=1e-9)


@pytest.mark.parametrize("kernel", ["bilinear", "bicubic"])
@pytest.mark.parametrize("shape,size", [((2, 5, 7), (9, 13)), ((1, 1, 3), (2, 6)), ((3, 2, 1), (4, 1))])
def test_upsampling_backward_is_its_adjoint(kernel, shape, size):
    """up2's written-out backward against finite differences (edges, odd crops, one-cell axes)."""
    z = torch.randn(shape, dtype=torch.float64, generator=torch.Generator().manual_seed(1), requires_grad=True)
    assert torch.autograd.gradcheck(lambda t: up2(t, kernel, size), (z,))


def test_laplace_bits_derivatives():
    """The rate term's written-out derivatives against finite differences, in the tail and at
    the centre of the bin, for sharp and broad scales, and its values against the CDF."""
    mean = torch.tensor([0.0, 0.1, -0.3, 2.2, 0.0, -4.6, 0.45], dtype=torch.float64)
    y = torch.tensor([1.0, 0.0, 0.0, -1.0, 3.0, -5.0, 0.0], dtype=torch.float64)
    log2_scale = torch.tensor([0.0, -2.0, 1.5, 3.0, -1.0, 6.0, -0.5], dtype=torch.float64)
    args = tuple(t.clone().requires_grad_() for t in (y, mean, log2_scale))
    assert torch.autograd.gradcheck(laplace_bits, args)
    b = torch.exp2(log2_scale)

    def cdf(v):
        return torch.where(v < 0, 0.5 * torch.exp(v / b), 1 - 0.5 * torch.exp(-v / b))

    expected = -torch.log2(cdf(y - mean + 0.5) - cdf(y - mean - 0.5))
    torch.testing.assert_close(laplace_bits(y, mean, log2_scale), expected, rtol=1e-12, atol=1e-12)
    # far beyond the scale the probability stops at 2^-24, and nothing moves it further
    far = tuple(torch.tensor([v], dtype=torch.float64, requires_grad=True) for v in (40.0, 0.0, -3.0))
    bits = laplace_bits(*far)
    bits.backward()
    assert bits.item() == 24.0 and all(t.grad.item() == 0.0 for t in far)


def test_interpolation_taps_reproduce_a_grid_at_its_own_centres():
    idx, w = axis_taps(6, coords.axis(6), "bicubic")
    values = np.arange(6.0)
    np.testing.assert_allclose((values[idx] * w).sum(1), values, atol=1e-12)


def test_grid_round_trip_and_any_size():
    img = smooth_image(20, 28)
    blob = inrcodec.encode(img, size=400, **FAST)
    assert inrcodec.info(blob)["model"] == "grid"
    assert inrcodec.decode(blob).shape == (20, 28, 3)
    assert inrcodec.decode(blob, scale=2.5).shape == (50, 70, 3)
    assert inrcodec.decode(blob, width=11).shape == (8, 11, 3)


def test_grid_point_sampling_matches_rendering():
    model = build_model(
        GridConfig(levels=3, first_level=0, channels=(1, 1, 1)), 9, 12, 3, torch.Generator().manual_seed(0)
    )
    with torch.no_grad():
        for z in model.latents:
            z.copy_(torch.randn_like(z) * 3)
    rendered = model.render(9, 12, torch.device("cpu"))
    pts = torch.from_numpy(coords.image_points(9, 12))
    with torch.no_grad():
        sampled = model(pts).numpy().reshape(9, 12, 3)
    np.testing.assert_allclose(sampled, rendered, atol=1e-5)
    bigger = model.render(27, 36, torch.device("cpu"))
    np.testing.assert_allclose(bigger[1::3, 1::3], rendered, atol=1e-5)  # odd scale hits centres


def test_grid_files_are_deterministic():
    img = smooth_image(16, 16)
    a = inrcodec.encode(img, size=400, **FAST)
    assert a == inrcodec.encode(img, size=400, **FAST)
    np.testing.assert_array_equal(inrcodec.decode(a), inrcodec.decode(a))


@pytest.mark.slow
def test_grid_learns_a_smooth_image():
    # Colour channels correlated, as in photographs: the default pyramid has two channels at its
    # finest level, too few for three unrelated fine patterns (SIREN fits those better).
    g = smooth_image(32, 32, channels=1).astype(np.float64)
    img = np.clip(np.concatenate([g, 0.8 * g + 20, 0.6 * g + 60], -1), 0, 255).round().astype(np.uint8)
    result = encode_image(img, EncodeOptions(model="grid", bpp=4.0, steps=300, seed=0))
    assert result.psnr >= 30.0


@pytest.mark.parametrize("channels", [1, 4])
def test_grid_handles_gray_and_alpha(channels):
    img = smooth_image(12, 10, channels)
    out = inrcodec.decode(inrcodec.encode(img, size=400, **FAST))
    assert out.shape == img.shape


def _fit_task(**overrides):
    """A grid fit task of the production recipe (GridConfig), with some fields overridden."""
    config = GridConfig().with_overrides({"levels": 3, "channels": (2, 1), **overrides})
    img = torch.from_numpy(smooth_image(16, 20)).float().permute(2, 0, 1) / 255
    model = build_model(config, 16, 20, 3, torch.Generator().manual_seed(0))
    with torch.no_grad():
        for z in model.latents:
            z.copy_(torch.randn_like(z) * 2)
    task = GridFitTask(model, img, 255, config, coding.WAVEFRONT, lmbda=0.01, target=None,
                       generator=torch.Generator().manual_seed(1))  # fmt: skip
    return model, task


def test_split_rate_proxy_trains_the_entropy_model_on_rounded_latents():
    # The context network must learn the integers the coder sees: its gradient is that of the
    # rounded latents' bits alone, while the latents feel the noisy proxy too.
    model, task = _fit_task(rate_proxy="split", bands=1)
    noise = task._noise()
    _, bits, coded = task.terms(noise, task.full)
    bits.backward()
    split_grads = [p.grad.clone() for _, p in model.context_tensors()]
    latent_grad = model.latents[0].grad.clone()
    model.zero_grad()
    _, _, coded = task.terms(noise, task.full)
    coded.backward()
    for (_, p), g in zip(model.context_tensors(), split_grads):
        torch.testing.assert_close(g, p.grad)
    assert not torch.allclose(latent_grad, model.latents[0].grad)


def test_rounded_phase_slows_the_latents_only():
    _, task = _fit_task(ste_share=0.2, ste_latent_lr=0.1)
    assert task.lr_factors(0.5) == [1.0, 1.0, 1.0]
    assert task.lr_factors(0.9) == [0.1, 1.0, 1.0]


def test_soft_round_goes_from_identity_to_rounding_with_a_gradient():
    from inrcodec.grid.training import soft_round

    z = torch.tensor([-1.3, -0.2, 0.1, 0.7, 2.45], requires_grad=True)
    torch.testing.assert_close(soft_round(z, 1e-3), torch.round(z.detach()))
    torch.testing.assert_close(soft_round(z, 1e3), z.detach(), atol=1e-4, rtol=0)
    soft_round(z, 0.3).sum().backward()
    assert (z.grad > 0).all()


def test_the_conditional_mean_goes_from_identity_to_rounding_and_inverts_the_soft_round():
    from inrcodec.grid.training import soft_round, soft_round_conditional_mean

    y = torch.tensor([-1.3, -0.2, 0.1, 0.7, 2.45], dtype=torch.float64)
    torch.testing.assert_close(soft_round_conditional_mean(y, 1e-3), torch.round(y), atol=1e-2, rtol=0)
    torch.testing.assert_close(soft_round_conditional_mean(y, 1e3), y, atol=1e-4, rtol=0)
    # r(y) = s^-1(y - 1/2) + 1/2: through the soft round, back where it started
    torch.testing.assert_close(soft_round(soft_round_conditional_mean(y, 0.3) - 0.5, 0.3) + 0.5, y)
    with pytest.raises(OptionError, match="soft_round_outer"):
        GridConfig(soft_round_outer="identity")
    _, task = _fit_task(soft_round_outer="conditional_mean")
    task.training_loss(0, 0.2).backward()
    assert all(z.grad is not None and torch.isfinite(z.grad).all() for z in task.model.latents)


def test_soft_round_temperature_is_two_positive_numbers():
    with pytest.raises(OptionError, match="soft_round_temperature"):
        GridConfig(soft_round_temperature=(0.3, 0.0))
    with pytest.raises(OptionError, match="soft_round_temperature"):
        GridConfig().with_overrides({"soft_round_temperature": [0.3]})
    _, task = _fit_task(soft_round_temperature=(0.3, 0.1))  # linear to the rounded phase, then held
    assert task._temperature(0.0) == pytest.approx(0.3)
    assert task._temperature((1 - task.config.ste_share) / 2) == pytest.approx(0.2)
    assert task._temperature(0.99) == pytest.approx(0.1)
    task.training_loss(0, 0.2).backward()  # the soft-rounded noisy latents carry a gradient
    assert all(
        z.grad is not None and torch.isfinite(z.grad).all() and z.grad.abs().sum() > 0 for z in task.model.latents
    )


def test_soft_rounding_applies_below_its_target_threshold_only():
    config = GridConfig()
    assert config.for_target(0.25).soft_round_temperature == (0.3, 0.1)
    assert config.for_target(config.soft_round_max_bpp).soft_round_temperature is None
    assert config.for_target(1.0).soft_round_temperature is None  # the high-rate recipe too
    everywhere = config.with_overrides({"soft_round_max_bpp": None})
    assert everywhere.for_target(2.0).soft_round_temperature == (0.3, 0.1)
    assert everywhere.for_target(2.0).first_level == 0
    for bad in (0.0, -1.0, float("nan"), float("inf")):
        with pytest.raises(OptionError, match="soft_round_max_bpp"):
            config.with_overrides({"soft_round_max_bpp": bad})
    for bpp in (0.06, 0.25, 0.5, 2.0):  # a resolved recipe resolves to itself, whatever the target
        resolved = config.for_target(bpp)
        assert resolved.for_target(0.01) == resolved == resolved.for_target(5.0)


def test_every_soft_round_outer_the_config_accepts_has_a_function():
    from inrcodec.grid.recipe import SOFT_ROUND_OUTERS
    from inrcodec.grid.training import SOFT_ROUND_OUTER

    assert set(SOFT_ROUND_OUTERS) == set(SOFT_ROUND_OUTER)


def test_the_checkerboard_serves_only_low_targets_fitted_without_soft_rounding():
    from inrcodec.grid.recipe import scheme_for

    soft, plain = GridConfig(), GridConfig(soft_round_temperature=None)
    assert scheme_for(soft, 0.06).name == scheme_for(soft.for_target(0.06), 0.06).name == "wavefront"
    assert scheme_for(plain, 0.06).name == scheme_for(plain.for_target(0.06), 0.06).name == "checkerboard"
    assert scheme_for(plain, plain.wavefront_min_bpp).name == "wavefront"
    assert scheme_for(GridConfig(context_scheme="checkerboard"), 0.5).name == "checkerboard"


def test_a_negative_feedback_persistence_is_refused():
    with pytest.raises(OptionError, match="feedback_persistence"):
        GridConfig().with_overrides({"feedback_persistence": -1.0})


def test_rate_feedback_speeds_up_while_the_error_keeps_its_sign():
    """A rate that stays under its target (a smooth image whose rate barely follows lambda)
    lowers lambda faster the longer the error keeps its sign; an error that changes sign resets
    the gain, so a rate that crosses its target is steered as before."""

    def lmbda_after(persistence: float, errors) -> float:
        _, task = _fit_task(feedback_persistence=persistence, damping=0.0, feedback_start=0.1)
        task.target = RateTarget(bits=1000.0)
        for k, error in enumerate(errors):
            task._steer(1000.0 * (1 + error), (k + 1) / len(errors))
        return task.lmbda / task.initial_lmbda

    under = [-0.2] * 100
    assert lmbda_after(4.0, under) < 0.5 * lmbda_after(0.0, under)  # 1/30 (the floor) against 0.113
    # 91 steps of 0.01 from the feedback start, gain 12: the error alone
    assert lmbda_after(0.0, under) == pytest.approx(math.exp(-12 * 0.2 * 0.91), rel=1e-6)
    alternating = [0.2 if k % 2 else -0.2 for k in range(100)]
    assert lmbda_after(4.0, alternating) == pytest.approx(lmbda_after(0.0, alternating), rel=0.02)


@pytest.mark.parametrize("scheme", ["checkerboard", "wavefront"])
def test_float_context_predicts_what_the_integer_coder_uses(scheme):
    # The rate term trains the float context; the coder uses its integer twin, built from the
    # symbols the file stores (the production path: payload.integer_context). Same inputs, same
    # network: their means agree to the coder's 1/16 rounding and scales to a quarter octave.
    rng = np.random.default_rng(3)
    config = GridConfig(levels=4, first_level=1, channels=(2, 1, 1))
    model = build_model(config, 21, 34, 3, torch.Generator().manual_seed(0))
    with torch.no_grad():
        for z in model.latents:
            z.copy_(torch.from_numpy(np.round(rng.laplace(0, 3, z.shape))))
        for _, p in model.context_tensors():
            p.copy_(torch.from_numpy(rng.uniform(-1, 1, p.shape)) * (0.3 if p is model.context.level_bias else 0.2))
    symbols = [quantize.quantize(p.detach().numpy(), payload.CONTEXT_STEP_EXP) for _, p in model.context_tensors()]
    ctx = payload.integer_context(model, symbols)
    with torch.no_grad():
        for (_, p), q in zip(model.context_tensors(), symbols):  # the float network exactly as its integer twin
            p.copy_(torch.from_numpy(quantize.dequantize(q, payload.CONTEXT_STEP_EXP)))
        dists = model.context.distributions(list(model.latents), coding.SCHEMES[scheme], model.kernel)
    levels = [z.detach().numpy().astype(np.int64) for z in model.latents]
    mean16, scale, order = coder_predictions(ctx, levels, scheme)
    for k, (mean, log2_scale) in enumerate(dists):
        m, s = mean.numpy().ravel()[order[k]], log2_scale.numpy().ravel()[order[k]]
        assert np.abs(mean16[k] / 16 - m).max() <= 1 / 16 + 1e-4
        free = (scale[k] > 0) & (scale[k] < entropy.NUM_SCALES - 1)
        assert np.abs(scale[k] - 20 - 4 * s)[free].max() <= 0.5 + 1e-4


def coder_predictions(ctx, levels, scheme):
    """Per level, the integer coder's mean (1/16) and scale index of each cell, in coding order,
    and that order as flat cell indices."""
    mean16, scale, order = {}, {}, {}
    if scheme == "wavefront":
        for k, (residual, keys) in enumerate(coding.Wavefront.residuals(ctx, levels)):
            order[k] = coding.Wavefronts.of(levels[k].shape).order
            s, frac = np.divmod(keys, 16)
            mean16[k] = 16 * (levels[k].ravel()[order[k]] - residual) + frac - 8
            scale[k] = s
        return mean16, scale, order
    cursors = {k: coding._Cursor(z) for k, z in enumerate(levels)}

    def fill(k, centre, frac, s, groups):
        mean16.setdefault(k, []).append(16 * centre + frac)
        scale.setdefault(k, []).append(s)
        return cursors[k].next(len(centre))

    coding.Checkerboard.walk(ctx, [z.shape for z in levels], fill)
    for k, z in enumerate(levels):
        board = np.broadcast_to(coding._checkerboard(*z.shape[1:]), z.shape).ravel()
        order[k] = np.concatenate([np.flatnonzero(board), np.flatnonzero(~board)])
        mean16[k], scale[k] = np.concatenate(mean16[k]), np.concatenate(scale[k])
    return mean16, scale, order
