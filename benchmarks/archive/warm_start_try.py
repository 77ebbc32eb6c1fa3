"""A warm start from one training photo's fitted weights (issue 19, ingredient 4), as tried.

    TRAIN=../shared/data/train/wikipedia python benchmarks/archive/warm_start_try.py donor 002 0.5 d05.pt
    WS=d05.pt BPPS=0.5 python benchmarks/archive/warm_start_try.py screen NAME 1500

``donor`` fits the centred 384 x 256 crop of a training photo that the screens do not use at a
target with the default recipe (1500 steps) and saves its synthesis and context weights;
``screen`` runs ``benchmarks/grid_screen.py`` with every fit's synthesis and context network
starting from those weights instead of the random initialisation (the latents still start at
zero). If even a donor fitted at the same target does not speed up the fit, a weight set
meta-learned over the training photos (Reptile) is unlikely to pay for its machinery; the
result is in docs/grid.md and ``benchmarks/results/grid_screens/v080/s17_*``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import grid_screen

from inrcodec.fit import Budget
from inrcodec.grid import recipe, training
from inrcodec.grid.recipe import GridConfig
from inrcodec.rate import RateTarget


def donor(name: str, bpp: float, out: str) -> None:
    torch.set_num_threads(1)
    a = grid_screen.crop(name)
    h, w, _ = a.shape
    task, _ = training.fit(a, RateTarget(bpp * h * w), None, Budget(steps=1500), GridConfig())
    m = task.model
    torch.save({n: p.detach().clone() for n, p in m.synthesis_tensors() + m.context_tensors()}, out)
    print("donor", name, bpp, f"{task.evaluate():.2f} dB", f"{task.last_bits / (h * w):.3f} bpp (rate control's)")


def screen() -> None:
    weights = torch.load(os.environ["WS"])
    build = recipe.build_model

    def warm(config, height, width, channels, generator):
        model = build(config, height, width, channels, generator)
        with torch.no_grad():
            for name, p in model.synthesis_tensors() + model.context_tensors():
                if weights[name].shape != p.shape:  # the donor must have the fit's architecture
                    raise SystemExit(f"donor's {name} is {tuple(weights[name].shape)}, the fit's {tuple(p.shape)}")
                p.copy_(weights[name])
        return model

    training.build_model = warm
    grid_screen.main()


if __name__ == "__main__":
    command = sys.argv.pop(1)
    if command == "donor":
        donor(sys.argv[1], float(sys.argv[2]), sys.argv[3])
    else:
        screen()
