"""Measure the audio latent grid's parts on a clip: effort presets, rate-distortion rounding,
the learned context against the MDCT reference's hand-made one at the same step, and the hop
(forced, at the fast effort) on the clip and on the synthetic plucks, beside the context-free
probe that the encoder chooses its hop by.

    python benchmarks/audio_grid_ablation.py            # bach.wav -> benchmarks/results/audio/grid_ablation.md

Every row is a real file (bytes from the container, SNR of its decoding at the stored rate), one
torch thread; the encode CPU time includes the check decode.
"""

from __future__ import annotations

import shlex
import sys
import time
from pathlib import Path

import click
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
BACH = ROOT.parent / "shared" / "data" / "audio" / "bach.wav"


def _encode(samples: np.ndarray, rate: int, kbps: float, **options) -> dict:
    from inrcodec.audio import AudioEncodeOptions, encode_audio_clip

    cpu = time.process_time()
    result = encode_audio_clip(samples, AudioEncodeOptions(kbps=kbps, **options), rate=rate)
    return {"kbps": result.kbps, "snr": result.snr, "steps": result.steps, "cpu": time.process_time() - cpu}


@click.command()
@click.option("--clip", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=BACH)
@click.option("--kbps", default="16,32,64", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              default=ROOT / "benchmarks" / "results" / "audio" / "grid_ablation.md", show_default=True)  # fmt: skip
def main(clip: Path, kbps: str, output: Path) -> None:
    import torch

    from inrcodec.bench import mdct
    from inrcodec.grid import audio as grid_audio
    from inrcodec.io.audio import read_audio
    from inrcodec.metrics import snr_db

    torch.set_num_threads(1)
    audio = read_audio(clip, 1 << 31)
    rates = [float(k) for k in kbps.split(",")]
    lines = [f"# Audio latent grid: its parts on {clip.name}", "",
             "Command: `python " + shlex.join(["benchmarks/audio_grid_ablation.py", *sys.argv[1:]]) + "`", "",
             "| variant | target kbit/s | real kbit/s | SNR dB | context steps | encode CPU s |",
             "|---|---:|---:|---:|---:|---:|"]  # fmt: skip

    def row(name: str, target: float, r: dict) -> None:
        lines.append(f"| {name} | {target:g} | {r['kbps']:.2f} | {r['snr']:.2f} | {r['steps']} | {r['cpu']:.1f} |")
        click.echo(lines[-1], err=True)

    for target in rates:
        ref = mdct.encode(audio.samples, audio.rate, target)
        decoded, _ = mdct.decode(ref.data)
        row("MDCT reference (128 hand-made context classes, plain rounding)", target,
            {"kbps": 8 * len(ref.data) / audio.duration / 1000, "snr": snr_db(audio.samples, decoded),
             "steps": 0, "cpu": float("nan")})  # fmt: skip
        for effort in ("fast", "default", "high"):
            row(f"grid, --effort {effort}", target, _encode(audio.samples, audio.rate, target, effort=effort))
        rounds = grid_audio.RDO_ROUNDS
        grid_audio.RDO_ROUNDS = 0
        try:
            row("grid, default, no rate-distortion rounding", target, _encode(audio.samples, audio.rate, target))
        finally:
            grid_audio.RDO_ROUNDS = rounds
    from inrcodec.bench.audio import synth_plucks
    from inrcodec.grid import lapped

    lines += ["", "Hops, forced (`candidate_hops` pinned to one), at `--effort fast`; the probe is the SNR of "
              "plain rounding at the step whose context-free entropy meets the target:", "",
              "| clip | target kbit/s | hop | probe SNR dB | real kbit/s | SNR dB |", "|---|---:|---:|---:|---:|---:|"]  # fmt: skip
    chosen = grid_audio.candidate_hops
    for name, samples, rate in ((clip.stem, audio.samples, audio.rate), ("plucks", synth_plucks(), 48000)):
        samples = samples.reshape(len(samples), -1)
        coded, _ = lapped.to_coded(samples)
        for target in (16.0, 48.0):
            target_bytes = target * 1000 * len(samples) / rate / 8
            for hop in (512, 1024, 2048, 4096):
                probe = grid_audio._probe(coded, hop, target_bytes)[3]
                grid_audio.candidate_hops = lambda rate, hop=hop: (hop,)
                try:
                    r = _encode(samples, rate, target, effort="fast")
                finally:
                    grid_audio.candidate_hops = chosen
                lines.append(f"| {name} | {target:g} | {hop} | {probe:.2f} | {r['kbps']:.2f} | {r['snr']:.2f} |")
                click.echo(lines[-1], err=True)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text("\n".join(lines) + "\n")
    click.echo(f"wrote {output}", err=True)


if __name__ == "__main__":
    main()
