"""Batch encoding and decoding through the CLI: naming, resuming, --force, per-file errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image

import inrcodec
from inrcodec import batch
from inrcodec.batch import BatchProgress, DecodeRequest, Entry, encode_batch, existing_encode, plan_outputs
from inrcodec.cli import main
from inrcodec.errors import OptionError
from inrcodec.options import EncodeOptions

from .conftest import smooth_image

FAST = ["--steps", "20", "--bpp", "8"]  # 320 bytes: above the smallest grid file for 20x16


@pytest.fixture
def runner():
    return CliRunner()


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    folder = tmp_path / "photos"
    folder.mkdir()
    for i in range(2):
        Image.fromarray(smooth_image(16, 20, seed=i)).save(folder / f"p{i}.png")
    return folder


def invoke(runner, *args):
    return runner.invoke(main, [str(a) for a in args])


def test_batch_encode_skips_done_files_and_force_redoes_them(runner, photos, tmp_path):
    out = tmp_path / "out"
    r = invoke(runner, "encode", *sorted(photos.glob("*.png")), "-d", out, *FAST)
    assert r.exit_code == 0, r.output
    assert sorted(p.name for p in out.iterdir()) == ["p0.inr", "p1.inr"]
    header, *rows = r.stdout.strip().splitlines()
    assert header.split() == ["file", "bytes", "bpp", "PSNR", "seconds", "status"]
    assert [row.split()[-1] for row in rows] == ["done", "done"]
    assert "[" in r.stderr and "2/2" in r.stderr  # the progress bar over files
    first = (out / "p0.inr").stat().st_mtime_ns

    r = invoke(runner, "encode", *sorted(photos.glob("*.png")), "-d", out, *FAST, "--json")
    assert r.exit_code == 0, r.output
    assert [rec["status"] for rec in json.loads(r.stdout)] == ["skipped", "skipped"]
    assert (out / "p0.inr").stat().st_mtime_ns == first

    r = invoke(runner, "encode", photos / "p0.png", "-d", out, *FAST, "--force", "--json")
    assert r.exit_code == 0 and json.loads(r.stdout)[0]["status"] == "done"


def test_a_changed_target_or_a_broken_output_is_encoded_again(photos, tmp_path):
    out = tmp_path / "out"
    entry = plan_outputs([photos / "p0.png"], out, ".inr")[0]
    opts = EncodeOptions(bpp=8, steps=20)
    assert encode_batch([entry.input], out, opts).ok
    assert existing_encode(entry, opts) is not None
    assert existing_encode(entry, EncodeOptions(bpp=2, steps=20)) is None  # another target
    assert existing_encode(entry, EncodeOptions(bpp=8, model="fourier")) is None  # another model
    entry.output.write_bytes(entry.output.read_bytes()[:-3])  # cut short: the CRC fails
    assert existing_encode(entry, opts) is None


def test_per_file_errors_do_not_stop_the_batch(runner, photos, tmp_path):
    (photos / "broken.png").write_bytes(b"not an image")
    out = tmp_path / "out"
    r = invoke(runner, "encode", *sorted(photos.glob("*.png")), "-d", out, *FAST)
    assert r.exit_code == 1
    statuses = {line.split()[0]: line.split()[-1] for line in r.stdout.strip().splitlines()[1:]}
    assert statuses == {str(photos / "broken.png"): "failed", str(photos / "p0.png"): "done",
                        str(photos / "p1.png"): "done"}  # fmt: skip
    assert f"error: {photos / 'broken.png'}: not an image Pillow can read" in r.stderr
    assert "1 of 3 files failed" in r.stderr
    assert sorted(p.name for p in out.iterdir()) == ["p0.inr", "p1.inr"]


def test_batch_decode_at_a_scale_resumes_and_reports_bad_files(runner, photos, tmp_path):
    inrs = tmp_path / "inrs"
    assert invoke(runner, "encode", *sorted(photos.glob("*.png")), "-d", inrs, *FAST).exit_code == 0
    (inrs / "bad.inr").write_bytes(b"\x89INR garbage")
    pngs = tmp_path / "pngs"
    r = invoke(runner, "decode", *sorted(inrs.glob("*.inr")), "-d", pngs, "--scale", "2", "--quiet")
    assert r.exit_code == 1 and "bad.inr" in r.stderr
    assert sorted(p.name for p in pngs.iterdir()) == ["p0.png", "p1.png"]
    assert Image.open(pngs / "p0.png").size == (40, 32)
    r = invoke(runner, "decode", inrs / "p0.inr", inrs / "p1.inr", "-d", pngs, "--scale", "2", "--json")
    assert r.exit_code == 0 and {rec["status"] for rec in json.loads(r.stdout)} == {"skipped"}
    # another size is another output: decoded again
    r = invoke(runner, "decode", inrs / "p0.inr", "-d", pngs, "--json", "--format", "png")
    assert r.exit_code == 0 and json.loads(r.stdout)[0]["status"] == "done"
    assert Image.open(pngs / "p0.png").size == (20, 16)


def test_without_a_folder_outputs_go_beside_their_inputs(runner, photos):
    r = invoke(runner, "encode", photos / "p0.png", photos / "p1.png", *FAST, "--quiet")
    assert r.exit_code == 0, r.output
    assert (photos / "p0.inr").exists() and (photos / "p1.inr").exists()


def test_colliding_stems_are_refused_before_any_work(runner, photos, tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    Image.fromarray(smooth_image(8, 8)).save(other / "p0.png")
    r = invoke(runner, "encode", photos / "p0.png", other / "p0.png", "-d", tmp_path / "out", *FAST)
    assert r.exit_code == 2 and "more than one input" in r.stderr
    assert not (tmp_path / "out").exists()
    # the same file named twice is one input
    assert len(plan_outputs([photos / "p0.png", photos / "p0.png"], None, ".inr")) == 1


def test_single_file_commands_are_unchanged_and_refuse_batch_options(runner, photos, tmp_path):
    out = tmp_path / "one.inr"
    r = invoke(runner, "encode", photos / "p0.png", "-o", out, *FAST, "--quiet")
    assert r.exit_code == 0 and out.exists()
    r = invoke(runner, "encode", photos / "p0.png", *FAST, "--force")
    assert r.exit_code == 2 and "--force is for batches" in r.stderr
    # --jobs spreads a single image's tiles (docs/scaling.md); an untiled image has none to spread
    r = invoke(runner, "encode", photos / "p0.png", "-o", tmp_path / "jobs.inr", *FAST, "--jobs", "2", "--quiet")
    assert r.exit_code == 2 and "fit a large image's tiles in parallel" in r.stderr
    r = invoke(runner, "encode", photos / "p0.png", photos / "p1.png", "-o", out, *FAST)
    assert r.exit_code == 2 and "-d FOLDER" in r.stderr
    r = invoke(runner, "decode", out)
    assert r.exit_code == 2 and "give -o OUTPUT" in r.stderr
    r = invoke(runner, "decode", out, "-o", tmp_path / "one.png")
    assert r.exit_code == 0 and Image.open(tmp_path / "one.png").size == (20, 16)


@pytest.mark.slow
def test_two_jobs_give_the_files_one_job_gives(runner, photos, tmp_path):
    inputs = sorted(photos.glob("*.png"))
    assert invoke(runner, "encode", *inputs, "-d", tmp_path / "one", *FAST, "--quiet").exit_code == 0
    r = invoke(runner, "encode", *inputs, "-d", tmp_path / "two", *FAST, "--jobs", "2", "--quiet")
    assert r.exit_code == 0, r.output
    for name in ("p0.inr", "p1.inr"):
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes()


def test_progress_reaches_every_file_and_results_keep_input_order(photos, tmp_path):
    seen: list[BatchProgress] = []
    inputs = [photos / "p1.png", photos / "p0.png"]
    outcome = encode_batch(inputs, tmp_path / "out", EncodeOptions(bpp=8, steps=20), progress=seen.append)
    assert [Path(r.input).name for r in outcome.results] == ["p1.png", "p0.png"]
    assert [p.done for p in seen] == [1, 2] and seen[-1].total == 2 and seen[-1].eta_s == 0
    assert all(r.psnr > 5 and r.bytes > 0 for r in outcome.results)


def test_batch_option_errors(runner, photos, tmp_path):
    with pytest.raises(OptionError, match="--checkpoint is for single"):
        encode_batch([photos / "p0.png"], tmp_path, EncodeOptions(checkpoint=tmp_path / "c"))
    with pytest.raises(OptionError, match="--stack works with"):
        encode_batch([photos / "p0.png"], tmp_path, EncodeOptions(model="grid"), stack=2)
    with pytest.raises(OptionError, match="not both"):
        batch.decode_batch([], tmp_path, request=DecodeRequest(scale=2, width=3))
    r = invoke(runner, "decode", photos / "p0.png", "-d", tmp_path, "--format", "nope")
    assert r.exit_code == 1 and "extension '.nope'" in r.stderr
    wav = tmp_path / "a.wav"
    wav.write_bytes(b"")
    r = invoke(runner, "encode", wav, photos / "p0.png", "-d", tmp_path / "o")
    assert r.exit_code == 2 and "audio" in r.stderr


def test_entries_name_outputs_by_stem(tmp_path):
    assert plan_outputs(["a/x.png", "b/y.jpg"], tmp_path, ".inr") == [
        Entry(0, Path("a/x.png"), tmp_path / "x.inr"), Entry(1, Path("b/y.jpg"), tmp_path / "y.inr")]  # fmt: skip


def test_batch_decoded_pixels_equal_a_single_decode(photos, tmp_path):
    encode_batch([photos / "p0.png"], tmp_path, EncodeOptions(bpp=8, steps=20))
    outcome = batch.decode_batch([tmp_path / "p0.inr"], tmp_path / "png")
    assert outcome.ok
    import numpy as np

    np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "png" / "p0.png")),
                                  inrcodec.decode(tmp_path / "p0.inr"))  # fmt: skip


SEEDS = Path(__file__).resolve().parent / "fuzz" / "seeds"
BAD = Path(__file__).resolve().parent / "data" / "bad"


def test_batch_decode_goes_past_a_hostile_file_to_the_summary(runner, tmp_path):
    """Issue 14: a 16-bit colour header (valid CRC) between two good files stopped the batch with
    a traceback, so the second good file was never written and no summary came."""
    files = [tmp_path / "good.inr", tmp_path / "rgb16.inr", tmp_path / "good2.inr"]
    files[0].write_bytes((SEEDS / "siren_rgb.inr").read_bytes())
    files[1].write_bytes((BAD / "rgb16_valid_crc.inr").read_bytes())
    files[2].write_bytes((SEEDS / "grid_rgb.inr").read_bytes())
    result = invoke(runner, "decode", *files, "-d", tmp_path / "out", "--quiet")
    assert result.exit_code == 1
    assert (tmp_path / "out" / "good.png").exists() and (tmp_path / "out" / "good2.png").exists()
    assert not (tmp_path / "out" / "rgb16.png").exists()
    errors = [ln for ln in result.stderr.splitlines() if ln.startswith("inrcodec: error:")]
    assert any("rgb16.inr: 16-bit depth is for grayscale" in ln for ln in errors)
    assert "Traceback" not in result.output + result.stderr
    assert errors[-1].endswith("(2 decoded, 0 skipped, 1 failed)")


def test_a_failure_writing_one_output_does_not_stop_the_batch(monkeypatch, tmp_path):
    """Whatever the writer raises for one file (here a ValueError) is that file's failure."""
    real = batch.write_image

    def write(path, *args, **kwargs):
        if Path(path).stem == "a":
            raise ValueError("the writer broke\nover two lines")
        return real(path, *args, **kwargs)

    monkeypatch.setattr(batch, "write_image", write)
    for name in ("a", "b"):
        (tmp_path / f"{name}.inr").write_bytes((SEEDS / "siren_rgb.inr").read_bytes())
    outcome = batch.decode_batch([tmp_path / "a.inr", tmp_path / "b.inr"], tmp_path / "out")
    assert [r.status for r in outcome.results] == ["failed", "done"]
    assert outcome.results[0].error == "ValueError: the writer broke over two lines"
    assert (tmp_path / "out" / "b.png").exists()
