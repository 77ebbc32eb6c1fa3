"""Issue 19 item 4, measured and dropped: the 2x cascade as fewer, fused ops (2026-12-04).

    python benchmarks/archive/cascade_fusion_try.py

Times the forward + backward of a Kodak-size bicubic cascade (levels 0-6 of 768 x 512, one
channel each, one torch thread, CPU seconds) with inrcodec's ``up2`` (a sum over tap slices)
against an ``unfold`` + (5 x 2) matmul version, which agrees to round-off. Measured here:
slices 58-64 ms, unfold 94-99 ms. A ``conv2d`` with two phase kernels per axis (not in this
script) took about 4x the slices. docs/grid.md has the row.
"""

import time

import torch

import inrcodec.grid.upsampling as old

torch.set_num_threads(1)
# even output 2i: taps at source offsets (-2, -1, 0, 1) with weights (-3, 29, 111, -9) / 128; odd
# output 2i+1 mirrors them: one window over offsets -2..2 (5 wide), one column per phase
K = torch.zeros(5, 2)
for o, t in zip((-2, -1, 0, 1), (-3, 29, 111, -9)):
    K[2 + o, 0] = t / 128
    K[2 - o, 1] = t / 128


def up2_unfold(z, kernel, size):
    c, h, w = z.shape
    zp = torch.cat([z[:, :1]] * 2 + [z] + [z[:, -1:]] * 2, 1)  # rows padded
    x = zp.unfold(1, 5, 1)  # (c,h,w,5)
    x = x @ K  # (c,h,w,2)
    x = x.permute(0, 1, 3, 2).reshape(c, 2 * h, w)
    zp = torch.cat([x[:, :, :1]] * 2 + [x] + [x[:, :, -1:]] * 2, 2)
    x = zp.unfold(2, 5, 1) @ K  # (c,2h,w,2)
    return x.reshape(c, 2 * h, 2 * w)[:, : size[0], : size[1]]


def cascade(up2, lat, sizes):
    t = lat[-1]
    for i in range(len(lat) - 2, -1, -1):
        t = torch.cat([lat[i], up2(t, "bicubic", sizes[i])], 0)
    return t


sizes = [(512 // 2**i + (512 % 2**i > 0), 768 // 2**i + (768 % 2**i > 0)) for i in range(7)]
lat = [torch.randn(1, *s, requires_grad=True) for s in sizes]
a = cascade(old.up2, lat, sizes)
b = cascade(up2_unfold, lat, sizes)
print("diff", (a - b).abs().max().item())
for name, f in (("old", old.up2), ("unfold", up2_unfold)) * 2:
    t0 = time.process_time()
    for _ in range(20):
        out = cascade(f, lat, sizes)
        out.square().sum().backward()
    print(name, (time.process_time() - t0) / 20 * 1000, "ms fwd+bwd")
