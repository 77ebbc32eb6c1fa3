"""Rate-distortion and encode-time plots (matplotlib, written as PNG without a display).

Line styles say what a curve is: inrcodec solid and thick, classical codecs dashed, published
curves thin and dotted in muted colours, as a reference layer behind our own measurements.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..io.files import atomic_output
from .published import Curve

_STYLE = {
    "inr": {"linestyle": "-", "linewidth": 2.2, "marker": "o", "markersize": 4, "zorder": 4},
    "classical": {"linestyle": "--", "linewidth": 1.4, "marker": ".", "markersize": 5, "zorder": 3},
    "published": {"linestyle": ":", "linewidth": 1.2, "markersize": 4, "alpha": 0.6, "zorder": 2},
}
# Published curves get their own palette and markers, so they never share a look with ours.
_PUBLISHED_MARKERS = ("x", "+", "^", "v", "s", "D", "*", "p", "h", "1")

METRICS = {"psnr": ("psnr", "PSNR-RGB [dB]"), "ms-ssim": ("ms_ssim", "MS-SSIM-RGB")}


def pyplot():
    import matplotlib

    matplotlib.use("Agg")  # files only: no display, no GUI backend
    import matplotlib.pyplot as plt

    return plt


def curve_from_results(data: Mapping[str, Any], source: str = "") -> Curve:
    """A curve from a CompressAI-schema results dict (raises KeyError/TypeError if not one)."""
    results = data["results"]
    name = str(data.get("name", source))
    family = data.get("meta", {}).get("family") or ("inr" if name.lower().startswith("inr") else "classical")
    bpp = [float(v) for v in results["bpp"]]
    psnr = [float("nan") if v is None else float(v) for v in results["psnr-rgb"]]
    ms_ssim = results.get("ms-ssim-rgb") or [None] * len(bpp)
    return Curve(name, bpp, psnr, list(ms_ssim), family, source)


def load_results(paths: Iterable[str | os.PathLike]) -> tuple[list[Curve], list[Path]]:
    """The result curves among ``paths``, and the files skipped as not CompressAI-schema JSON.

    Skipping lets ``results/kodak/*.json`` be passed whole, machine.json and bdrate.json included.
    """
    curves, skipped = [], []
    for path in map(Path, paths):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise InputError(f"results file not found: {path}") from None
        except (OSError, ValueError) as e:
            raise InputError(f"cannot read results file {path}: {e}") from None
        try:
            curves.append(curve_from_results(data, path.stem))
        except (AttributeError, KeyError, TypeError, ValueError):
            skipped.append(path)
    return curves, skipped


def _draw(ax, curve: Curve, metric: str, max_bpp: float, color=None, marker=None) -> None:
    attr = METRICS[metric][0]
    points = [
        (b, v)
        for b, v in zip(curve.bpp, getattr(curve, attr), strict=False)
        if v is not None and math.isfinite(v) and b <= max_bpp * 1.05
    ]
    if not points:
        return
    xs, ys = zip(*sorted(points), strict=True)
    kwargs = dict(_STYLE.get(curve.family, _STYLE["classical"]))
    if color is not None:
        kwargs["color"] = color
    if marker is not None:
        kwargs["marker"] = marker
        kwargs["markerfacecolor"] = "none"
    ax.plot(xs, ys, label=curve.name, **kwargs)


def plot_rd(
    curves: Sequence[Curve],
    path: str | os.PathLike,
    published: Sequence[Curve] = (),
    metric: str = "psnr",
    max_bpp: float = 2.0,
    title: str = "Kodak",
) -> Path:
    """Write the RD plot of our curves over the published reference layer."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(9, 6.5), dpi=120)
    palette = plt.get_cmap("Dark2")
    for i, curve in enumerate(published):
        marker = _PUBLISHED_MARKERS[i % len(_PUBLISHED_MARKERS)]
        _draw(ax, curve, metric, max_bpp, color=palette(i % 8), marker=marker)
    for curve in curves:
        _draw(ax, curve, metric, max_bpp)
    ax.set_xlim(0, max_bpp)
    ax.set_xlabel("bits per pixel")
    ax.set_ylabel(METRICS[metric][1])
    ax.set_title(f"{title}: rate-distortion (mean over images per setting)")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7, loc="lower right", ncol=2)
    return save_figure(fig, path)


def plot_encode_time(rows: Sequence[Mapping[str, Any]], path: str | os.PathLike, title: str = "Kodak") -> Path:
    """Write PSNR against encode time, one point per (image, setting), one colour per codec."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(9, 6.5), dpi=120)
    by_variant: dict[str, list[Mapping[str, Any]]] = {}
    for row in rows:
        by_variant.setdefault(row["variant"], []).append(row)
    for variant, group in sorted(by_variant.items()):
        points = [(r["encode_s"], r["psnr_rgb"]) for r in group if math.isfinite(r["psnr_rgb"])]
        if not points:
            continue
        xs, ys = zip(*points, strict=True)
        marker = "o" if group[0].get("family") == "inr" else "."
        ax.scatter([max(x, 1e-4) for x in xs], ys, s=10, alpha=0.6, marker=marker, label=variant)
    ax.set_xscale("log")
    ax.set_xlabel("encode time per image [s] (wall clock)")
    ax.set_ylabel("PSNR-RGB [dB]")
    ax.set_title(f"{title}: quality against encode time, every image and setting")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, loc="lower right")
    return save_figure(fig, path)


def save_figure(fig, path: str | os.PathLike) -> Path:
    """Lay out ``fig``, write it to ``path`` as a PNG atomically, and close it."""
    plt = pyplot()
    fig.tight_layout()
    try:
        with atomic_output(path) as tmp:
            fig.savefig(tmp, format="png")
    finally:
        plt.close(fig)
    return Path(path)
