"""What the image-task benchmarks share (super_resolution.py, denoising.py, inpainting.py): the
images, timing, the summary table, the side-by-side figure and the files a run writes."""

from __future__ import annotations

import csv
import json
import shlex
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from inrcodec.bench.machine import machine_info
from inrcodec.metrics import psnr

KODAK = ROOT.parent / "shared" / "data" / "kodak"
#: the 24 Kodak images and two public photos that ship with scikit-image (not training photos)
ALL = ",".join([f"kodim{i:02d}" for i in range(1, 25)] + ["astronaut", "coffee"])


def images(names: Sequence[str]) -> list[tuple[str, np.ndarray]]:
    """(name, RGB uint8) for Kodak names (from ../shared/data/kodak) and scikit-image's data."""
    from skimage import data

    out = []
    for name in names:
        if name.startswith("kodim"):
            out.append((name, np.asarray(Image.open(KODAK / f"{name}.png").convert("RGB"))))
        else:
            out.append((name, np.asarray(getattr(data, name)())[:, :, :3]))
    return out


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start


def subset(image: str) -> str:
    return "Kodak" if image.startswith("kodim") else "astronaut + coffee"


def summary_table(rows: list[dict], setting: str, reference: Callable[[dict], bool], label: str,
                  columns: Sequence[tuple[str, str, str]]) -> str:  # fmt: skip
    """Means per (setting, image set, method), in first-seen order, and on how many images each
    method beats the rows ``reference`` picks. ``columns``: (header, row key, format)."""
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for r in rows:
        groups[(r[setting], subset(r["image"]), r["method"])].append(r)
    head = f"| {setting} | images | method | n | " + " | ".join(c[0] for c in columns) + f" | images above {label} |"
    lines = [head, "|---|---|---|---:|" + "---:|" * len(columns) + "---:|"]
    for (value, images_, method), rs in groups.items():
        ref = {r["image"]: r["psnr"] for r in rows if r[setting] == value and reference(r)}
        above = sum(r["psnr"] > ref.get(r["image"], np.inf) for r in rs)
        means = " | ".join(format(np.mean([r[key] for r in rs]), fmt) for _, key, fmt in columns)
        lines.append(f"| {value} | {images_} | {method} | {len(rs)} | {means} | {above}/{len(rs)} |")
    return "\n".join(lines) + "\n"


def side_by_side(rows: Sequence[tuple[str, dict[str, np.ndarray], np.ndarray]], path: Path,
                 crop: tuple[int, int, int] = (200, 250, 160)) -> None:  # fmt: skip
    """One row of crops per (label, panels, original): the first panel is the input, the others
    are titled with their PSNR against the original, which closes the row."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    top, left, size = crop
    width = max(len(panels) for _, panels, _ in rows) + 1
    fig, axes = plt.subplots(len(rows), width, figsize=(3 * width, 3.3 * len(rows)), squeeze=False)
    for line, (label, panels, clean) in zip(axes, rows, strict=True):
        for i, (ax, (title, img)) in enumerate(zip(line, {**panels, "original": clean}.items())):
            ax.imshow(img[top : top + size, left : left + size], interpolation="nearest")
            scored = 0 < i < len(panels)
            ax.set_title(f"{label}{title}" + (f"\n{psnr(img, clean):.2f} dB" if scored else ""), fontsize=9)
            ax.axis("off")
    fig.tight_layout(rect=(0, 0, 1, 0.96))
    fig.savefig(path, dpi=110)


def write_run(out: Path, title: str, script: str, rows: list[dict], fields: Sequence[str], summary: str) -> None:
    """rows.csv, summary.md, command.txt (this run's command line) and machine.json."""
    with (out / "rows.csv").open("w", newline="") as f:
        writer = csv.DictWriter(f, list(fields))
        writer.writeheader()
        writer.writerows(rows)
    (out / "summary.md").write_text(f"# {title} ({script})\n\n" + summary)
    (out / "command.txt").write_text("python " + shlex.join([script, *sys.argv[1:]]) + "\n")
    (out / "machine.json").write_text(json.dumps(machine_info(1, 1), indent=2) + "\n")


def read_rows(out: Path, numbers: Sequence[str]) -> list[dict]:
    """A run's rows.csv back, with the ``numbers`` columns as floats."""
    with (out / "rows.csv").open() as f:
        return [{**r, **{k: float(r[k]) for k in numbers}} for r in csv.DictReader(f)]
