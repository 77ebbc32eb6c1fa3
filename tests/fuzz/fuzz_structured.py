#!/usr/bin/env python3
"""Structure-aware fuzzing of the decoder: valid-CRC files with extreme header values, checked
for the one-line error *and* for the resource bounds.

    nice -n 19 python -m tests.fuzz.fuzz_structured --minutes 30 \\
        --out benchmarks/results/reliability/fuzz_structured.json --artifacts /tmp/inr-structured

Where the coverage-guided fuzzer (``fuzz_decode.py``) only asks that no input crashes, this one
also measures every decode (``tests/fuzz/resources.py``: peak resident memory above the process's
before, CPU time) and compares it with what the cost model estimated from the header, under
limits tight enough that each input takes at most a second or two (:data:`LIMITS`). An input is
a *finding*, saved under ``--artifacts``, if

- it ends in anything but a decoded signal or an ``InrError`` with a one-line message;
- its measured peak memory passes the cost model's estimate by more than
  :data:`MEMORY_SLACK` (the estimate is what ``--max-memory`` is checked against, so this is
  "decoding stays within --max-memory");
- its CPU time passes :data:`TIME_FACTOR` times the estimated work at the nominal
  10^10 units a second, plus :data:`TIME_SLACK` ("within --max-work").

Inputs come from the seed corpus (every family and coder, images and audio) and from
``synth.py`` files of every family with larger grids and networks. Each is rewritten through the
parsed header, with one to three fields set to extreme values: first every numeric field of
every seed in turn to every value of :data:`tests.fuzz.harness.INTERESTING` (both signs where
signed) and to its neighbours, then random combinations, plus structural edits (architecture
numbers added or dropped, tensors added or dropped, the modality swapped, the payload cut,
extended or overwritten) and decode requests at other sizes and rates. Every file is packed by
``inrcodec.container.pack`` with a valid CRC.
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import hashlib
import json
import random
import re
import sys
import time
import traceback
from pathlib import Path

import torch

from inrcodec import container
from inrcodec.container import AudioFields, Header, ImageFields, TensorCode
from inrcodec.errors import InrError
from inrcodec.limits import Limits

from . import harness, resources, synth

FUZZ = Path(__file__).resolve().parent

#: tight enough that any accepted input decodes in about a second on one core
LIMITS = Limits(
    max_input_pixels=1 << 22, max_output_pixels=1 << 22, max_parameters=1 << 22, max_layers=256,
    max_file_bytes=1 << 22, max_work=1 << 34, max_memory=1 << 29,
)  # fmt: skip
#: measured peak memory may pass the estimate by this much (allocator granularity, caches)
MEMORY_SLACK = 24 << 20
#: CPU time may pass the estimated work (at resources.UNITS_PER_SECOND) this many times, plus
#: TIME_SLACK seconds (what parsing and the limits check take before any estimate applies)
TIME_FACTOR = 4.0
TIME_SLACK = 0.15


def seed_files() -> dict[str, bytes]:
    """The committed seeds and synthesized files of every family, some with larger shapes."""
    files = {p.name: p.read_bytes() for p in sorted((FUZZ / "seeds").glob("*.inr"))}
    files.update({
        "synth_grid_wavefront.inr": synth.grid(40, 56, levels=4, context_hidden=16),
        "synth_grid_checkerboard.inr": synth.grid(33, 47, 1, levels=5, scheme="checkerboard", first_level=1),
        "synth_grid_wide_context.inr": synth.grid(24, 24, 4, levels=3, context_hidden=64, hidden=32, depth=3),
        "synth_siren.inr": synth.point_image("siren", 30, 40, depth=4, layer_width=24),
        "synth_fourier.inr": synth.point_image("fourier", 30, 20, 2, depth=2, layer_width=16, frequencies=8),
        "synth_audio_siren.inr": synth.audio(6000, 16000, 2, segments=12),
        "synth_audio_fourier.inr": synth.audio(3000, 8000, 1, segments=3, model="fourier"),
    })  # fmt: skip
    return files


_SIGNED_PARTS = ("arch", "step_exp", "lo", "hi")


def _values(rng: random.Random, current: int, signed: bool) -> int:
    roll = rng.random()
    if roll < 0.45:
        v = rng.choice(harness.INTERESTING)
        return -v if signed and rng.random() < 0.4 else v
    if roll < 0.8:
        return harness.nearby(current, rng.randrange(1 << 16))
    return rng.choice((-1, 1) if signed else (1,)) * rng.randrange(1 << rng.randrange(1, 64))


def _structural(header: Header, payload: bytes, rng: random.Random) -> tuple[Header, bytes]:
    roll = rng.randrange(7)
    if roll == 0 and header.arch:  # an architecture number dropped or added
        arch = list(header.arch)
        if rng.random() < 0.5:
            del arch[rng.randrange(len(arch))]
        else:
            arch.insert(rng.randrange(len(arch) + 1), rng.choice(harness.INTERESTING))
        return dataclasses.replace(header, arch=tuple(arch)), payload
    if roll == 1:  # a tensor dropped or duplicated
        tensors = list(header.tensors)
        if tensors and rng.random() < 0.5:
            del tensors[rng.randrange(len(tensors))]
        elif tensors:
            tensors.insert(rng.randrange(len(tensors) + 1), rng.choice(tensors))
        else:
            tensors.append(TensorCode(0, -1, 1))
        return dataclasses.replace(header, tensors=tuple(tensors)), payload
    if roll == 2:  # the modality swapped, with extreme signal fields
        if isinstance(header.signal, ImageFields):
            signal = AudioFields(rng.choice(harness.INTERESTING) or 1, rng.choice((1, 7, 8000, 768_000)),
                                 rng.choice((1, 2, 3, 1024)), "PCM_16", "WAV")  # fmt: skip
        else:
            signal = ImageFields(rng.choice(harness.INTERESTING) or 1, rng.choice(harness.INTERESTING) or 1,
                                 rng.choice((1, 2, 3, 4)), rng.choice((8, 16)))  # fmt: skip
        return dataclasses.replace(header, signal=signal), payload
    if roll == 3:  # payload cut
        return header, payload[: rng.randrange(len(payload) + 1)]
    if roll == 4:  # payload extended
        return header, payload + bytes(rng.randrange(256) for _ in range(4 * rng.randrange(1, 64)))
    if roll == 5 and payload:  # payload words overwritten
        data = bytearray(payload)
        for _ in range(rng.randrange(1, 8)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        return header, bytes(data)
    return dataclasses.replace(header, family=rng.choice((1, 2, 3, 4))), payload


def mutate(seed: bytes, rng: random.Random) -> bytes | None:
    """A seed with one to three header fields at extreme values (sometimes a structural edit
    too), re-packed with a valid CRC; None if the writer cannot store it."""
    header, payload = container.unpack(seed)
    for _ in range(rng.choice((1, 1, 2, 3))):
        names = harness.header_fields(header)
        name = rng.choice(names)
        signed = name.startswith("arch") or name.split(".")[-1] in _SIGNED_PARTS
        header = harness.with_field(header, name, _values(rng, harness.get_field(header, name), signed))
    if rng.random() < 0.25:
        header, payload = _structural(header, payload, rng)
    try:
        return container.pack(header, payload)
    except (ValueError, OverflowError, UnicodeEncodeError):  # e.g. an arch number the writer refuses
        return None


def systematic(seeds: dict[str, bytes], rng: random.Random):
    """(seed name, file) for every numeric field of every seed set to every edge value, in a
    shuffled order (so that a campaign cut short has still touched every seed and field)."""
    edits = []
    for name, data in seeds.items():
        header, _ = container.unpack(data)
        for field in harness.header_fields(header):
            current = harness.get_field(header, field)
            signed = field.startswith("arch") or field.split(".")[-1] in _SIGNED_PARTS
            values = set(harness.INTERESTING) | {current + 1, current - 1, current * 2, 0}
            if signed:
                values |= {-v for v in harness.INTERESTING}
            edits += [(name, field, value) for value in sorted(values)]
    rng.shuffle(edits)
    for name, field, value in edits:
        header, payload = container.unpack(seeds[name])
        try:
            yield name, container.pack(harness.with_field(header, field, value), payload)
        except (ValueError, OverflowError):
            continue


def systematic_count(seeds: dict[str, bytes]) -> int:
    """How many edits :func:`systematic` makes."""
    return sum(1 for _ in systematic(seeds, random.Random(0)))


def request_for(data: bytes, rng: random.Random) -> dict:
    """A decode request: the stored size or rate, or another, sometimes extreme."""
    try:
        header, _ = container.unpack(data)
    except InrError:
        return {}
    roll = rng.random()
    if roll < 0.5:
        return {}
    if isinstance(header.signal, ImageFields):
        if roll < 0.75:
            return {"scale": rng.choice((0.01, 0.5, 1.5, 3.0, 17.0, 300.0))}
        return {"width": rng.choice((1, 3, 4096, 1 << 20, 1 << 22)), "height": rng.choice((1, 2, 77, 4096))}
    return {"rate": rng.choice((1, 7, 1000, 22050, 96000, 768_000))}


def _key(message: str) -> str:
    return re.sub(r"-?\d+", "N", message)


@dataclasses.dataclass
class Stats:
    executions: int = 0
    systematic: int = 0
    decoded: int = 0
    refused: int = 0
    findings: int = 0
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    max_memory_ratio: float = 0.0  # of inputs with an estimate over 16 MB
    max_time_ratio: float = 0.0  # of inputs with an estimate over 0.05 s
    max_peak_bytes: int = 0
    max_cpu_seconds: float = 0.0
    worst_memory: str = ""  # the input (sha1 prefix, request) of the largest memory ratio
    worst_time: str = ""  # and of the largest time ratio, saved as worst_*.inr under --artifacts
    messages: collections.Counter = dataclasses.field(default_factory=collections.Counter)


def check_one(data: bytes, request: dict, stats: Stats, artifacts: Path | None) -> str | None:
    """Decode one input, measure it, check outcome and bounds; the finding's text, if any."""
    stats.executions += 1
    try:
        cost = resources.estimate(data, request, LIMITS)
    except InrError:
        cost = None  # refused from the header: nothing large may happen
    except Exception:
        cost, error = None, traceback.format_exc(limit=3)
        return _save(data, request, f"estimate raised {error}", stats, artifacts)
    finding = None
    try:
        m = resources.measure(resources.decode_call(data, request, LIMITS))
    except InrError as e:  # raised outside the measured call (peek_modality)
        m = resources.Measured(0.0, 0.0, 0, str(e))
    except Exception:
        return _save(data, request, traceback.format_exc(limit=6), stats, artifacts)
    stats.max_peak_bytes = max(stats.max_peak_bytes, m.peak_bytes)
    stats.max_cpu_seconds = max(stats.max_cpu_seconds, m.cpu_seconds)
    if m.outcome == "decoded":
        stats.decoded += 1
    else:
        stats.refused += 1
        stats.messages[_key(m.outcome)] += 1
        if not m.outcome or "\n" in m.outcome:
            finding = f"message is not one line: {m.outcome!r}"
    memory_bound = (cost.memory if cost else 0) + MEMORY_SLACK
    time_bound = TIME_FACTOR * (cost.work if cost else 0) / resources.UNITS_PER_SECOND + TIME_SLACK
    if cost is not None and cost.memory > 16 << 20 and m.peak_bytes / cost.memory > stats.max_memory_ratio:
        stats.max_memory_ratio = m.peak_bytes / cost.memory
        stats.worst_memory = _keep(data, request, "worst_memory", artifacts)
    ratio = m.cpu_seconds * resources.UNITS_PER_SECOND / cost.work if cost is not None and cost.work > 5e8 else 0.0
    if ratio > stats.max_time_ratio:
        stats.max_time_ratio = ratio
        stats.worst_time = _keep(data, request, "worst_time", artifacts)
    if m.peak_bytes > memory_bound:
        finding = f"peak memory {m.peak_bytes} over the estimate {cost.memory if cost else 0} + slack"
    elif m.cpu_seconds > time_bound:
        finding = f"CPU time {m.cpu_seconds:.3f} s over {time_bound:.3f} s (estimate {cost.work if cost else 0} units)"
    if finding:
        return _save(data, request, finding, stats, artifacts)
    return None


def _keep(data: bytes, request: dict, name: str, artifacts: Path | None) -> str:
    """Save the input with the worst ratio so far as ``name``.inr (and its request); its key."""
    if artifacts is not None:
        artifacts.mkdir(parents=True, exist_ok=True)
        (artifacts / f"{name}.inr").write_bytes(data)
        (artifacts / f"{name}.json").write_text(json.dumps(request))
    return f"{hashlib.sha1(data).hexdigest()[:16]} {json.dumps(request)}"


def _save(data: bytes, request: dict, text: str, stats: Stats, artifacts: Path | None) -> str:
    stats.findings += 1
    digest = hashlib.sha1(data + json.dumps(request).encode()).hexdigest()[:16]
    if artifacts is not None:
        artifacts.mkdir(parents=True, exist_ok=True)
        (artifacts / f"{digest}.inr").write_bytes(data)
        (artifacts / f"{digest}.txt").write_text(json.dumps({"request": request, "finding": text}, indent=1))
    print(f"FINDING {digest}: {text.splitlines()[-1] if text else text}", file=sys.stderr, flush=True)
    return text


def run(minutes: float, seed: int = 0, artifacts: Path | None = None, report_every: float = 60.0,
        executions: int | None = None) -> Stats:  # fmt: skip
    """Fuzz for ``minutes`` (or ``executions`` inputs, whichever comes first)."""
    torch.set_num_threads(1)
    rng = random.Random(seed)
    seeds = seed_files()
    names = sorted(seeds)
    stats = Stats()
    start, cpu0, last = time.perf_counter(), time.process_time(), 0.0
    plan = systematic(seeds, random.Random(seed))
    while time.perf_counter() - start < 60 * minutes and (executions is None or stats.executions < executions):
        # systematic edits and random ones in turn, until the systematic ones run out
        item = next(plan, None) if stats.executions % 2 == 0 else None
        if item is not None:
            stats.systematic += 1
            data, request = item[1], {}
        else:
            data = mutate(seeds[rng.choice(names)], rng)
            if data is None:
                continue
            request = request_for(data, rng)
        check_one(data, request, stats, artifacts)
        now = time.perf_counter() - start
        if now - last >= report_every:
            last = now
            print(f"{now:7.0f} s  {stats.executions} executions ({stats.systematic} systematic), "
                  f"{stats.decoded} decoded, {stats.refused} refused, {stats.findings} findings, "
                  f"peak {stats.max_peak_bytes >> 20} MB, memory ratio {stats.max_memory_ratio:.2f}, "
                  f"time ratio {stats.max_time_ratio:.2f}", file=sys.stderr, flush=True)  # fmt: skip
    stats.seconds = time.perf_counter() - start
    stats.cpu_seconds = time.process_time() - cpu0
    return stats


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, help="write the figures here as JSON")
    parser.add_argument("--artifacts", type=Path, help="save findings here")
    args = parser.parse_args(argv)
    stats = run(args.minutes, args.seed, args.artifacts)
    record = dataclasses.asdict(stats)
    record["messages"] = dict(stats.messages.most_common())
    record["distinct_messages"] = len(stats.messages)
    record["limits"] = dataclasses.asdict(LIMITS)
    record["command"] = "python -m tests.fuzz.fuzz_structured " + " ".join(sys.argv[1:] if argv is None else argv)
    text = json.dumps(record, indent=1)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n")
    print({k: v for k, v in record.items() if k not in ("messages", "limits")})


if __name__ == "__main__":
    main()
