"""The rate-distortion benchmark harness: codecs, outputs, caching, errors, and the JPEG anchor."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

import inrcodec
from inrcodec.bench import datasets
from inrcodec.bench.cache import ROWS_FILE, RowCache
from inrcodec.bench.classical import CLASSICAL_CODECS, JpegXl
from inrcodec.bench.codec_base import match_channels, parse_number_list
from inrcodec.bench.codecs import CodecSpec
from inrcodec.bench.harness import BenchConfig, run_benchmark
from inrcodec.bench.published import PUBLISHED, SHIPPED_DIR, load_published, read_published_csv
from inrcodec.cli import main
from inrcodec.errors import InputError, OptionError
from inrcodec.executors import threads_per_job

KODAK = Path(__file__).resolve().parents[2] / "shared" / "data" / "kodak"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
RESULT_KEYS = {"psnr-rgb", "ms-ssim-rgb", "bpp", "encoding_time", "decoding_time"}


def textured_image(size: int = 64, channels: int = 3, seed: int = 0) -> np.ndarray:
    """Smooth shapes plus mild noise: compressible, yet not trivially so."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:size, 0:size] / size
    planes = [
        0.5
        + 0.3 * np.sin(2 * np.pi * (rng.uniform(1, 3) * x + rng.uniform(1, 3) * y))
        + 0.05 * rng.standard_normal((size, size))
        for _ in range(channels)
    ]
    return (np.clip(np.stack(planes, -1), 0, 1) * 255).round().astype(np.uint8)


def save(folder: Path, name: str, pixels: np.ndarray) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    mode = {1: "L", 3: "RGB", 4: "RGBA"}[pixels.shape[2]]
    path = folder / name
    Image.fromarray(pixels[:, :, 0] if mode == "L" else pixels, mode).save(path)
    return path


@pytest.fixture
def two_images(tmp_path: Path) -> Path:
    folder = tmp_path / "images"
    save(folder, "a.png", textured_image(seed=1))
    save(folder, "b.png", textured_image(seed=2))
    return folder


def bench(*args: str):
    return CliRunner().invoke(main, ["bench", *args])


# --- the codecs ---------------------------------------------------------------------------


@pytest.mark.parametrize("codec_class", CLASSICAL_CODECS, ids=lambda c: c.name)
@pytest.mark.parametrize("channels", [1, 3])
def test_every_classical_codec_round_trips_gray_and_rgb(codec_class, channels):
    if codec_class is JpegXl:
        pytest.importorskip("imagecodecs", reason="JPEG XL is the [bench] extra's (imagecodecs)")
    pixels = textured_image(48, channels)
    codec = codec_class()
    setting = codec_class.default_settings[-2]  # a high rate: tiny images pay for headers

    decoded = match_channels(codec.decode(codec.encode(pixels, setting)), channels)
    assert decoded.shape == pixels.shape and decoded.dtype == np.uint8
    assert inrcodec.metrics.psnr(pixels, decoded) > 20


def test_jpegxl_without_its_extra_is_a_one_line_error(two_images, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "imagecodecs", None)  # what an install without [bench] has
    r = bench(str(two_images), "--codec", "jpegxl", "-o", str(tmp_path / "out"))
    assert r.exit_code != 0 and (r.exception is None or isinstance(r.exception, SystemExit))
    assert 'the jpegxl codec needs imagecodecs: pip install "inrcodec[bench]"' in r.output
    assert "Traceback" not in r.output


def test_avif_tune_psnr_changes_the_output():
    pixels = textured_image(96)
    plain = CodecSpec("avif").build().encode(pixels, 50)
    tuned = CodecSpec("avif-psnr").build().encode(pixels, 50)
    assert plain != tuned


def test_jpeg2000_meets_its_target_rate():
    pixels = textured_image(128)
    data = CodecSpec("jpeg2000").build().encode(pixels, 0.5)
    assert 8 * len(data) / pixels[:, :, 0].size == pytest.approx(0.5, rel=0.15)


def test_number_lists_are_checked():
    assert parse_number_list("0.3, 0.1,0.3", "--bpp") == [0.1, 0.3]
    for bad in ("0.1,x", "", "0.1,-2", "nan"):
        with pytest.raises(OptionError, match="bad --bpp list"):
            parse_number_list(bad, "--bpp")


def test_threads_per_job_share_the_cores():
    assert threads_per_job(2, cores=16) == 8
    assert threads_per_job(4, cores=2) == 1


# --- end to end through the CLI -----------------------------------------------------------


def test_two_images_two_settings_end_to_end_then_from_cache(two_images, tmp_path):
    out = tmp_path / "results"
    args = [
        str(two_images),
        "-o",
        str(out),
        "--codec",
        "jpeg,webp",
        "--settings",
        "jpeg=20,60",
        "--settings",
        "webp=20,60",
        "--crop",
        "48",
        "--threads",
        "1",
    ]
    first = bench(*args)
    assert first.exit_code == 0, first.output
    assert "8 measured, 0 from cache" in first.output

    rows = list(csv.DictReader((out / "per_image.csv").open()))
    assert len(rows) == 8
    assert {r["image"] for r in rows} == {"a.png", "b.png"}
    assert all(float(r["bpp"]) == pytest.approx(8 * int(r["bytes"]) / (48 * 48)) for r in rows)

    for codec in ("jpeg", "webp"):
        data = json.loads((out / f"{codec}.json").read_text())
        assert data["name"] == codec and "mean of per-image PSNR" in data["description"]
        assert set(data["results"]) == RESULT_KEYS
        assert all(len(v) == 2 for v in data["results"].values())
        mine = [float(r["psnr_rgb"]) for r in rows if r["variant"] == codec and float(r["setting"]) == 20]
        assert data["results"]["psnr-rgb"][0] == pytest.approx(np.mean(mine))

    bd = json.loads((out / "bdrate.json").read_text())
    assert bd["anchor"] == "jpeg" and set(bd["codecs"]) == {"webp"}
    assert set(bd["per_image"]["webp"]) == {"a.png", "b.png"}
    table = (out / "bdrate.md").read_text()
    assert "| webp |" in table and "PSNR overlap" in table
    for png in ("rd.png", "encode_time.png"):
        assert (out / png).read_bytes().startswith(PNG_SIGNATURE)
    machine = json.loads((out / "machine.json").read_text())
    assert machine["threads_per_job"] == 1 and machine["versions"]["torch"]
    assert "bench" in (out / "command.txt").read_text()

    second = bench(*args)
    assert second.exit_code == 0, second.output
    assert "0 measured, 8 from cache" in second.output
    assert len((out / ROWS_FILE).read_text().splitlines()) == 8


def test_gray_and_rgba_images_are_benchmarked_as_gray_and_rgb(tmp_path):
    folder = tmp_path / "mixed"
    save(folder, "gray.png", textured_image(40, 1))
    rgba = np.concatenate([textured_image(40, 3), np.full((40, 40, 1), 200, np.uint8)], axis=2)
    save(folder, "rgba.png", rgba)
    out = tmp_path / "out"
    result = bench(
        str(folder),
        "-o",
        str(out),
        "--codec",
        "jpeg,webp",
        "--settings",
        "jpeg=50",
        "--settings",
        "webp=50",
        "--no-plots",
        "--threads",
        "1",
    )
    assert result.exit_code == 0, result.output
    channels = {(r["image"], r["codec"]): r["channels"] for r in csv.DictReader((out / "per_image.csv").open())}
    assert channels == {
        ("gray.png", "jpeg"): "1",
        ("gray.png", "webp"): "1",
        ("rgba.png", "jpeg"): "3",
        ("rgba.png", "webp"): "3",
    }
    assert "alpha channel dropped" in result.output


@pytest.mark.slow
def test_parallel_jobs_give_the_same_bytes_as_one_job(two_images, tmp_path):
    common = [
        "--codec",
        "jpeg,jpeg2000",
        "--settings",
        "jpeg=30",
        "--settings",
        "jpeg2000=0.5",
        "--crop",
        "32",
        "--no-plots",
        "--no-ms-ssim",
    ]
    for jobs, name in (("1", "serial"), ("2", "parallel")):
        result = bench(str(two_images), "-o", str(tmp_path / name), "--jobs", jobs, *common)
        assert result.exit_code == 0, result.output

    def sizes(name):
        return {
            (r["variant"], r["image"]): r["bytes"] for r in csv.DictReader((tmp_path / name / "per_image.csv").open())
        }

    assert sizes("serial") == sizes("parallel")


def test_progress_reaches_the_total_with_no_time_left(two_images, tmp_path):
    seen = []
    config = BenchConfig(
        folder=two_images,
        output=tmp_path / "out",
        codecs=[CodecSpec("jpeg")],
        settings={"jpeg": [10, 50]},
        crop=32,
        ms_ssim=False,
        plots=False,
    )
    outcome = run_benchmark(config, progress=seen.append)
    assert [p.done for p in seen] == [1, 2, 3, 4] and seen[-1].total == 4
    assert seen[-1].eta_s == pytest.approx(0.0)
    assert outcome.computed == 4 and outcome.cached == 0


def test_a_row_cut_short_is_measured_again(tmp_path):
    cache = RowCache(tmp_path)
    cache.add({"key": "a", "v": 1})
    cache.add({"key": "b", "v": 2})
    text = (tmp_path / ROWS_FILE).read_text()
    (tmp_path / ROWS_FILE).write_text(text[:-5])  # as if killed while writing row b
    reopened = RowCache(tmp_path)
    assert "a" in reopened and "b" not in reopened
    reopened.add({"key": "c", "v": 3})
    assert {"a", "c"} <= {r["key"] for r in RowCache(tmp_path).rows()}


# --- errors: one line, non-zero exit --------------------------------------------------------


def test_an_empty_folder_is_a_one_line_error(tmp_path):
    (tmp_path / "empty").mkdir()
    result = bench(str(tmp_path / "empty"), "-o", str(tmp_path / "out"), "--codec", "jpeg")
    assert result.exit_code == 1
    assert result.output.strip() == f"inrcodec: error: no images in {tmp_path / 'empty'}: the folder is empty"


def test_a_non_image_in_the_folder_is_a_one_line_error(two_images, tmp_path):
    (two_images / "notes.txt").write_text("not an image")
    result = bench(str(two_images), "-o", str(tmp_path / "out"), "--codec", "jpeg")
    assert result.exit_code == 1
    assert result.output.strip() == f"inrcodec: error: not an image Pillow can read: {two_images / 'notes.txt'}"


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ["--codec", "inr,jpeg", "--bpp", "0.1,abc"],
            "bad --bpp list '0.1,abc': 'abc' is not a number",
        ),
        (["--codec", "jpeg,mp3"], "unknown codec 'mp3'"),
        (
            ["--codec", "jpeg", "--settings", "webp=10"],
            "--settings names 'webp', which is not in --codec",
        ),
        (["--codec", "inr", "--inr-opt", "model"], "bad --inr-opt 'model': expected key=value"),
        (
            ["--codec", "jpeg", "--published", "nosuchcurve"],
            "unknown published curve 'nosuchcurve'",
        ),
    ],
)
def test_bad_options_are_one_line_errors(two_images, tmp_path, args, message):
    result = bench(str(two_images), "-o", str(tmp_path / "out"), *args)
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("inrcodec: error: ") and message in lines[0]


def test_no_folder_and_no_download_is_an_error(tmp_path):
    result = bench("-o", str(tmp_path / "out"), "--codec", "jpeg")
    assert result.exit_code == 2 and "give an image FOLDER, or --download kodak" in result.output


# --- plots and published curves -----------------------------------------------------------


def test_plot_takes_a_whole_results_folder(two_images, tmp_path):
    out = tmp_path / "results"
    assert (
        bench(
            str(two_images),
            "-o",
            str(out),
            "--codec",
            "jpeg,webp",
            "--settings",
            "jpeg=20,60",
            "--settings",
            "webp=20,60",
            "--crop",
            "32",
            "--no-plots",
            "--no-ms-ssim",
        ).exit_code
        == 0
    )
    png = tmp_path / "rd.png"
    result = CliRunner().invoke(
        main,
        ["plot", *map(str, sorted(out.glob("*.json"))), "-o", str(png), "--published", "coin,c3"],
    )
    assert result.exit_code == 0, result.output
    assert "2 curves" in result.output and "skipped 2 non-results JSON" in result.output
    assert png.read_bytes().startswith(PNG_SIGNATURE)


def test_every_shipped_published_curve_reads_and_names_its_source():
    curves = load_published(tuple(PUBLISHED))
    assert len(curves) >= 11
    for curve in curves:
        assert curve.source.startswith("source:") and len(curve.bpp) == len(curve.psnr) >= 4
    for path in SHIPPED_DIR.glob("*.csv"):
        assert path.read_text().startswith("# source:")


# --- the Kodak download ---------------------------------------------------------------------


def test_a_download_with_the_wrong_hash_is_refused(tmp_path):
    fake = tmp_path / "server"
    fake.mkdir()
    (fake / "kodim01.png").write_bytes(b"not the kodak image")
    with pytest.raises(InputError, match="does not match its SHA-256"):
        datasets.download_kodak(tmp_path / "cache", base_url=fake.as_uri())
    assert not (tmp_path / "cache" / "kodak" / "kodim01.png").exists()


@pytest.mark.skipif(not KODAK.is_dir(), reason="no local Kodak copy to serve")
def test_kodak_download_verifies_and_then_uses_the_cache(tmp_path, monkeypatch):
    folder = datasets.download_kodak(tmp_path, base_url=KODAK.as_uri())
    assert sorted(p.name for p in folder.iterdir()) == sorted(datasets.KODAK_SHA256)

    def no_network(url, timeout=60.0):
        raise AssertionError(f"fetched {url} although it was cached")

    monkeypatch.setattr(datasets, "_fetch", no_network)
    assert datasets.download_kodak(tmp_path) == folder


# --- inrcodec itself ------------------------------------------------------------------------


@pytest.mark.skipif(not hasattr(inrcodec, "encode"), reason="inrcodec.encode is not written yet")
def test_inr_runs_through_the_harness_with_extra_options(two_images, tmp_path):
    out = tmp_path / "out"
    args = [
        str(two_images),
        "-o",
        str(out),
        "--codec",
        "inr,jpeg",
        "--bpp",
        "2,4",  # a 32x32 crop: lower targets are below the smallest grid file
        "--steps",
        "10",
        "--time",
        "5",
        "--settings",
        "jpeg=20,60",
        "--crop",
        "32",
        "--no-plots",
        "--threads",
        "1",
    ]
    first = bench(*args)
    assert first.exit_code == 0, first.output
    data = json.loads((out / "inr-s10-t5.json").read_text())
    assert data["meta"]["family"] == "inr" and len(data["results"]["bpp"]) == 2
    assert set(json.loads((out / "bdrate.json").read_text())["per_image"]) == {"inr-s10-t5"}
    # A changed pass-through option is a different variant with its own cache keys.
    second = bench(*args, "--inr-opt", "seed=1")
    assert second.exit_code == 0, second.output
    assert "4 measured, 4 from cache" in second.output


# --- the anchor against CompressAI's published JPEG curve -----------------------------------


@pytest.mark.skipif(not KODAK.is_dir(), reason="the Kodak images are not available")
@pytest.mark.slow
def test_jpeg_matches_compressai_on_kodak(tmp_path):
    """CompressAI's jpeg.json is Pillow JPEG at qualities 5, 10, ..., 95 on the 24 Kodak images."""
    (reference,) = read_published_csv(SHIPPED_DIR / "compressai_jpeg.csv")
    qualities = list(range(5, 100, 5))
    config = BenchConfig(
        folder=KODAK,
        output=tmp_path,
        codecs=[CodecSpec("jpeg")],
        settings={"jpeg": qualities},
        ms_ssim=False,
        plots=False,
    )
    run_benchmark(config)
    ours = json.loads((tmp_path / "jpeg.json").read_text())["results"]
    assert len(ours["bpp"]) == len(reference.bpp) == 19
    for bpp, psnr, ref_bpp, ref_psnr in zip(ours["bpp"], ours["psnr-rgb"], reference.bpp, reference.psnr, strict=True):
        assert bpp == pytest.approx(ref_bpp, rel=0.01)
        assert abs(psnr - ref_psnr) < 0.15


def test_a_rerun_under_a_new_version_supersedes_the_old_rows():
    from inrcodec.bench.report import latest_rows

    def row(version, setting, psnr, image="a"):
        return {"variant": "inr-default", "image_sha256": image, "setting": setting,
                "codec_version": version, "psnr_rgb": psnr}  # fmt: skip

    rows = [row("0.1.0", 0.3, 27.0), row("0.1.0", 0.75, 30.0), row("0.2.0", 0.3, 27.5), row("0.1.0", 0.3, 26.0, "b")]
    kept = {(r["image_sha256"], r["setting"]): r["codec_version"] for r in latest_rows(rows)}
    assert kept == {("a", 0.3): "0.2.0", ("a", 0.75): "0.1.0", ("b", 0.3): "0.1.0"}
