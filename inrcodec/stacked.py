"""Several same-size images fitted in one batched computation ("stacking").

The images' coordinate networks share one architecture, so their parameters are stacked into
``(K, ...)`` tensors, and one training step evaluates all K networks at once with
:func:`torch.func.vmap` over :func:`torch.func.functional_call`: one forward and one backward
graph of batched matrix products instead of K small ones. Where that pays is where per-operation
overhead dominates: small images, and above all a GPU, which one small network leaves mostly
idle. On a CPU the arithmetic is the same either way (see ``docs/scaling.md`` for the measured
throughput, which decides the default of ``inrcodec encode --stack``).

What makes a stacked fit equal to K separate ones:

- the loss is the *sum* of the K images' own losses, so each network gets exactly the gradient
  it would get alone, and Adam, being elementwise, updates each network as it would alone;
- each image keeps its own :class:`~inrcodec.tasks.PointFitTask` (its points, values, random
  generator, PSNR score and quantization steps): the stacked task draws every member's
  mini-batch from that member's generator and evaluates each member by its own task;
- everything around the fit (architecture planning, seeding, step search, quantization-aware
  fine-tuning, packing, the final PSNR) is the single-image code of :mod:`inrcodec.point_codec`
  and :mod:`inrcodec.codec`.

The sums inside a batched matrix product may run in another order than in a single one, and a
sine network amplifies such last-bit differences over hundreds of steps, so a stacked encode
matches a separate one statistically (the same PSNR and size within noise), not bit for bit.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import torch
from torch.func import functional_call, vmap

from . import families
from .codec import EncodeResult, check_encode, finish_encode, image_header, image_rate
from .errors import OptionError
from .fit import Budget, ProgressCallback
from .io.image import Image, storable
from .limits import DEFAULT_LIMITS, Limits
from .options import EncodeOptions, refuse_inapplicable
from .point_codec import PointPacker, Quantization, fit_and_pack_members, point_task
from .quantize import fake_quantize
from .runtime import resolve_device, torch_threads
from .tasks import PointFitTask

#: the model families whose networks can be stacked (plain coordinate MLPs)
STACKABLE = ("siren", "fourier")


class StackedPointFitTask:
    """K point-fitting tasks with one architecture, optimised as one (a :class:`~inrcodec.fit.FitTask`).

    The members' model parameters become views into the stacked tensors, so every member's
    model always shows the current values: its own ``evaluate``, the step search and the packer
    all work on it unchanged. ``lr`` is the stack's learning rate (the members' ``lr`` is not
    read); set a member's ``steps`` to fine-tune it through quantization.

    Best-model keeping is per member: :meth:`evaluate` remembers each member's best parameters
    and reports the worst member's PSNR (so a target PSNR stops the fit once every image has
    reached it), and :meth:`state` / :meth:`load_state` carry those per-member bests. Each
    :func:`~inrcodec.fit.run` starts by asking for :meth:`parameter_groups`, which starts the
    bests afresh, as a separate fit would.
    """

    def __init__(self, members: Sequence[PointFitTask]) -> None:
        if not members:
            raise ValueError("a stacked fit needs at least one member")
        self.members = list(members)
        base = self.members[0]
        for m in self.members[1:]:
            if m.model.arch() != base.model.arch() or type(m.model) is not type(base.model):
                raise ValueError("stacked members must share one model architecture")
            if m.points.shape != base.points.shape or m.batch_size != base.batch_size:
                raise ValueError("stacked members must have the same number of points and batch size")
        if any(m.l1 for m in self.members):
            raise ValueError("stacked fits do not support an L1 weight penalty")
        self.model = base.model  # the architecture functional_call runs with each member's weights
        self.lr = base.lr
        self.params: dict[str, torch.Tensor] = {}
        for name, _ in base.model.named_parameters():
            stacked = torch.stack([dict(m.model.named_parameters())[name].detach() for m in self.members])
            self.params[name] = stacked.clone().requires_grad_(True)
        self.buffers = {
            name: torch.stack([dict(m.model.named_buffers())[name] for m in self.members])
            for name, _ in base.model.named_buffers()
        }
        # Each member's parameters become views of its slice of the stack: Adam's in-place
        # updates of the stack are then what every member's model holds, with no copying back.
        for k, m in enumerate(self.members):
            for name, p in m.model.named_parameters():
                p.data = self.params[name].detach()[k]
        self._forward = vmap(self._one)
        self._best: list[float] = []
        self._best_params: list[dict[str, torch.Tensor]] = []

    def _one(self, params: dict[str, torch.Tensor], buffers: dict[str, torch.Tensor],
             points: torch.Tensor) -> torch.Tensor:  # fmt: skip
        return functional_call(self.model, (params, buffers), (points,))

    def _current(self) -> dict[str, torch.Tensor]:
        """The stacked parameters as the networks see them: through each member's quantization
        steps (straight-through) once it has them."""
        params = dict(self.params)
        if all(m.steps for m in self.members):
            for name, stacked in self.params.items():
                steps = torch.tensor([m.steps[name] for m in self.members], dtype=stacked.dtype)
                shape = (len(self.members),) + (1,) * (stacked.dim() - 1)
                params[name] = fake_quantize(stacked, steps.view(shape).to(stacked.device))
        elif any(m.steps for m in self.members):
            raise ValueError("give every stacked member quantization steps, or none")
        return params

    def parameter_groups(self) -> list[dict[str, Any]]:
        self._best = [-math.inf] * len(self.members)
        self._best_params = [{} for _ in self.members]
        return [{"params": list(self.params.values()), "lr": self.lr}]

    def training_loss(self, step: int, fraction: float) -> torch.Tensor:
        batches = [m.sample() for m in self.members]
        points = torch.stack([b[0] for b in batches])
        values = torch.stack([b[1] for b in batches])
        pred = self._forward(self._current(), self.buffers, points)
        # A sum of per-image means: every network gets the gradient of its own loss.
        return torch.mean((pred - values) ** 2, dim=tuple(range(1, pred.dim()))).sum()

    @torch.no_grad()
    def evaluate(self) -> float:
        """Each member's PSNR by its own task; returns the worst, remembering each one's best."""
        scores = [m.evaluate() for m in self.members]
        for k, score in enumerate(scores):
            if score > self._best[k]:
                self._best[k] = score
                self._best_params[k] = {n: t[k].detach().clone() for n, t in self.params.items()}
        return min(scores)

    def state(self) -> list[dict[str, torch.Tensor]]:
        """Each member's best parameters so far (what the fit goes back to at its end)."""
        return [{n: t.clone() for n, t in best.items()} for best in self._best_params]

    @torch.no_grad()
    def load_state(self, state: list[dict[str, torch.Tensor]]) -> None:
        for k, best in enumerate(state):
            for name, value in best.items():
                self.params[name][k].copy_(value)


def stackable(options: EncodeOptions) -> bool:
    """Whether encodes with these options can be stacked (a coordinate network, no checkpoint)."""
    return options.model in STACKABLE and options.checkpoint is None


def encode_images_stacked(
    images: Sequence[Image],
    options: EncodeOptions = EncodeOptions(),
    progress: ProgressCallback | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> list[EncodeResult]:
    """Encode same-size images in one stacked fit; one result per image, in order.

    Each image gets the budget it would get alone: the same steps, or K times the time for the
    K images together. ``seconds`` in each result is its share of the whole (the total divided by
    K). torch.compile is not used for stacked fits.
    """
    opts = options.validated()
    if not stackable(opts):
        raise OptionError(f"only {' and '.join(STACKABLE)} encodes without --checkpoint can be stacked")
    family = families.by_name(opts.model)
    refuse_inapplicable(opts, family.options, family.name)
    if not images:
        return []
    images = [storable(img) for img in images]
    shape, dtype = images[0].pixels.shape, images[0].pixels.dtype
    if any(img.pixels.shape != shape or img.pixels.dtype != dtype for img in images):
        raise OptionError("stacked images must share their size, channels and bit depth")
    device = resolve_device(opts.device)
    opts, target = image_rate(opts, images[0].height * images[0].width)
    check_encode(images[0], opts, target, limits, count=len(images))
    opts = replace(opts, compile=False)
    budget = family.budget(opts)
    k = len(images)
    together = Budget(budget.steps, None if budget.seconds is None else budget.seconds * k, budget.target_psnr)
    start = time.perf_counter()
    with torch_threads(opts.threads):
        members = [point_task(img, opts, target, together, device) for img in images]
        packers = [
            PointPacker(task.model, target, lambda codes, img=img, model=task.model: image_header(img, model, target, codes))
            for img, task in zip(images, members)
        ]  # fmt: skip
        files, steps = fit_and_pack_members(
            StackedPointFitTask(members), members, packers, together, Quantization.of(opts), progress=progress
        )  # fmt: skip
    share = (time.perf_counter() - start) / k
    return [finish_encode(img, data, target, steps, share, limits, img.notices) for img, data in zip(images, files)]
