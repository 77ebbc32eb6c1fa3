"""Audio rate-distortion benchmark: inrcodec against MP3, Opus and an MDCT reference (issues #4, #18).

The image harness (:mod:`.harness`) is built around pixels, bpp and Pillow codecs; audio reuses
its row cache (:mod:`.cache`), executors (:mod:`inrcodec.executors`), machine description
(:mod:`.machine`) and JSON writer (:mod:`.report`), and adds here what audio needs:

- clips: files (any format libsndfile reads) and :func:`synth_plucks`, a documented synthetic
  stereo clip;
- codecs: ``inr`` (this codec, at a target kbit/s); ``mp3`` / ``opus`` through soundfile, at
  their best: for each target, every sample rate (and for MP3 bitrate mode) from a list is
  tried, its compression level searched so that the *measured* rate (file bytes) meets the
  target, and the highest SNR at no more than the target (+ :data:`RATE_TOLERANCE`) kept (the
  upper envelope);
  ``mdct``, a plain transform coder written for this benchmark (:mod:`.mdct`);
- metrics through :mod:`inrcodec.metrics` only: SNR, segmental SNR, PSNR on [-1, 1] and
  log-spectral distance, on the decoding at the original rate, time-aligned;
- outputs: ``rows.jsonl`` (cache), ``audio.csv``, one results JSON per codec, ``rd_snr.png``,
  ``encode_time.md``, ``summary.md``, ``references.md`` (every sample rate each reference tried),
  ``machine.json``, ``command.txt``; and for the listening clips, decoded excerpts as FLAC under
  ``listen/`` with ``spectrograms-<clip>.png``.

Nothing here prints; progress goes through a callback.
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from ..errors import InputError, OptionError, OutputError
from ..executors import make_executor
from ..io.files import atomic_output, write_bytes_atomic
from . import mdct
from .cache import ROWS_FILE, RowCache, task_key
from .machine import machine_info
from .plot import pyplot, save_figure
from .report import write_json

DEFAULT_KBPS = (16.0, 24.0, 32.0, 48.0, 64.0)
CSV_FILE = "audio.csv"
RD_PLOT = "rd_snr.png"
TIME_TABLE = "encode_time.md"
SUMMARY = "summary.md"
MACHINE_JSON = "machine.json"
COMMAND_TXT = "command.txt"
REFERENCES = "references.md"
LISTEN_DIR = "listen"
METRICS = ("snr", "segsnr", "psnr", "lsd")
#: a reference codec's setting counts for a target when its real rate is this close to it
RATE_TOLERANCE = 0.05


# --- clips -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Clip:
    """One benchmark clip: float32 (frames, channels) in [-1, 1]."""

    name: str
    samples: np.ndarray
    rate: int
    description: str

    @property
    def sha256(self) -> str:
        h = hashlib.sha256(np.ascontiguousarray(self.samples).tobytes())
        h.update(str(self.rate).encode())
        return h.hexdigest()

    @property
    def duration(self) -> float:
        return len(self.samples) / self.rate


def synth_plucks(seconds: float = 6.0, rate: int = 48000, seed: int = 0) -> np.ndarray:
    """A synthetic stereo arpeggio of Karplus-Strong plucked strings, (frames, 2) float32.

    Notes (A minor, F, C, G chords, 4 notes each) start every 0.375 s and ring on; each string is
    a zero-mean noise burst (smoothed by a 4-tap moving average) fed through a delay line of one
    period with a two-tap averaging loop filter (Karplus & Strong 1983), damped by 0.996 per
    period. Notes alternate between the channels
    (gains 0.8 / 0.35), so the channels are correlated but not equal. Deterministic for a seed.
    """
    rng = np.random.default_rng(seed)
    frames = round(seconds * rate)
    out = np.zeros((frames, 2))
    chords = [(220.0, 261.63, 329.63, 440.0), (174.61, 220.0, 261.63, 349.23),
              (130.81, 196.0, 261.63, 329.63), (196.0, 246.94, 293.66, 392.0)]  # fmt: skip
    notes = [f for chord in chords for f in chord]
    step = round(0.375 * rate)
    for i, f in enumerate(notes):
        start = i * step
        if start >= frames:
            break
        tone = _pluck(f, rate, frames - start, rng)
        gains = (0.8, 0.35) if i % 2 == 0 else (0.35, 0.8)
        out[start:, 0] += gains[0] * tone
        out[start:, 1] += gains[1] * tone
    return (0.8 * out / np.abs(out).max()).astype(np.float32)


def _pluck(freq: float, rate: int, n: int, rng: np.random.Generator, damping: float = 0.996) -> np.ndarray:
    period = max(2, round(rate / freq))
    y = np.zeros(n + period)
    burst = rng.uniform(-1, 1, period)
    # A zero-mean, softened excitation: a plucking finger, not a click (and no DC, which the loop
    # would otherwise keep for seconds).
    burst = np.convolve(burst - burst.mean(), np.ones(4) / 4, mode="same")
    y[:period] = burst - burst.mean()
    for start in range(period, n + period, period):
        # y[m] = damping * (y[m - P] + y[m - P - 1]) / 2, a whole period at a time (each block
        # only reads the one before it).
        stop = min(start + period, n + period)
        prev = y[start - period : stop - period]
        shifted = np.concatenate([[y[start - period - 1]], prev[:-1]])
        y[start:stop] = damping * 0.5 * (prev + shifted)
    return y[:n]


def load_clip(path: str | Path) -> Clip:
    from ..io.audio import read_audio

    audio = read_audio(path)
    return Clip(Path(path).stem, audio.samples, audio.rate,
                f"{Path(path).name}: {audio.rate} Hz, {audio.channels} ch, {audio.duration:.2f} s, "
                f"{audio.format} {audio.subtype}")  # fmt: skip


def plucks_clip(seconds: float = 6.0) -> Clip:
    return Clip("plucks", synth_plucks(seconds), 48000,
                f"synthetic Karplus-Strong arpeggio (synth_plucks, seed 0): 48000 Hz, 2 ch, {seconds:.2f} s")  # fmt: skip


# --- codecs ------------------------------------------------------------------------------------


class AudioCodec(ABC):
    """One lossy audio codec under test, driven by a target kbit/s."""

    name: ClassVar[str]
    description: ClassVar[str]
    family: ClassVar[str] = "classical"
    #: bumped when what the harness does with the codec changes its numbers (a new cache key)
    revision: ClassVar[int] = 2

    def __init__(self, options: Mapping[str, Any] | None = None) -> None:
        self.options = dict(options or {})

    def choose(self, clip: Clip, kbps: float) -> dict[str, Any]:
        """Settings that meet ``kbps`` on this clip (a search; not part of the encode time)."""
        return {}

    @abstractmethod
    def encode(self, clip: Clip, kbps: float, choice: Mapping[str, Any]) -> tuple[bytes, dict[str, Any]]:
        """Compress the clip at about ``kbps``; the bytes are the whole file a user would keep."""

    @abstractmethod
    def decode(self, data: bytes, clip: Clip) -> np.ndarray:
        """Decompress to (frames, channels) float at the clip's own rate."""

    def version(self) -> str:
        return ""

    def identity(self) -> dict[str, Any]:
        return {"codec": self.name, "options": self.options, "version": self.version(), "revision": self.revision}

    def variant(self) -> str:
        parts = [f"{k}={v}" for k, v in sorted(self.options.items())]
        return "-".join([self.name, *parts])


class InrAudio(AudioCodec):
    name = "inr"
    description = ("inrcodec (this codec): the audio latent grid (lapped cosine synthesis, integer context "
                   "model, ANS), or --model siren's segmented 1-D SIRENs; steps from --effort, so the file does "
                   "not depend on the machine")  # fmt: skip
    family = "inr"

    def version(self) -> str:
        from .. import __version__

        return __version__

    def encode(self, clip, kbps, choice):
        from ..audio import AudioEncodeOptions, encode_audio_clip

        opts = AudioEncodeOptions(kbps=kbps, **self.options)
        result = encode_audio_clip(clip.samples, opts, rate=clip.rate)
        return result.data, {"steps": result.steps, "segments": result.segments}

    def decode(self, data, clip):
        from ..audio import decode_audio

        return decode_audio(data)[0]


class _Libsndfile(AudioCodec):
    """A lossy libsndfile format at its best: for each target, every (sample rate, bitrate mode) of
    :meth:`settings` gets its compression level searched for the target, and the best SNR wins."""

    format: ClassVar[str]
    subtype: ClassVar[str]
    #: libsndfile's bitrate modes to try (None: the format's default)
    modes: ClassVar[tuple[str | None, ...]] = (None,)

    def version(self) -> str:
        import soundfile as sf

        return f"soundfile {sf.__version__}, {sf.__libsndfile_version__}"

    def coding_rates(self, rate: int) -> list[int]:
        """The sample rates to try."""
        return [rate]

    def _write(self, samples: np.ndarray, rate: int, level: float, mode: str | None) -> bytes:
        import soundfile as sf

        buf = io.BytesIO()
        sf.write(buf, samples, rate, format=self.format, subtype=self.subtype,
                 compression_level=level, bitrate_mode=mode)  # fmt: skip
        return buf.getvalue()

    def choose(self, clip, kbps):
        """The codec at its best for this target (the upper envelope of SNR against rate).

        At each sample rate of :meth:`coding_rates` and each bitrate mode of :attr:`modes` the
        level is searched for the target; of the settings whose real rate is at most
        ``1 + RATE_TOLERANCE`` times the target, the one with the highest SNR (decoded at the
        clip's rate) wins: a setting that reaches a higher SNR with fewer bits is the codec's best
        at this target. If none is that small, the one nearest the target.
        """
        from ..metrics import snr_db

        candidates = []
        for coding_rate in self.coding_rates(clip.rate):
            x = resample(clip.samples, clip.rate, coding_rate)
            for mode in self.modes:
                write = lambda c, x=x, r=coding_rate, m=mode: self._write(x, r, c, m)
                try:
                    level, data = _search_level(write, kbps * clip.duration * 125)
                except (RuntimeError, ValueError):  # libsndfile refuses some rate/format pairs
                    continue
                real = 8 * len(data) / clip.duration / 1000
                snr = _finite(snr_db(clip.samples, self.decode(data, clip)))
                candidates.append({"coding_rate": coding_rate, "mode": mode, "level": level, "kbps": real, "snr": snr})
        if not candidates:
            raise OptionError(f"{self.name} could not code this clip at any of its sample rates")
        fitting = [c for c in candidates if c["kbps"] <= (1 + RATE_TOLERANCE) * kbps and c["snr"] is not None]
        if fitting:
            best = max(fitting, key=lambda c: c["snr"])
        else:
            best = min(candidates, key=lambda c: abs(math.log(c["kbps"] / kbps)))
        return {"level": best["level"], "coding_rate": best["coding_rate"], "mode": best["mode"],
                "candidates": candidates}  # fmt: skip

    def encode(self, clip, kbps, choice):
        # Resampling to the coding rate is part of what a user's encode does, so it is timed.
        x = resample(clip.samples, clip.rate, choice["coding_rate"])
        return self._write(x, choice["coding_rate"], choice["level"], choice["mode"]), dict(choice)

    def decode(self, data, clip):
        import soundfile as sf

        y, rate = sf.read(io.BytesIO(data), dtype="float32", always_2d=True)
        y = resample(y, rate, clip.rate)
        return align(clip.samples, y)


#: the sample rates LAME writes (MPEG-1, MPEG-2 and MPEG-2.5)
MP3_RATES = (8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000)


class Mp3(_Libsndfile):
    name = "mp3"
    description = ("MP3 (LAME through libsndfile) at its best: VBR and CBR at the clip's rate, half, a "
                   "quarter, 32 and 16 kHz, the highest SNR kept (resampled in and out)")  # fmt: skip
    format, subtype = "MP3", "MPEG_LAYER_III"
    modes = ("VARIABLE", "CONSTANT")

    def coding_rates(self, rate):
        wanted = {rate, rate // 2, rate // 4, 32000, 16000}
        return sorted((r for r in wanted if r in MP3_RATES and r <= rate), reverse=True)


class Opus(_Libsndfile):
    name = "opus"
    description = ("Opus in Ogg (libopus through libsndfile), VBR, at its best: 48, 24, 16 and 12 kHz "
                   "tried, the highest SNR kept (resampled in and out)")  # fmt: skip
    format, subtype = "OGG", "OPUS"

    def coding_rates(self, rate):
        return [48000, 24000, 16000, 12000]


class Mdct(AudioCodec):
    """The transform-coder reference (:mod:`.mdct`): one quantiser step, bisected for the target
    on the real file size (the search is the choice; the timed encode codes at that step)."""

    name = "mdct"
    description = ("MDCT reference (inrcodec.bench.mdct): sine window, 2048/1024, one uniform step for all "
                   "coefficients, context-adaptive Laplace coded with constriction; real bytes")  # fmt: skip
    family = "reference"

    def version(self) -> str:
        from importlib.metadata import version

        return f"mdct {mdct.VERSION}, constriction {version('constriction')}"

    def choose(self, clip, kbps):
        return {"step": mdct.encode(clip.samples, clip.rate, kbps).step}

    def encode(self, clip, kbps, choice):
        return mdct.encode_at_step(clip.samples, clip.rate, choice["step"]), dict(choice)

    def decode(self, data, clip):
        return mdct.decode(data)[0].astype(np.float32)


CODECS: dict[str, type[AudioCodec]] = {c.name: c for c in (InrAudio, Mp3, Opus, Mdct)}


def _search_level(write: Callable[[float], bytes], target_bytes: float, rounds: int = 12) -> tuple[float, bytes]:
    """The compression level in [0, 0.99] whose file size is nearest ``target_bytes``.

    Sizes fall as the level rises (in steps, for CBR), so bisection finds the two levels that
    bracket the target and the nearer one in log size wins.
    """
    lo, hi = 0.0, 0.99
    tried = {lo: write(lo), hi: write(hi)}
    for _ in range(rounds):
        mid = (lo + hi) / 2
        tried[mid] = write(mid)
        if len(tried[mid]) > target_bytes:
            lo = mid
        else:
            hi = mid
    best = min(tried, key=lambda c: abs(math.log(len(tried[c]) / target_bytes)))
    return best, tried[best]


def resample(x: np.ndarray, rate: int, new_rate: int) -> np.ndarray:
    """Band-limited polyphase resampling (scipy's Kaiser-windowed resample_poly)."""
    if rate == new_rate:
        return x
    from scipy.signal import resample_poly

    g = math.gcd(rate, new_rate)
    return resample_poly(x, new_rate // g, rate // g, axis=0).astype(np.float32)


def align(reference: np.ndarray, y: np.ndarray, max_lag: int = 4096) -> np.ndarray:
    """``y`` shifted by the lag that best matches ``reference`` (codec delay), cut to its length.

    MP3 at MPEG-2 rates comes back with LAME's encoder delay still in it; removing it is in the
    codec's favour (a listener would hear the delay, a waveform metric would be ruined by it).
    """
    from scipy.signal import correlate

    n = min(len(reference), len(y))
    c = correlate(y[:n].sum(1), reference[:n].sum(1), mode="full", method="fft")
    window = c[n - 1 - min(max_lag, n - 1) : n + min(max_lag, n - 1)]
    lag = int(np.argmax(window)) - min(max_lag, n - 1)
    shifted = y[lag:] if lag >= 0 else np.concatenate([np.zeros((-lag, y.shape[1]), y.dtype), y])
    out = np.zeros_like(reference)
    m = min(len(out), len(shifted))
    out[:m] = shifted[:m]
    return out


# --- tasks -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AudioTask:
    key: str
    clip: Clip
    codec: str
    options: Mapping[str, Any]
    variant: str
    kbps: float
    listen: Path | None = None  # write the first listen_seconds of the decoding here (FLAC)
    listen_seconds: float = 0.0


def run_audio_task(task: AudioTask) -> dict[str, Any]:
    """Encode, decode and measure one (clip, codec, kbps); plain data in and out."""
    from ..audio import quality

    codec = CODECS[task.codec](task.options)
    choice = codec.choose(task.clip, task.kbps)
    start, cpu = time.perf_counter(), time.process_time()
    data, extra = codec.encode(task.clip, task.kbps, choice)
    encode_s, encode_cpu_s = time.perf_counter() - start, time.process_time() - cpu
    start = time.perf_counter()
    decoded = codec.decode(data, task.clip)
    decode_s = time.perf_counter() - start
    q = quality(task.clip.samples, decoded)
    if task.listen is not None:
        write_excerpt(task.listen, decoded, task.clip.rate, task.listen_seconds)
    return {
        "key": task.key,
        "clip": task.clip.name,
        "clip_sha256": task.clip.sha256,
        "codec": task.codec,
        "variant": task.variant,
        "family": codec.family,
        "target_kbps": task.kbps,
        "bytes": len(data),
        "kbps": 8 * len(data) / task.clip.duration / 1000,
        **{k: _finite(v) for k, v in q.items()},
        "encode_s": encode_s,
        "encode_cpu_s": encode_cpu_s,
        "decode_s": decode_s,
        "codec_version": codec.version(),
        "options": dict(task.options),
        **extra,
    }


def _finite(v: float) -> float | None:
    return float(v) if math.isfinite(v) else None


def write_excerpt(path: Path, samples: np.ndarray, rate: int, seconds: float) -> None:
    """The first ``seconds`` of ``samples`` as a 16-bit FLAC (written atomically)."""
    import soundfile as sf

    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_output(path) as tmp:
        sf.write(tmp, np.clip(samples[: round(seconds * rate)], -1, 1), rate, format="FLAC", subtype="PCM_16")


def listen_path(folder: Path, clip: str, variant: str | None, kbps: float | None) -> Path:
    """Where the listening excerpt of a (clip, codec variant, target rate) goes; the original's
    without a variant."""
    name = f"{clip}-original" if variant is None else f"{clip}-{variant}-{kbps:g}kbps"
    return folder / LISTEN_DIR / f"{name}.flac"


# --- the run -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class AudioBenchConfig:
    clips: Sequence[Clip]
    output: Path
    codecs: Sequence[tuple[str, Mapping[str, Any]]] = (("inr", {}), ("mp3", {}), ("opus", {}))
    kbps: Sequence[float] = DEFAULT_KBPS
    jobs: int = 1
    command: str = ""
    #: clips (by name) whose decodings at listen_kbps are kept as FLAC excerpts, with spectrograms
    listen_clips: Sequence[str] = ()
    listen_kbps: Sequence[float] = (16.0, 64.0)
    listen_seconds: float = 4.0


@dataclass
class AudioBenchOutcome:
    output: Path
    tasks: int
    computed: int
    files: list[Path] = field(default_factory=list)


ProgressCallback = Callable[[int, int, str], None]


def plan_audio_tasks(config: AudioBenchConfig) -> list[AudioTask]:
    tasks = []
    for name, options in config.codecs:
        if name not in CODECS:
            raise OptionError(f"unknown audio codec '{name}' (choose from {', '.join(CODECS)})")
        codec = CODECS[name](options)
        for kbps in config.kbps:
            for clip in config.clips:
                key = task_key(clip.sha256, codec.identity(), kbps)
                listen = clip.name in config.listen_clips and float(kbps) in config.listen_kbps
                path = listen_path(config.output, clip.name, codec.variant(), kbps) if listen else None
                tasks.append(AudioTask(key, clip, name, dict(options), codec.variant(), float(kbps), path,
                                       config.listen_seconds))  # fmt: skip
    return tasks


def run_audio_benchmark(config: AudioBenchConfig, progress: ProgressCallback | None = None) -> AudioBenchOutcome:
    """Run every (codec, kbps, clip) not yet in the output folder's cache, then write the outputs."""
    if not config.clips:
        raise InputError("no clips to benchmark")
    try:
        config.output.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise OutputError(f"cannot create {config.output}: {e.strerror}") from None
    cache = RowCache(config.output)
    tasks = plan_audio_tasks(config)
    pending = [t for t in tasks if t.key not in cache]
    machine = machine_info(config.jobs, 1)
    machine["versions"].update(_audio_versions())
    write_json(config.output / MACHINE_JSON, machine)
    _append_command(config.output / COMMAND_TXT, config.command)
    with make_executor(config.jobs, 1) as pool:
        for done, row in enumerate(pool.map_unordered(run_audio_task, pending), start=1):
            row["cpu"] = machine["cpu"]
            cache.add(row)
            if progress is not None:
                progress(done, len(pending), f"{row['variant']} {row['target_kbps']:g} kbps {row['clip']}")
    keys = {t.key for t in tasks}
    rows = [r for r in cache.rows() if r["key"] in keys]
    files = write_audio_outputs(config.output, rows, config.clips)
    for clip in config.clips:
        if clip.name in config.listen_clips:
            original = listen_path(config.output, clip.name, None, None)
            write_excerpt(original, clip.samples, clip.rate, config.listen_seconds)
            excerpts = {(t.variant, t.kbps): t.listen for t in tasks if t.clip is clip and t.listen is not None}
            path = config.output / f"spectrograms-{clip.name}.png"
            files += [original, plot_spectrograms(clip, original, excerpts, path)]
    return AudioBenchOutcome(config.output, len(tasks), len(pending), files)


def _audio_versions() -> dict[str, str]:
    import scipy
    import soundfile as sf

    return {"soundfile": sf.__version__, "libsndfile": sf.__libsndfile_version__, "scipy": scipy.__version__}


def _append_command(path: Path, command: str) -> None:
    previous = path.read_text(encoding="utf-8") if path.exists() else ""
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    write_bytes_atomic(path, f"{previous}# {stamp}\n{command}\n".encode())


# --- outputs -----------------------------------------------------------------------------------

_CSV_COLUMNS = ("clip", "variant", "codec", "target_kbps", "kbps", "bytes", *METRICS, "encode_s", "encode_cpu_s",
                "decode_s", "steps", "segments", "level", "coding_rate", "mode", "step", "codec_version")  # fmt: skip


def write_audio_outputs(folder: Path, rows: Sequence[Mapping[str, Any]], clips: Sequence[Clip]) -> list[Path]:
    """The CSV, per-codec JSON, RD plot, encode-time table and summary for ``rows``."""
    ordered = sorted(rows, key=lambda r: (r["clip"], r["variant"], r["target_kbps"]))
    files = [folder / CSV_FILE]
    with atomic_output(folder / CSV_FILE) as tmp, open(tmp, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=_CSV_COLUMNS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(ordered)
    for variant in sorted({r["variant"] for r in ordered}):
        mine = [r for r in ordered if r["variant"] == variant]
        path = folder / f"{variant}.json"
        write_json(path, results_json(variant, mine))
        files.append(path)
    files.append(plot_rd(ordered, clips, folder / RD_PLOT))
    write_bytes_atomic(folder / TIME_TABLE, encode_time_markdown(ordered).encode())
    write_bytes_atomic(folder / SUMMARY, summary_markdown(ordered, clips).encode())
    write_bytes_atomic(folder / REFERENCES, references_markdown(ordered).encode())
    files += [
        folder / TIME_TABLE,
        folder / SUMMARY,
        folder / REFERENCES,
        folder / MACHINE_JSON,
        folder / COMMAND_TXT,
        folder / ROWS_FILE,
    ]
    return files


def results_json(variant: str, rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """CompressAI-style results, per clip: lists over the settings, lowest rate first."""
    codec = CODECS[rows[0]["codec"]]
    per_clip = {}
    for clip in sorted({r["clip"] for r in rows}):
        mine = sorted((r for r in rows if r["clip"] == clip), key=lambda r: r["target_kbps"])
        per_clip[clip] = {
            key: [r.get(key) for r in mine] for key in ("target_kbps", "kbps", *METRICS, "encode_s", "decode_s")
        }
    return {"name": variant, "description": codec.description, "family": codec.family, "results": per_clip}


def plot_rd(rows: Sequence[Mapping[str, Any]], clips: Sequence[Clip], path: Path) -> Path:
    """SNR (top) and log-spectral distance (bottom) against the measured kbit/s, one column per clip."""
    plt = pyplot()
    fig, axes = plt.subplots(2, len(clips), figsize=(6 * len(clips), 8), dpi=110, squeeze=False)
    for col, clip in enumerate(clips):
        for variant in sorted({r["variant"] for r in rows}):
            mine = sorted(
                (r for r in rows if r["clip"] == clip.name and r["variant"] == variant), key=lambda r: r["kbps"]
            )
            if not mine:
                continue
            inr = mine[0]["family"] == "inr"
            dash = {"inr": "-", "reference": "-."}.get(mine[0]["family"], "--")
            style = {"linestyle": dash, "linewidth": 2.2 if inr else 1.4, "marker": "o" if inr else "."}
            for row, metric in enumerate(("snr", "lsd")):
                pts = [(r["kbps"], r[metric]) for r in mine if r[metric] is not None]
                if pts:
                    axes[row][col].plot(*zip(*pts), label=variant, **style)
        axes[0][col].set_title(clip.description, fontsize=8)
        axes[0][col].set_ylabel("SNR [dB] (higher is better)")
        axes[1][col].set_ylabel("log-spectral distance [dB] (lower is better)")
        for ax in axes[:, col]:
            ax.set_xlabel("measured rate [kbit/s]")
            ax.grid(True, alpha=0.3)
            ax.legend(fontsize=8)
    return save_figure(fig, path)


def _cell(v: Any, digits: int = 2) -> str:
    return "–" if v is None else f"{v:.{digits}f}"


def encode_time_markdown(rows: Sequence[Mapping[str, Any]]) -> str:
    """Encode (wall and CPU) and decode seconds per clip, codec and target rate."""
    lines = ["| clip | codec | target kbit/s | real kbit/s | encode s | encode CPU s | decode s |",
             "|---|---|---:|---:|---:|---:|---:|"]  # fmt: skip
    for r in rows:
        lines.append(f"| {r['clip']} | {r['variant']} | {r['target_kbps']:g} | {r['kbps']:.1f} | "
                     f"{r['encode_s']:.2f} | {_cell(r.get('encode_cpu_s'))} | {r['decode_s']:.2f} |")  # fmt: skip
    return "\n".join(lines) + "\n"


def references_markdown(rows: Sequence[Mapping[str, Any]]) -> str:
    """Every sample rate each reference codec tried for each target, and which one was kept."""
    lines = ["# The reference codecs at their best", "",
             "Per target, each sample rate's (and mode's) level was searched for the target; the highest SNR "
             f"at a real rate of at most {1 + RATE_TOLERANCE:g} x the target was kept (the upper envelope).", "",
             "| clip | codec | target kbit/s | coding rate Hz | mode | real kbit/s | SNR dB | kept |",
             "|---|---|---:|---:|---|---:|---:|---|"]  # fmt: skip
    for r in rows:
        for c in r.get("candidates") or ():
            kept = "**yes**" if (c["coding_rate"], c.get("mode")) == (r.get("coding_rate"), r.get("mode")) else ""
            lines.append(f"| {r['clip']} | {r['variant']} | {r['target_kbps']:g} | {c['coding_rate']} | "
                         f"{(c.get('mode') or 'default').lower()} | {c['kbps']:.1f} | {_cell(c['snr'])} | {kept} |")  # fmt: skip
    return "\n".join(lines) + "\n"


def plot_spectrograms(clip: Clip, original: Path, excerpts: Mapping[tuple[str, float], Path], path: Path) -> Path:
    """Log-power spectrograms of the original excerpt and each decoding, one row per target rate."""
    import soundfile as sf
    from scipy.signal import spectrogram

    plt = pyplot()
    rates = sorted({k for _, k in excerpts})
    variants = sorted({v for v, _ in excerpts})
    fig, axes = plt.subplots(len(rates), 1 + len(variants), figsize=(3.2 * (1 + len(variants)), 2.8 * len(rates)),
                             dpi=100, squeeze=False, sharex=True, sharey=True)  # fmt: skip

    cmap = plt.get_cmap("magma", 20)  # 6 dB a colour: readable, and a PNG a third the size

    def show(ax, file: Path, title: str) -> None:
        if not file.exists():
            ax.set_title(f"{title}\n(missing)", fontsize=8)
            return
        x, rate = sf.read(file, dtype="float64", always_2d=True)
        f, t, p = spectrogram(x.mean(axis=1), rate, nperseg=1024, noverlap=768)
        ax.pcolormesh(t, f / 1000, 10 * np.log10(p + 1e-12), vmin=-120, vmax=-20, shading="auto", cmap=cmap)
        ax.set_title(title, fontsize=8)

    for row, kbps in enumerate(rates):
        show(axes[row][0], original, "original")
        axes[row][0].set_ylabel(f"{kbps:g} kbit/s\nkHz")
        for col, variant in enumerate(variants, start=1):
            show(axes[row][col], excerpts.get((variant, kbps), Path("/nonexistent")), f"{variant} {kbps:g} kbit/s")
    for ax in axes[-1]:
        ax.set_xlabel("s")
    fig.suptitle(f"{clip.name}: spectrograms (dB), first seconds", fontsize=9)
    return save_figure(fig, path)


def summary_markdown(rows: Sequence[Mapping[str, Any]], clips: Sequence[Clip]) -> str:
    """Per clip: SNR and segmental SNR of every codec side by side at each target rate (with
    inrcodec's distance to the best reference), then every measurement as a table."""
    out = []
    for clip in clips:
        mine = [r for r in rows if r["clip"] == clip.name]
        out += [f"### {clip.name}", "", clip.description, ""]
        out += comparison_markdown(mine)
        out += ["Log-spectral distance (lower is better):", "", *comparison_markdown(mine, ("lsd",))]
        out += ["| codec | target kbit/s | real kbit/s | SNR dB | segSNR dB | PSNR dB | LSD dB | encode s | "
                "encode CPU s |", "|---|---|---:|---:|---:|---:|---:|---:|---:|"]  # fmt: skip
        for r in mine:
            out.append(
                f"| {r['variant']} | {r['target_kbps']:g} | {r['kbps']:.1f} | {_cell(r['snr'])} | "
                f"{_cell(r['segsnr'])} | {_cell(r['psnr'])} | {_cell(r['lsd'])} | {r['encode_s']:.1f} | "
                f"{_cell(r.get('encode_cpu_s'), 1)} |"
            )
        out.append("")
    return "\n".join(out)


def comparison_markdown(rows: Sequence[Mapping[str, Any]], metrics: Sequence[str] = ("snr", "segsnr")) -> list[str]:
    """One clip's rows as a table of target rate against codec: the ``metrics`` in dB (real
    kbit/s where it is more than 5 % off the target), and for SNR tables inrcodec's SNR minus the
    best other codec's at that target."""
    variants = sorted({r["variant"] for r in rows}, key=lambda v: (not v.startswith("inr"), v))
    if not variants:
        return []
    at = {(r["variant"], r["target_kbps"]): r for r in rows}
    inr = [v for v in variants if v.startswith("inr")] if metrics[0] == "snr" else []
    names = " / ".join(_METRIC_NAMES[m] for m in metrics)
    head = "| target kbit/s | " + " | ".join(f"{v} {names} dB" for v in variants)
    head += " | inrcodec − best other, SNR dB |" if inr else " |"
    lines = [head, "|---:|" + "---:|" * (len(variants) + bool(inr))]
    for kbps in sorted({r["target_kbps"] for r in rows}):
        cells = []
        for v in variants:
            r = at.get((v, kbps))
            if r is None:
                cells.append("–")
                continue
            off = f" ({r['kbps']:.1f} kbit/s)" if abs(r["kbps"] / kbps - 1) > RATE_TOLERANCE else ""
            cells.append(" / ".join(_cell(r[m]) for m in metrics) + off)
        line = f"| {kbps:g} | " + " | ".join(cells) + " |"
        if inr:
            mine = at.get((inr[0], kbps))
            others = [at[(v, kbps)]["snr"] for v in variants if v not in inr and (v, kbps) in at]
            others = [x for x in others if x is not None]
            gap = mine["snr"] - max(others) if mine and mine["snr"] is not None and others else None
            line += f" {_cell(gap)} |"
        lines.append(line)
    return [*lines, ""]


_METRIC_NAMES = {"snr": "SNR", "segsnr": "segSNR", "psnr": "PSNR", "lsd": "LSD"}


def default_clips(paths: Iterable[str | Path], plucks: bool = True) -> list[Clip]:
    """The given files, plus the synthetic plucks clip."""
    clips = [load_clip(p) for p in paths]
    if plucks:
        clips.append(plucks_clip())
    return clips
