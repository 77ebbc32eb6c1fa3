"""The model families the codec knows: by ``--model`` name, and by the number in the header.

Each family module builds its :class:`~inrcodec.family.Family` (model class and hooks); this
table is the only place that lists them.
"""

from __future__ import annotations

from .errors import FormatError, OptionError
from .family import Family
from .grid.audio import AUDIO_GRID
from .grid.family import GRID
from .point_codec import FOURIER, SEGMENTS, SIREN
from .tiled import TILED

#: the families users choose by name for images (``--model``)
IMAGE_FAMILIES: dict[str, Family] = {f.name: f for f in (GRID, SIREN, FOURIER)}
# Segments (the chain of point models) and the audio grid are what the audio encoder builds, so
# they are found by their header numbers only.
_BY_ID: dict[int, Family] = {f.id: f for f in (GRID, SIREN, FOURIER, SEGMENTS, TILED, AUDIO_GRID)}
#: families an image encode of a chosen name takes instead when they apply (tiles for large images)
_VARIANTS: dict[str, tuple[Family, ...]] = {GRID.name: (TILED,)}


def by_name(name: str) -> Family:
    """The image family called ``name``, or a one-line refusal listing the choices."""
    try:
        return IMAGE_FAMILIES[name]
    except KeyError:
        raise OptionError(f"unknown model '{name}' (choose from {', '.join(IMAGE_FAMILIES)})") from None


def for_image(name: str, image_shape: tuple[int, int, int], opts) -> Family:
    """The family an encode with ``--model name`` of an image of ``image_shape`` (height, width,
    channels) and ``opts`` writes: that model's, or a variant of it that applies (the tiled
    family for large grid encodes)."""
    family = by_name(name)
    for variant in _VARIANTS.get(family.name, ()):
        if variant.applies is not None and variant.applies(image_shape, opts):
            return variant
    return family


def by_id(family_id: int) -> Family:
    """The family a header's family number names."""
    try:
        return _BY_ID[family_id]
    except KeyError:
        raise FormatError(f"unknown model family {family_id} (the file may need a newer inrcodec)") from None
