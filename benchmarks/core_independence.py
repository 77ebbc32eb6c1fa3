"""Whether this machine's cores slow each other down: the ceiling on any ``--jobs 2`` speed-up.

    python benchmarks/core_independence.py        # on an otherwise idle machine

Times two kinds of work, each once alone and then as two copies at once in two processes, in
CPU seconds: a pure-Python loop (integer arithmetic in registers and L1, no memory traffic) and
torch matrix products of 64 x 64 float32 (cache-resident SIMD, one torch thread), and 150
steps of the grid's own fit on a tile-sized photo (scikit-image's 512 x 512 astronaut at 0.3 bpp,
the default recipe: planes of several MB per step, what ``--jobs 2`` runs). If the two
copies each take as long as one alone, two jobs can reach 2x; if each takes k times as long,
no program reaches more than 2 / k (docs/scaling.md, ``--jobs 2``).
"""

from __future__ import annotations

import multiprocessing
import time


def python_loop(_: int = 0) -> float:
    start = time.process_time()
    total = 0
    for i in range(20_000_000):
        total += i ^ (i >> 3)
    return time.process_time() - start


def small_matmuls(_: int = 0) -> float:
    import torch

    torch.set_num_threads(1)
    a = torch.randn(64, 64)
    start = time.process_time()
    for _ in range(100_000):
        a = torch.tanh(a @ a * 0.01)
    return time.process_time() - start


def grid_steps(_: int = 0) -> float:
    import torch
    from skimage import data

    from inrcodec.fit import Budget
    from inrcodec.grid import training
    from inrcodec.grid.recipe import GridConfig
    from inrcodec.rate import RateTarget

    torch.set_num_threads(1)
    image = data.astronaut()
    target = RateTarget(0.3 * image.shape[0] * image.shape[1])
    # a first short fit pays the one-off imports (the fused Adam imports torch._dynamo: 1.5 s)
    training.fit(image, target, None, Budget(steps=5), GridConfig())
    start = time.process_time()
    training.fit(image, target, None, Budget(steps=150), GridConfig())
    return time.process_time() - start


def main() -> None:
    context = multiprocessing.get_context("spawn")
    for work in (python_loop, small_matmuls, grid_steps):
        with context.Pool(1) as pool:
            alone = pool.apply(work, (0,))
        with context.Pool(2) as pool:
            both = pool.map(work, [0, 1])
        slowdown = max(both) / alone
        print(f"{work.__name__}: alone {alone:.2f} CPU s, two at once {both[0]:.2f} and {both[1]:.2f} "
              f"({slowdown:.2f}x): at most {2 / slowdown:.2f}x from two jobs")  # fmt: skip


if __name__ == "__main__":
    main()
