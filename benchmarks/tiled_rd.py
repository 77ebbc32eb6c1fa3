"""Tiled against untiled at Kodak's size: what cutting an image into tiles costs in rate-distortion.

    python benchmarks/tiled_rd.py [--bpp 0.12 0.3 0.75] [--effort default] [--tile 512] [--jobs 2]

Centred 768 x 512 crops of four training photos (``../shared/data/train/wikipedia`` 001, 010,
023, 040: not Kodak, as every recipe screen since 0.2.0) are encoded at each target twice: as
one latent grid (``tile=0``) and forced into tiles (``tile=512``: 2 x 1 tiles of 384 + 8 x 512
pixels). Each encode runs in a worker process with one torch thread. Rows (JSON lines) go to
``--out``; the BD-rate of the tiled curve against the untiled one, per photo and on the mean,
is printed and written beside them (``tiled_rd.md`` for the fast effort, ``tiled_rd_<effort>.md``
for the others).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from PIL import Image

from inrcodec import codec, decoder
from inrcodec.bench.bdrate import bd_rate
from inrcodec.executors import make_executor
from inrcodec.options import EncodeOptions

ROOT = Path(__file__).resolve().parents[1]
TRAIN = ROOT.parent / "shared" / "data" / "train" / "wikipedia"
PHOTOS = ("001", "010", "023", "040")


def crop(name: str) -> np.ndarray:
    a = np.asarray(Image.open(TRAIN / f"{name}.png").convert("RGB"))
    y, x = (a.shape[0] - 512) // 2, (a.shape[1] - 768) // 2
    return np.ascontiguousarray(a[y : y + 512, x : x + 768])


def encode(item: tuple[str, float, int, str]) -> dict:
    name, bpp, tile, effort = item
    pixels = crop(name)
    start = time.process_time()
    result = codec.encode_image(pixels, EncodeOptions(bpp=bpp, effort=effort, tile=tile))
    return {"photo": name, "bpp_target": bpp, "tile": tile, "effort": effort, "bytes": len(result.data),
            "bpp": 8 * len(result.data) / pixels.shape[0] / pixels.shape[1], "psnr": result.psnr,
            "cpu_s": time.process_time() - start, "model": decoder.describe(result.data)["model"]}  # fmt: skip


def report(rows: list[dict], tile: int, out: Path, effort: str) -> None:
    lines = ["| photo | untiled (bpp, PSNR) | tiled (bpp, PSNR) | BD-rate tiled vs untiled |", "|---|---|---|---:|"]
    rates = {}
    for name in PHOTOS:
        a = sorted((r["bpp"], r["psnr"]) for r in rows if r["photo"] == name and r["tile"] == 0)
        b = sorted((r["bpp"], r["psnr"]) for r in rows if r["photo"] == name and r["tile"] == tile)
        if len(a) < 3 or len(a) != len(b):
            continue
        d = bd_rate(*zip(*a), *zip(*b)).value
        rates[name] = d
        fmt = lambda pts: ", ".join(f"{x:.3f} / {y:.2f}" for x, y in pts)
        lines.append(f"| {name} | {fmt(a)} | {fmt(b)} | {d:+.2f} % |")
    if rates:
        lines.append(f"| mean | | | {np.mean(list(rates.values())):+.2f} % |")
    text = "\n".join(lines)
    print(text)
    # the fast-effort table came first, as tiled_rd.md; other efforts get a file of their own
    (out.parent / ("tiled_rd.md" if effort == "fast" else f"tiled_rd_{effort}.md")).write_text(text + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bpp", type=float, nargs="+", default=[0.12, 0.3, 0.75])
    parser.add_argument("--effort", default="default")
    parser.add_argument("--tile", type=int, default=512)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--photos", nargs="+", default=list(PHOTOS), help="a subset of the four photos")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "large" / "tiled_rd.jsonl"))
    parser.add_argument("--report", action="store_true", help="only rebuild the table from --out")
    args = parser.parse_args()
    out = Path(args.out)
    done = [json.loads(line) for line in out.read_text().splitlines()] if out.exists() else []
    if not args.report:
        have = {(r["photo"], r["bpp_target"], r["tile"], r["effort"]) for r in done}
        items = [(p, b, t, args.effort) for p in args.photos for b in args.bpp for t in (0, args.tile)
                 if (p, b, t, args.effort) not in have]  # fmt: skip
        with make_executor(args.jobs, 1) as pool:
            for row in pool.map_unordered(encode, items):
                print(json.dumps(row), flush=True)
                with open(out, "a") as f:
                    f.write(json.dumps(row) + "\n")
                done.append(row)
    report([r for r in done if r["effort"] == args.effort], args.tile, out, args.effort)


if __name__ == "__main__":
    main()
