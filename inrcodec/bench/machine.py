"""A description of the machine a benchmark ran on, for ``machine.json``.

Encode and decode times mean little without the CPU and thread count behind them. The host name
is left out on purpose: it identifies people, not performance.
"""

from __future__ import annotations

import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

from ..executors import available_cores


def cpu_model() -> str:
    """The CPU model name from /proc/cpuinfo, else what the platform module says."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def _library_versions() -> dict[str, str | None]:
    import numpy
    import PIL
    import torch
    from PIL import features

    versions: dict[str, str | None] = {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": numpy.__version__,
        "pillow": PIL.__version__,
    }
    for feature in ("jpg", "webp", "jpg_2000", "avif"):
        versions[f"pillow-{feature}"] = features.version(feature)
    return versions


def machine_info(jobs: int, threads: int, device: str = "cpu") -> dict[str, Any]:
    """CPU, cores, parallelism and library versions of this run."""
    return {
        "cpu": cpu_model(),
        "logical_cores": os.cpu_count(),
        "available_cores": available_cores(),
        "jobs": jobs,
        "threads_per_job": threads,
        "device": device,
        "platform": platform.platform(),
        "python_implementation": sys.implementation.name,
        "versions": _library_versions(),
        "recorded_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
