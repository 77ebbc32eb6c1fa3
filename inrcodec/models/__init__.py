"""INR model families, looked up by name (CLI/API) or by the number in the .inr header."""

from __future__ import annotations

from ..errors import FormatError, OptionError
from .base import INR
from .fourier import FourierMLP
from .grid import GridImage
from .segments import Segments
from .siren import Siren

#: the families users choose by name (``--model``)
FAMILIES: dict[str, type[INR]] = {cls.name: cls for cls in (GridImage, Siren, FourierMLP)}
# Segments is a composite that the audio encoder builds around a chosen family, so it is found
# by its header number only.
_BY_ID: dict[int, type[INR]] = {cls.family_id: cls for cls in (*FAMILIES.values(), Segments)}


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


__all__ = ["INR", "GridImage", "Siren", "FourierMLP", "Segments", "FAMILIES", "family_by_name", "family_by_id"]
