#!/usr/bin/env python3
"""The audio grid encoder's working set against its estimate (``grid.audio.encode_memory``).

    python benchmarks/audio_encode_memory.py

Encodes synthetic clips (decaying harmonic notes and a little noise) in a fresh process each, at
the default effort on one thread, and compares the peak resident memory above the process's
baseline with the estimate the encoder checks against ``--max-memory``. Writes
``benchmarks/results/reliability/audio_encode_memory.json``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
CASES = [(7.0, 44100, 1, 32.0), (60.0, 44100, 2, 64.0), (180.0, 48000, 2, 128.0)]

CHILD = r"""
import json, resource, sys, time
import numpy as np, torch
torch.set_num_threads(1)
from inrcodec.audio import AudioEncodeOptions, encode_audio_clip
from inrcodec.grid import audio as grid_audio
path, rate, kbps = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
x = np.load(path)
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
cpu = time.process_time()
r = encode_audio_clip(x, AudioEncodeOptions(kbps=kbps), rate=rate)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"seconds": len(x) / rate, "rate": rate, "channels": x.shape[1], "kbps": kbps, "real_kbps": r.kbps,
                  "snr": r.snr, "encode_cpu_s": time.process_time() - cpu, "peak_bytes": peak - base,
                  "estimated_bytes": grid_audio.encode_memory(grid_audio.planned_arch(x, rate), x.shape[1])}))
"""


def clip(seconds: float, rate: int, channels: int) -> np.ndarray:
    """Decaying harmonic notes, a new one every half second per channel, and a little noise."""
    rng = np.random.default_rng(0)
    n = round(seconds * rate)
    x = np.zeros((n, channels))
    t = np.arange(3 * rate) / rate  # a note rings for 3 s
    for c in range(channels):
        for start in range(0, n, rate // 2):
            f = rng.uniform(110, 880)
            note = np.exp(-3 * t) * sum(0.2 / k * np.sin(2 * np.pi * k * f * t) for k in (1, 2, 3, 4))
            x[start : start + len(t), c] += note[: n - start]
    return (0.5 * x / np.abs(x).max() + 0.002 * rng.standard_normal(x.shape)).astype(np.float32)


def main() -> None:
    rows = []
    for seconds, rate, channels, kbps in CASES:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "clip.npy"
            np.save(path, clip(seconds, rate, channels))
            out = subprocess.run([sys.executable, "-c", CHILD, str(path), str(rate), str(kbps)], capture_output=True,
                                 text=True)  # fmt: skip
        if out.returncode:
            sys.exit(out.stderr)
        row = json.loads(out.stdout.strip().splitlines()[-1])
        row["ratio"] = round(row["peak_bytes"] / row["estimated_bytes"], 3)
        rows.append(row)
        print(f"{row['seconds']:6.0f} s {row['rate']} Hz x{row['channels']} at {row['kbps']:g} kbit/s: "
              f"{row['peak_bytes'] >> 20} MB measured, {row['estimated_bytes'] >> 20} MB estimated "
              f"(ratio {row['ratio']}), {row['encode_cpu_s']:.1f} CPU-s, SNR {row['snr']:.2f} dB", flush=True)  # fmt: skip
    path = ROOT / "benchmarks/results/reliability/audio_encode_memory.json"
    path.write_text(json.dumps({"command": "python benchmarks/audio_encode_memory.py", "cases": rows}, indent=2) + "\n")
    print(f"-> {path}")


if __name__ == "__main__":
    main()
