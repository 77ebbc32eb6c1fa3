"""Offline: wider wavefront-legal context neighbourhoods on the fixed latents of fitted files.

    TRAIN=../shared/data/train/wikipedia python benchmarks/archive/context_neighbours.py --make 0.5 001 010
    python benchmarks/archive/context_neighbours.py 001_0.5.inr 010_0.5.inr > benchmarks/results/grid_screens/v071/context_ext.txt

``--make`` writes 800-step files of the centred training crops (inrcodec 0.7.1); then, per file,
a float context network of each variant is trained on the file's integer latents (Adam, 800
full-batch steps) and its ideal latent bits per pixel are printed against the file's own scheme.
"""
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))  # benchmarks/
from inrcodec import container, decoder
from inrcodec.grid.context import LOG2_SCALE_MAX, LOG2_SCALE_MIN, laplace_bits, parent_planes, shifted
torch.set_num_threads(1)
BASE = [(0, -1), (-1, 0), (-1, -1), (-1, 1), (0, -2)]
# each (dy, dx) with dx + 2 dy < 0 lies on an earlier wavefront t = x + 2y
EXT = BASE + [(-2, 0), (-1, -2), (-2, 1), (-2, -1), (-2, 2), (0, -3)]
for dy, dx in EXT: assert dx + 2 * dy < 0, (dy, dx)
def latents(path):
    h, p = container.unpack(open(path, "rb").read())
    m = decoder.build_model_from(h, p, 2, h.signal.channels)
    return m, [z.detach().clone() for z in m.latents]
def inputs(lat, i, nb, kernel, parent_nb=False, chan=False):
    z = lat[i]
    par = parent_planes(lat, i, kernel)
    planes = [par] + [shifted(z, dy, dx) for dy, dx in nb]
    if parent_nb:
        planes += [shifted(par, dy, dx) for dy, dx in ((0, 1), (1, 0), (1, 1))]
    if chan and z.shape[0] > 1:  # channel c sees channel 0 at the same cell (decoded first)
        ch0 = torch.cat([torch.zeros_like(z[:1]), z[:1].expand(z.shape[0]-1, -1, -1)])
        planes.append(ch0)
    elif chan:
        planes.append(torch.zeros_like(z))
    return torch.stack(planes).reshape(len(planes), -1)
def run(lat, kernel, nb, hidden, steps=800, **kw):
    X = [inputs(lat, i, nb, kernel, **kw) for i in range(len(lat))]
    n_in = X[0].shape[0]
    g = torch.Generator().manual_seed(0)
    w1 = (torch.rand(hidden, n_in, generator=g) * 2 - 1) / n_in**0.5
    w1.requires_grad_(); b1 = torch.zeros(hidden, 1, requires_grad=True)
    w2 = torch.zeros(2, hidden, requires_grad=True); lb = torch.zeros(len(lat), 2, requires_grad=True)
    opt = torch.optim.Adam([w1, b1, w2, lb], lr=0.02)
    def bits():
        tot = 0
        for i, (x, z) in enumerate(zip(X, lat)):
            o = w2 @ F.relu(w1 @ x + b1) + lb[i][:, None]
            tot = tot + laplace_bits(z.reshape(-1), o[0], o[1].clamp(LOG2_SCALE_MIN, LOG2_SCALE_MAX)).sum()
        return tot
    for s in range(steps):
        opt.zero_grad(); b = bits(); b.backward(); opt.step()
        if s == steps // 2:
            for gr in opt.param_groups: gr["lr"] = 0.005
    with torch.no_grad(): return float(bits())
def make(bpp: str, images: list[str]) -> None:
    from grid_screen import crop

    from inrcodec.codec import encode_image
    from inrcodec.options import EncodeOptions

    for im in images:
        a = crop(im)
        r = encode_image(a, EncodeOptions(model="grid", bpp=float(bpp), steps=800))
        with open(f"{im}_{bpp}.inr", "wb") as f:
            f.write(r.data)


if sys.argv[1] == "--make":
    make(sys.argv[2], sys.argv[3:])
    sys.exit()
for path in sys.argv[1:]:
    m, lat = latents(path)
    px = m.height * m.width
    res = {}
    for name, nb, hid, kw in [("base h8", BASE, 8, {}), ("base h16", BASE, 16, {}), ("ext h8", EXT, 8, {}),
                              ("ext h16", EXT, 16, {}), ("base+par h8", BASE, 8, {"parent_nb": True}),
                              ("base+chan h8", BASE, 8, {"chan": True}), ("ext+par+chan h16", EXT, 16, {"parent_nb": True, "chan": True}),
                              ("ext h24", EXT, 24, {})]:
        res[name] = run(lat, m.kernel, nb, hid, **kw) / px
        print(path.split("/")[-1], f"{name:18s} {res[name]:.4f} bpp latents {100*(res[name]/res['base h8']-1):+.1f} %", flush=True)
