"""Memory soak: decode many mutated inputs in one process and print its resident set size.

    python -m tests.fuzz.soak [--inputs 20000] [--every 4000] [--instrument]

The inputs are the committed corpus, seeds and regressions, each mutated the way the atheris
target does (a header field moved through the parsed header, or a header or payload byte
changed, behind a valid CRC). The decoder's own memory must stay flat once its bounded caches
(entropy tables, power tables) are warm. ``--instrument`` imports inrcodec under atheris's
coverage instrumentation, as the fuzz target does, to tell the decoder's memory from the
instrumentation's.
"""

from __future__ import annotations

import argparse
import gc
import random
import sys
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent


def rss_mb() -> float:
    return int(Path("/proc/self/statm").read_text().split()[1]) * 4096 / 2**20


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inputs", type=int, default=20000)
    parser.add_argument("--every", type=int, default=4000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--instrument", action="store_true")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    if args.instrument:
        import atheris

        with atheris.instrument_imports(include=["inrcodec"]):
            from inrcodec import InrError, container
            from tests.fuzz import harness
    else:
        from inrcodec import InrError, container
        from tests.fuzz import harness

    files = [p.read_bytes() for d in ("corpus", "seeds", "regressions") for p in sorted((HERE / d).iterdir())]
    rng = random.Random(args.seed)

    def mutate(data: bytes) -> bytes:
        parts = harness.split(data)
        if parts is None:
            return data
        version, header, payload = parts
        roll = rng.random()
        if roll < 0.4:
            try:
                h, p = container.unpack(data)
            except InrError:
                return data
            name = rng.choice(harness.header_fields(h))
            value = harness.nearby(harness.get_field(h, name), rng.randrange(1 << 16))
            return container.pack(harness.with_field(h, name, value), p)
        if roll < 0.7 and header:
            i = rng.randrange(len(header))
            header = header[:i] + bytes([rng.randrange(256)]) + header[i + 1 :]
        elif payload:
            i = rng.randrange(len(payload))
            payload = payload[:i] + bytes([rng.randrange(256)]) + payload[i + 1 :]
        return harness.frame(version, header, payload)

    print(f"{'instrumented' if args.instrument else 'plain'}: {len(files)} files, start rss {rss_mb():.0f} MB")
    decoded = 0
    for i in range(1, args.inputs + 1):
        decoded += harness.check_outcome(mutate(rng.choice(files))) == "decoded"
        if i % args.every == 0:
            gc.collect()
            print(f"{i:7d} inputs ({decoded} decoded): rss {rss_mb():.0f} MB", flush=True)


if __name__ == "__main__":
    sys.exit(main())
