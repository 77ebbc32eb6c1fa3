"""What the MDCT reference's parts are worth (issue 18): its context model and its rounding.

    python benchmarks/mdct_ablation.py          # writes benchmarks/results/audio/mdct_ablation.{json,md}

On bach.wav at 16, 32 and 64 kbit/s, each variant of the coder of ``inrcodec/bench/mdct.py``
writes real bytes at the target (the step bisected on the file size) and is decoded:

- ``reference``: the coder as the audio benchmark runs it;
- ``no context``: one Laplace scale per frequency band (every activity bucket set to 0, in the
  encoder and the decoder alike), i.e. without the previous frame's magnitudes;
- ``dead zone 0.4`` / ``0.2``: rounding ``|q| = floor(|X| / step + r)`` instead of to the
  nearest integer; the decoder is unchanged.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from unittest import mock

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

BACH = ROOT.parent / "shared" / "data" / "audio" / "bach.wav"
OUT = ROOT / "benchmarks" / "results" / "audio"
KBPS = (16.0, 32.0, 64.0)


def main() -> None:
    from inrcodec.bench import mdct
    from inrcodec.bench.audio import load_clip
    from inrcodec.metrics import snr_db

    clip = load_clip(BACH)

    def measure(kbps: float, rounding: float = 0.5) -> dict:
        enc = mdct.encode(clip.samples, clip.rate, kbps, rounding=rounding)
        decoded, _ = mdct.decode(enc.data)
        real = 8 * len(enc.data) / clip.duration / 1000
        return {"kbps": real, "snr": float(snr_db(clip.samples.astype(np.float64), decoded))}

    def no_context(previous: np.ndarray) -> np.ndarray:
        return np.zeros(previous.shape, int)

    rows = []
    for kbps in KBPS:
        rows.append({"variant": "reference", "target_kbps": kbps, **measure(kbps)})
        with mock.patch.object(mdct, "_buckets", no_context):
            rows.append({"variant": "no context", "target_kbps": kbps, **measure(kbps)})
        for r in (0.4, 0.2):
            rows.append({"variant": f"dead zone {r}", "target_kbps": kbps, **measure(kbps, r)})
    (OUT / "mdct_ablation.json").write_text(json.dumps({"clip": clip.description, "rows": rows}, indent=2) + "\n")
    variants = list(dict.fromkeys(r["variant"] for r in rows))
    lines = [
        "# The MDCT reference's parts, bach.wav (benchmarks/mdct_ablation.py)",
        "",
        "SNR in dB of the decoded real bytes (real kbit/s in brackets).",
        "",
        "| target kbit/s | " + " | ".join(variants) + " |",
        "|---:|" + "---:|" * len(variants),
    ]
    for kbps in KBPS:
        cells = [next(r for r in rows if r["variant"] == v and r["target_kbps"] == kbps) for v in variants]
        lines.append(f"| {kbps:g} | " + " | ".join(f"{c['snr']:.2f} ({c['kbps']:.1f})" for c in cells) + " |")
    (OUT / "mdct_ablation.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
