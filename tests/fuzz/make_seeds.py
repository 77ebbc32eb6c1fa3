"""Write the fuzzers' seed corpus: one tiny valid .inr file per model family, coder and modality.

    python -m tests.fuzz.make_seeds            # writes tests/fuzz/seeds/*.inr

Every family (SIREN 1, Fourier 2, latent grid 3, segments 4 and the audio grid 6 for audio), both point-model coders
(Laplace, raw fp16), every colour mode and both bit depths, mono and stereo audio, plus the
format-1.0 golden file and the format-1.1 grid golden file (the checkerboard context). The files are fitted for a handful of steps: the fuzzer needs valid
structure, not good pictures, and small files mutate faster.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

import inrcodec
from inrcodec.codec import encode_image
from inrcodec.options import EncodeOptions

HERE = Path(__file__).resolve().parent
SEEDS = HERE / "seeds"
DATA = HERE.parent / "data"

#: few steps and a fixed seed: deterministic, quick to make, small to fuzz
_FIT = {"steps": 6, "seed": 0}


def _image(h: int, w: int, channels: int, seed: int = 0, depth16: bool = False) -> np.ndarray:
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w] / max(h, w)
    planes = [0.5 + 0.4 * np.sin(2 * np.pi * (rng.uniform(1, 3) * x + rng.uniform(1, 3) * y))
              for _ in range(channels)]  # fmt: skip
    img = np.clip(np.stack(planes, -1), 0, 1)
    return (img * 65535).round().astype(np.uint16) if depth16 else (img * 255).round().astype(np.uint8)


def _tone(frames: int, channels: int) -> np.ndarray:
    t = np.arange(frames) / 8000
    return np.stack([0.5 * np.sin(2 * np.pi * (220 + 110 * c) * t) for c in range(channels)], 1).astype(np.float32)


def seed_files() -> dict[str, bytes]:
    """File name -> bytes of every seed."""

    def image(img, **opts) -> bytes:
        return encode_image(img, EncodeOptions(**{**_FIT, **opts})).data

    return {
        "siren_rgb.inr": image(_image(10, 12, 3), bpp=8.0, model="siren"),
        "siren_l16.inr": image(_image(8, 8, 1, depth16=True), bpp=8.0, model="siren"),
        "siren_fp16_la.inr": image(_image(6, 7, 2), bpp=16.0, model="siren", quant="fp16"),
        "fourier_rgba.inr": image(_image(9, 8, 4), bpp=8.0, model="fourier", depth=2, width=8),
        # the grid needs more steps before its latents leave zero and reach the context coder
        "grid_rgb.inr": image(_image(12, 16, 3), bpp=6.0, model="grid", steps=80),
        "grid_l.inr": image(_image(7, 5, 1), bpp=8.0, model="grid", steps=80),
        "segments_siren_mono.inr": inrcodec.encode_audio(
            _tone(800, 1), 8000, kbps=64, model="siren", segment=0.03, **_FIT
        ),
        "segments_fourier_stereo.inr": inrcodec.encode_audio(
            _tone(600, 2), 8000, kbps=32, model="fourier", depth=2, width=6, **_FIT
        ),
        # (at 2 kHz, so that its off-grid resampling stays within the fuzzers' small work limit)
        "audio_grid_mono.inr": inrcodec.encode_audio(_tone(120, 1), 2000, kbps=40, steps=20, seed=0),
        "golden_v1_0.inr": (DATA / "golden_v1_0.inr").read_bytes(),
        # the checkerboard context scheme, which only format 1.x files use
        "golden_v1_1_grid.inr": (DATA / "golden_v1_1_grid.inr").read_bytes(),
    }


def main() -> None:
    SEEDS.mkdir(exist_ok=True)
    for name, data in seed_files().items():
        (SEEDS / name).write_bytes(data)
        print(f"{name}: {len(data)} bytes")


if __name__ == "__main__":
    main()
