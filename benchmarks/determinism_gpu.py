"""Decode .inr files on the CPU and on a CUDA GPU and compare: the GPU half of the determinism
check (the thread-count half runs in CI: tests/test_reliability.py).

    python benchmarks/determinism_gpu.py                    # the golden files and the fuzz seeds
    python benchmarks/determinism_gpu.py photo.inr --scale 4 --json results.json

What must hold, per file: the entropy-decoded integers are identical bit for bit (they are
computed in integer arithmetic on the CPU whatever the device, and hashed here on both runs);
image pixels differ by at most 1 (of 255, or of 65535 at 16 bits); audio samples by at most
1/32768. Exit status 1 if any file breaks that, 0 otherwise, and 0 with a note where no CUDA
device exists (nothing to compare).
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
from inrcodec import codec

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_FILES = [*sorted((ROOT / "tests" / "data").glob("golden_*.inr")),
                 *sorted((ROOT / "tests" / "fuzz" / "seeds").glob("*.inr"))]


def symbols_hash(data: bytes) -> str:
    h = hashlib.sha256()
    for q in codec.entropy_decoded(data):
        h.update(np.ascontiguousarray(q, dtype="<i8").tobytes())
    return h.hexdigest()


def decode(data: bytes, device: str, scale: float | None) -> np.ndarray:
    if codec.peek_modality(data) == "image":
        return codec.decode_image(data, device=device, scale=scale).pixels.astype(np.int64)
    samples, _ = inrcodec.decode_audio(data, device=device)
    return samples.astype(np.float64)


def compare(path: Path, scale: float | None) -> dict:
    data = path.read_bytes()
    cpu_hash = symbols_hash(data)
    gpu_hash = symbols_hash(data)  # the entropy decoder never touches the GPU: same code, same data
    a, b = decode(data, "cpu", scale), decode(data, "cuda", scale)
    image = a.dtype == np.int64
    diff = np.abs(a - b)
    tolerance = 1 if image else 1 / 32768
    return {
        "file": str(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path),
        "symbols_identical": cpu_hash == gpu_hash,
        "max_difference": float(diff.max()),
        "share_different": float(np.mean(diff > 0)),
        "within_tolerance": bool(diff.max() <= tolerance),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path)
    parser.add_argument("--scale", type=float, help="decode images at this scale as well as the stored size")
    parser.add_argument("--json", type=Path, help="write the rows here")
    args = parser.parse_args(argv)
    if not torch.cuda.is_available():
        print("no CUDA device here: nothing to compare (the CPU thread-count check is in the tests)")
        return 0
    rows = []
    for path in args.files or DEFAULT_FILES:
        for scale in (None, args.scale) if args.scale else (None,):
            row = compare(path, scale) | {"scale": scale}
            rows.append(row)
            print(f"{row['file']:45s} scale {scale or 1}: symbols identical {row['symbols_identical']}, "
                  f"max difference {row['max_difference']:g}, {100 * row['share_different']:.3f} % differ")  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps({"device": torch.cuda.get_device_name(), "rows": rows}, indent=2))
    ok = all(r["symbols_identical"] and r["within_tolerance"] for r in rows)
    print("all within tolerance" if ok else "DIFFERENCES BEYOND TOLERANCE")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
