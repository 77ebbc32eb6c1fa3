"""Run the audio benchmark (issues #4, #18): inrcodec against MP3, Opus and an MDCT reference.

    python benchmarks/audio.py                                   # the committed results
    python benchmarks/audio.py --clip my.wav --effort fast -o /tmp/audio-bench

Finished measurements are cached in the output folder's rows.jsonl, so an interrupted run
resumes where it stopped. Everything is written to the output folder; see docs/audio.md.
"""

from __future__ import annotations

import shlex
import sys
import time
from pathlib import Path

import click

ROOT = Path(__file__).resolve().parents[1]
BACH = ROOT.parent / "shared" / "data" / "audio" / "bach.wav"


@click.command()
@click.option(
    "--clip",
    "clips",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help=f"Audio file to benchmark (repeatable) [{BACH}].",
)
@click.option("--no-plucks", is_flag=True, help="Leave out the synthetic stereo plucks clip.")
@click.option("--kbps", default="16,24,32,48,64", show_default=True, help="Target rates, comma-separated.")
@click.option("--codec", "codecs", default="inr,mp3,opus,mdct", show_default=True)
@click.option("--model", "models", default="grid,siren", show_default=True,
              help="inrcodec audio models, comma-separated: each is a codec row.")  # fmt: skip
@click.option("--effort", default="default", show_default=True, help="inrcodec --effort (fitting steps).")
@click.option("--time", "seconds", type=float, help="inrcodec fitting seconds instead of --effort.")
@click.option(
    "--listen",
    "listen_clips",
    default="bach",
    show_default=True,
    help="Clips (by name, comma-separated) whose 16 and 64 kbit/s decodings are kept as FLAC excerpts.",
)
@click.option("--jobs", type=int, default=1, show_default=True, help="Measurements run at once.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option(
    "-o",
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    default=ROOT / "benchmarks" / "results" / "audio",
    show_default=True,
)
def main(clips, no_plucks, kbps, codecs, models, effort, seconds, listen_clips, jobs, seed, output):
    """Measure SNR, segmental SNR, PSNR, LSD, real kbit/s and times; write tables and plots."""
    from inrcodec.bench.audio import AudioBenchConfig, default_clips, run_audio_benchmark
    from inrcodec.errors import InrError

    try:
        rates = [float(k) for k in kbps.split(",") if k.strip()]
        inr_options = {"seed": seed, **({"time": seconds} if seconds else {"effort": effort})}
        specs = []
        for name in (n for n in codecs.split(",") if n):
            if name == "inr":
                specs += [(name, {"model": m, **inr_options}) for m in models.split(",") if m]
            else:
                specs.append((name, {}))
        config = AudioBenchConfig(
            clips=default_clips(clips or [BACH], plucks=not no_plucks),
            output=output,
            codecs=specs,
            kbps=rates,
            jobs=jobs,
            listen_clips=[c for c in listen_clips.split(",") if c],
            command="python " + shlex.join(["benchmarks/audio.py", *sys.argv[1:]]),
        )
        start = time.monotonic()

        def progress(done: int, total: int, last: str) -> None:
            click.echo(f"[{done}/{total}] {time.monotonic() - start:7.0f} s  {last}", err=True)

        outcome = run_audio_benchmark(config, progress)
    except (InrError, ValueError) as e:
        raise click.ClickException(str(e)) from None
    click.echo(f"{outcome.computed} of {outcome.tasks} measurements computed; results in {outcome.output}")


if __name__ == "__main__":
    main()
