"""INR model families, looked up by name (CLI/API) or by the number in the .inr header."""

from __future__ import annotations

from ..errors import FormatError, OptionError
from .base import INR
from .fourier import FourierMLP
from .siren import Siren

FAMILIES: dict[str, type[INR]] = {cls.name: cls for cls in (Siren, FourierMLP)}
_BY_ID: dict[int, type[INR]] = {cls.family_id: cls for cls in FAMILIES.values()}


def family_by_name(name: str) -> type[INR]:
    try:
        return FAMILIES[name]
    except KeyError:
        raise OptionError(f"unknown model '{name}' (choose from {', '.join(FAMILIES)})") from None


def family_by_id(family_id: int) -> type[INR]:
    try:
        return _BY_ID[family_id]
    except KeyError:
        raise FormatError(
            f"unknown model family {family_id} (the file may need a newer inrcodec)"
        ) from None


__all__ = ["INR", "Siren", "FourierMLP", "FAMILIES", "family_by_name", "family_by_id"]
