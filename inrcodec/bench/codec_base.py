"""The small codec interface every benchmarked codec implements, and the parsing of setting and
option lists.

A codec turns (H, W, C) uint8 pixels into bytes and back, at one *setting* out of a list (a
quality for the classical codecs, a target bpp for inr). This module imports no codec: the
implementations (:mod:`.classical`, :mod:`.inr`) import it, and :mod:`.codecs` imports them to
build the registry of names.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np

from ..errors import OptionError


class Codec(ABC):
    """One lossy image codec under test."""

    #: the name users type after ``--codec``
    name: ClassVar[str]
    #: one line for the results JSON and the docs
    description: ClassVar[str]
    #: "classical" (drawn dashed) or "inr" (drawn solid)
    family: ClassVar[str] = "classical"
    #: what a setting means, for tables ("quality", "target bpp")
    setting_name: ClassVar[str] = "quality"
    #: the default settings, in increasing rate
    default_settings: ClassVar[tuple[float, ...]] = ()
    #: whether the output depends on the seed (only then is the seed part of the cache key)
    uses_seed: ClassVar[bool] = False

    def __init__(self, options: Mapping[str, Any] | None = None, threads: int = 1) -> None:
        self.options = dict(options or {})
        self.threads = threads

    @abstractmethod
    def encode(self, pixels: np.ndarray, setting: float) -> bytes:
        """Compress (H, W, 1 or 3) uint8 pixels at one setting."""

    @abstractmethod
    def decode(self, data: bytes) -> np.ndarray:
        """Decompress to (H, W, C) uint8 pixels with the channel count the encoder was given."""

    def version(self) -> str:
        """The library version(s) behind this codec; part of the cache key."""
        return ""

    def identity(self) -> dict[str, Any]:
        """Everything besides image and setting that decides the output (hashed into the key)."""
        return {"codec": self.name, "options": self.options, "version": self.version()}

    def variant(self) -> str:
        """A short label naming this codec with its options, used for output file names."""
        if not self.options:
            return self.name
        parts = [f"{k}={_format_value(v)}" for k, v in sorted(self.options.items())]
        return "-".join([self.name, *parts])


def _format_value(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def parse_number_list(text: str, what: str, positive: bool = True) -> list[float]:
    """Parse '0.1,0.2,0.3' into sorted unique floats, or an OptionError naming the bad item."""
    items = [t.strip() for t in str(text).split(",")]
    if not any(items):
        raise OptionError(f"bad {what} list '{text}': it is empty")
    values = []
    for item in items:
        try:
            value = float(item)
        except ValueError:
            raise OptionError(f"bad {what} list '{text}': '{item}' is not a number") from None
        if not np.isfinite(value) or (positive and value <= 0):
            raise OptionError(f"bad {what} list '{text}': '{item}' must be a positive number")
        values.append(value)
    return sorted(set(values))


def parse_option_value(text: str) -> Any:
    """Read a ``key=value`` value as JSON when it is one (numbers, true/false), else as a string."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def parse_key_values(pairs: Sequence[str], what: str) -> dict[str, Any]:
    """Turn repeated ``key=value`` options into a dict, or an OptionError for a malformed one."""
    options: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise OptionError(f"bad {what} '{pair}': expected key=value")
        options[key.strip()] = parse_option_value(value.strip())
    return options


def match_channels(pixels: np.ndarray, channels: int) -> np.ndarray:
    """Bring decoded pixels to the input's channel count (gray coded as RGB comes back as RGB)."""
    pixels = pixels[:, :, None] if pixels.ndim == 2 else pixels
    if pixels.shape[2] == channels:
        return pixels
    from PIL import Image

    if channels == 1 and pixels.shape[2] == 3:
        return np.asarray(Image.fromarray(pixels, "RGB").convert("L"))[:, :, None]
    if channels == 3 and pixels.shape[2] == 1:
        return np.repeat(pixels, 3, axis=2)
    return pixels  # left for the caller's shape check to reject
