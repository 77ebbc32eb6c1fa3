"""Markdown tables for docs/results.md from the benchmark's rows.jsonl files.

    python benchmarks/results_tables.py benchmarks/results/kodak/rows.jsonl            # effort table
    python benchmarks/results_tables.py benchmarks/results/siren_baseline/rows.jsonl --per-image
    python benchmarks/results_tables.py benchmarks/results/kodak/rows.jsonl --vs-jpeg    # against JPEG
    python benchmarks/results_tables.py benchmarks/results/kodak/rows.jsonl --vs jpeg,webp,jpeg2000,jpegxl \
        --version "inrcodec 0.4.0"                 # against each anchor at the same bpp, one version
    python benchmarks/results_tables.py benchmarks/results/kodak/rows.jsonl --against "inrcodec 0.7.1"

Every figure comes from the rows the harness wrote: bpp from the real file size, PSNR of the
8-bit decoded output, wall and CPU seconds as measured. JPEG "at the same bpp" interpolates
PSNR linearly in log(bpp) between the two Pillow JPEG settings around the file's bpp, on the
same image.
"""

from __future__ import annotations

import argparse
import math
import statistics
from collections import defaultdict
from pathlib import Path

from inrcodec.bench.cache import RowCache
from inrcodec.bench.report import latest_rows


def load(path: Path) -> list[dict]:
    """The rows of a results folder's rows.jsonl, read as the harness's cache reads them, the
    newest per (variant, image, setting) as the harness reports them."""
    return latest_rows(RowCache(path.parent).rows())


def curve_at(points: list[tuple[float, float]], bpp: float, extrapolate: bool = False) -> float | None:
    """PSNR of a curve of (bpp, PSNR) points at ``bpp``, linear in log(bpp) between the two points
    around it; outside the curve None, or with ``extrapolate`` the line through its nearest two."""
    points = sorted(points)
    pairs = list(zip(points, points[1:]))
    inside = [(a, b) for a, b in pairs if a[0] <= bpp <= b[0]]
    if not inside and not (extrapolate and pairs):
        return None
    (b0, p0), (b1, p1) = inside[0] if inside else pairs[0] if bpp < points[0][0] else pairs[-1]
    t = (math.log(bpp) - math.log(b0)) / (math.log(b1) - math.log(b0))
    return p0 + t * (p1 - p0)


def anchor_at(rows: list[dict], variant: str, image: str, bpp: float) -> float | None:
    """PSNR of ``variant`` on ``image`` at ``bpp``: linear in log(bpp) between its two settings
    around it, None outside its range."""
    return curve_at([(r["bpp"], r["psnr_rgb"]) for r in rows if r["variant"] == variant and r["image"] == image], bpp)


def version_comparison(path: Path, version: str) -> str:
    """Each newest inr file of another version against ``version``'s curve of the same variant
    and image at the file's bpp (from the rows the file keeps as history; extrapolated from the
    nearest two points outside that curve, and counted), mean per target."""
    old = [r for r in RowCache(path.parent).rows() if r["family"] == "inr" and r.get("codec_version") == version]
    new = [r for r in load(path) if r["family"] == "inr" and r.get("codec_version") not in (None, version)]
    by_target = defaultdict(list)
    for r in new:
        curve = [(o["bpp"], o["psnr_rgb"]) for o in old if o["variant"] == r["variant"] and o["image"] == r["image"]]
        at = curve_at(curve, r["bpp"], extrapolate=True)
        if at is not None:
            inside = min(curve)[0] <= r["bpp"] <= max(curve)[0]
            by_target[(r["variant"], r["codec_version"], r["setting"])].append((r, r["psnr_rgb"] - at, inside))
    lines = [
        f"| variant | version | target bpp | images | mean bpp | mean dB against {version} at the same bpp | extrapolated |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for (variant, ver, setting), items in sorted(by_target.items()):
        lines.append(
            f"| {variant} | {ver} | {setting:g} | {len(items)} | {statistics.mean(r['bpp'] for r, _, _ in items):.3f} | "
            f"{statistics.mean(d for _, d, _ in items):+.2f} | {sum(not i for _, _, i in items)} |"
        )
    return "\n".join(lines)


def jpeg_at(rows: list[dict], image: str, bpp: float) -> float | None:
    return anchor_at(rows, "jpeg", image, bpp)


def anchors_comparison(rows: list[dict], anchors: list[str]) -> str:
    """Per inr variant and target: mean bpp and PSNR, and each anchor's mean PSNR at the same bpp
    on the same images (over the images inside that anchor's bpp range, counted), with on how
    many images the inr file is better."""
    head = "| variant | target bpp | mean bpp | mean PSNR dB | " + " | ".join(
        f"{a} at the same bpp (images; inr better)" for a in anchors
    )
    lines = [head + " |", "|---|---:|---:|---:|" + "---:|" * len(anchors)]
    groups: dict[tuple[str, float], list[dict]] = defaultdict(list)
    for r in rows:
        if r["family"] == "inr":
            groups[(r["variant"], r["setting"])].append(r)
    for (variant, target), group in sorted(groups.items()):
        cells = []
        for anchor in anchors:
            pairs = [(r["psnr_rgb"], anchor_at(rows, anchor, r["image"], r["bpp"])) for r in group]
            inside = [(p, a) for p, a in pairs if a is not None]
            if not inside:
                cells.append("outside its range")
                continue
            cells.append(
                f"{statistics.mean(a for _, a in inside):.2f} ({len(inside)}; {sum(p > a for p, a in inside)})"
            )
        lines.append(
            f"| {variant} | {target:g} | {statistics.mean(r['bpp'] for r in group):.3f} | "
            f"{statistics.mean(r['psnr_rgb'] for r in group):.2f} | " + " | ".join(cells) + " |"
        )
    return "\n".join(lines)


def effort_table(rows: list[dict]) -> str:
    groups: dict[tuple[str, float], list[dict]] = defaultdict(list)
    for r in rows:
        if r["family"] == "inr":
            groups[(r["variant"], r["setting"])].append(r)
    lines = [
        "| variant | target bpp | images | mean bpp | bpp off target: min / max | within ±10 % | mean PSNR dB | "
        "encode s (wall, mean / max) | encode CPU s (mean) | decode s (mean) |",
        "|---|---:|---:|---:|---|---:|---:|---|---:|---:|",
    ]
    for (variant, target), group in sorted(groups.items()):
        off = [100 * (r["bpp"] / target - 1) for r in group]
        within = sum(abs(o) <= 10 for o in off)
        lines.append(
            f"| {variant} | {target:g} | {len(group)} | {statistics.mean(r['bpp'] for r in group):.3f} | "
            f"{min(off):+.1f} % / {max(off):+.1f} % | {within}/{len(group)} | "
            f"{statistics.mean(r['psnr_rgb'] for r in group):.2f} | "
            f"{statistics.mean(r['encode_s'] for r in group):.0f} / {max(r['encode_s'] for r in group):.0f} | "
            f"{statistics.mean(r['encode_cpu_s'] for r in group):.0f} | "
            f"{statistics.mean(r['decode_s'] for r in group):.2f} |"
        )
    return "\n".join(lines)


def _mean_text(values: list[float]) -> str:
    return f"{statistics.mean(values):.2f}" if values else "–"


def jpeg_comparison(rows: list[dict]) -> str:
    """Per inr variant and target: mean PSNR against JPEG at the same bpp on the same images, and
    on how many images the inr file is better (images outside JPEG's bpp range are counted
    apart)."""
    lines = [
        "| variant | target bpp | images inside JPEG's range | mean PSNR dB | JPEG at the same bpp | better than JPEG | outside JPEG's range |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    groups: dict[tuple[str, float], list[dict]] = defaultdict(list)
    for r in rows:
        if r["family"] == "inr":
            groups[(r["variant"], r["setting"])].append(r)
    for (variant, target), group in sorted(groups.items()):
        pairs = [(r["psnr_rgb"], jpeg_at(rows, r["image"], r["bpp"])) for r in group]
        inside = [(p, j) for p, j in pairs if j is not None]
        lines.append(
            f"| {variant} | {target:g} | {len(inside)} | {_mean_text([p for p, _ in inside])} | "
            f"{_mean_text([j for _, j in inside])} | "
            f"{sum(p > j for p, j in inside)} | {len(pairs) - len(inside)} |"
        )
    return "\n".join(lines)


def per_image_table(rows: list[dict]) -> str:
    lines = [
        "| variant | image | target bpp | real bpp | PSNR dB | JPEG PSNR at that bpp | encode s | decode s |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    with_jpeg = {r["image"] for r in rows if r["variant"] == "jpeg"}
    for r in sorted((r for r in rows if r["family"] == "inr"), key=lambda r: (r["variant"], r["image"], r["setting"])):
        jpeg = jpeg_at(rows, r["image"], r["bpp"])
        jpeg_text = f"{jpeg:.2f}" if jpeg is not None else "outside JPEG's range" if r["image"] in with_jpeg else "n/a"
        lines.append(
            f"| {r['variant']} | {r['image']} | {r['setting']:g} | {r['bpp']:.3f} | {r['psnr_rgb']:.2f} | "
            f"{jpeg_text} | {r['encode_s']:.0f} | {r['decode_s']:.2f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rows", type=Path)
    parser.add_argument("--per-image", action="store_true")
    parser.add_argument("--vs-jpeg", action="store_true", help="per target: PSNR against JPEG at the same bpp")
    parser.add_argument("--vs", help="per target: PSNR against these anchors at the same bpp (comma-separated)")
    parser.add_argument("--version", help="only the inr rows of this codec_version (e.g. 'inrcodec 0.4.0')")
    parser.add_argument("--against", help="each newer inr file against this codec_version's curve at the same bpp")
    args = parser.parse_args()
    if args.against:
        print(version_comparison(args.rows, args.against))
        return
    rows = load(args.rows)
    if args.version:
        rows = [r for r in rows if r["family"] != "inr" or r.get("codec_version") == args.version]
    if args.vs:
        print(anchors_comparison(rows, args.vs.split(",")))
    else:
        print(
            per_image_table(rows) if args.per_image else jpeg_comparison(rows) if args.vs_jpeg else effort_table(rows)
        )


if __name__ == "__main__":
    main()
