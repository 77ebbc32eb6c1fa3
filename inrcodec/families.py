"""The model families the codec knows: by ``--model`` name, and by the number in the header.

Each family module builds its :class:`~inrcodec.family.Family` (model class and hooks); this
table is the only place that lists them.
"""

from __future__ import annotations

from .errors import FormatError, OptionError
from .family import Family
from .grid.family import GRID
from .point_codec import FOURIER, SEGMENTS, SIREN

#: the families users choose by name for images (``--model``)
IMAGE_FAMILIES: dict[str, Family] = {f.name: f for f in (GRID, SIREN, FOURIER)}
# Segments is the chain of point models the audio encoder builds, so it is found by its header
# number only.
_BY_ID: dict[int, Family] = {f.id: f for f in (GRID, SIREN, FOURIER, SEGMENTS)}


def by_name(name: str) -> Family:
    """The image family called ``name``, or a one-line refusal listing the choices."""
    try:
        return IMAGE_FAMILIES[name]
    except KeyError:
        raise OptionError(f"unknown model '{name}' (choose from {', '.join(IMAGE_FAMILIES)})") from None


def by_id(family_id: int) -> Family:
    """The family a header's family number names."""
    try:
        return _BY_ID[family_id]
    except KeyError:
        raise FormatError(f"unknown model family {family_id} (the file may need a newer inrcodec)") from None
