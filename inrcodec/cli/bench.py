"""``inrcodec bench`` and ``inrcodec plot``: rate-distortion benchmarks and their plots."""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from pathlib import Path

import click

from ..bench.codecs import (
    CodecSpec,
    codec_names,
    parse_codec_list,
    parse_key_values,
    parse_number_list,
)
from ..bench.datasets import DATASETS, download_dataset
from ..bench.harness import BenchConfig, BenchOutcome, Progress, run_benchmark
from ..bench.inr import DEFAULT_OPTIONS
from ..bench.plot import METRICS, load_results, plot_rd
from ..bench.published import DEFAULT_PUBLISHED, PUBLISHED, load_published, parse_published_list
from ..errors import InputError, OptionError
from ..executors import EXECUTORS
from ..options import EFFORTS
from . import invocation, main

_PUBLISHED_HELP = (
    "Published reference curves (measured on Kodak) to draw, comma-separated: "
    + ", ".join(PUBLISHED)
    + ", or a CSV name in --published-dir; 'all' or 'none'. "
    + f"[default: {','.join(DEFAULT_PUBLISHED)}]"
)
_BENCH_PUBLISHED_HELP = (
    _PUBLISHED_HELP[: _PUBLISHED_HELP.rindex("[")]
    + "Over other images than the 24 Kodak ones they are labelled '(published, Kodak)'. "
    + f"[default: {','.join(DEFAULT_PUBLISHED)} when the images are Kodak's, else none]"
)


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "--:--"
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


class ProgressBar:
    """Benchmark progress on stderr: a redrawn line on a terminal, else a line every 30 s."""

    def __init__(self, width: int = 28, every_s: float = 30.0, cached_label: str = "cached") -> None:
        self.width = width
        self.every_s = every_s
        self.cached_label = cached_label  # what the items done by an earlier run are called
        self.interactive = sys.stderr.isatty()
        self._last_line_at = 0.0
        self._drawn = False

    def __call__(self, p: Progress) -> None:
        filled = int(self.width * p.done / max(1, p.total))
        bar = "#" * filled + "." * (self.width - filled)
        cached = f", {p.cached} {self.cached_label}" if p.cached else ""
        line = (
            f"[{bar}] {p.done}/{p.total}{cached}  elapsed {_duration(p.elapsed_s)}  ETA {_duration(p.eta_s)}  {p.last}"
        )
        if self.interactive:
            click.echo("\r\033[K" + line, err=True, nl=False)
            self._drawn = True
        elif p.done == p.total or time.monotonic() - self._last_line_at >= self.every_s:
            click.echo(line, err=True)
            self._last_line_at = time.monotonic()

    def close(self) -> None:
        if self._drawn:
            click.echo("", err=True)
            self._drawn = False


def _parse_settings(pairs: Sequence[str], codecs: Sequence[str]) -> dict[str, list[float]]:
    """``--settings jpeg=5,10,15`` (repeatable) -> {"jpeg": [5, 10, 15]}."""
    settings: dict[str, list[float]] = {}
    for pair in pairs:
        name, sep, values = pair.partition("=")
        name = name.strip().lower()
        if not sep:
            raise OptionError(f"bad --settings '{pair}': expected CODEC=LIST, e.g. jpeg=5,10,15")
        if name == "inr":
            raise OptionError("set inr's target rates with --bpp, not --settings")
        if name not in codecs:
            raise OptionError(f"--settings names '{name}', which is not in --codec")
        settings[name] = parse_number_list(values, f"--settings {name}", positive=False)
    return settings


def _inr_options(
    effort: str, time_budget: float | None, steps: int | None, seed: int, device: str, extra: Sequence[str]
) -> dict:
    if time_budget is not None and time_budget <= 0:
        raise OptionError(f"--time must be positive, got {time_budget:g}")
    if steps is not None and steps < 1:
        raise OptionError(f"--steps must be at least 1, got {steps}")
    options = {
        **DEFAULT_OPTIONS,
        "effort": effort,
        "time": time_budget,
        "steps": steps,
        "seed": seed,
        "device": device,
    }
    options.update(parse_key_values(extra, "--inr-opt"))
    return options


def _image_folder(folder: Path | None, download: str | None, cache_dir: Path | None) -> Path:
    if folder is not None and download is not None:
        raise OptionError("give either an image FOLDER or --download, not both")
    if folder is not None:
        return folder
    if download is None:
        raise OptionError("give an image FOLDER, or --download kodak")
    interactive = sys.stderr.isatty()

    def report(done: int, total: int, name: str) -> None:
        if interactive:
            click.echo(f"\r\033[K{download}: {done}/{total} verified ({name})", err=True, nl=False)

    try:
        path = download_dataset(download, cache_dir, progress=report)
    finally:
        if interactive:
            click.echo("", err=True)  # so an error starts on its own line
    click.echo(f"{download}: images verified in {path}", err=True)
    return path


def _print_summary(outcome: BenchOutcome) -> None:
    for notice in outcome.notices:
        click.echo(f"inrcodec: note: {notice}", err=True)
    click.echo(
        f"{outcome.computed} measured, {outcome.cached} from cache, {outcome.images} images; "
        f"results in {outcome.output}"
    )
    bd = outcome.bd
    if bd.get("error"):
        click.echo(f"BD-rate: {bd['error']}")
        return
    for variant, entry in bd["codecs"].items():
        rate = entry["bd_rate"]["pchip"]
        value = "n/a" if rate.get("value") is None else f"{rate['value']:+.1f} %"
        click.echo(f"BD-rate vs {bd['anchor']} (PCHIP): {variant:<16} {value}")


@main.command(short_help="Rate-distortion benchmark of codecs on a folder of images.")
@click.argument("folder", required=False, type=click.Path(path_type=Path))
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(path_type=Path),
    help="Output folder; created if missing. Finished rows are cached there and skipped on rerun.",
)
@click.option(
    "--codec",
    "codec_list",
    default="inr,jpeg",
    show_default=True,
    help="Comma-separated codecs: " + ", ".join(codec_names()) + ".",
)
@click.option(
    "--bpp",
    "bpp_list",
    default="0.1,0.2,0.3,0.5,0.8",
    show_default=True,
    help="inr: comma-separated target bits per pixel.",
)
@click.option(
    "--effort",
    type=click.Choice(list(EFFORTS)),
    default=DEFAULT_OPTIONS["effort"],
    show_default=True,
    help="inr: encode effort preset (see inrcodec encode --help).",
)
@click.option(
    "--time", "time_budget", type=float, default=None, help="inr: encode time budget per image, seconds, instead."
)
@click.option("--steps", type=int, default=None, help="inr: number of training steps instead.")
@click.option(
    "--inr-opt",
    "inr_opts",
    multiple=True,
    metavar="KEY=VALUE",
    help="inr: an extra encode option, passed through (repeatable), e.g. model=siren.",
)
@click.option("--device", default="cpu", show_default=True, help="inr: torch device.")
@click.option(
    "--settings",
    "settings_opts",
    multiple=True,
    metavar="CODEC=LIST",
    help="Replace a classical codec's quality sweep (repeatable), e.g. jpeg=5,10,15.",
)
@click.option(
    "-j",
    "--jobs",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Parallel worker processes.",
)
@click.option(
    "--threads",
    type=click.IntRange(min=1),
    default=None,
    help="Torch threads per job.  [default: max(1, cores // jobs); 1 on Ray]",
)
@click.option(
    "--executor",
    type=click.Choice(EXECUTORS),
    default="local",
    show_default=True,
    help='Run the tasks here (--jobs processes) or on a Ray cluster (pip install "inrcodec[ray]").',
)
@click.option(
    "--address",
    default=None,
    help="Ray: the cluster's address ('auto', 'ray://host:10001'); none starts a local Ray instance.",
)
@click.option(
    "--images",
    "max_images",
    type=click.IntRange(min=1),
    default=None,
    help="Use only the first N images, sorted by file name.",
)
@click.option(
    "--names",
    default=None,
    help="Use only these images, comma-separated (e.g. kodim01,kodim15,kodim23).",
)
@click.option(
    "--crop",
    type=click.IntRange(min=1),
    default=None,
    help="Code only the centred N x N square of each image (quick tests).",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed (inr).")
@click.option("--no-ms-ssim", is_flag=True, help="Skip MS-SSIM, the slowest part of a classical-codec run.")
@click.option("--anchor", default="jpeg", show_default=True, help="The codec BD-rates are measured against.")
@click.option(
    "--download",
    type=click.Choice(DATASETS),
    default=None,
    help="Fetch and verify a public image set, then benchmark it instead of FOLDER.",
)
@click.option(
    "--cache-dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Where --download keeps images.  [default: ~/.cache/inrcodec]",
)
@click.option("--published", "published_list", default=None, help=_BENCH_PUBLISHED_HELP)
@click.option(
    "--published-dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Folder of published CSVs.  [default: the copy shipped with inrcodec]",
)
@click.option("--no-plots", is_flag=True, help="Write no PNG plots.")
@click.option("--title", default=None, help="The data set named in plot titles.  [default: the folder name]")
def bench(
    folder,
    output,
    codec_list,
    bpp_list,
    effort,
    time_budget,
    steps,
    inr_opts,
    device,
    settings_opts,
    jobs,
    threads,
    executor,
    address,
    max_images,
    names,
    crop,
    seed,
    no_ms_ssim,
    anchor,
    download,
    cache_dir,
    published_list,
    published_dir,
    no_plots,
    title,
) -> None:
    """Benchmark codecs on the images in FOLDER: bpp, PSNR, MS-SSIM, times, BD-rate, plots.

    Writes per_image.csv, one CompressAI-style JSON per codec, bdrate.md/.json, rd.png,
    encode_time.png, machine.json and command.txt to the output folder.
    """
    codec_names = parse_codec_list(codec_list)
    settings = _parse_settings(settings_opts, codec_names)
    specs = []
    for name in codec_names:
        if name == "inr":
            settings["inr"] = parse_number_list(bpp_list, "--bpp")
            specs.append(CodecSpec("inr", _inr_options(effort, time_budget, steps, seed, device, inr_opts)))
        else:
            specs.append(CodecSpec(name))
    published = None if published_list is None else parse_published_list(published_list)
    config = BenchConfig(
        folder=_image_folder(folder, download, cache_dir),
        output=output,
        codecs=specs,
        settings=settings,
        jobs=jobs,
        threads=threads,
        executor=executor,
        address=address,
        max_images=max_images,
        image_names=tuple(n.strip() for n in names.split(",") if n.strip()) if names else (),
        crop=crop,
        seed=seed,
        ms_ssim=not no_ms_ssim,
        anchor=anchor,
        plots=not no_plots,
        published=published,
        published_dir=published_dir,
        command=invocation(),
        title=title or ("Kodak" if download == "kodak" else None),
    )
    bar = ProgressBar()
    try:
        outcome = run_benchmark(config, progress=bar)
    finally:
        bar.close()
    _print_summary(outcome)


@main.command(short_help="Plot rate-distortion curves from results JSON files.")
@click.argument("results", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("-o", "--output", required=True, type=click.Path(path_type=Path), help="The PNG to write.")
@click.option("--published", "published_list", default=None, help=_PUBLISHED_HELP)
@click.option(
    "--published-dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Folder of published CSVs.  [default: the copy shipped with inrcodec]",
)
@click.option("--metric", type=click.Choice(list(METRICS)), default="psnr", show_default=True)
@click.option("--max-bpp", type=float, default=2.0, show_default=True, help="Right end of the bpp axis.")
@click.option("--title", default="Kodak", show_default=True, help="The data set named in the title.")
def plot(results, output, published_list, published_dir, metric, max_bpp, title) -> None:
    """Draw the RD curves of RESULTS (CompressAI-style JSON files) over published curves.

    Other JSON files among RESULTS (machine.json, bdrate.json) are skipped, so a whole
    results folder can be passed as results/kodak/*.json.
    """
    if max_bpp <= 0:
        raise OptionError(f"--max-bpp must be positive, got {max_bpp:g}")
    curves, skipped = load_results(results)
    if not curves:
        raise InputError("none of the given files is a results JSON (with results.bpp and results.psnr-rgb)")
    published = load_published(parse_published_list(published_list), published_dir)
    path = plot_rd(curves, output, published, metric=metric, max_bpp=max_bpp, title=title)
    if skipped:
        click.echo(f"inrcodec: note: skipped {len(skipped)} non-results JSON file(s)", err=True)
    click.echo(f"wrote {path} ({len(curves)} curves, {len(published)} published)")
