"""inrcodec itself behind the benchmark's :class:`~.codec_base.Codec` interface.

The setting is the target bpp. Every other argument of :func:`inrcodec.encode` (``effort``,
``time``, ``steps``, ``seed``, ``device`` and any extra ``--inr-opt key=value``) is a codec option: passed
through unchanged and part of the cache key, so a changed option never reuses old rows.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from ..errors import OptionError
from .codec_base import Codec

#: the options :func:`inrcodec.encode` takes by name, with the benchmark's defaults
DEFAULT_OPTIONS: dict[str, Any] = {"effort": "default", "time": None, "steps": None, "seed": 0, "device": "cpu"}


def inr_api_available() -> bool:
    """Whether ``inrcodec.encode`` and ``inrcodec.decode`` exist in this install."""
    import inrcodec

    return hasattr(inrcodec, "encode") and hasattr(inrcodec, "decode")


def require_inr_api() -> None:
    """Raise a one-line OptionError when the inr codec cannot run here."""
    if not inr_api_available():
        raise OptionError("codec 'inr' is unavailable: this inrcodec has no encode/decode API")


class InrCodec(Codec):
    """An image fitted as a small neural network and stored as a .inr file."""

    name: ClassVar[str] = "inr"
    description: ClassVar[str] = "inrcodec (implicit neural representation), target bpp"
    family: ClassVar[str] = "inr"
    setting_name: ClassVar[str] = "target bpp"
    default_settings: ClassVar[tuple[float, ...]] = (0.1, 0.2, 0.3, 0.5, 0.8)
    uses_seed: ClassVar[bool] = True

    def __init__(self, options: Mapping[str, Any] | None = None, threads: int = 1) -> None:
        super().__init__({**DEFAULT_OPTIONS, **dict(options or {})}, threads)

    def encode(self, pixels: np.ndarray, setting: float) -> bytes:
        import inrcodec

        require_inr_api()
        options = dict(self.options)
        if "threads" not in options and _encode_accepts("threads"):
            options["threads"] = self.threads  # the job's share of the cores, as torch has
        return inrcodec.encode(pixels, bpp=float(setting), progress=None, **options)

    def identity(self) -> dict[str, Any]:
        # Under a time budget the thread count changes how far the fit gets, so it is part of
        # what decides the result.
        return {**super().identity(), "threads": self.options.get("threads", self.threads)}

    def decode(self, data: bytes) -> np.ndarray:
        import inrcodec

        return np.asarray(inrcodec.decode(data))

    def version(self) -> str:
        import inrcodec

        version = getattr(inrcodec, "__version__", None)
        if version is None:
            from importlib import metadata

            try:
                version = metadata.version("inrcodec")
            except metadata.PackageNotFoundError:
                version = "unknown"
        return f"inrcodec {version}"

    def variant(self) -> str:
        # Name the variant after the budget that decides the result most (the effort, or the
        # time or steps that replace it), plus what else differs from the defaults, so that
        # 'inr-default', 'inr-high' and 'inr-t60' sit side by side in one folder.
        budget = []
        if self.options.get("steps") is not None:
            budget.append(f"s{self.options['steps']}")
        if self.options.get("time") is not None:
            budget.append(f"t{_short(self.options['time'])}")
        parts = [self.name, *(budget or [str(self.options.get("effort"))])]
        for key, value in sorted(self.options.items()):
            if key in ("effort", "time", "steps") or DEFAULT_OPTIONS.get(key, object()) == value:
                continue
            parts.append(f"{key}={_short(value)}")
        return "-".join(parts)


def _encode_accepts(name: str) -> bool:
    """Whether inrcodec.encode takes the option ``name`` (a field of its EncodeOptions)."""
    import dataclasses

    import inrcodec

    options = getattr(inrcodec, "EncodeOptions", None)
    return dataclasses.is_dataclass(options) and name in {f.name for f in dataclasses.fields(options)}


def _short(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
