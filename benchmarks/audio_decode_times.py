"""Time decoding an audio .inr at its own rate and at others (one thread).

    python benchmarks/audio_decode_times.py      # bach.wav -> benchmarks/results/audio/decode_times.md

Encodes the clip at the default effort at each rate, then times ``inrcodec.decode_audio`` at the
stored rate and at 48, 22.05 and 96 kHz: wall and CPU seconds, on this machine.
"""

from __future__ import annotations

import platform
import shlex
import sys
import time
from pathlib import Path

import click

ROOT = Path(__file__).resolve().parents[1]
BACH = ROOT.parent / "shared" / "data" / "audio" / "bach.wav"


@click.command()
@click.option("--clip", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=BACH)
@click.option("--kbps", default="16,64", show_default=True)
@click.option("--rates", default="48000,22050,96000", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              default=ROOT / "benchmarks" / "results" / "audio" / "decode_times.md", show_default=True)  # fmt: skip
def main(clip: Path, kbps: str, rates: str, output: Path) -> None:
    import torch

    import inrcodec
    from inrcodec.audio import AudioEncodeOptions, encode_audio_clip
    from inrcodec.io.audio import read_audio

    torch.set_num_threads(1)
    audio = read_audio(clip, 1 << 31)
    out_rates = [audio.rate] + [int(r) for r in rates.split(",")]
    lines = [f"# Decoding {clip.name} at any rate: wall / CPU seconds, one thread", "",
             "Command: `python " + shlex.join(["benchmarks/audio_decode_times.py", *sys.argv[1:]]) + "`; "
             f"machine: {platform.processor() or platform.machine()}, {platform.python_version()}", "",
             "| file | " + " | ".join(f"{r} Hz" + (" (stored)" if r == audio.rate else "") for r in out_rates) + " |",
             "|---|" + "---:|" * len(out_rates)]  # fmt: skip
    for target in (float(k) for k in kbps.split(",")):
        data = encode_audio_clip(audio, AudioEncodeOptions(kbps=target)).data
        cells = []
        for rate in out_rates:
            wall, cpu = time.perf_counter(), time.process_time()
            inrcodec.decode_audio(data, rate=rate)
            cells.append(f"{time.perf_counter() - wall:.2f} / {time.process_time() - cpu:.2f}")
        lines.append(f"| {target:g} kbit/s | " + " | ".join(cells) + " |")
        click.echo(lines[-1], err=True)
    output.write_text("\n".join(lines) + "\n")
    click.echo(f"wrote {output}", err=True)


if __name__ == "__main__":
    main()
