"""The batch halves of ``inrcodec encode`` and ``inrcodec decode``: several inputs, or ``-d FOLDER``.

``encode`` and ``decode`` (in :mod:`.codec`) hand over here in batch mode; the parameters arrive
as the command's ``ctx.params``. The work is :mod:`inrcodec.batch`'s; this module draws the
progress bar over files, prints the summary table and the failures, and sets the exit status.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import click
from click.core import ParameterSource

from ..batch import FAILED, BatchOutcome, DecodeRequest, decode_batch, encode_batch
from ..errors import InrError, OptionError
from ..executors import EXECUTORS
from ..io.audio import is_audio_path
from .bench import ProgressBar
from .common import encode_limits, image_options, limits_from_params, print_notices

#: options that only mean something for a batch, with their flags
BATCH_FLAGS = {"output_dir": "-d/--output-dir", "jobs": "--jobs", "stack": "--stack", "force": "--force",
               "executor": "--executor", "address": "--address", "fmt": "--format"}  # fmt: skip


def batch_options(command):
    """The options every batch command has: output folder, jobs, --force, executor."""
    for decorator in reversed((
        click.option("-d", "--output-dir", type=click.Path(file_okay=False, path_type=Path),
                     help="Batch: write <stem>.<ext> for every input into this folder (created if missing)."),
        click.option("-j", "--jobs", type=click.IntRange(min=1), default=1, show_default=True,
                     help="Batch: worker processes, each with --threads torch threads (encode: also one "
                          "large image's tiles, fitted at once)."),
        click.option("--force", is_flag=True, help="Batch: redo outputs that already exist and are valid."),
        click.option("--executor", type=click.Choice(EXECUTORS), default="local", show_default=True,
                     help='Batch (encode: also one large image\'s tiles): run here (--jobs processes) or on '
                          'a Ray cluster (pip install "inrcodec[ray]").'),
        click.option("--address", help="Batch, Ray: the cluster's address ('auto', 'ray://host:10001'); "
                                       "none starts a local Ray instance."),
    )):  # fmt: skip
        command = decorator(command)
    return command


def is_batch(params: dict[str, Any]) -> bool:
    """Batch mode: more than one input, or an output folder."""
    return params.get("output_dir") is not None or len(params["input"]) > 1


#: batch options a single image encode takes too: they spread its tiles over workers
TILE_FLAGS = ("jobs", "executor", "address")


def refuse_batch_options(ctx: click.Context, allow: tuple[str, ...] = ()) -> None:
    """A single-file command given a batch-only option (other than those in ``allow``): an
    OptionError naming it."""
    for name, flag in BATCH_FLAGS.items():
        if name in allow:
            continue
        if name in ctx.params and ctx.get_parameter_source(name) not in (ParameterSource.DEFAULT, None):
            raise OptionError(f"{flag} is for batches: give several inputs or -d FOLDER")


def _cell(value: float | int | None, fmt: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return format(value, fmt)


def summary_table(outcome: BatchOutcome) -> str:
    """The per-file table: file, bytes, bpp, PSNR, seconds, status."""
    rows = [("file", "bytes", "bpp", "PSNR", "seconds", "status")]
    for r in outcome.results:
        rows.append((r.input, _cell(r.bytes, "d"), _cell(r.bpp, ".4f"), _cell(r.psnr, ".2f"),
                     _cell(r.seconds, ".1f"), r.status))  # fmt: skip
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for row in rows:
        cells = [row[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(row[1:-1], widths[1:-1])] + [row[-1]]
        lines.append("  ".join(cells))
    return "\n".join(lines)


def report(outcome: BatchOutcome, as_json: bool, verb: str) -> None:
    """Print the table (or JSON records) on stdout, notices and failures on stderr; raise if any
    file failed, so the exit status is non-zero."""
    if as_json:
        click.echo(json.dumps([r.record() for r in outcome.results], indent=2, sort_keys=True))
    else:
        click.echo(summary_table(outcome))
    print_notices([f"{r.input}: {n}" for r in outcome.results for n in r.notices])
    for r in outcome.failed:
        click.echo(f"inrcodec: error: {r.input}: {r.error}", err=True)
    done = sum(r.status != FAILED for r in outcome.results) - len(outcome.skipped)
    summary = f"{done} {verb}, {len(outcome.skipped)} skipped, {len(outcome.failed)} failed"
    if outcome.failed:
        raise InrError(f"{len(outcome.failed)} of {len(outcome.results)} files failed ({summary})")
    click.echo(summary, err=True)


def _run_with_bar(quiet: bool, fn, *args, **kwargs) -> BatchOutcome:
    bar = None if quiet else ProgressBar(cached_label="skipped")
    try:
        return fn(*args, progress=bar, **kwargs)
    finally:
        if bar is not None:
            bar.close()


def encode_batch_command(params: dict[str, Any]) -> None:
    """Encode several images; ``params`` are the ``encode`` command's parameters."""
    if params.get("output"):
        raise OptionError("-o names one output; for several inputs give -d FOLDER")
    if params.get("kbps") is not None or any(is_audio_path(p) for p in params["input"]):
        raise OptionError("batches take images; encode audio files one at a time")
    opts = image_options(params)
    outcome = _run_with_bar(
        params.get("quiet", False), encode_batch, params["input"], params.get("output_dir"), opts,
        jobs=params["jobs"], stack=params["stack"], force=params["force"], executor=params["executor"],
        address=params.get("address"), limits=encode_limits(params),
    )  # fmt: skip
    report(outcome, params.get("as_json", False), "encoded")


def decode_batch_command(params: dict[str, Any]) -> None:
    """Decode several .inr images; ``params`` are the ``decode`` command's parameters."""
    if params.get("output"):
        raise OptionError("-o names one output; for several inputs give -d FOLDER")
    if params.get("rate") is not None:
        raise OptionError("--rate is for audio; batches decode images (decode audio files one at a time)")
    request = DecodeRequest(scale=params.get("scale"), width=params.get("width"), height=params.get("height"),
                            device=params["device"], threads=params.get("threads") or 1,
                            sr=params.get("sr", "none"))  # fmt: skip
    outcome = _run_with_bar(
        params.get("quiet", False), decode_batch, params["input"], params.get("output_dir"), fmt=params["fmt"], request=request,
        jobs=params["jobs"], threads=request.threads, force=params["force"], executor=params["executor"],
        address=params.get("address"), limits=limits_from_params(params),
    )  # fmt: skip
    report(outcome, params.get("as_json", False), "decoded")
