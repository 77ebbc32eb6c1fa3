"""The registry of benchmarked codecs by name, and the picklable :class:`CodecSpec`.

Codecs are built from a :class:`CodecSpec` inside each worker process, so no codec object ever
crosses a process boundary. The interface itself is in :mod:`.codec_base` (which the
implementations import); this module imports the implementations, so nothing imports back.
The interface's names are re-exported here, where callers have always found them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import OptionError
from .classical import CLASSICAL_CODECS
from .codec_base import (
    Codec,
    match_channels,
    parse_key_values,
    parse_number_list,
    parse_option_value,
)
from .inr import InrCodec

__all__ = [
    "Codec",
    "CodecSpec",
    "codec_class",
    "codec_names",
    "match_channels",
    "parse_codec_list",
    "parse_key_values",
    "parse_number_list",
    "parse_option_value",
]


@dataclass(frozen=True)
class CodecSpec:
    """A codec name plus its options: what a worker needs to build the codec."""

    name: str
    options: Mapping[str, Any] = field(default_factory=dict)

    def build(self, threads: int = 1) -> Codec:
        return codec_class(self.name)(self.options, threads=threads)


def _registry() -> dict[str, type[Codec]]:
    return {**{c.name: c for c in CLASSICAL_CODECS}, InrCodec.name: InrCodec}


def codec_names() -> list[str]:
    """Every codec name ``--codec`` accepts."""
    return list(_registry())


def codec_class(name: str) -> type[Codec]:
    """The codec class for a name, or an OptionError listing the known names."""
    registry = _registry()
    if name not in registry:
        raise OptionError(f"unknown codec '{name}' (known: {', '.join(registry)})")
    return registry[name]


def parse_codec_list(text: str) -> list[str]:
    """Split a comma-separated ``--codec`` value, checking each name; repeats are dropped."""
    names = [n.strip().lower() for n in text.split(",") if n.strip()]
    if not names:
        raise OptionError("--codec needs at least one codec name")
    for name in names:
        codec_class(name)
    return list(dict.fromkeys(names))
