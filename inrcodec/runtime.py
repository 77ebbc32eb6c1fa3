"""Where tensors run: the device, torch's thread count, and whether bf16 is native there."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator

import torch

from .errors import OptionError
from .options import MAX_THREADS


def resolve_device(device: str) -> torch.device:
    """The torch device ``device`` names ("cpu", "cuda", "cuda:1"), or a one-line refusal."""
    if device == "cpu":
        return torch.device("cpu")
    if device.startswith("cuda"):
        if not torch.cuda.is_available():
            raise OptionError("--device cuda was asked for, but CUDA is not available here")
        return torch.device(device)
    raise OptionError(f"unknown device '{device}' (use cpu or cuda)")


@contextlib.contextmanager
def torch_threads(threads: int | None) -> Iterator[None]:
    """Run with ``threads`` torch threads, then restore the previous setting."""
    if threads is not None and (not isinstance(threads, int) or isinstance(threads, bool) or threads < 1):
        raise OptionError(f"threads must be at least 1, got {threads}")
    if threads is not None and threads > MAX_THREADS:
        raise OptionError(f"threads must be at most {MAX_THREADS}, got {threads}")
    before = torch.get_num_threads()
    if threads:
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@functools.cache
def bf16_native(device: torch.device) -> bool:
    """Whether bf16 autocast runs natively on ``device``: on a CPU, and on a CUDA GPU with bf16
    arithmetic (Ampere or later); elsewhere (older GPUs would emulate it, slowly) stay fp32."""
    if device.type == "cpu":
        return True
    if device.type == "cuda":
        try:
            return torch.cuda.is_bf16_supported(including_emulation=False)
        except TypeError:  # torch < 2.3 has no emulation to exclude
            return torch.cuda.is_bf16_supported()
    return False
