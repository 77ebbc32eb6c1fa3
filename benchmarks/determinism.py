"""Decode .inr files with 1 and 2 CPU threads, and on the CPU and a CUDA GPU where one exists, and
compare: the measured half of the determinism check (tests/test_reliability.py asserts the
thread-count case in CI on the fuzz seeds).

    python benchmarks/determinism.py                        # the golden files and the fuzz seeds
    python benchmarks/determinism.py photo.inr --scale 4 --json results.json

What must hold, per file and output size: the entropy-decoded integers are identical bit for bit
(they are computed in integer arithmetic with numpy on the CPU, whatever the device or thread
count: hashed on every run here); image pixels differ by at most 1 (of 255, or of 65535 at 16
bits); audio samples by at most 1/32768. Exit status 1 if any file breaks that, else 0. Without a
CUDA device the GPU comparison is skipped with a note.

``benchmarks/gpu_check.py`` checks the CPU/GPU pair again for whole Kodak encodes (files encoded
on either device, decoded on both) along with the GPU's speed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

import numpy as np
import torch

import inrcodec
from inrcodec import codec, decoder, runtime

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_FILES = [*sorted((ROOT / "tests" / "data").glob("golden_*.inr")),
                 *sorted((ROOT / "tests" / "fuzz" / "seeds").glob("*.inr"))]  # fmt: skip


def symbols_hash(data: bytes, threads: int) -> str:
    h = hashlib.sha256()
    with runtime.torch_threads(threads):
        for q in decoder.entropy_decoded(data):
            h.update(np.ascontiguousarray(q, dtype="<i8").tobytes())
    return h.hexdigest()


def decode(data: bytes, device: str, threads: int, scale: float | None) -> np.ndarray:
    if decoder.peek_modality(data) == "image":
        return codec.decode_image(data, device=device, threads=threads, scale=scale).pixels.astype(np.int64)
    samples, _ = inrcodec.decode_audio(data, device=device, threads=threads)
    return samples.astype(np.float64)


def compare(path: Path, scale: float | None, a: tuple[str, int], b: tuple[str, int]) -> dict:
    """Decode ``path`` as ``a`` and as ``b`` (device, threads) and compare."""
    data = path.read_bytes()
    ha, hb = symbols_hash(data, a[1]), symbols_hash(data, b[1])
    x, y = decode(data, *a, scale), decode(data, *b, scale)
    image = x.dtype == np.int64
    diff = np.abs(x - y)
    return {
        "file": str(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path),
        "compared": f"{a[0]} x{a[1]} vs {b[0]} x{b[1]}",
        "scale": scale,
        "samples": int(x.size),
        "symbols_sha256": ha,
        "symbols_identical": ha == hb,
        "max_difference": float(diff.max()) * (1 if image else 32768),  # in pixel levels / 16-bit steps
        "share_different": float(np.mean(diff > 0)),
        "within_tolerance": bool(diff.max() <= (1 if image else 1 / 32768)),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path)
    parser.add_argument("--scale", type=float, action="append", default=[],
                        help="decode images at this scale as well as the stored size (repeatable)")  # fmt: skip
    parser.add_argument("--json", type=Path, help="write the rows here")
    args = parser.parse_args(argv)
    pairs = [(("cpu", 1), ("cpu", 2))]
    if torch.cuda.is_available():
        pairs.append((("cpu", 1), ("cuda", 1)))
    else:
        print("no CUDA device here: comparing 1 and 2 CPU threads only")
    rows = []
    for path in args.files or DEFAULT_FILES:
        audio = decoder.peek_modality(path.read_bytes()) == "audio"
        for scale in (None,) if audio else (None, *args.scale):
            for a, b in pairs:
                row = compare(path, scale, a, b)
                rows.append(row)
                print(f"{row['file']:50s} {row['compared']:18s} scale {scale or 1:g}: {row['samples']} samples, "
                      f"symbols identical {row['symbols_identical']}, max difference {row['max_difference']:g}, "
                      f"{100 * row['share_different']:.4f} % differ")  # fmt: skip
    ok = all(r["symbols_identical"] and r["within_tolerance"] for r in rows)
    if args.json:
        report = {"cuda": torch.cuda.get_device_name() if torch.cuda.is_available() else None,
                  "torch": torch.__version__, "all_within_tolerance": ok, "rows": rows}  # fmt: skip
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    print("all within tolerance" if ok else "DIFFERENCES BEYOND TOLERANCE")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
