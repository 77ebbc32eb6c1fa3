"""One benchmark task: encode one image at one setting, decode it, measure it.

This is the function the executors run, in this process or in a worker process, so it takes and
returns only picklable plain data and prints nothing.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import metrics
from ..errors import InrError
from .codec_base import match_channels
from .codecs import CodecSpec
from .machine import cpu_model


@dataclass(frozen=True)
class Task:
    """Everything a worker needs for one measurement."""

    key: str
    image: str
    image_sha256: str
    pixels: np.ndarray  # (H, W, C) uint8
    codec: CodecSpec
    variant: str
    setting: float
    seed: int = 0
    threads: int = 1
    with_ms_ssim: bool = True


def _timed(fn, *args) -> tuple[Any, float, float]:
    """fn(*args), its wall-clock seconds and its process CPU seconds."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn(*args)
    return result, time.perf_counter() - wall, time.process_time() - cpu


def _seed_everything(seed: int) -> None:
    # Codecs that draw random numbers without taking a seed still repeat run to run.
    np.random.seed(seed % 2**32)
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a dependency
        return
    torch.manual_seed(seed)


def run_task(task: Task) -> dict[str, Any]:
    """Measure one (image, codec, setting); returns the row for the cache and the CSV."""
    started = time.perf_counter()
    codec = task.codec.build(threads=task.threads)
    _seed_everything(task.seed)
    height, width, channels = task.pixels.shape
    where = f"{task.variant} at {codec.setting_name} {task.setting:g} on {task.image}"
    try:
        data, encode_s, encode_cpu_s = _timed(codec.encode, task.pixels, task.setting)
        decoded, decode_s, decode_cpu_s = _timed(codec.decode, bytes(data))
    except InrError as e:
        raise type(e)(f"{where}: {e}") from None
    except Exception as e:  # a codec library failing is reported, not a crash with a traceback
        raise InrError(f"{where} failed: {type(e).__name__}: {e}") from None
    decoded = match_channels(np.asarray(decoded), channels)
    if decoded.shape != task.pixels.shape or decoded.dtype != np.uint8:
        raise InrError(f"{where}: decoded {decoded.shape} {decoded.dtype}, expected {task.pixels.shape} uint8")
    return {
        "key": task.key,
        "image": task.image,
        "image_sha256": task.image_sha256,
        "width": width,
        "height": height,
        "channels": channels,
        "codec": codec.name,
        "variant": task.variant,
        "family": codec.family,
        "options": codec.options,
        "codec_version": codec.version(),
        "setting": float(task.setting),
        "bytes": len(data),
        "bpp": 8.0 * len(data) / (height * width),
        "psnr_rgb": metrics.psnr(task.pixels, decoded),
        "ms_ssim_rgb": metrics.ms_ssim(task.pixels, decoded) if task.with_ms_ssim else None,
        "encode_s": encode_s,
        "decode_s": decode_s,
        "encode_cpu_s": encode_cpu_s,
        "decode_cpu_s": decode_cpu_s,
        "threads": task.threads,
        "cpu": cpu_model(),  # where it ran: on a Ray cluster, not necessarily this machine
        "task_s": time.perf_counter() - started,
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
