"""The lambda of each fixed-lambda fit (calib_fixed.log) against the starting formula and
against -dMSE/dbpp of Pillow JPEG on the same crop at the same bpp.

    TRAIN=../shared/data/train/wikipedia python benchmarks/archive/lambda_jpeg_slope.py > benchmarks/results/grid_screens/v071/calib_analysis.txt
"""
import io
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))  # benchmarks/
import numpy as np
from grid_screen import crop
from PIL import Image
import os
def jpeg_points(a):
    pts = []
    for q in range(2, 99, 3):
        buf = io.BytesIO(); Image.fromarray(a).save(buf, "JPEG", quality=q)
        d = np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB")).astype(np.float64)
        mse = np.mean((d - a) ** 2) / 255**2
        pts.append((8 * len(buf.getvalue()) / a[..., 0].size, mse))
    pts.sort()
    return np.array(pts)
def jpeg_lambda(pts, R):
    lr, lm = np.log(pts[:, 0]), np.log(pts[:, 1])
    x = np.log(R)
    i = np.clip(np.searchsorted(lr, x) - 1, 0, len(lr) - 2)
    # local log-log slope from a wider window for smoothness
    j0, j1 = max(0, i - 2), min(len(lr) - 1, i + 3)
    slope = np.polyfit(lr[j0:j1 + 1], lm[j0:j1 + 1], 1)[0]
    mse = np.exp(np.interp(x, lr, lm) if lr[0] <= x <= lr[-1] else lm[i] + slope * (x - lr[i]))
    return -mse * slope / R
data = {}
for line in open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "results", "grid_screens", "v071", "calib_fixed.log")).read().split("\n"):
    if not line.strip(): continue
    im, lm, bpp, p = line.split()
    data.setdefault(im, []).append((float(lm), float(bpp)))
def formula(R): return 0.0021 * (0.3 / R) ** 1.6
for im, pts in data.items():
    pts = sorted(pts, key=lambda t: t[1])
    a = crop(im); jp = jpeg_points(a)
    for lm, bpp in pts:
        jl = jpeg_lambda(jp, bpp)
        print(im, f"lambda {lm:.5f} -> {bpp:.3f} bpp | formula {formula(bpp):.5f} (x{lm/formula(bpp):.2f}) | jpeg slope {jl:.5f} (x{lm/jl:.2f})")
