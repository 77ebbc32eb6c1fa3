"""Shared fixtures: tiny images and fast encode settings, so the suite stays quick."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
DATA = Path(__file__).resolve().parent / "data"

#: a few fitting steps: enough to exercise every code path, not to fit well
FAST = {"steps": 20, "seed": 0}


def smooth_image(h: int = 24, w: int = 32, channels: int = 3, seed: int = 0) -> np.ndarray:
    """A smooth synthetic image (sums of low-frequency sinusoids), easy to fit."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w] / max(h, w)
    planes = []
    for _ in range(channels):
        a, b, c = rng.uniform(1, 4, 3)
        planes.append(0.5 + 0.25 * np.sin(2 * np.pi * (a * x + b * y)) + 0.2 * np.cos(c * np.pi * x))
    img = np.clip(np.stack(planes, -1), 0, 1)
    return (img * 255).round().astype(np.uint8)


@pytest.fixture
def rgb_png(tmp_path: Path) -> Path:
    p = tmp_path / "img.png"
    Image.fromarray(smooth_image()).save(p)
    return p
