"""The training loop: budgets, learning-rate schedule, evaluation, best-model keeping, progress.

:func:`run` drives any :class:`FitTask`; a task knows how to compute one step's loss and how good
the current parameters are, the loop knows when to stop. The same loop fits SIREN weights,
quantization-aware fine-tunes, and latent grids.

Reproducibility: with a step budget (``steps``) a fit is deterministic for a given seed. With a
time budget the number of steps depends on the machine's speed, so the file may differ.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import torch

from .errors import OptionError


@dataclass(frozen=True)
class Budget:
    """When to stop: after ``steps``, after ``seconds``, or once ``target_psnr`` is reached."""

    steps: int | None = None
    seconds: float | None = None
    target_psnr: float | None = None

    def __post_init__(self) -> None:
        if self.steps is None and self.seconds is None:
            raise OptionError("a fit needs a step or a time budget")
        if self.steps is not None and self.steps < 1:
            raise OptionError(f"steps must be at least 1, got {self.steps}")
        if self.seconds is not None and not (self.seconds > 0 and math.isfinite(self.seconds)):
            raise OptionError(f"time budget must be a positive number of seconds, got {self.seconds}")

    def fraction(self, step: int, elapsed: float) -> float:
        """How much of the budget is used, in [0, 1]."""
        f = 0.0
        if self.steps is not None:
            f = max(f, step / self.steps)
        if self.seconds is not None:
            f = max(f, elapsed / self.seconds)
        return min(1.0, f)

    def scaled(self, factor: float) -> Budget:
        """A budget ``factor`` times as long (for a phase that takes a share of the whole)."""
        return Budget(
            steps=None if self.steps is None else max(1, round(self.steps * factor)),
            seconds=None if self.seconds is None else self.seconds * factor,
            target_psnr=self.target_psnr,
        )


@dataclass(frozen=True)
class Schedule:
    """Learning-rate multiplier over the budget: linear warm-up, plateau, cosine decay."""

    warmup: float = 0.02
    decay_start: float = 0.7
    final: float = 0.1

    def __call__(self, fraction: float) -> float:
        if fraction < self.warmup:
            return 0.1 + 0.9 * fraction / self.warmup
        if fraction < self.decay_start:
            return 1.0
        t = (fraction - self.decay_start) / max(1e-9, 1.0 - self.decay_start)
        return self.final + (1.0 - self.final) * 0.5 * (1.0 + math.cos(math.pi * min(1.0, t)))


@dataclass(frozen=True)
class Progress:
    """What the loop reports to the progress callback."""

    phase: str
    step: int
    steps: int | None
    elapsed: float
    remaining: float | None
    psnr: float | None
    best_psnr: float | None
    extra: str = ""


ProgressCallback = Callable[[Progress], None]


class FitTask(Protocol):
    """One optimisation problem, as the loop sees it."""

    def parameter_groups(self) -> list[dict[str, Any]]:
        """Groups for torch.optim.Adam, each with its base ``lr``."""

    def training_loss(self, step: int, fraction: float) -> torch.Tensor:
        """The loss of one step (the loop calls backward on it)."""

    def evaluate(self) -> float:
        """PSNR in dB of the current parameters, measured as the decoder would see them."""

    def state(self) -> Any:
        """A copy of everything needed to come back to the current parameters."""

    def load_state(self, state: Any) -> None: ...


@dataclass(frozen=True)
class FitResult:
    steps: int
    seconds: float
    psnr: float  # of the parameters the task is left with
    stop_reason: str  # "steps", "time", "target", "diverged", "plateau"


def run(
    task: FitTask,
    budget: Budget,
    *,
    schedule: Schedule = Schedule(),
    eval_every: int = 100,
    phase: str = "fit",
    progress: ProgressCallback | None = None,
    keep_best: bool = True,
    patience: int | None = None,
) -> FitResult:
    """Optimise ``task`` with Adam until the budget is spent.

    With ``keep_best`` the task is left at its best evaluation; without, at its last step (for
    rate-aware fits, where a higher PSNR seen earlier may have cost more bits).

    With ``patience``, stop once that many evaluations in a row have not improved on the best:
    early stopping, for tasks whose ``evaluate`` scores points held out of training.
    """
    groups = task.parameter_groups()
    base_lrs = [g["lr"] for g in groups]
    optimizer = torch.optim.Adam(groups)
    start = time.perf_counter()
    best_psnr, best_state = -math.inf, None
    psnr = None
    step, reason = 0, "steps"
    since_best = 0  # evaluations since the best one, for patience

    def report(elapsed: float) -> None:
        if progress is None:
            return
        remaining = None
        if budget.seconds is not None:
            remaining = max(0.0, budget.seconds - elapsed)
        if budget.steps is not None and step:
            by_steps = elapsed / step * (budget.steps - step)
            remaining = by_steps if remaining is None else min(remaining, by_steps)
        progress(Progress(phase, step, budget.steps, elapsed, remaining, psnr, best_psnr))

    while True:
        elapsed = time.perf_counter() - start
        fraction = budget.fraction(step, elapsed)
        if fraction >= 1.0:
            reason = "steps" if budget.steps is not None and step >= budget.steps else "time"
        if fraction >= 1.0 or step % eval_every == 0:
            if step > 0 or fraction >= 1.0:
                psnr = task.evaluate()
                since_best += 1
                if psnr > best_psnr:
                    best_psnr, since_best = psnr, 0
                    if keep_best:
                        best_state = task.state()
                report(time.perf_counter() - start)
                if budget.target_psnr is not None and psnr >= budget.target_psnr:
                    reason = "target"
                    break
                if patience is not None and since_best >= patience:
                    reason = "plateau"
                    break
            if fraction >= 1.0:
                break
        multiplier = schedule(fraction)
        for g, lr in zip(optimizer.param_groups, base_lrs):
            g["lr"] = lr * multiplier
        optimizer.zero_grad(set_to_none=True)
        loss = task.training_loss(step, fraction)
        if not torch.isfinite(loss):
            # A diverged step: go back to the best parameters and stop rather than save garbage.
            reason = "diverged"
            break
        loss.backward()
        optimizer.step()
        step += 1

    if best_state is not None:
        task.load_state(best_state)
        final = best_psnr
    else:
        final = task.evaluate()
    return FitResult(step, time.perf_counter() - start, final, reason)


def clone_state(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def psnr_of_values(pred: torch.Tensor, target_ints: torch.Tensor, max_value: int) -> float:
    """PSNR of normalised predictions in [-1, 1] after rounding to integers, as decoding does."""
    ints = torch.round((pred.clamp(-1, 1) + 1) * (max_value / 2))
    err = torch.mean((ints.double() - target_ints.double()) ** 2).item()
    return math.inf if err <= 0 else 10 * math.log10(max_value**2 / err)


def seeded_generator(seed: int) -> torch.Generator:
    g = torch.Generator()
    g.manual_seed(int(seed) & 0xFFFF_FFFF_FFFF)
    return g


def set_threads(threads: int) -> None:
    """Use ``threads`` torch threads; skinny fitting matmuls run fastest on one per job."""
    if threads >= 1 and torch.get_num_threads() != threads:
        torch.set_num_threads(threads)


def to_numpy_f32(t: torch.Tensor) -> np.ndarray:
    return t.detach().cpu().numpy().astype(np.float32)
