"""What the codec needs of a model family: its model class and its hooks.

The orchestration (:mod:`inrcodec.codec`, :mod:`inrcodec.audio`) knows no family by name: it
looks the family up in :mod:`inrcodec.families` (by ``--model`` name or by the header's family
number) and calls these hooks. A family module builds its :class:`Family`; adding a family is
one new module and one line in :mod:`inrcodec.families`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from . import container
from .container import Header, ImageFields, TensorCode
from .errors import OptionError
from .models.base import INR, DecodeCost
from .rate import image_target

if TYPE_CHECKING:
    import torch

    from .executors import Executor
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
    #: where independent parts of the fit (a tiled image's tiles) may run; None: the family
    #: decides (here, or ``options.jobs`` local workers)
    executor: Executor | None = None


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


def _no_minimum(image_shape: tuple[int, int, int], opts: EncodeOptions) -> int:
    return 0


def _no_encoder_memory(image_shape: tuple[int, int, int], opts: EncodeOptions, arch: tuple[int, ...]) -> int:
    return 0


def smallest_file(image_shape: tuple[int, int, int], family_id: int, arch: tuple[int, ...],
                  codes: tuple[TensorCode, ...], payload_bits: float) -> int:  # fmt: skip
    """Bytes of an image file of ``image_shape`` (height, width, channels) whose header holds
    ``arch`` and ``codes`` and whose payload codes ``payload_bits``: framing, header (with no rate
    target, the fewest bytes it takes) and the payload's whole 32-bit words, rounded down. What a
    family's ``min_bytes`` hook builds its lower bound from."""
    height, width, channels = image_shape
    header = Header(ImageFields(width, height, channels, 8), family_id, tuple(arch), tuple(codes))
    return container.FRAMING_BYTES + container.header_size(header) + 4 * int(payload_bits // 32)


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
    - ``describe(header)``: family-specific fields for ``inrcodec info`` (JSON-ready; the
      architecture in named fields).
    - ``min_bytes(image_shape, opts)``: a lower bound on the size of any file the family writes
      for an image of ``image_shape`` (height, width, channels) with ``opts``: its header and its
      weights at less than they have ever measured. Never above what a real file can be: a target
      below it cannot be met, and is refused before any fitting (:meth:`refuse_unreachable`).
    - ``decode_cost(header, in_dim, out_dim, shape)``: the cost of decoding a file onto ``shape``
      (work units and the family's peak buffers, :class:`~inrcodec.models.base.DecodeCost`),
      from the header alone; by default the model's ``decode_cost`` of the architecture. The
      weights' entropy tables and symbols are counted by :func:`inrcodec.decoder.check_decode`.
    - ``plan(image_shape, opts, target)``: the architecture and tensor fields (at their smallest)
      of the file an image encode would write, known before fitting (the model built on torch's
      ``meta`` device, which allocates nothing): the codec checks them with the decoder's own
      checks and limits, so that no encode fits a model its decoder would refuse.
    - ``encode_memory(image_shape, opts, arch)``: the encoder's working set in bytes for an image
      of ``image_shape`` fitted with the planned ``arch``, estimated before fitting (checked
      against ``Limits.max_encode_memory``; measured against real encodes in docs/reliability.md).
    - ``chosen_as``: the ``--model`` name that writes this family when it is not its own (the
      tiled family is what ``grid`` writes for large images); ``applies(image_shape, opts)``:
      whether an encode of that name takes this family instead (:func:`inrcodec.families.for_image`).
    """

    model: type[INR]
    budget: Callable[[EncodeOptions], Budget]
    read_symbols: Callable[[INR, Header, bytes], list[np.ndarray]]
    fill: Callable[[INR, Header, bytes], None]
    options: frozenset[str] = field(default_factory=frozenset)
    encode_image: Callable[[ImageJob], ImageFit] | None = None
    check_header: Callable[[Header], None] = _nothing
    describe: Callable[[Header], dict[str, Any]] = _no_fields
    min_bytes: Callable[[tuple[int, int, int], EncodeOptions], int] = _no_minimum
    decode_cost: Callable[[Header, int, int, tuple[int, ...]], DecodeCost] | None = None
    plan: (
        Callable[[tuple[int, int, int], EncodeOptions, RateTarget], tuple[tuple[int, ...], tuple[TensorCode, ...]]]
        | None
    ) = None
    encode_memory: Callable[[tuple[int, int, int], EncodeOptions, tuple[int, ...]], int] = _no_encoder_memory
    chosen_as: str | None = None
    applies: Callable[[tuple[int, int, int], EncodeOptions], bool] | None = None

    def cost(self, header: Header, in_dim: int, out_dim: int, shape: tuple[int, ...]) -> DecodeCost:
        """What decoding ``header``'s file onto ``shape`` costs (the ``decode_cost`` hook)."""
        if self.decode_cost is not None:
            return self.decode_cost(header, in_dim, out_dim, shape)
        return self.model.decode_cost(header.arch, in_dim, out_dim, shape)

    @property
    def name(self) -> str:
        return self.model.name

    @property
    def id(self) -> int:
        return self.model.family_id

    def refuse_unreachable(self, image: Image, opts: EncodeOptions) -> None:
        """Refuse, in one line naming the smallest reachable size, a rate target the user set
        (``opts.bpp`` or ``opts.size``) below :attr:`min_bytes` for ``image``: fitting for it would
        take the whole budget and only then say the file is far over. A fixed trade-off
        (``lmbda``) and the default rate are not targets the user set."""
        if opts.lmbda is not None or (opts.bpp is None and opts.size is None):
            return
        pixels = image.height * image.width
        target = image_target(pixels, opts.bpp, opts.size)
        smallest = self.min_bytes((image.height, image.width, image.channels), opts)
        if target.bytes >= smallest:
            return
        asked = round(target.bytes)
        what = f"--bpp {opts.bpp:g} ({asked} byte{'s' * (asked != 1)})" if opts.size is None else f"--size {opts.size}"
        least_bpp = math.ceil(8 * smallest / pixels * 1000) / 1000
        use = f"--size {smallest}" if opts.size is not None or least_bpp > 64 else f"--bpp {least_bpp:g}"
        raise OptionError(
            f"{what} is below the smallest file the {self.name} model can write for this "
            f"{image.width}x{image.height} image: at least {smallest} bytes ({8 * smallest / pixels:.3g} bpp) "
            f"for its header and network; use {use} or more"
        )
