"""Measure what a decode really costs (peak resident memory, time) against the cost model.

The cost model (:func:`inrcodec.codec.image_decode_cost`, :func:`inrcodec.audio.audio_decode_cost`)
estimates, from the header alone, the work units and peak bytes of a decode; the limits are
checked against those estimates. These helpers decode a file and measure:

- **memory**: the process's peak resident set during the decode (``VmHWM``, reset through
  ``/proc/self/clear_refs`` just before), minus its resident set before (after returning freed
  heap memory to the system with ``malloc_trim``), so that only what the decode itself
  allocated counts;
- **time**: wall-clock seconds on one torch thread, which :data:`UNITS_PER_SECOND` turns into
  work units for the comparison.

In-process measurement (:func:`measure_decode`) is what the structure-aware fuzzer uses for every
input; :func:`measure_in_child` decodes in a fresh process (twice, measuring the second, so that
one-time costs such as torch's first allocations and the entropy tables' power caches stay
out, as the cost model leaves them out) for the cost-model test and benchmark.
"""

from __future__ import annotations

import base64
import ctypes
import gc
import json
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from inrcodec.limits import Limits

#: what the development machine (a loaded 2-core AMD EPYC VM) decodes per second on one core:
#: the nominal rate the work units stand for (docs/reliability.md has the measured spread)
UNITS_PER_SECOND = 1e10
#: limits that refuse nothing, for measuring decodes the real limits would refuse
UNLIMITED = Limits(
    max_input_pixels=1 << 62, max_output_pixels=1 << 62, max_parameters=1 << 62, max_layers=1 << 20,
    max_file_bytes=1 << 40, max_work=1 << 62, max_memory=1 << 62, max_encode_memory=1 << 62,
)  # fmt: skip
ROOT = Path(__file__).resolve().parents[2]


def _status() -> dict[str, int]:
    out = {}
    with open("/proc/self/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmHWM", "VmRSS"):
                out[key] = int(value.split()[0]) * 1024
    return out


def _trim() -> None:
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except OSError:  # not glibc: the measure is then a little less sharp
        pass


def can_measure_memory() -> bool:
    """Whether this system lets a process reset and read its peak resident set (Linux)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return "VmHWM" in _status()
    except OSError:
        return False


@dataclass(frozen=True)
class Measured:
    seconds: float  # wall clock
    cpu_seconds: float  # the process's CPU time (what a loaded machine does not inflate)
    peak_bytes: int  # the peak resident set during the call, above the resident set before it
    outcome: str  # 'decoded', or the InrError's message


def measure(call) -> Measured:
    """Run ``call()`` and measure it; an InrError it raises is its outcome."""
    from inrcodec.errors import InrError

    _trim()
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    before = _status()["VmRSS"]
    start, cpu = time.perf_counter(), time.process_time()
    try:
        call()
        outcome = "decoded"
    except InrError as e:
        outcome = str(e)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    return Measured(seconds, cpu, max(0, _status()["VmHWM"] - before), outcome)


def decode_call(data: bytes, request: dict, limits: Limits):
    """The decode of ``data`` that ``request`` asks for: image keywords (scale, width, height)
    or an audio ``rate``."""
    from inrcodec import audio, codec, decoder

    if decoder.peek_modality(data, limits) == "image":
        return lambda: codec.decode_image(data, limits=limits, **request)
    return lambda: audio.decode_audio(data, limits=limits, **request)


def estimate(data: bytes, request: dict, limits: Limits = UNLIMITED):
    """The cost model's :class:`~inrcodec.models.base.DecodeCost` of that decode."""
    from inrcodec import audio, codec, decoder

    if decoder.peek_modality(data, limits) == "image":
        return codec.image_decode_cost(data, limits=limits, **request)
    return audio.audio_decode_cost(data, limits=limits, **request)


def measure_decode(data: bytes, request: dict | None = None, limits: Limits = UNLIMITED) -> Measured:
    """Decode in this process and measure it."""
    return measure(decode_call(data, request or {}, limits))


def encode_call(pixels, options: dict):
    """An image encode of ``pixels`` with :class:`~inrcodec.options.EncodeOptions` ``options``."""
    from inrcodec.codec import encode_image
    from inrcodec.options import EncodeOptions

    return lambda: encode_image(pixels, EncodeOptions(**options), limits=UNLIMITED)


def encode_estimate(pixels, options: dict) -> int:
    """The encoder's working-set estimate (the ``encode_memory`` hook) for that encode."""
    from inrcodec import families
    from inrcodec.codec import image_rate
    from inrcodec.io.image import from_array
    from inrcodec.options import EncodeOptions

    img = from_array(pixels)
    opts, target = image_rate(EncodeOptions(**options), img.height * img.width)
    shape = (img.height, img.width, img.channels)
    family = (
        families.for_image(opts.model, shape, opts) if hasattr(families, "for_image") else families.by_name(opts.model)
    )
    arch, _ = family.plan(shape, opts, target)
    return family.encode_memory((img.height, img.width, img.channels), opts, tuple(arch))


def _child() -> None:
    """Child side of :func:`measure_in_child`: jobs on stdin, their measures on stdout. A decode
    runs twice and both are measured ('first', 'second'); an encode once, after a tiny one that
    warms up torch."""
    import numpy as np
    import torch

    torch.set_num_threads(1)
    results = []
    for job in json.loads(sys.stdin.read()):
        if "encode" in job:
            h, w, c = job["shape"]
            y, x = np.mgrid[0:h, 0:w]
            pixels = (np.sin(x[..., None] / 7.0 + np.arange(c)) * np.cos(y[..., None] / 11.0) * 0.4 + 0.5) * 255
            pixels = pixels.astype(np.uint8)
            warm = np.zeros((64, 64, c), np.uint8)
            encode_call(warm, {**job["encode"], "steps": 2, "bpp": 8.0, "size": None})()
            results.append({"first": vars(measure(encode_call(pixels, job["encode"])))})
            continue
        data, request = base64.b64decode(job["data"]), job["request"]
        call = decode_call(data, request, UNLIMITED)
        results.append({"first": vars(measure(call)), "second": vars(measure(call))})
    print(json.dumps(results))


def _run_child(jobs: list[dict], timeout: float) -> list[dict[str, Measured]]:
    import os

    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, "-m", "tests.fuzz.resources"], input=json.dumps(jobs), capture_output=True,
                          text=True, cwd=ROOT, env=env, timeout=timeout, check=True)  # fmt: skip
    results = json.loads(done.stdout.strip().splitlines()[-1])
    return [{k: Measured(**v) for k, v in r.items()} for r in results]


def measure_in_child(data: bytes, request: dict | None = None, timeout: float = 600) -> dict[str, Measured]:
    """Decode twice in a fresh process on one thread; the measures of the 'first' and 'second'
    decode."""
    return measure_many_in_child([(data, request or {})], timeout)[0]


def measure_many_in_child(decodes: list[tuple[bytes, dict]], timeout: float = 600) -> list[dict[str, Measured]]:
    """:func:`measure_in_child` for several decodes, one after the other in one fresh process."""
    jobs = [{"data": base64.b64encode(data).decode(), "request": request} for data, request in decodes]
    return _run_child(jobs, timeout)


def measure_encodes_in_child(encodes: list[tuple[tuple[int, int, int], dict]], timeout: float = 600) -> list[Measured]:
    """Encode synthetic images of the given (height, width, channels) with the given options in
    one fresh process on one thread, after a tiny warm-up encode; each encode's measure."""
    jobs = [{"shape": list(shape), "encode": options} for shape, options in encodes]
    return [r["first"] for r in _run_child(jobs, timeout)]


if __name__ == "__main__":
    _child()
