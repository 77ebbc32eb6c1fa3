"""What a coordinate network's fit optimises: a task for :func:`inrcodec.fit.run`.

(The latent grid's rate-aware task lives with the grid: :mod:`inrcodec.grid.training`.)

:class:`PointFitTask` fits coordinate networks (SIREN, Fourier-feature MLP) by sampling random
mini-batches of points. Given quantization steps, it trains the weights *through* straight-through
rounding, so that the network learns to live with the steps it will be stored at (QAT).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch.func import functional_call

from .fit import clone_state
from .models import INR
from .quantize import fake_quantize

Score = Callable[[torch.Tensor], float]

#: points per evaluation chunk: bounds memory whatever the signal size
EVAL_CHUNK = 1 << 16


class PointFitTask:
    """MSE fit of ``model(points) ~ values`` on random mini-batches of points."""

    def __init__(
        self,
        model: INR,
        points: torch.Tensor,
        values: torch.Tensor,
        score: Score,
        *,
        lr: float,
        batch_size: int,
        generator: torch.Generator,
        steps: dict[str, float] | None = None,
        weight_decay_l1: float = 0.0,
        compile: bool = False,
    ) -> None:
        self.model = model
        self.points = points
        self.values = values
        self.score = score
        self.lr = lr
        self.batch_size = batch_size
        self.generator = generator
        self.steps = steps  # quantization step per coded tensor name, for QAT
        self.l1 = weight_decay_l1
        # torch.compile fuses the sine/matmul chain (about 1.3x per step on one CPU thread) but
        # costs ~15 s up front, so it only pays on long fits.
        self._call = torch.compile(self._functional) if compile else self._functional

    def _functional(self, params: dict[str, torch.Tensor], points: torch.Tensor) -> torch.Tensor:
        return functional_call(self.model, params, (points,))

    def _params(self) -> dict[str, torch.Tensor]:
        params = dict(self.model.named_parameters())
        if self.steps:
            for name, step in self.steps.items():
                params[name] = fake_quantize(params[name], step)
        return params

    def predict(self, points: torch.Tensor) -> torch.Tensor:
        return self._call(self._params(), points)

    def parameter_groups(self):
        return [{"params": list(self.model.parameters()), "lr": self.lr}]

    def sample(self) -> tuple[torch.Tensor, torch.Tensor]:
        """One step's mini-batch of (points, values); all of them when they fit in one batch.
        Indices come from the task's CPU generator, so every device draws the same batches."""
        n = self.points.shape[0]
        if n <= self.batch_size:
            return self.points, self.values
        idx = torch.randint(n, (self.batch_size,), generator=self.generator)
        idx = idx.to(self.points.device)
        return self.points[idx], self.values[idx]

    def training_loss(self, step: int, fraction: float) -> torch.Tensor:
        pts, vals = self.sample()
        loss = torch.mean((self.predict(pts) - vals) ** 2)
        if self.l1:
            loss = loss + self.l1 * sum(p.abs().sum() for _, p in self.model.coded_tensors())
        return loss

    @torch.no_grad()
    def predict_all(self) -> torch.Tensor:
        return torch.cat([self.predict(c) for c in torch.split(self.points, EVAL_CHUNK)])

    def evaluate(self) -> float:
        return self.score(self.predict_all())

    def state(self):
        return clone_state(self.model)

    def load_state(self, state) -> None:
        self.model.load_state_dict(state)

    def resume_state(self):
        """The parameters and the mini-batch sampler's position: what a checkpoint resumes from."""
        return {"model": self.state(), "generator": self.generator.get_state()}

    def load_resume_state(self, state) -> None:
        self.load_state(state["model"])
        self.generator.set_state(state["generator"])
