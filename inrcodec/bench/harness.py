"""The benchmark runner: plan (image, codec, setting) tasks, run the missing ones, write outputs.

Nothing here prints. Progress is reported through a callback (the CLI draws the bar), and every
problem a user can cause is an :class:`~inrcodec.errors.InrError` with a one-line message.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..executors import Executor, make_executor, threads_per_job
from ..io.files import make_output_folder, write_bytes_atomic
from .cache import ROWS_FILE, RowCache, task_key
from .codec_base import Codec
from .codecs import CodecSpec, codec_class
from .datasets import is_kodak
from .images import BenchImage, list_image_files, load_images
from .inr import require_inr_api
from .machine import machine_info
from .plot import curve_from_results, plot_encode_time, plot_rd
from .published import DEFAULT_PUBLISHED, Curve, load_published
from .report import (
    bd_markdown,
    bd_report,
    compressai_json,
    result_file_name,
    select_rows,
    summarise,
    write_json,
    write_per_image_csv,
)
from .worker import Task, run_task

# The names of the output files, in one place for the docs and tests.
PER_IMAGE_CSV = "per_image.csv"
BD_MARKDOWN = "bdrate.md"
BD_JSON = "bdrate.json"
RD_PLOT = "rd.png"
TIME_PLOT = "encode_time.png"
MACHINE_JSON = "machine.json"
COMMAND_TXT = "command.txt"


@dataclass(frozen=True)
class BenchConfig:
    """One benchmark run, as the CLI (or a script) describes it."""

    folder: Path
    output: Path
    codecs: Sequence[CodecSpec]
    #: per codec name, the settings to run instead of the codec's default sweep
    settings: Mapping[str, Sequence[float]] = field(default_factory=dict)
    jobs: int = 1
    threads: int | None = None  # per job; default max(1, cores // jobs), or 1 on Ray
    executor: str = "local"  # "local" (--jobs processes) or "ray" (tasks on a Ray cluster)
    address: str | None = None  # the Ray cluster's address; None starts a local instance
    max_images: int | None = None
    image_names: tuple[str, ...] = ()
    crop: int | None = None
    seed: int = 0
    ms_ssim: bool = True
    anchor: str = "jpeg"
    plots: bool = True
    #: published reference curves to draw (names for :func:`~.published.load_published`). None:
    #: the default set when the images are the 24 Kodak images, else none, since the published
    #: curves were measured on Kodak. Curves asked for by name are drawn on other images too,
    #: labelled "(published, Kodak)".
    published: Sequence[str] | None = None
    published_dir: Path | None = None
    command: str = ""
    title: str | None = None


@dataclass(frozen=True)
class Progress:
    """What the progress callback is told after each finished task."""

    done: int  # tasks finished in this run (cached ones included)
    total: int
    cached: int  # of which skipped because their row was already in the cache
    elapsed_s: float
    eta_s: float | None  # None until there is a measured task to estimate from
    last: str  # the task just finished, e.g. "webp q=50 kodim03.png"


@dataclass
class BenchOutcome:
    """What a run did and wrote."""

    output: Path
    images: int
    tasks: int
    computed: int
    cached: int
    files: list[Path]
    bd: dict[str, Any]
    notices: list[str]


ProgressCallback = Callable[[Progress], None]


def _settings_for(codec: Codec, overrides: Mapping[str, Sequence[float]]) -> list[float]:
    return [float(s) for s in overrides.get(codec.name, codec.default_settings)]


def plan_tasks(
    images: Sequence[BenchImage], codecs: Sequence[CodecSpec], config: BenchConfig, threads: int
) -> list[Task]:
    """Every (codec, setting, image) task of the run, codec by codec, lowest rate first."""
    tasks = []
    for spec in codecs:
        codec = spec.build(threads)
        identity, variant = codec.identity(), codec.variant()
        for setting in _settings_for(codec, config.settings):
            for image in images:
                tasks.append(
                    Task(
                        key=task_key(image.sha256, identity, setting),
                        image=image.name,
                        image_sha256=image.sha256,
                        pixels=image.pixels,
                        codec=spec,
                        variant=variant,
                        setting=setting,
                        seed=config.seed,
                        threads=threads,
                        with_ms_ssim=config.ms_ssim,
                    )
                )
    return tasks


def _is_cached(cache: RowCache, task: Task) -> bool:
    row = cache.get(task.key)
    # A row measured without MS-SSIM does not satisfy a run that wants it.
    return row is not None and (not task.with_ms_ssim or row.get("ms_ssim_rgb") is not None)


class _Eta:
    """Remaining time: per codec variant, the mean measured task time times the tasks left."""

    def __init__(self, pending: Sequence[Task], jobs: int) -> None:
        self.jobs = max(1, jobs)
        self.left: dict[str, int] = {}
        for task in pending:
            self.left[task.variant] = self.left.get(task.variant, 0) + 1
        self.seconds: dict[str, list[float]] = {}

    def finished(self, variant: str, seconds: float) -> float:
        self.left[variant] -= 1
        self.seconds.setdefault(variant, []).append(seconds)
        all_times = [s for times in self.seconds.values() for s in times]
        overall = sum(all_times) / len(all_times)
        total = 0.0
        for name, count in self.left.items():
            times = self.seconds.get(name)
            total += count * (sum(times) / len(times) if times else overall)
        return total / self.jobs


def run_benchmark(
    config: BenchConfig,
    progress: ProgressCallback | None = None,
    executor: Executor | None = None,
) -> BenchOutcome:
    """Run every task not yet in the output folder's cache, then (re)write all outputs."""
    if any(spec.name == "inr" for spec in config.codecs):
        require_inr_api()
    images = load_images(config.folder, config.max_images, config.crop, config.image_names)
    # Read the reference curves now, so a bad --published fails before hours of encoding.
    published, layer_notices = published_layer(config) if config.plots else ([], [])
    threads = config.threads or (1 if config.executor == "ray" else threads_per_job(config.jobs))
    device = _device(config.codecs)
    gpus = 1 if device.startswith("cuda") else 0  # a Ray task asks for a GPU when it fits on one
    # Made before any output is written, so a missing Ray fails first.
    pool = executor or make_executor(config.jobs, threads, kind=config.executor, address=config.address, gpus=gpus)
    make_output_folder(config.output)
    cache = RowCache(config.output)
    tasks = plan_tasks(images, config.codecs, config, threads)
    pending = [t for t in tasks if not _is_cached(cache, t)]
    _append_command(config.output / COMMAND_TXT, config.command)
    machine = machine_info(config.jobs, threads, device)
    machine["executor"] = config.executor
    write_json(config.output / MACHINE_JSON, machine)

    started = time.perf_counter()
    cached = len(tasks) - len(pending)
    # With everything cached there is nothing to start (a Ray instance takes seconds).
    with pool if pending else contextlib.nullcontext(pool):
        eta = _Eta(pending, pool.jobs)  # a Ray pool knows its parallelism once connected
        for done, row in enumerate(pool.map_unordered(run_task, pending) if pending else (), start=cached + 1):
            row.setdefault("cpu", machine["cpu"])  # a Ray worker names its own machine's CPU
            cache.add(row)
            remaining = eta.finished(row["variant"], row["task_s"])
            if progress is not None:
                progress(
                    Progress(
                        done,
                        len(tasks),
                        cached,
                        time.perf_counter() - started,
                        remaining,
                        f"{row['variant']} {row['setting']:g} {row['image']}",
                    )
                )
    files, bd = write_outputs(config, images, cache.rows(), published)
    notices = [f"{image.name}: {n}" for image in images for n in image.notices] + layer_notices
    return BenchOutcome(config.output, len(images), len(tasks), len(pending), cached, files, bd, notices)


def published_layer(config: BenchConfig) -> tuple[list[Curve], list[str]]:
    """The published curves to draw under this run's own, and a notice where that depends on the
    images: the published curves are means over the 24 Kodak images at full size, so they are
    drawn by default only over those; asked for by name over other images, each is labelled as
    Kodak's."""
    kodak = config.crop is None and is_kodak(list_image_files(config.folder, config.max_images, config.image_names))
    if config.published is None:
        if kodak:
            return load_published(DEFAULT_PUBLISHED, config.published_dir), []
        return [], [
            "published reference curves left out of the plot: they were measured on the 24 Kodak images, and "
            "these are not those (--published NAMES draws them anyway, labelled as Kodak's)"
        ]
    curves = load_published(tuple(config.published), config.published_dir)
    if not kodak:
        for curve in curves:
            curve.name = f"{curve.name} (published, Kodak)"
    return curves, []


def _device(codecs: Sequence[CodecSpec]) -> str:
    for spec in codecs:
        if spec.name == "inr":
            return str(spec.options.get("device", "cpu"))
    return "cpu"


def _append_command(path: Path, command: str) -> None:
    """Add this run's command line to command.txt (the folder may hold several runs' rows)."""
    previous = path.read_text(encoding="utf-8") if path.exists() else ""
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    write_bytes_atomic(path, f"{previous}# {stamp}\n{command}\n".encode())


def write_outputs(
    config: BenchConfig,
    images: Sequence[BenchImage],
    all_rows: Sequence[Mapping[str, Any]],
    published: Sequence[Curve] = (),
) -> tuple[list[Path], dict[str, Any]]:
    """Write the CSV, per-codec JSON, BD tables and plots for every variant cached for these images.

    Variants measured by earlier runs into the same folder are included, so ``inr`` and the
    classical codecs can be run separately and still share one BD table and plot.
    """
    out = config.output
    rows = select_rows(all_rows, images)
    summaries = summarise(rows, len(images))
    files = [out / PER_IMAGE_CSV, out / BD_MARKDOWN, out / BD_JSON]
    write_per_image_csv(out / PER_IMAGE_CSV, rows)
    results = {}
    for variant, summary in summaries.items():
        results[variant] = compressai_json(summary, len(images))
        path = out / result_file_name(variant)
        write_json(path, results[variant])
        files.append(path)
    bd = bd_report(summaries, config.anchor, [image.name for image in images])
    anchor = summaries.get(config.anchor)
    anchor_description = codec_class(anchor.codec).description if anchor else ""
    write_bytes_atomic(out / BD_MARKDOWN, bd_markdown(bd, anchor_description).encode())
    write_json(out / BD_JSON, bd)
    if config.plots and summaries:
        title = config.title or config.folder.name
        curves = [curve_from_results(data) for data in results.values()]
        files.append(plot_rd(curves, out / RD_PLOT, published, title=title))
        files.append(plot_encode_time(rows, out / TIME_PLOT, title=title))
    files += [out / MACHINE_JSON, out / COMMAND_TXT, out / ROWS_FILE]
    return files, bd
