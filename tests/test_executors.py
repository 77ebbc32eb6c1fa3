"""Executors: the local ones, the Ray executor on a local Ray instance, and device requests.

The Ray tests start ``ray.init(num_cpus=2)`` once for the module and check that a benchmark and a
batch encode on Ray give what the local executor gives, sharing the benchmark's cached rows both
ways. They are skipped only where Ray is not installed (``pip install "inrcodec[ray]"``).
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner
from PIL import Image

from inrcodec import batch
from inrcodec.batch import encode_batch
from inrcodec.bench.codecs import CodecSpec
from inrcodec.bench.harness import BenchConfig, run_benchmark
from inrcodec.cli import main
from inrcodec.errors import OptionError
from inrcodec.executors import SerialExecutor, make_executor, ray_resources
from inrcodec.options import EncodeOptions
from inrcodec.runtime import bf16_native, resolve_device

from .conftest import smooth_image

HAS_RAY = importlib.util.find_spec("ray") is not None
#: row fields that measure time or moment rather than result
TIMING = {"encode_s", "decode_s", "encode_cpu_s", "decode_cpu_s", "task_s", "finished_at"}


@pytest.fixture(scope="module")
def two_images(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("ray_images")
    for i in range(2):
        Image.fromarray(smooth_image(16, 16, seed=i)).save(folder / f"t{i}.png")
    return folder


def bench_config(folder: Path, output: Path, executor: str = "local") -> BenchConfig:
    inr = CodecSpec("inr", {"time": 60.0, "steps": 10, "seed": 0, "device": "cpu"})
    return BenchConfig(folder=folder, output=output, codecs=[inr, CodecSpec("jpeg")],
                       settings={"inr": [8.0], "jpeg": [50.0]}, threads=1, ms_ssim=False,
                       plots=False, executor=executor)  # fmt: skip


def rows(folder: Path) -> dict[str, dict]:
    lines = (folder / "rows.jsonl").read_text().splitlines()
    return {r["key"]: {k: v for k, v in r.items() if k not in TIMING} for r in map(json.loads, lines)}


# --- local -------------------------------------------------------------------------------------


def test_make_executor_kinds_and_errors():
    assert isinstance(make_executor(1, 1), SerialExecutor)
    assert make_executor(3, 2).jobs == 3
    with pytest.raises(OptionError, match="unknown executor"):
        make_executor(1, kind="dask")
    with pytest.raises(OptionError, match="--address is for --executor ray"):
        make_executor(1, address="auto")


def test_without_ray_the_ray_executor_is_a_one_line_error(monkeypatch, tmp_path, two_images):
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray now fails, as where it is not installed
    with pytest.raises(OptionError, match=r'pip install "inrcodec\[ray\]"'):
        make_executor(1, kind="ray")
    r = CliRunner().invoke(main, ["encode", str(two_images / "t0.png"), "-d", str(tmp_path), "--executor", "ray"])
    assert r.exit_code == 2 and r.stderr.strip().count("\n") == 0 and "inrcodec[ray]" in r.stderr
    r = CliRunner().invoke(main, ["bench", str(two_images), "-o", str(tmp_path / "b"), "--executor", "ray"])
    assert r.exit_code == 2 and "inrcodec[ray]" in r.stderr
    assert not (tmp_path / "b").exists()  # refused before writing anything


# --- devices -----------------------------------------------------------------------------------


def test_gpu_runs_ask_ray_for_a_gpu_per_task():
    assert ray_resources(1, 0) == {"num_cpus": 1}
    assert ray_resources(2, 1) == {"num_cpus": 2, "num_gpus": 1}
    assert batch._gpus("cuda") == batch._gpus("cuda:1") == 1 and batch._gpus("cpu") == 0


def test_mixed_precision_policy_by_device():
    assert bf16_native(torch.device("cpu"))
    assert not bf16_native(torch.device("meta"))


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the error where CUDA is missing")
def test_a_missing_gpu_is_refused_once_up_front(tmp_path, two_images):
    with pytest.raises(OptionError, match="CUDA is not available"):
        resolve_device("cuda")
    r = CliRunner().invoke(main, ["encode", *map(str, sorted(two_images.glob("*.png"))), "-d", str(tmp_path / "o"),
                                  "--device", "cuda"])  # fmt: skip
    assert r.exit_code == 2 and "CUDA is not available" in r.stderr and not (tmp_path / "o").exists()


# --- Ray ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ray_instance():
    if not HAS_RAY:
        pytest.skip('Ray is not installed (pip install "inrcodec[ray]")')
    import ray

    # "local": a new instance even where a cluster started on this machine (`ray start`) is named
    # in /tmp/ray/ray_current_cluster or RAY_ADDRESS
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


@pytest.mark.slow
def test_a_ray_benchmark_equals_the_local_one_and_shares_its_cache(ray_instance, two_images, tmp_path):
    local = run_benchmark(bench_config(two_images, tmp_path / "local"))
    on_ray = run_benchmark(bench_config(two_images, tmp_path / "ray", "ray"))
    assert local.computed == on_ray.computed == 4
    assert rows(tmp_path / "ray") == rows(tmp_path / "local")
    assert json.loads((tmp_path / "ray" / "machine.json").read_text())["executor"] == "ray"
    # the same rows serve either executor: nothing is recomputed
    assert run_benchmark(bench_config(two_images, tmp_path / "local", "ray")).computed == 0
    assert run_benchmark(bench_config(two_images, tmp_path / "ray")).computed == 0


@pytest.mark.slow
def test_a_ray_batch_encode_writes_the_local_files(ray_instance, two_images, tmp_path):
    inputs = sorted(two_images.glob("*.png"))
    opts = EncodeOptions(bpp=8, steps=20)
    assert encode_batch(inputs, tmp_path / "local", opts).ok
    outcome = encode_batch(inputs, tmp_path / "ray", opts, executor="ray")
    assert outcome.ok and [r.status for r in outcome.results] == ["done", "done"]
    for path in inputs:
        name = path.stem + ".inr"
        assert (tmp_path / "ray" / name).read_bytes() == (tmp_path / "local" / name).read_bytes()
    # a local rerun finds the Ray run's outputs done
    assert [r.status for r in encode_batch(inputs, tmp_path / "ray", opts).results] == ["skipped", "skipped"]


@pytest.mark.slow
def test_errors_in_ray_tasks_arrive_as_the_original_exception(ray_instance):
    with make_executor(1, kind="ray") as pool:
        assert pool.jobs == 2  # the instance's two CPUs, one per task
        with pytest.raises(OptionError, match="threads must be at least 1"):
            # (a function of the package: Ray workers import it by name)
            list(pool.map_unordered(EncodeOptions.validated, [EncodeOptions(threads=0)]))


@pytest.mark.slow
def test_one_large_image_spreads_its_tiles_over_ray_and_writes_the_local_bytes(ray_instance):
    from inrcodec import codec

    photo = smooth_image(96, 128, seed=7)
    opts = EncodeOptions(bpp=2.0, steps=10, seed=2, tile=64)
    with make_executor(1, 1, kind="ray") as pool:
        on_ray = codec.encode_image(photo, opts, executor=pool).data
    assert on_ray == codec.encode_image(photo, opts).data
