"""Published Kodak rate-distortion curves, drawn as a reference layer under our own.

Each CSV starts with a ``# source: ...`` line naming where its numbers came from, then
``codec,bpp,psnr_rgb,ms_ssim`` rows (ms_ssim may be empty); a file may hold several curves,
one per ``codec`` value. The package ships a copy of the files it names in :data:`PUBLISHED`,
so plots work without the data folder they were collected in.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputError, OptionError

#: the folder of CSVs shipped inside the package
SHIPPED_DIR = Path(__file__).with_name("published_rd")

#: short names for ``--published`` and the files behind them
PUBLISHED: dict[str, tuple[str, ...]] = {
    "coin": ("coin.csv",),
    "coinpp": ("coinpp.csv",),
    "strumpler": ("strumpler2022_basic_8bit.csv", "strumpler2022_maml_7bit.csv"),
    "c3": ("c3.csv",),
    "coolchic": ("coolchic_v5.0.csv",),
    "bpg": ("compressai_bpg_444_x265_ycbcr.csv",),
    "vtm": ("compressai_vtm.csv",),
    "compressai-jpeg": ("compressai_jpeg.csv",),
    "compressai-webp": ("compressai_webp.csv",),
    "compressai-jpeg2000": ("compressai_jpeg2000.csv",),
}

#: what ``--published`` draws unless told otherwise
DEFAULT_PUBLISHED = ("coin", "coinpp", "strumpler", "c3", "coolchic", "bpg", "vtm")


@dataclass
class Curve:
    """One rate-distortion curve: points in increasing bpp."""

    name: str
    bpp: list[float]
    psnr: list[float]
    ms_ssim: list[float | None] = field(default_factory=list)
    family: str = "published"  # "classical", "inr" or "published": decides the line style
    source: str = ""


def parse_published_list(text: str | None) -> tuple[str, ...]:
    """'coin,c3' -> ('coin', 'c3'); 'none' or '' -> (); 'all' -> every shipped name."""
    if text is None:
        return DEFAULT_PUBLISHED
    names = tuple(n.strip().lower() for n in text.split(",") if n.strip())
    if names in ((), ("none",)):
        return ()
    if names == ("all",):
        return tuple(PUBLISHED)
    return names


def _files_for(name: str, folder: Path) -> list[Path]:
    """The CSVs behind a short name, or a file stem in the folder (e.g. 'c3_adaptive')."""
    if name in PUBLISHED:
        return [folder / f for f in PUBLISHED[name]]
    stem = folder / f"{name}.csv"
    if stem.exists():
        return [stem]
    raise OptionError(f"unknown published curve '{name}' (known: {', '.join(PUBLISHED)}, or a CSV name in {folder})")


def read_published_csv(path: str | os.PathLike) -> list[Curve]:
    """The curves of one published CSV, one per codec name in it."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as e:
        raise InputError(f"cannot read published curve {path}: {e.strerror}") from None
    source = lines[0].lstrip("# ").strip() if lines and lines[0].startswith("#") else ""
    body = [line for line in lines if line.strip() and not line.startswith("#")]
    curves: dict[str, Curve] = {}
    try:
        for row in csv.DictReader(body):
            curve = curves.setdefault(row["codec"], Curve(row["codec"], [], [], [], "published", source))
            curve.bpp.append(float(row["bpp"]))
            curve.psnr.append(float(row["psnr_rgb"]))
            curve.ms_ssim.append(float(row["ms_ssim"]) if row.get("ms_ssim") else None)
    except (KeyError, TypeError, ValueError) as e:
        raise InputError(f"malformed published curve {path}: {e}") from None
    return list(curves.values())


def load_published(names: tuple[str, ...] = DEFAULT_PUBLISHED, folder: str | os.PathLike | None = None) -> list[Curve]:
    """The named published curves from ``folder`` (default: the copy shipped in the package)."""
    root = Path(folder) if folder is not None else SHIPPED_DIR
    if not root.is_dir():
        raise InputError(f"published-curve folder not found: {root}")
    curves: list[Curve] = []
    for name in names:
        for path in _files_for(name, root):
            if not path.exists():
                raise InputError(f"published curve '{name}' needs {path.name}, missing in {root}")
            curves.extend(read_published_csv(path))
    return curves
