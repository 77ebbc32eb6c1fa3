"""Reading and writing audio through soundfile (libsndfile).

A clip enters inrcodec as an :class:`Audio`: float32 samples of shape (frames, channels) in
[-1, 1], the sample rate, and the libsndfile subtype and major format of the original (``PCM_16``,
``WAV``), which the .inr header keeps so that decoding can write the same subtype again. Writing
goes through :func:`~inrcodec.io.files.atomic_output`: a failed write leaves no partial file.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..container import MAX_RATE  # the highest sample rate accepted anywhere, files included
from ..errors import InputError, InrError, LimitError, OutputError
from .files import atomic_output, check_input_file

#: extensions read as audio rather than as images
AUDIO_EXTENSIONS = {".wav", ".flac", ".ogg", ".oga", ".opus", ".mp3", ".aiff", ".aif", ".au", ".caf", ".w64", ".rf64"}

#: output extensions whose libsndfile major format is not simply the upper-cased extension
_FORMAT_BY_EXTENSION = {".oga": "OGG", ".opus": "OGG", ".aif": "AIFF", ".aifc": "AIFF", ".snd": "AU"}
#: the subtype an extension implies whatever the original was
_SUBTYPE_BY_EXTENSION = {".opus": "OPUS"}


def is_audio_path(path: str | os.PathLike) -> bool:
    """True for files whose extension names an audio format libsndfile reads."""
    return Path(path).suffix.lower() in AUDIO_EXTENSIONS


@dataclass
class Audio:
    """An audio clip as inrcodec sees it."""

    samples: np.ndarray  # (frames, channels) float32 in [-1, 1]
    rate: int
    subtype: str = "FLOAT"  # libsndfile subtype of the original
    format: str = "WAV"  # libsndfile major format of the original
    notices: list[str] = field(default_factory=list)

    @property
    def frames(self) -> int:
        return int(self.samples.shape[0])

    @property
    def channels(self) -> int:
        return int(self.samples.shape[1])

    @property
    def duration(self) -> float:
        return self.frames / self.rate


def check_rate(rate: object, what: str = "sample rate", error: type[InrError] = InputError) -> int:
    """``rate`` as an int in 1..MAX_RATE, or ``error`` saying what is wrong with it."""
    if isinstance(rate, bool) or not isinstance(rate, (int, np.integer)):
        raise error(f"{what} must be a whole number of Hz, got {rate!r}")
    if not 1 <= int(rate) <= MAX_RATE:
        raise error(f"{what} must be 1..{MAX_RATE} Hz, got {rate}")
    return int(rate)


def from_array(samples: np.ndarray, rate: int, max_samples: int | None = None) -> Audio:
    """Wrap samples: (frames,) or (frames, channels), float in [-1, 1] or int16/int32 PCM."""
    a = np.asarray(samples)
    rate = check_rate(rate)
    if a.ndim == 1:
        a = a[:, None]
    if a.ndim != 2:
        raise InputError(f"audio array must be (frames,) or (frames, channels), got shape {a.shape}")
    if a.shape[0] == 0 or a.shape[1] == 0:
        raise InputError(f"audio has no samples: shape {a.shape}")
    if a.shape[1] > 1024:
        raise InputError(f"audio has {a.shape[1]} channels (at most 1024; is the array transposed?)")
    if max_samples is not None and a.size > max_samples:
        raise LimitError(f"audio has {a.size} samples, over the limit of {max_samples}")
    if a.dtype == np.int16:
        return Audio((a / 32768.0).astype(np.float32), rate, "PCM_16")
    if a.dtype == np.int32:
        return Audio((a / 2147483648.0).astype(np.float32), rate, "PCM_32")
    if a.dtype.kind != "f":
        raise InputError(f"audio array must be float, int16 or int32, got {a.dtype}")
    return _checked(a.astype(np.float32), rate, "FLOAT", "WAV", "audio array")


def _checked(x: np.ndarray, rate: int, subtype: str, fmt: str, what: str) -> Audio:
    if not np.all(np.isfinite(x)):
        bad = int(np.count_nonzero(~np.isfinite(x)))
        raise InputError(f"{what} has {bad} NaN or infinite samples")
    notices = []
    peak = float(np.max(np.abs(x)))
    if peak > 1.0:
        # The model's output range is [-1, 1], as every PCM format's is.
        notices.append(f"{what} peaks at {peak:.3g}, beyond [-1, 1]: clipped to that range")
        x = np.clip(x, -1.0, 1.0)
    return Audio(np.ascontiguousarray(x), rate, subtype, fmt, notices)


def read_audio(path: str | os.PathLike, max_samples: int | None = None) -> Audio:
    """Read any file libsndfile reads, as float32 (frames, channels) in [-1, 1]."""
    import soundfile as sf

    p = check_input_file(path, "audio file")
    if p.stat().st_size == 0:
        raise InputError(f"audio file is empty (0 bytes): {p}")
    try:
        info = sf.info(str(p))
        if info.frames == 0:
            raise InputError(f"audio file has no samples: {p}")
        n = info.frames * info.channels
        if max_samples is not None and n > max_samples:
            raise LimitError(f"{p} has {n} samples, over the limit of {max_samples}")
        data, rate = sf.read(str(p), dtype="float32", always_2d=True)
    except (RuntimeError, ValueError, TypeError, sf.SoundFileError) as e:
        raise InputError(f"cannot read {p} as audio: {_one_line(e)}") from None
    if data.shape[0] == 0:
        raise InputError(f"audio file has no samples: {p}")
    try:
        rate = check_rate(rate)
    except InputError as e:
        raise InputError(f"{p}: {e}") from None
    return _checked(data, rate, info.subtype or "FLOAT", info.format or "WAV", str(p))


def _one_line(e: BaseException) -> str:
    """libsndfile's message, without the (temporary) file name it prefixes."""
    lines = str(e).strip().splitlines()
    text = lines[-1] if lines else type(e).__name__
    text = re.sub(r"^Error opening '.*?': ", "", text)
    return re.sub(r"^Error : ", "", text)


# --- writing -----------------------------------------------------------------------------------


def output_format(path: str | os.PathLike) -> str:
    """The libsndfile major format an output file's extension names, or an OutputError."""
    import soundfile as sf

    ext = Path(path).suffix.lower()
    fmt = _FORMAT_BY_EXTENSION.get(ext, ext.lstrip(".").upper())
    if not ext or fmt not in sf.available_formats():
        raise OutputError(
            f"cannot write audio as '{ext or Path(path).name}': use an extension such as "
            ".wav, .flac, .ogg, .opus, .mp3 or .aiff"
        )
    return fmt


def output_subtype(path: str | os.PathLike, wanted: str | None) -> tuple[str, str, list[str]]:
    """(format, subtype, notices) for writing ``path``: ``wanted`` if the format can hold it."""
    import soundfile as sf

    fmt = output_format(path)
    forced = _SUBTYPE_BY_EXTENSION.get(Path(path).suffix.lower())
    default = forced or sf.default_subtype(fmt)
    if forced or not wanted or wanted == default:
        return fmt, default, []
    if sf.check_format(fmt, wanted):
        return fmt, wanted, []
    note = f"{fmt} cannot hold the original subtype {wanted}; writing {default}"
    return fmt, default, [note]


def write_audio(
    path: str | os.PathLike,
    blocks: Iterable[np.ndarray],
    rate: int,
    channels: int,
    subtype: str | None = None,
    protect: Iterable[str | os.PathLike] = (),
) -> list[str]:
    """Write (frames, channels) float blocks to ``path`` atomically; returns notices.

    The format follows the extension; ``subtype`` (the original's) is used where the format can
    hold it, else the format's default, with a notice. Blocks are written as they come, so a long
    decode never needs the whole clip in memory.
    """
    import soundfile as sf

    fmt, sub, notices = output_subtype(path, subtype)
    with atomic_output(path, protect) as tmp:
        try:
            with sf.SoundFile(str(tmp), "w", rate, channels, sub, format=fmt) as f:
                for block in blocks:
                    f.write(np.clip(block, -1.0, 1.0))
        except (RuntimeError, ValueError, TypeError, sf.SoundFileError) as e:
            raise OutputError(f"cannot write {path} ({fmt} {sub}, {rate} Hz, {channels} ch): {_one_line(e)}") from None
    return notices
