"""SHA-256 of the files a fixed set of encodes writes: the check that a refactor changed no byte.

    python benchmarks/encode_identity.py            # compare with tests/data/identity/hashes.json
    python benchmarks/encode_identity.py --record   # rewrite the list (only for a deliberate change)

The cases (``CASES``) cover every path an encode can take: the golden sources of
tests/test_golden.py (SIREN, Fourier, grid, a stereo tone), three 128 x 96 Kodak crops at two
targets under both latent context schemes, a size target, a fixed lambda, a SIREN, a Fourier
network and half a second of bach.wav (audio with the SIREN segments and with the audio grid). Each runs a fixed number of steps on one torch thread, so
the bytes depend only on the code and on the CPU's float kernels: the list records the kernel
path (torch's CPU capability and the CPU vendor) it was made on, and a comparison on another
path says so instead of failing (tests/test_identity.py).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"
LIST = DATA / "identity" / "hashes.json"

CROPS = ("kodim05", "kodim15", "kodim23")


def cases() -> list[tuple[str, str, dict]]:
    """(name, input, encode options) of every encode in the list."""
    golden = str(DATA / "golden_source.png")
    out = [
        ("golden_siren", golden, {"model": "siren", "bpp": 6, "steps": 200, "seed": 11}),
        ("golden_fourier", golden, {"model": "fourier", "bpp": 6, "steps": 200, "seed": 11, "depth": 2, "width": 8}),
        ("golden_grid", golden, {"model": "grid", "size": 400, "steps": 200, "seed": 11}),
        ("golden_tone", "tone", {"model": "siren", "kbps": 48, "segment": 0.05, "steps": 200, "seed": 11}),
        ("golden_tone_audio_grid", "tone", {"kbps": 48, "steps": 100, "seed": 11}),
    ]
    for crop in CROPS:
        path = str(DATA / "identity" / f"{crop}_crop.png")
        for bpp in (0.25, 1.0):
            for scheme in ("checkerboard", "wavefront"):
                out.append(
                    (f"{crop}_{bpp}_{scheme}", path, {"bpp": bpp, "steps": 300, "grid": {"context_scheme": scheme}})
                )
    first = str(DATA / "identity" / f"{CROPS[0]}_crop.png")
    out += [
        (f"{CROPS[0]}_auto_0.12", first, {"bpp": 0.12, "steps": 300}),
        (f"{CROPS[0]}_size_2KB", first, {"size": "2KB", "steps": 300}),
        (f"{CROPS[0]}_lambda", first, {"lmbda": 0.004, "steps": 300}),
        (
            f"{CROPS[1]}_siren",
            str(DATA / "identity" / f"{CROPS[1]}_crop.png"),
            {"model": "siren", "bpp": 2, "steps": 300},
        ),
        (
            f"{CROPS[2]}_fourier",
            str(DATA / "identity" / f"{CROPS[2]}_crop.png"),
            {"model": "fourier", "bpp": 2, "steps": 300},
        ),
        (
            "bach_half_second",
            str(DATA / "identity" / "bach_half_second.flac"),
            {"model": "siren", "kbps": 32, "steps": 300},
        ),
        ("bach_half_second_audio_grid", str(DATA / "identity" / "bach_half_second.flac"), {"kbps": 32, "steps": 100}),
    ]
    return out


def _tone() -> tuple[np.ndarray, int]:
    """The golden 0.1 s stereo tone at 8 kHz (tests/test_golden.py)."""
    t = np.arange(800) / 8000
    return np.stack([0.5 * np.sin(2 * np.pi * 440 * t), 0.3 * np.sin(2 * np.pi * 660 * t)], 1).astype(np.float32), 8000


def encode(source: str, options: dict) -> bytes:
    import inrcodec

    options = dict(options)
    if source == "tone" or source.endswith(".flac"):
        if source == "tone":
            samples, rate = _tone()
            return inrcodec.encode_audio(samples, rate, **options)
        return inrcodec.encode_audio(source, **options)
    return inrcodec.encode(source, **options)


def kernel_path() -> dict[str, str]:
    """What the float results depend on besides the code: torch's CPU kernels and the vendor."""
    vendor = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("vendor_id"):
                vendor = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import os

    return {
        "torch": torch.__version__.split("+")[0],
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "vendor": vendor,
        "mkl_cbwr": os.environ.get("MKL_CBWR", ""),
    }


def hashes(names: list[str] | None = None) -> dict[str, str]:
    torch.set_num_threads(1)
    out = {}
    for name, source, options in cases():
        if names and name not in names:
            continue
        out[name] = hashlib.sha256(encode(source, options)).hexdigest()
        print(f"{name:32s} {out[name][:16]}", file=sys.stderr)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--record", action="store_true", help="rewrite the list")
    parser.add_argument("names", nargs="*", help="only these cases")
    args = parser.parse_args()
    found = hashes(args.names)
    if args.record:
        LIST.write_text(json.dumps({"kernel_path": kernel_path(), "hashes": found}, indent=2) + "\n")
        return
    recorded = json.loads(LIST.read_text())
    if recorded["kernel_path"] != kernel_path():
        print(f"note: recorded on {recorded['kernel_path']}, running on {kernel_path()}", file=sys.stderr)
    differ = [n for n, h in found.items() if recorded["hashes"].get(n) != h]
    print("identical" if not differ else f"DIFFERENT: {', '.join(differ)}")
    sys.exit(1 if differ else 0)


if __name__ == "__main__":
    main()
