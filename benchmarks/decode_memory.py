"""Peak memory of decoding a 768x512 image at 4x (3072x2048), streamed versus whole-image float.

    python benchmarks/decode_memory.py [--image ../shared/data/kodak/kodim23.png] [--json out.json] [--keep DIR]

For each model family it encodes the image briefly (the decoder's memory depends on the
architecture and the output size, not on how well the fit went), then decodes it at 4x in a fresh
subprocess: the resident set size just before decoding (``VmRSS``), then the high-water mark of the
decode alone (``VmHWM``, reset with ``/proc/self/clear_refs`` just before; Linux only).
``ru_maxrss`` would not do: a child process inherits its parent's peak across ``exec``, so every
row would read the encoding parent's peak. It decodes twice in that process: the first decode also
pays one-time costs that stay allocated (entropy tables, torch's first allocations), the second
shows what each further decode needs.

- ``streamed``: ``decode_image``, which turns each tile into 8-bit pixels as it is produced, so
  the only full-size array is the uint8 output (18.9 MB here);
- ``float``: the former way, the whole float32 image rendered first and converted after
  (``render`` then ``from_values``): several float copies of the output.

It also times each decode against the cost model's work estimate (multiply-adds plus 64 per
pixel, what ``Limits.max_work`` bounds), to turn that limit into seconds.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_IMAGE = ROOT.parent / "shared" / "data" / "kodak" / "kodim23.png"
FAMILIES = {"siren": {"steps": 30}, "fourier": {"steps": 30}, "grid": {"steps": 30}}


def _status_mb(field: str) -> float:
    """A memory field of /proc/self/status (VmRSS: now; VmHWM: the peak since the last reset)."""
    text = Path("/proc/self/status").read_text()
    return int(re.search(rf"^{field}:\s+(\d+) kB", text, re.M).group(1)) / 1024


def _reset_peak() -> None:
    Path("/proc/self/clear_refs").write_text("5")  # VmHWM := VmRSS


def measure(path: str, way: str, scale: float) -> dict:
    """Run in the subprocess: decode ``path`` and report the peak RSS before and after."""
    import torch

    from inrcodec import codec, container, decoder, limits
    from inrcodec.io.image import from_values

    torch.set_num_threads(1)
    data = Path(path).read_bytes()
    header, payload = container.unpack(data)
    s = header.signal
    h, w = round(s.height * scale), round(s.width * scale)
    work = decoder.check_decode(header, 2, s.channels, (h, w), limits.DEFAULT_LIMITS, 0).work + 64 * h * w

    def decode():
        if way == "streamed":
            return codec.decode_image(data, scale=scale).pixels
        model = decoder.rebuild_model(header, payload, 2, s.channels, limits.DEFAULT_LIMITS)
        return from_values(model.render(h, w, torch.device("cpu")), s.bit_depth)

    # The first decode in a process also pays one-time costs that stay (entropy tables, torch's
    # first allocations); the second shows what each further decode in the same process needs.
    row = {}
    for run in ("", "second_"):
        before = _status_mb("VmRSS")
        _reset_peak()
        start = time.perf_counter()
        pixels = decode()
        row |= {f"{run}before_mb": before, f"{run}peak_mb": _status_mb("VmHWM"),
                f"{run}seconds": time.perf_counter() - start}  # fmt: skip
        row |= {"output_mb": pixels.nbytes / 2**20, "shape": list(pixels.shape), "work": work}
        del pixels
    return row


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--image", type=Path, default=DEFAULT_IMAGE)
    parser.add_argument("--scale", type=float, default=4.0)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--keep", type=Path, help="keep the encoded files in this folder")
    parser.add_argument("--measure", nargs=2, metavar=("FILE", "WAY"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure:
        print(json.dumps(measure(*args.measure, args.scale)))
        return

    from inrcodec.bench.machine import machine_info
    from inrcodec.codec import encode_image
    from inrcodec.options import EncodeOptions

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for family, fit in FAMILIES.items():
            inr = Path(tmp) / f"{family}.inr"
            opts = EncodeOptions(model=family, bpp=0.3, seed=0, threads=1, **fit)
            inr.write_bytes(encode_image(args.image, opts).data)
            if args.keep:
                args.keep.mkdir(parents=True, exist_ok=True)
                (args.keep / f"{args.image.stem}_{family}.inr").write_bytes(inr.read_bytes())
            for way in ("streamed", "float"):
                out = subprocess.run(
                    [sys.executable, __file__, "--measure", str(inr), way, "--scale", str(args.scale)],
                    check=True, capture_output=True, text=True,
                )  # fmt: skip
                row = {"family": family, "way": way, **json.loads(out.stdout.splitlines()[-1])}
                row["decode_peak_mb"] = row["peak_mb"] - row["before_mb"]
                row["second_decode_peak_mb"] = row["second_peak_mb"] - row["second_before_mb"]
                rows.append(row)
                print(f"{family:8s} {way:9s} output {row['output_mb']:.1f} MB, peak RSS {row['peak_mb']:.0f} MB "
                      f"({row['decode_peak_mb']:+.0f} MB over {row['before_mb']:.0f} MB before decoding), "
                      f"{row['seconds']:.1f} s, {row['work'] / row['seconds'] / 1e9:.2f}e9 work units/s; "
                      f"second decode {row['second_decode_peak_mb']:+.0f} MB over {row['second_before_mb']:.0f} MB, "
                      f"{row['second_seconds']:.1f} s")  # fmt: skip
    if args.json:
        report = {"image": str(args.image), "scale": args.scale, "torch_threads": 1, "rows": rows,
                  "machine": machine_info(1, 1)}  # fmt: skip
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
