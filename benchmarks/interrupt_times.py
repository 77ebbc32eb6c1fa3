"""How long `inrcodec encode` takes to stop after SIGINT / SIGTERM mid-fit: the figures behind
docs/reliability.md (tests/test_reliability.py asserts the bounds: message within 1 s, exit within
2 s, status 130, nothing left behind).

    python benchmarks/interrupt_times.py [--trials 5] [--delay 1.0] [--json out.json]

Each trial starts ``inrcodec encode`` on a 96 x 96 image in a subprocess (one torch thread), waits
for the first progress line (the fit is running), then a random 0 .. ``--delay`` seconds so that the
signal lands at any point of a fit step or an evaluation, sends the signal and times the
``inrcodec: interrupted`` line ("stopped": the fit has unwound and removed its temporary files)
and the process's exit.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import select
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image


def _line(stream, seconds: float) -> str:
    ready, _, _ = select.select([stream], [], [], seconds)
    if not ready:
        raise RuntimeError("no output from the encoder")
    return stream.readline()


def trial(model: str, sig: signal.Signals, delay: float) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "in.png"
        y, x = np.mgrid[0:96, 0:96]
        img = np.stack([x * 2, y * 2, (x + y)], axis=-1).astype(np.uint8)
        Image.fromarray(img).save(src)
        cmd = [sys.executable, "-m", "inrcodec", "encode", str(src), "-o", str(Path(tmp) / "out.inr"),
               "--time", "120", "--model", model]  # fmt: skip
        # default SIGINT disposition, even when this script runs in the background (which ignores it)
        proc = subprocess.Popen(
            cmd,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "OMP_NUM_THREADS": "1"},
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )
        try:
            first = _line(proc.stderr, 120)
            time.sleep(delay)
            sent = time.monotonic()
            proc.send_signal(sig)
            last = _line(proc.stderr, 30)
            stopped = time.monotonic() - sent
            proc.wait(timeout=30)
            exited = time.monotonic() - sent
        finally:
            proc.kill()
        left = sorted(p.name for p in Path(tmp).iterdir())
    return {"model": model, "signal": sig.name, "delay_s": delay, "first_line": first.strip(), "last_line": last.strip(),
            "status": proc.returncode, "stopped_s": stopped, "exited_s": exited, "files_left": left}  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=5)
    parser.add_argument("--delay", type=float, default=1.0, help="longest wait after the first progress line")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    rng = random.Random(0)
    rows = []
    for model, sig in [("siren", signal.SIGINT), ("siren", signal.SIGTERM), ("grid", signal.SIGINT),
                       ("grid", signal.SIGTERM)]:  # fmt: skip
        for _ in range(args.trials):
            rows.append(trial(model, sig, rng.uniform(0, args.delay)))
            r = rows[-1]
            print(f"{model:6s} {sig.name:8s} status {r['status']}, stopped {r['stopped_s']:.3f} s, "
                  f"exited {r['exited_s']:.3f} s, left {r['files_left']}", flush=True)  # fmt: skip
    summary = {}
    for key in sorted({(r["model"], r["signal"]) for r in rows}):
        sel = [r for r in rows if (r["model"], r["signal"]) == key]
        summary[" ".join(key)] = {
            "trials": len(sel),
            "stopped_s_median": statistics.median(r["stopped_s"] for r in sel),
            "stopped_s_max": max(r["stopped_s"] for r in sel),
            "exited_s_median": statistics.median(r["exited_s"] for r in sel),
            "exited_s_max": max(r["exited_s"] for r in sel),
            "all_status_130": all(r["status"] == 130 for r in sel),
            "all_clean": all(r["files_left"] == ["in.png"] for r in sel),
        }
        print(key, summary[" ".join(key)])
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"summary": summary, "rows": rows}, indent=2) + "\n")


if __name__ == "__main__":
    main()
