#!/usr/bin/env python3
"""Coverage-guided fuzzing of the .inr parser and decoder with atheris (libFuzzer for Python).

    pip install -e ".[fuzz]"
    nice -n 10 python tests/fuzz/fuzz_decode.py -max_total_time=600 -timeout=10 \\
        -rss_limit_mb=2048 -max_len=4096 -artifact_prefix=/tmp/inrfuzz- \\
        /tmp/inrfuzz-corpus tests/fuzz/corpus tests/fuzz/seeds tests/fuzz/regressions

Run longer campaigns as rounds of about 10 minutes on the same corpus folder: atheris's
instrumentation grows the process by some 23 kB per input (``python -m tests.fuzz.soak
--instrument``; the decoder alone stays flat), so a run reaches ``-rss_limit_mb=2048`` after
some 260 000 to 300 000 inputs (7 to 10 minutes on one core) with an out-of-memory report that
is not the decoder's: replay the saved input alone to check (docs/reliability.md).

Each input goes through :func:`tests.fuzz.harness.check_outcome`: it must decode or raise an
``InrError`` with a one-line message. Any other exception is a crash that libFuzzer saves.
``-timeout`` (seconds per input) and ``-rss_limit_mb`` are the hang and memory bounds.

Nearly every random byte change breaks the CRC, and the decoder (rightly) stops there, so the
custom mutator edits the header or the payload *inside* the framing and then repairs the
lengths and the CRC; one mutation in ten is left raw to keep testing the framing itself.
"""

from __future__ import annotations

import os
import random
import sys

import atheris
import torch  # imported first, uninstrumented: its own code is not what we test

torch.set_num_threads(1)
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", ".."))

with atheris.instrument_imports(include=["inrcodec"]):
    import inrcodec  # instruments every inrcodec module the harness imports
    import inrcodec.container
    from tests.fuzz import harness


def _edit_field(header: bytes, rng: random.Random) -> bytes:
    value = rng.choice(harness.INTERESTING)
    value = (value << 1) | rng.randrange(2) if rng.random() < 0.5 else value  # zigzag: either sign
    return harness.edit_field(header, rng.randrange(1 << 16), value)


def _edit_header_object(data: bytes, rng: random.Random) -> bytes | None:
    """One numeric field of the parsed header moved (near its value or to an edge), then the
    file re-packed; None when the input does not parse as a file any more."""
    try:
        header, payload = inrcodec.container.unpack(data)
    except inrcodec.InrError:
        return None
    name = rng.choice(harness.header_fields(header))
    value = harness.nearby(harness.get_field(header, name), rng.randrange(1 << 16))
    return inrcodec.container.pack(harness.with_field(header, name, value), payload)


def mutate(data: bytes, max_size: int, seed: int) -> bytes:
    """libFuzzer's mutation of the header or payload, inside valid framing (see the docstring)."""
    rng = random.Random(seed)
    parts = harness.split(data)
    if parts is None or rng.random() < 0.1:
        return atheris.Mutate(data, max_size)
    version, header, payload = parts
    roll = rng.random()
    if roll < 0.25:
        structured = _edit_header_object(data, rng)
        if structured is not None:
            return structured[:max_size]
        header = _edit_field(header, rng)
    elif roll < 0.4:
        header = _edit_field(header, rng)
    elif roll < 0.6:
        header = atheris.Mutate(header, len(header) + 16)
    elif roll < 0.95:
        payload = atheris.Mutate(payload, len(payload) + 16)
    else:
        version = bytes([rng.choice([0, 1, 2, 255]), rng.randrange(256)])
    return harness.frame(version, header, payload)[:max_size]


def test_one_input(data: bytes) -> None:
    harness.check_outcome(data)


def main() -> None:
    atheris.Setup(sys.argv, test_one_input, custom_mutator=mutate)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
