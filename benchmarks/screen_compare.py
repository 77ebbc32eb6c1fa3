"""Point-by-point comparison of grid screens (``grid_screen.py`` JSON files) at equal rate.

    python benchmarks/screen_compare.py --base A.json [B.json ...] --test C.json [D.json ...]

The base files' points of each image are pooled into one curve (several screens may cover
different targets of the same crops); each test point is compared with that curve's PSNR at the
test point's bpp, linear in log(bpp) between the two base points around it (extrapolated from
the nearest two outside the base's range, and marked so). A BD-rate needs the whole curve; this
says, target by target, where a change gains or loses.
"""

from __future__ import annotations

import argparse
import json
import statistics
from collections import defaultdict

from results_tables import curve_at  # the one interpolation of a curve at a bpp


def curves(paths: list[str]) -> dict[str, list[tuple[float, float]]]:
    out: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for path in paths:
        with open(path) as f:
            for image in json.load(f)["images"]:
                out[image["image"]] += [tuple(p) for p in image["points"]]
    return {k: sorted(set(v)) for k, v in out.items()}  # screens that repeat a point count it once


def psnr_at(curve: list[tuple[float, float]], bpp: float) -> tuple[float, bool]:
    """PSNR of ``curve`` at ``bpp`` (linear in log bpp) and whether that was extrapolated."""
    return curve_at(curve, bpp, extrapolate=True), not curve[0][0] <= bpp <= curve[-1][0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", nargs="+", required=True)
    parser.add_argument("--test", nargs="+", required=True)
    args = parser.parse_args()
    base, test = curves(args.base), curves(args.test)
    by_target: dict[int, list[float]] = defaultdict(list)
    print("| image | test point | base at that bpp | difference dB |")
    print("|---|---|---|---:|")
    for image, points in sorted(test.items()):
        for rank, (bpp, psnr) in enumerate(points):
            reference, outside = psnr_at(base[image], bpp)
            by_target[rank].append(psnr - reference)
            mark = " (extrapolated)" if outside else ""
            print(f"| {image} | {psnr:.2f} dB at {bpp:.3f} bpp | {reference:.2f} dB{mark} | {psnr - reference:+.2f} |")
    print()
    for rank, diffs in sorted(by_target.items()):
        print(f"test point {rank + 1} of each image: mean {statistics.mean(diffs):+.2f} dB over {len(diffs)} images")


if __name__ == "__main__":
    main()
