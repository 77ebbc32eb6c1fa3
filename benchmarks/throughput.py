"""Images per hour of batch encoding on one machine: processes versus stacked (batched) fits.

    python benchmarks/throughput.py --sizes 256 --steps 300                     # 4 crops
    python benchmarks/throughput.py --sizes 64 --steps 500 --images 16 --stack 8  # 16 crops
    python benchmarks/throughput.py --sizes 32 --steps 10 --rounds 1 --out /tmp/t  # a smoke test

Each configuration encodes the same Kodak crops with the same steps and target through
:func:`inrcodec.batch.encode_batch`, the code behind ``inrcodec encode *.png -d out --jobs J
--threads T --stack S``, timed from the call to the last file written (worker start-up and
torch import included, as a user sees them):

- ``J procs x T thread x S image(s)``: J worker processes with T torch threads each, every job
  fitting S same-size images in one stacked computation (:mod:`inrcodec.stacked`).

Worker start-up (a spawned process importing torch: seconds, and only for ``--jobs`` > 1) is
paid once per batch. Each run therefore starts its pool first, has every worker import the
encoder, and only then hands the pool to the batch: *steady* is the batch alone (what a long
batch sees per image, and what decides the default), *wall* adds the start-up (what this small
batch saw); both are reported, with the start-up itself.

The configurations, for N images and ``--stack K``: ``2 procs x 1 thread x 1 image`` (what
``--jobs 2`` does), ``1 proc x 2 threads x min(K, N) images`` and ``2 procs x 1 thread x
min(K, N/2) images``. They run in rounds (every configuration once per round, in turn), so a
change in the machine's load hits all of them alike; the load average is recorded beside every
timing. Runs are appended to ``runs.csv`` in ``--out`` (so several invocations, e.g. one per
crop size, build one table); ``summary.md`` is rebuilt from all of them, and ``machine.json``
and ``command.txt`` record the machine and the commands.
"""

from __future__ import annotations

import argparse
import csv
import importlib
import json
import math
import os
import shlex
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from PIL import Image

from inrcodec.batch import encode_batch
from inrcodec.bench.images import load_images
from inrcodec.bench.machine import machine_info
from inrcodec.executors import Executor, available_cores, make_executor
from inrcodec.options import EncodeOptions

ROOT = Path(__file__).resolve().parents[1]
KODAK = ROOT.parent / "shared" / "data" / "kodak"
ALL_KODAK = ",".join(f"kodim{i:02d}" for i in range(1, 25))


def configs(images: int, stack: int) -> list[tuple[int, int, int]]:
    """(jobs, threads per job, images per stacked fit) of the compared configurations."""
    candidates = [(2, 1, 1), (1, 2, min(stack, images)), (2, 1, max(1, min(stack, math.ceil(images / 2))))]
    return list(dict.fromkeys(candidates))


def label(config: tuple[int, int, int]) -> str:
    jobs, threads, stack = config
    return (f"{jobs} proc{'s' if jobs > 1 else ''} x {threads} thread{'s' if threads > 1 else ''} x "
            f"{stack} image{'s' if stack > 1 else ''}")  # fmt: skip


def write_crops(folder: Path, names: list[str], size: int) -> list[Path]:
    """The centred size x size crops of the named Kodak images, as PNGs in ``folder``."""
    images = load_images(KODAK, None, size, tuple(names))
    paths = []
    for image in images:
        path = folder / f"{Path(image.name).stem}_{size}.png"
        Image.fromarray(image.pixels).save(path)
        paths.append(path)
    return paths


def _ready(module: str) -> str:
    """A worker's first task: import what an encode imports (torch's first optimizer pulls in
    torch._dynamo, some seconds on its own)."""
    importlib.import_module(module)
    importlib.import_module("torch._dynamo")
    return module


class _Started(Executor):
    """A pool already started and warmed, lent to one batch (whose with-block leaves it open)."""

    def __init__(self, pool: Executor) -> None:
        super().__init__(pool.jobs, pool.threads)
        self.pool = pool

    def map_unordered(self, fn, items):
        return self.pool.map_unordered(fn, items)


def run_one(inputs: list[Path], out: Path, config: tuple[int, int, int], opts: EncodeOptions) -> dict:
    jobs, threads, stack = config
    load_before = os.getloadavg()[0]
    start = time.perf_counter()
    with make_executor(jobs, threads) as pool:
        # Spawn the workers and have each import the encoder (a worker takes one task at a
        # time, and each import takes seconds, so every worker gets one of these).
        list(pool.map_unordered(_ready, ["inrcodec.stacked"] * jobs))
        startup = time.perf_counter() - start
        outcome = encode_batch(inputs, out, replace(opts, threads=threads), stack=stack, force=True,
                               executor=_Started(pool))  # fmt: skip
        steady = time.perf_counter() - start - startup
    wall = time.perf_counter() - start
    if not outcome.ok:
        raise SystemExit(f"{label(config)} failed: {outcome.failed[0].error}")
    results = outcome.results
    return {
        "config": label(config),
        "model": opts.model,
        "bpp": opts.bpp,
        "steps": opts.steps,
        "jobs": jobs,
        "threads": threads,
        "stack": stack,
        "images": len(inputs),
        "wall_s": round(wall, 2),
        "images_per_hour": round(len(inputs) / wall * 3600, 1),
        "startup_s": round(startup, 2),
        "steady_s": round(steady, 2),
        "steady_images_per_hour": round(len(inputs) / steady * 3600, 1),
        "mean_psnr": round(statistics.fmean(r.psnr for r in results), 3),
        "mean_bytes": round(statistics.fmean(r.bytes for r in results), 1),
        "load_before": round(load_before, 2),
        "load_after": round(os.getloadavg()[0], 2),
    }


def summary(rows: list[dict]) -> str:
    lines = [
        f"# Batch-encoding throughput: {_models(rows)} on Kodak crops, {available_cores()} cores\n",
        "Median images per hour over the rounds (each round runs every configuration once).",
        "*Steady*: the batch alone, its worker processes already started (what a long batch sees);",
        "*wall*: with the one-off start-up (spawning the workers and importing torch), as this small",
        "batch saw it. Relative: steady figure against the first configuration. Load: the 1-minute",
        "load average before each run (the machine may be shared with other jobs).\n",
        "| crop | images | steps | configuration | steady images/hour | relative | wall images/hour | "
        "start-up s | runs | mean PSNR dB | mean bytes | load avg |",
        "|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for size, images, steps in sorted({(r["size"], r["images"], r["steps"]) for r in rows}):
        base = None
        same = [r for r in rows if (r["size"], r["images"], r["steps"]) == (size, images, steps)]
        for config in dict.fromkeys(r["config"] for r in same):
            runs = [r for r in same if r["config"] == config]
            median = statistics.median(r["steady_images_per_hour"] for r in runs)
            wall = statistics.median(r["images_per_hour"] for r in runs)
            startup = statistics.median(r["startup_s"] for r in runs)
            base = base or median
            loads = [r["load_before"] for r in runs]
            lines.append(
                f"| {size}x{size} | {images} | {steps} | {config} | {median:.0f} | {median / base:.2f} | {wall:.0f} | "
                f"{startup:.1f} | {len(runs)} | "
                f"{statistics.fmean(r['mean_psnr'] for r in runs):.2f} | "
                f"{statistics.fmean(r['mean_bytes'] for r in runs):.0f} | {min(loads):.1f}-{max(loads):.1f} |"
            )
    return "\n".join(lines) + "\n"


def _models(rows: list[dict]) -> str:
    """The models and rates the rows measured, e.g. "siren at 0.3 bpp"."""
    return ", ".join(dict.fromkeys(f"{r['model']} at {r['bpp']} bpp" for r in rows))


def read_runs(path: Path) -> list[dict]:
    """Rows of an earlier runs.csv, numbers as numbers."""
    if not path.exists():
        return []
    with open(path, newline="") as f:
        return [{k: _number(v) for k, v in row.items()} for row in csv.DictReader(f)]


def _number(text: str):
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=4, help="how many Kodak images, from kodim01 on")
    parser.add_argument("--stack", type=int, default=4, help="images per stacked fit, at most")
    parser.add_argument("--sizes", default="64,256", help="crop sizes, comma-separated")
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--bpp", type=float, default=0.3)
    parser.add_argument("--model", choices=("siren", "fourier"), default="siren", help="a stackable model family")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "throughput")
    args = parser.parse_args(argv)
    load_at_start = os.getloadavg()
    names = ALL_KODAK.split(",")[: args.images]
    opts = EncodeOptions(bpp=args.bpp, model=args.model, steps=args.steps, seed=0)
    args.out.mkdir(parents=True, exist_ok=True)
    _ready("inrcodec.stacked")  # this process's one-off imports, before anything is timed
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for size in (int(s) for s in args.sizes.split(",")):
            inputs = write_crops(tmp, names, size)
            for round_ in range(args.rounds):
                for config in configs(len(inputs), args.stack):
                    row = {"size": size, "round": round_, **run_one(inputs, tmp / "out", config, opts)}
                    rows.append(row)
                    print(json.dumps(row), file=sys.stderr, flush=True)
    all_rows = read_runs(args.out / "runs.csv") + rows
    with open(args.out / "runs.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(all_rows)
    (args.out / "summary.md").write_text(summary(all_rows))
    machine = machine_info(jobs=2, threads=1)
    machine["load_average_at_start"] = load_at_start  # 1, 5 and 15 minutes
    machine["load_average_at_end"] = os.getloadavg()
    (args.out / "machine.json").write_text(json.dumps(machine, indent=2) + "\n")
    niceness = os.nice(0)  # as run, e.g. under `nice -n 10`
    command = shlex.join([*(["nice", "-n", str(niceness)] if niceness else []), "python",
                          "benchmarks/throughput.py", *(argv if argv is not None else sys.argv[1:])])  # fmt: skip
    previous = (args.out / "command.txt").read_text() if (args.out / "command.txt").exists() else ""
    (args.out / "command.txt").write_text(f"{previous}# {time.strftime('%Y-%m-%dT%H:%M:%S%z')}\n{command}\n")
    print((args.out / "summary.md").read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
