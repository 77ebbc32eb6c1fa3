"""Turning measured rows into the benchmark's output files.

Averaging convention (the CompressAI one, applied the same way to every codec): for each codec
and setting, every figure is the plain mean over the images of the per-image value, so the PSNR
of a curve point is the mean of per-image PSNR (not the PSNR of the mean MSE) and its rate the
mean of per-image bpp. A setting enters a curve only once every image has a row for it.
"""

from __future__ import annotations

import csv
import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import OptionError
from ..io.files import atomic_output, write_bytes_atomic
from .bdrate import METHODS, BDError, bd_psnr, bd_rate
from .codecs import codec_class
from .images import BenchImage

AVERAGING = (
    "each point is the mean over images of per-image values at one setting "
    "(PSNR: mean of per-image PSNR, the CompressAI convention, the same for every codec)"
)

CSV_COLUMNS = (
    "image",
    "variant",
    "codec",
    "setting",
    "width",
    "height",
    "channels",
    "bytes",
    "bpp",
    "psnr_rgb",
    "ms_ssim_rgb",
    "encode_s",
    "decode_s",
    "encode_cpu_s",
    "decode_cpu_s",
    "threads",
    "codec_version",
    "options",
    "key",
)


@dataclass
class CurvePoint:
    """The mean over images of one codec variant at one setting."""

    setting: float
    bpp: float
    psnr: float
    ms_ssim: float | None
    encode_s: float
    decode_s: float


@dataclass
class VariantSummary:
    """One codec variant's curve plus the rows it came from."""

    variant: str
    codec: str
    family: str
    options: dict[str, Any]
    points: list[CurvePoint] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)

    def per_image(self, image: str) -> tuple[list[float], list[float]]:
        """(bpp, PSNR) of one image over the complete settings."""
        settings = {p.setting for p in self.points}
        mine = sorted(
            (r["setting"], r["bpp"], r["psnr_rgb"])
            for r in self.rows
            if r["image"] == image and r["setting"] in settings
        )
        return [m[1] for m in mine], [m[2] for m in mine]


def select_rows(rows: Iterable[Mapping[str, Any]], images: Sequence[BenchImage]) -> list[dict[str, Any]]:
    """The rows measured on this run's images, the newest per (variant, image, setting).

    Rows are matched by pixel hash, so a renamed file still finds its rows; they take the
    image's current name.
    """
    names = {image.sha256: image.name for image in images}
    mine = ({**row, "image": names[row["image_sha256"]]} for row in rows if row.get("image_sha256") in names)
    return latest_rows(mine)


def latest_rows(rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The newest row (the last written) per (variant, image, setting): a rerun of a variant
    under a new version of its codec supersedes the old rows, which the file keeps as history."""
    latest: dict[tuple[str, str, float], dict[str, Any]] = {}
    for row in rows:
        latest[(row["variant"], row["image_sha256"], float(row["setting"]))] = dict(row)
    return list(latest.values())


def _mean(values: Sequence[float | None]) -> float | None:
    if any(v is None for v in values):
        return None
    return float(np.mean(values))


def summarise(rows: Sequence[Mapping[str, Any]], image_count: int) -> dict[str, VariantSummary]:
    """Per variant, the mean point of every setting measured on all ``image_count`` images."""
    summaries: dict[str, VariantSummary] = {}
    for row in sorted(rows, key=lambda r: (r["variant"], r["setting"], r["image"])):
        summary = summaries.setdefault(
            row["variant"],
            VariantSummary(row["variant"], row["codec"], row.get("family", "classical"), row.get("options", {})),
        )
        summary.rows.append(dict(row))
    for summary in summaries.values():
        by_setting: dict[float, list[dict[str, Any]]] = {}
        for row in summary.rows:
            by_setting.setdefault(float(row["setting"]), []).append(row)
        for setting, group in sorted(by_setting.items()):
            if len(group) < image_count:
                continue  # an incomplete setting would average a different image set
            summary.points.append(
                CurvePoint(
                    setting,
                    _mean([r["bpp"] for r in group]),
                    _mean([r["psnr_rgb"] for r in group]),
                    _mean([r.get("ms_ssim_rgb") for r in group]),
                    _mean([r["encode_s"] for r in group]),
                    _mean([r["decode_s"] for r in group]),
                )
            )
    return {k: v for k, v in summaries.items() if v.points}


def _finite(value: float | None) -> float | None:
    """JSON has no infinity or NaN: write those as null."""
    return value if value is not None and math.isfinite(value) else None


def _description(summary: VariantSummary, image_count: int) -> str:
    try:
        text = codec_class(summary.codec).description
    except OptionError:
        text = summary.codec
    options = f"; options {json.dumps(summary.options, sort_keys=True)}" if summary.options else ""
    return f"{text}{options}. {image_count} images; {AVERAGING}."


def compressai_json(summary: VariantSummary, image_count: int) -> dict[str, Any]:
    """The CompressAI results schema for one variant, plus a 'meta' block with the settings."""
    points = summary.points
    try:
        setting_name = codec_class(summary.codec).setting_name
    except OptionError:
        setting_name = "setting"
    return {
        "name": summary.variant,
        "description": _description(summary, image_count),
        "results": {
            "psnr-rgb": [_finite(p.psnr) for p in points],
            "ms-ssim-rgb": [_finite(p.ms_ssim) for p in points],
            "bpp": [p.bpp for p in points],
            "encoding_time": [p.encode_s for p in points],
            "decoding_time": [p.decode_s for p in points],
        },
        "meta": {
            "codec": summary.codec,
            "family": summary.family,
            "options": summary.options,
            "setting_name": setting_name,
            "settings": [p.setting for p in points],
            "images": image_count,
            "averaging": AVERAGING,
        },
    }


def result_file_name(variant: str) -> str:
    """A safe file name for a variant's results JSON."""
    return re.sub(r"[^A-Za-z0-9._=+-]", "_", variant) + ".json"


def write_json(path: Path, data: Any) -> None:
    write_bytes_atomic(path, (json.dumps(data, indent=2, allow_nan=False) + "\n").encode())


def write_per_image_csv(path: Path, rows: Sequence[Mapping[str, Any]]) -> None:
    """One line per (image, codec variant, setting), sorted."""
    ordered = sorted(rows, key=lambda r: (r["variant"], r["image"], r["setting"]))
    with atomic_output(path) as tmp, open(tmp, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=CSV_COLUMNS, extrasaction="ignore")
        writer.writeheader()
        for row in ordered:
            writer.writerow({**row, "options": json.dumps(row.get("options", {}), sort_keys=True)})


# --- BD-rate tables ---------------------------------------------------------------------------


def _bd_entry(fn, anchor: tuple[list[float], list[float]], test: tuple[list[float], list[float]], method: str) -> dict:
    try:
        return fn(anchor[0], anchor[1], test[0], test[1], method=method).to_dict()
    except BDError as e:
        return {"value": None, "method": method, "error": str(e)}


def _curve(summary: VariantSummary) -> tuple[list[float], list[float]]:
    return [p.bpp for p in summary.points], [p.psnr for p in summary.points]


def ms_ssim_db(value: float) -> float:
    """MS-SSIM in decibels, ``-10 log10(1 - MS-SSIM)``: the scale on which published BD-rates on
    MS-SSIM are computed (it spreads the values near 1 that good codecs reach)."""
    return -10.0 * math.log10(max(1.0 - value, 1e-12))


def _ms_ssim_curve(summary: VariantSummary) -> tuple[list[float], list[float]]:
    points = [p for p in summary.points if p.ms_ssim is not None and math.isfinite(p.ms_ssim)]
    return [p.bpp for p in points], [ms_ssim_db(p.ms_ssim) for p in points]


def bd_report(summaries: Mapping[str, VariantSummary], anchor: str, images: Sequence[str]) -> dict[str, Any]:
    """BD-rate and BD-PSNR of every variant against the anchor, on mean curves and per image."""
    report: dict[str, Any] = {
        "anchor": anchor,
        "images": len(images),
        "methods": list(METHODS),
        "averaging": AVERAGING,
        "codecs": {},
        "per_image": {},
        "fewer_bits_on_every_image": {},
    }
    if anchor not in summaries:
        report["error"] = f"the anchor '{anchor}' has no complete results in this folder"
        return report
    base = summaries[anchor]
    for variant, summary in summaries.items():
        if variant == anchor:
            continue
        report["codecs"][variant] = {
            "bd_rate": {m: _bd_entry(bd_rate, _curve(base), _curve(summary), m) for m in METHODS},
            "bd_psnr": {m: _bd_entry(bd_psnr, _curve(base), _curve(summary), m) for m in METHODS},
            # BD-rate with MS-SSIM in dB as the quality axis (where the run measured MS-SSIM)
            "bd_rate_ms_ssim": {
                m: _bd_entry(bd_rate, _ms_ssim_curve(base), _ms_ssim_curve(summary), m) for m in METHODS
            },
        }
        report["per_image"][variant] = {
            image: _bd_entry(bd_rate, base.per_image(image), summary.per_image(image), "pchip") for image in images
        }
        values = [e.get("value") for e in report["per_image"][variant].values()]
        report["fewer_bits_on_every_image"][variant] = all(v is not None and v < 0 for v in values)
    return report


def _fmt(entry: Mapping[str, Any], unit: str, digits: int = 1) -> str:
    if entry.get("value") is None:
        return "n/a"
    return f"{entry['value']:+.{digits}f}{unit}"


def _fmt_range(entry: Mapping[str, Any], digits: int) -> str:
    if entry.get("value") is None:
        return "n/a"
    lo, hi = entry["overlap"]
    return f"{lo:.{digits}f}–{hi:.{digits}f}"


def _errors(report: Mapping[str, Any]) -> list[str]:
    notes = []
    for variant, entry in report["codecs"].items():
        for kind in ("bd_rate", "bd_psnr"):
            for method, result in entry[kind].items():
                if result.get("error"):
                    notes.append(f"- {variant}, {kind.replace('_', '-')} {method}: {result['error']}")
    return notes


def bd_markdown(report: Mapping[str, Any], anchor_description: str = "") -> str:
    """The BD tables as Markdown: mean curves, then per image (PCHIP)."""
    anchor = report["anchor"]
    lines = [
        f"# BD-rate against {anchor}" + (f" ({anchor_description})" if anchor_description else ""),
        "",
        f"{report['images']} images; {report['averaging']}.",
        "BD-rate: log-rate interpolated as a function of PSNR, integrated over the PSNR range both",
        "curves share (the overlap); negative = fewer bits than the anchor at equal PSNR.",
        "PCHIP = piecewise-cubic Hermite interpolation; cubic = the classic least-squares cubic",
        "polynomial fit (VCEG-M33).",
        "BD-PSNR: PSNR as a function of log-rate over the shared bpp range; positive = better.",
        "",
    ]
    if report.get("error"):
        return "\n".join(lines + [f"**{report['error']}**", ""])
    lines += [
        "| codec | BD-rate PCHIP | BD-rate cubic | PSNR overlap [dB] | BD-PSNR PCHIP | BD-PSNR cubic | bpp overlap |",
        "|---|---:|---:|---|---:|---:|---|",
    ]
    for variant, entry in report["codecs"].items():
        rate, psnr = entry["bd_rate"], entry["bd_psnr"]
        lines.append(
            f"| {variant} | {_fmt(rate['pchip'], ' %')} | {_fmt(rate['cubic'], ' %')} | "
            f"{_fmt_range(rate['pchip'], 2)} | {_fmt(psnr['pchip'], ' dB', 2)} | "
            f"{_fmt(psnr['cubic'], ' dB', 2)} | {_fmt_range(psnr['pchip'], 3)} |"
        )
    ms = {v: e["bd_rate_ms_ssim"] for v, e in report["codecs"].items() if "bd_rate_ms_ssim" in e}
    if any(e["pchip"].get("value") is not None for e in ms.values()):
        lines += [
            "",
            "BD-rate on MS-SSIM, in dB (−10 log10(1 − MS-SSIM)), over the range both curves share:",
            "",
            "| codec | BD-rate PCHIP | BD-rate cubic | MS-SSIM overlap [dB] |",
            "|---|---:|---:|---|",
        ]
        for variant, entry in ms.items():
            lines.append(
                f"| {variant} | {_fmt(entry['pchip'], ' %')} | {_fmt(entry['cubic'], ' %')} | "
                f"{_fmt_range(entry['pchip'], 2)} |"
            )
    notes = _errors(report)
    if notes:
        lines += ["", "Not computable:", *notes]
    lines += ["", *per_image_markdown(report)]
    return "\n".join(lines) + "\n"


def per_image_markdown(report: Mapping[str, Any]) -> list[str]:
    """Per-image BD-rate (PCHIP) table: one row per image, one column per codec variant."""
    variants = list(report["per_image"])
    if not variants:
        return []
    images = list(next(iter(report["per_image"].values())))
    lines = [
        f"## Per-image BD-rate (PCHIP) against {report['anchor']}",
        "",
        "| image | " + " | ".join(variants) + " |",
        "|---|" + "---:|" * len(variants),
    ]
    for image in images:
        cells = [_fmt(report["per_image"][v][image], " %") for v in variants]
        lines.append(f"| {image} | " + " | ".join(cells) + " |")
    lines.append(
        "| **fewer bits on every image** | "
        + " | ".join(_every_image_verdict(report["per_image"][v]) for v in variants)
        + " |"
    )
    return lines


def _every_image_verdict(per_image: Mapping[str, Mapping[str, Any]]) -> str:
    values = [e.get("value") for e in per_image.values()]
    better = sum(1 for v in values if v is not None and v < 0)
    if better == len(values):
        return "yes"
    return f"no ({better}/{len(values)})"
