"""PSNR against encode seconds for each --effort level, from the benchmark's rows.

    python benchmarks/effort_plot.py benchmarks/results/kodak/rows.jsonl \
        benchmarks/results/kodak_high/rows.jsonl --bpp 0.3 -o benchmarks/results/kodak/effort.png

One marker per image encoded at the target ``--bpp`` (the real bpp is in the rows), one colour
per effort (the inr variants: inr-fast, inr-default, inr-high, ...), with each effort's mean;
x is the wall-clock encode time, as the harness measured it. Only rows of one inrcodec version
are drawn (``--version``, default the newest in the rows), so a recipe change never mixes into
another's efforts.
"""

from __future__ import annotations

import argparse
import statistics
from collections import defaultdict
from pathlib import Path

import matplotlib

from inrcodec.bench.cache import RowCache
from inrcodec.bench.report import latest_rows

matplotlib.use("Agg")
import matplotlib.pyplot as plt


def release(row: dict) -> str:
    """The inrcodec version of a row ("inrcodec 0.3.0" -> "0.3.0")."""
    return row["codec_version"].split()[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rows", nargs="+", type=Path)
    parser.add_argument("--bpp", type=float, default=0.3)
    parser.add_argument("--version", help="inrcodec version whose rows to draw (default: the newest)")
    parser.add_argument("-o", "--output", type=Path, required=True)
    args = parser.parse_args()
    rows = [row for path in args.rows for row in latest_rows(RowCache(path.parent).rows())
            if row["family"] == "inr" and abs(row["setting"] - args.bpp) < 1e-9]  # fmt: skip
    version = args.version or max((release(r) for r in rows), key=lambda v: tuple(map(int, v.split("."))))
    by_variant: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        if release(row) == version:
            by_variant[row["variant"]].append(row)
    fig, ax = plt.subplots(figsize=(7, 5), dpi=120)
    for variant, rows in sorted(by_variant.items(), key=lambda kv: statistics.mean(r["encode_s"] for r in kv[1])):
        xs = [r["encode_s"] for r in rows]
        ys = [r["psnr_rgb"] for r in rows]
        points = ax.scatter(xs, ys, s=12, alpha=0.5, label=f"{variant} ({len(rows)} images)")
        ax.scatter([statistics.mean(xs)], [statistics.mean(ys)], s=90, marker="*", color=points.get_facecolor()[0])
    ax.set_xscale("log")
    ax.set_xlabel("encode time per image [s] (wall clock, 2-core machine, one thread per job)")
    ax.set_ylabel("PSNR-RGB [dB]")
    ax.set_title(
        f"Kodak, inrcodec {version}, target {args.bpp:g} bpp: PSNR against encode time per effort (stars: means)",
        fontsize=9,
    )
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(args.output)
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
