"""The learned local implicit function: quality on a real photo, continuity, bands, the decode path."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image
from skimage import data

from inrcodec import apps, codec
from inrcodec.cli import main
from inrcodec.errors import OptionError
from inrcodec.metrics import psnr
from inrcodec.models import local_implicit
from inrcodec.options import EncodeOptions

ROOT = Path(__file__).resolve().parents[1]
TRAIN = ROOT.parent / "shared" / "data" / "train" / "wikipedia"


def reduce(pixels: np.ndarray, factor: int) -> np.ndarray:
    h, w = pixels.shape[:2]
    return np.asarray(Image.fromarray(pixels).resize((w // factor, h // factor), Image.BICUBIC, reducing_gap=None))


def lanczos(pixels: np.ndarray, height: int, width: int) -> np.ndarray:
    return np.asarray(Image.fromarray(pixels).resize((width, height), Image.LANCZOS))


@pytest.fixture(scope="module")
def photo():
    """A 192 x 192 crop of scikit-image's astronaut (not a training photo): face, suit, flag."""
    return np.ascontiguousarray(data.astronaut()[40:232, 150:342])


@pytest.mark.parametrize("factor", [2, 3, 4])
def test_learned_upscale_beats_lanczos_on_a_photo(photo, factor):
    small = reduce(photo, factor)
    out = apps.upscale(small, factor)
    assert out.shape == photo.shape and out.dtype == np.uint8
    # measured with the shipped weights: x2 +1.2 dB, x3 +0.9, x4 +0.6 over Lanczos
    assert psnr(out, photo) > psnr(lanczos(small, *photo.shape[:2]), photo) + 0.2


def test_one_continuous_function(photo):
    """Sampled at nearby sizes, the function changes little: no jumps between small pixels."""
    small = reduce(photo, 4).astype(np.float32) / 255
    model = local_implicit.shipped_model()
    # a dense row of points across small pixels: neighbouring samples differ smoothly
    row = local_implicit.render(model, small, 48, 48 * 16)[20]
    steps = np.abs(np.diff(row, axis=0)).max()
    assert steps < 0.05, steps


def test_bands_join_exactly(photo, monkeypatch):
    small = reduce(photo, 2).astype(np.float32) / 255
    model = local_implicit.shipped_model()
    monkeypatch.setattr(local_implicit, "BAND", 7)
    banded = local_implicit.render(model, small, 250, 201)
    monkeypatch.setattr(local_implicit, "BAND", 10_000)
    whole = local_implicit.render(model, small, 250, 201)
    assert np.abs(banded - whole).max() < 1e-4


def test_decode_with_learned_sr(photo, tmp_path):
    small = reduce(photo, 4)
    data_ = codec.encode_image(small, EncodeOptions(bpp=2.0, effort="fast")).data
    plain = codec.decode_image(data_, scale=4).pixels
    refined = codec.decode_image(data_, scale=4, sr="learned").pixels
    assert refined.shape == plain.shape == photo.shape
    # the refinement works from the 1x decode, so it stays close to the plain 4x decode
    assert psnr(refined, plain) > 25
    with pytest.raises(OptionError, match="only upscales"):
        codec.decode_image(data_, scale=0.5, sr="learned")
    with pytest.raises(OptionError, match="sr must be"):
        codec.decode_image(data_, scale=2, sr="magic")
    path = tmp_path / "small.inr"
    path.write_bytes(data_)
    runner = CliRunner()
    out = tmp_path / "big.png"
    r = runner.invoke(main, ["decode", str(path), "--scale", "2.5", "--sr", "learned", "-o", str(out), "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["width"] == 120 and Image.open(out).size == (120, 120)
    r = runner.invoke(main, ["decode", str(path), "--scale", "0.5", "--sr", "learned", "-o", str(tmp_path / "s.png")])
    assert r.exit_code == 2 and r.stderr.startswith("inrcodec: error: --sr learned only upscales")
    assert not (tmp_path / "s.png").exists()


def test_sr_refused_for_audio(tmp_path):
    path = ROOT / "tests" / "data" / "golden_v1_1_segments.inr"
    r = CliRunner().invoke(main, ["decode", str(path), "--sr", "learned", "-o", str(tmp_path / "a.wav")])
    assert r.exit_code == 2 and "--sr is for images" in r.stderr
    assert not (tmp_path / "a.wav").exists()


@pytest.mark.parametrize(
    "path", [local_implicit.WEIGHTS, local_implicit.DENOISE_WEIGHTS, local_implicit.INPAINT_WEIGHTS]
)
def test_weights_are_small_and_local(path):
    assert path.exists() and path.stat().st_size < 2_000_000
    assert sum(p.numel() for p in local_implicit.shipped_model(path).parameters()) < 200_000


def test_push_pull_keeps_known_pixels_and_fills_the_rest():
    import torch

    rng = np.random.default_rng(0)
    values = torch.from_numpy(rng.random((1, 3, 37, 50)).astype(np.float32))
    known = torch.from_numpy((rng.random((1, 1, 37, 50)) < 0.05).astype(np.float32))
    filled = local_implicit.push_pull(values, known)
    assert torch.isfinite(filled).all()
    assert torch.equal(filled[known.expand_as(values) > 0], values[known.expand_as(values) > 0])
    flat = local_implicit.push_pull(torch.full((1, 3, 20, 20), 0.3), (torch.rand(1, 1, 20, 20) < 0.1).float())
    assert torch.allclose(flat, torch.full_like(flat, 0.3), atol=1e-6)  # a constant image stays constant


@pytest.mark.slow
@pytest.mark.skipif(not TRAIN.exists(), reason="needs the training photos in ../shared/data/train")
def test_training_reproduces_its_log(tmp_path):
    """The training script, rerun for its first 500 steps, reproduces the committed log's
    validation at step 500 within 0.1 dB (bit for bit on the machine that trained it)."""
    log = ROOT / "benchmarks" / "results" / "local_implicit" / "train_log.jsonl"
    rows = [json.loads(line) for line in log.read_text().splitlines()]
    header, committed = rows[0], next(r for r in rows[1:] if r["step"] == 500)
    subprocess.run([sys.executable, str(ROOT / "benchmarks" / "train_local_implicit.py"), "--steps", str(header["steps"]),
                    "--stop-after", "500", "--out", str(tmp_path / "w.npz"), "--log", str(tmp_path / "log.jsonl")],
                   check=True, capture_output=True)  # fmt: skip
    rerun = [json.loads(line) for line in (tmp_path / "log.jsonl").read_text().splitlines()][-1]
    assert rerun["step"] == 500
    for factor in ("x2", "x3", "x4"):
        assert abs(rerun["validation"][factor]["psnr"] - committed["validation"][factor]["psnr"]) < 0.1
