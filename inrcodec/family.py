"""What the codec needs of a model family: its model class and its hooks.

The orchestration (:mod:`inrcodec.codec`, :mod:`inrcodec.audio`) knows no family by name: it
looks the family up in :mod:`inrcodec.families` (by ``--model`` name or by the header's family
number) and calls these hooks. A family module builds its :class:`Family`; adding a family is
one new module and one line in :mod:`inrcodec.families`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from .container import Header, TensorCode
from .models.base import INR

if TYPE_CHECKING:
    import torch

    from .fit import Budget, Checkpoint, ProgressCallback
    from .io.image import Image
    from .options import EncodeOptions
    from .rate import RateTarget


@dataclass(frozen=True)
class ImageJob:
    """An image encode as a family's ``encode_image`` hook receives it."""

    image: Image
    options: EncodeOptions  # validated, with the rate filled in
    target: RateTarget
    budget: Budget
    device: torch.device
    progress: ProgressCallback | None
    checkpoint: Checkpoint | None
    #: the file's header around a model and its coded tensors (for families that measure their
    #: real file size while they search their quantization steps)
    header_for: Callable[[INR, tuple[TensorCode, ...]], Header]


@dataclass(frozen=True)
class ImageFit:
    """A fitted image model, coded: what a family's ``encode_image`` hook returns."""

    model: INR
    codes: tuple[TensorCode, ...]
    payload: bytes
    steps: int


def _nothing(header: Header) -> None:
    return None


def _no_fields(header: Header) -> dict[str, Any]:
    return {}


@dataclass(frozen=True)
class Family:
    """A model family as the codec sees it.

    - ``model``: the INR class (architecture from and to the header, parameter count, decode
      cost), so that a file is checked against the limits before anything is allocated.
    - ``options``: the encode options only some families use (:data:`inrcodec.options.FAMILY_OPTIONS`)
      that this one does; any other given option is refused, naming it and the model.
    - ``budget(opts)``: the fitting budget of ``opts.effort`` (or of its steps / time).
    - ``encode_image(job)``: fit, quantize and entropy-code an :class:`ImageJob`; ``None`` for
      a family that holds no images.
    - ``read_symbols(model, header, payload)``: every entropy-decoded integer, in file order
      (what must be identical on every machine).
    - ``fill(model, header, payload)``: load the decoded parameters into an untrained model.
    - ``check_header(header)``: family-specific consistency checks of a header.
    - ``describe(header)``: family-specific fields for ``inrcodec info``.
    """

    model: type[INR]
    budget: Callable[[EncodeOptions], Budget]
    read_symbols: Callable[[INR, Header, bytes], list[np.ndarray]]
    fill: Callable[[INR, Header, bytes], None]
    options: frozenset[str] = field(default_factory=frozenset)
    encode_image: Callable[[ImageJob], ImageFit] | None = None
    check_header: Callable[[Header], None] = _nothing
    describe: Callable[[Header], dict[str, Any]] = _no_fields

    @property
    def name(self) -> str:
        return self.model.name

    @property
    def id(self) -> int:
        return self.model.family_id
