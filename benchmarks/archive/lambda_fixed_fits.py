"""Fixed-lambda grid fits of training crops: the rate each lambda gives (docs/grid.md).

    TRAIN=../shared/data/train/wikipedia python benchmarks/archive/lambda_fixed_fits.py 001,010,023 >> benchmarks/results/grid_screens/v071/calib_fixed.log
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))  # benchmarks/
import torch
from grid_screen import crop
from inrcodec.codec import encode_image
from inrcodec.options import EncodeOptions
torch.set_num_threads(1)
for im in sys.argv[1].split(","):
    a = crop(im)
    for lm in (0.006, 0.0015, 0.0004, 0.0001):
        r = encode_image(a, EncodeOptions(model="grid", lmbda=lm, steps=1500))
        print(im, lm, f"{8*len(r.data)/a[...,0].size:.4f}", f"{r.psnr:.3f}", flush=True)
