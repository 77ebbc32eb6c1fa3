"""Stacked fits: several same-size images in one batched computation match separate fits.

One stacked step gives each network its gradient alone (the loss is a sum of per-image losses),
equal up to float rounding: a batched matrix product may sum in another order (here SIREN's
gradients come out bit-identical, the Fourier model's differ in the last bits). Whole encodes
match statistically, because a sine network amplifies such rounding over the steps: the files
are compared by size and PSNR, not by bytes (in practice most come out byte-identical).
"""

from __future__ import annotations

import pytest
import torch
from click.testing import CliRunner
from PIL import Image

from inrcodec.cli import main
from inrcodec.codec import decode_image, encode_image, image_rate
from inrcodec.errors import OptionError
from inrcodec.io.image import from_array
from inrcodec.options import EncodeOptions
from inrcodec.point_codec import point_budget, point_task
from inrcodec.stacked import StackedPointFitTask, encode_images_stacked

from .conftest import smooth_image


def images(n: int = 3, h: int = 20, w: int = 24):
    return [from_array(smooth_image(h, w, seed=i)) for i in range(n)]


def tasks(imgs, opts: EncodeOptions):
    opts, target = image_rate(opts, imgs[0].height * imgs[0].width)
    budget = point_budget(opts)
    return [point_task(img, opts, target, budget, torch.device("cpu")) for img in imgs]


@pytest.mark.parametrize("model", ["siren", "fourier"])
def test_a_stacked_step_gives_each_network_its_own_gradient(model):
    imgs = images()
    opts = EncodeOptions(steps=5, batch=128, model=model)  # mini-batches: the generators matter
    alone, together = tasks(imgs, opts), tasks(imgs, opts)
    stacked = StackedPointFitTask(together)
    stacked.parameter_groups()
    stacked.training_loss(0, 0.0).backward()
    for k, task in enumerate(alone):
        task.training_loss(0, 0.0).backward()
        for name, p in task.model.named_parameters():
            torch.testing.assert_close(stacked.params[name].grad[k], p.grad, rtol=1e-5, atol=1e-7, msg=name)


def test_members_see_the_stacked_parameters():
    members = tasks(images(2), EncodeOptions(steps=5, model="siren"))
    stacked = StackedPointFitTask(members)
    with torch.no_grad():
        stacked.params["out.bias"][1] += 1.0
    assert torch.equal(members[1].model.out.bias, stacked.params["out.bias"][1])
    assert not torch.equal(members[0].model.out.bias, members[1].model.out.bias)


@pytest.mark.parametrize("quant", ["int", "fp16"])
def test_stacked_encodes_match_separate_ones_statistically(quant):
    imgs = images()
    opts = EncodeOptions(bpp=4.0, steps=60, batch=256, quant=quant, model="siren")
    separate = [encode_image(img, opts) for img in imgs]
    stacked = encode_images_stacked(imgs, opts)
    assert len(stacked) == len(imgs)
    for a, b, img in zip(separate, stacked, imgs):
        assert abs(a.psnr - b.psnr) < 0.5
        assert abs(len(a.data) - len(b.data)) <= 0.05 * len(a.data)
        assert decode_image(b.data).pixels.shape == img.pixels.shape  # a complete, valid file


def test_stacking_refuses_what_it_cannot_stack():
    with pytest.raises(OptionError, match="can be stacked"):
        encode_images_stacked(images(2), EncodeOptions(model="grid"))
    with pytest.raises(OptionError, match="share their size"):
        encode_images_stacked([*images(1), *images(1, h=10)], EncodeOptions(steps=5, model="siren"))
    with pytest.raises(ValueError, match="architecture"):
        a = tasks(images(1), EncodeOptions(steps=5, width=8, model="siren"))
        b = tasks(images(1), EncodeOptions(steps=5, width=9, model="siren"))
        StackedPointFitTask(a + b)


def test_batch_stack_option_groups_same_size_images(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    for i in range(3):
        Image.fromarray(smooth_image(16, 20, seed=i)).save(folder / f"s{i}.png")
    Image.fromarray(smooth_image(12, 12)).save(folder / "odd.png")  # another size: fitted alone
    r = CliRunner().invoke(main, ["encode", *map(str, sorted(folder.glob("*.png"))), "-d", str(tmp_path / "out"),
                                  "--model", "siren", "--bpp", "6", "--steps", "20", "--stack", "2", "--quiet"])  # fmt: skip
    assert r.exit_code == 0, r.output
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["odd.inr", "s0.inr", "s1.inr", "s2.inr"]
    r = CliRunner().invoke(main, ["encode", str(folder / "s0.png"), "-d", str(tmp_path / "g"), "--model", "grid",
                                  "--stack", "2"])  # fmt: skip
    assert r.exit_code == 2 and "--stack works with" in r.stderr
