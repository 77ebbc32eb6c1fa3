"""The grid's fit step with the synthesis run in bands of rows, as tried for issue 17 (``--jobs 2``).

    CHUNK=64 python benchmarks/archive/synthesis_bands_try.py /tmp/inrcodec-large/2mp.png 0.3 200
    CHUNK=0  python ...                                # the stock step, for comparison

Fits the centred 600 x 600 crop (a tile of the 2 MP stitch of ``benchmarks/large_images.py``)
and prints CPU ms per step. With ``CHUNK`` rows the synthesis MLP and the MSE run band by band,
each band's forward and backward at once (an autograd Function whose forward also computes the
gradients), so that a band's hidden planes stay in cache; the gradients are the same to
round-off (the files came out identical: same PSNR and bits). Measured 2026-12-08 on the idle
2-vCPU AMD EPYC (docs/scaling.md, ``--jobs 2``): alone 57.0 ms stock against 60.4 ms in 64-row
bands; two copies side by side 57.8 and 61.8 ms stock against 59.1 and 58.8 in bands. Not kept:
it removes the side-by-side slowdown but costs as much alone. The ``terms`` below copies 0.8.0's
``GridFitTask.terms`` for the default recipe only (whole-image steps, split rate proxy).
"""

import os
import sys
import time

import numpy as np
import torch
from PIL import Image

torch.set_num_threads(1)
from inrcodec.fit import Budget
from inrcodec.grid import training
from inrcodec.grid.recipe import GridConfig
from inrcodec.rate import RateTarget
from inrcodec.runtime import bf16_native

CHUNK = int(os.environ.get("CHUNK", "0"))


class SynthMSE(torch.autograd.Function):
    @staticmethod
    def forward(ctx, features, target, model, bf16, *params):
        _, h, w = features.shape
        n = h * w
        total = 0.0
        gf = torch.empty_like(features)
        gp = [torch.zeros_like(p) for p in params]
        with torch.enable_grad():
            for r0 in range(0, h, CHUNK):
                r1 = min(h, r0 + CHUNK)
                f = features[:, r0:r1].detach().requires_grad_()
                flat = f.flatten(1).t()
                if bf16:
                    with torch.autocast("cpu", dtype=torch.bfloat16):
                        pred = model.synthesize(flat).float()
                else:
                    pred = model.synthesize(flat)
                loss = torch.sum(((pred + 1) * 0.5 - target[r0 * w : r1 * w]) ** 2) / (n * pred.shape[1])
                grads = torch.autograd.grad(loss, [f, *params])
                gf[:, r0:r1] = grads[0]
                for a, b in zip(gp, grads[1:]):
                    a += b
                total += float(loss)
        ctx.save_for_backward(gf, *gp)
        return features.new_tensor(total)

    @staticmethod
    def backward(ctx, g):
        gf, *gp = ctx.saved_tensors
        return (g * gf, None, None, None, *[g * x for x in gp])


orig_terms = training.GridFitTask.terms


def terms(self, noise, target, band=None, temperature=None):
    if not CHUNK or band is not None:
        return orig_terms(self, noise, target, band, temperature)
    from inrcodec.grid.context import laplace_bits

    rounded = [z + (torch.round(z) - z).detach() for z in self.model.latents]
    if noise is None:
        latents = rounded
    elif temperature is None:
        latents = [z + n for z, n in zip(self.model.latents, noise)]
    else:
        latents = [
            training.soft_round(training.soft_round(z, temperature) + n, temperature)
            for z, n in zip(self.model.latents, noise)
        ]
    features = self.model.feature_grid(latents)
    params = [p for _, p in self.model.synthesis_tensors()]
    mse = SynthMSE.apply(features, target, self.model, self.config.bf16 and bf16_native(features.device), *params)
    dists = self.distributions(rounded, None)
    coded = sum(laplace_bits(q, mu, s).sum() for q, (mu, s) in zip(rounded, dists))
    noisy = sum(laplace_bits(z, mu.detach(), s.detach()).sum() for z, (mu, s) in zip(latents, dists))
    if noise is None:
        return mse, coded, coded
    return mse, noisy + coded - coded.detach(), coded


training.GridFitTask.terms = terms

img = np.asarray(Image.open(sys.argv[1]).convert("RGB"))
h0, w0 = img.shape[:2]
img = np.ascontiguousarray(img[h0 // 2 - 300 : h0 // 2 + 300, w0 // 2 - 300 : w0 // 2 + 300])
bpp = float(sys.argv[2])
steps = int(sys.argv[3])
h, w, _ = img.shape
t0 = time.process_time()
task, _ = training.fit(img, RateTarget(bits=bpp * h * w), None, Budget(steps=steps), GridConfig())
print(
    f"{sys.argv[1]} {h}x{w} chunk {CHUNK} bpp {bpp}: {1000 * (time.process_time() - t0) / steps:.1f} cpu-ms/step psnr {task.evaluate():.3f} bits {task.last_bits / (h * w):.4f}",
    flush=True,
)
