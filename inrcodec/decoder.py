"""Reading any .inr file, image or audio: the checks against the limits from the header alone,
the model rebuilt by its family, every entropy-decoded integer, and the file's description.

The two orchestrations (:mod:`inrcodec.codec` for images, :mod:`inrcodec.audio`) sample the model
this module rebuilds; nothing here knows a family by name.
"""

from __future__ import annotations

import math
import os

import numpy as np
import torch

from . import container, coords, families
from .container import CODER_LAPLACE, CODER_RAW16, Header, ImageFields, TensorCode
from .errors import FormatError
from .io.image import MODE_BY_ID
from .limits import DEFAULT_LIMITS, SAMPLE_WORK, STEP_WORK, SYMBOL_WORK, TABLE_WORK, Limits, read_inr
from .models import INR
from .models.base import DecodeCost


def entropy_decoded(source: bytes | str | os.PathLike, limits: Limits = DEFAULT_LIMITS) -> list[np.ndarray]:
    """Every integer the entropy decoder reads from a file, tensor by tensor, in file order: what
    must be identical on every machine."""
    header, payload = container.unpack(read_inr(source, limits))
    in_dim, shape = _stored_grid(header)
    check_decode(header, in_dim, header.signal.channels, shape, limits, 0)
    family = families.by_id(header.family)
    model = family.model.from_arch(header.arch, in_dim, header.signal.channels)
    return family.read_symbols(model, header, payload)


def _stored_grid(header: Header) -> tuple[int, tuple[int, ...]]:
    """(input dimensions, stored sample grid) of a file: (2, (height, width)) or (1, (frames,))."""
    s = header.signal
    return (2, (s.height, s.width)) if isinstance(s, ImageFields) else (1, (s.frames,))


def tables_cost(tensors: tuple[TensorCode, ...]) -> tuple[int, int]:
    """(work units, peak bytes) of building the entropy tables of a header's weight tensors
    (Laplace and raw fp16; a family's own coder counts its own)."""
    spans = [t.hi - t.lo + 1 for t in tensors if t.coder in (CODER_LAPLACE, CODER_RAW16)]
    # a table's counts, powers and probabilities: some eight int64 or float64 values per entry
    return sum(STEP_WORK + TABLE_WORK * n for n in spans), 64 * max(spans, default=0)


def check_decode(header: Header, in_dim: int, out_dim: int, shape: tuple[int, ...], limits: Limits,
                 output_bytes: int, extra_work: int = 0) -> DecodeCost:  # fmt: skip
    """Refuse, from the header alone, sampling the model on ``shape`` if that would break a limit;
    else the cost of it: the whole decode's work units and estimated peak memory (the output
    included), and the band size. ``output_bytes`` is what the caller itself holds of the
    output, ``extra_work`` what it does besides sampling the model (audio resampling)."""
    family = families.by_id(header.family)
    cls = family.model
    if header.coords != coords.CONVENTION_PIXEL_CENTRES:
        raise FormatError(f"unknown coordinate convention {header.coords}")
    if in_dim not in cls.input_dims:
        raise FormatError(f"the {cls.name} family cannot hold {'audio' if in_dim == 1 else 'images'}")
    limits.check("model layers", cls.layer_count(header.arch), "max_layers")
    n_params = cls.count_parameters(header.arch, in_dim, out_dim)
    # what a decoder holds at once: all of them, or one tile's of a tiled file
    held = cls.resident_parameters(header.arch, in_dim, out_dim)
    limits.check("model parameters", held, "max_parameters")
    family.check_header(header)
    cost = family.cost(header, in_dim, out_dim, shape)
    table_work, table_bytes = tables_cost(header.tensors)
    work = cost.work + table_work + SYMBOL_WORK * n_params + SAMPLE_WORK * math.prod(shape) + extra_work
    # parameters: decoded symbols (int64), their dequantized values and the model's float32 copy;
    # the family's buffers; one band's activations; the tables; the output
    memory = 24 * held + cost.memory + cost.band_bytes(math.prod(shape)) + table_bytes + output_bytes
    limits.check("decoding memory (bytes)", memory, "max_memory")
    limits.check("decoding work (units of about a multiply-add)", work, "max_work")
    return DecodeCost(work, memory, cost.point_floats)


def rebuild_model(header: Header, payload: bytes, in_dim: int, out_dim: int, limits: Limits,
                  shape: tuple[int, ...] | None = None) -> INR:  # fmt: skip
    """The model a header and payload describe, after checking a decode onto ``shape`` (by default
    the stored size) against the limits."""
    shape = shape or _stored_grid(header)[1]
    check_decode(header, in_dim, out_dim, shape, limits, math.prod(shape) * out_dim * 4)
    return build_model_from(header, payload, in_dim, out_dim)


def build_model_from(header: Header, payload: bytes, in_dim: int, out_dim: int) -> INR:
    """Allocate the model of a header that passed :func:`check_decode` and fill it from the payload."""
    family = families.by_id(header.family)
    model = family.model.from_arch(header.arch, in_dim, out_dim)
    family.fill(model, header, payload)
    return model.eval()


def peek_modality(source: bytes | str | os.PathLike, limits: Limits = DEFAULT_LIMITS) -> str:
    """'image' or 'audio': what an .inr file holds (after all the container's checks)."""
    header, _ = container.unpack(read_inr(source, limits))
    return "image" if isinstance(header.signal, ImageFields) else "audio"


def describe(source: bytes | str | os.PathLike, limits: Limits = DEFAULT_LIMITS) -> dict:
    """Header fields and size statistics of an .inr file, as a JSON-ready dict."""
    data = read_inr(source, limits)
    header, payload = container.unpack(data)
    family = families.by_id(header.family)
    cls = family.model
    s = header.signal
    info: dict = {
        "format_version": f"{header.version[0]}.{header.version[1]}",
        "bytes": len(data),
        "header_bytes": container.header_size(header),
        "payload_bytes": len(payload),
        "model": cls.name,
        "arch": list(header.arch),
        "coords": header.coords,
        "target": container.TARGET_NAMES[header.target_kind],
        "target_value": header.target_value,
    }
    if isinstance(s, ImageFields):
        in_dim, out_dim = 2, s.channels
        info.update(
            modality="image",
            width=s.width,
            height=s.height,
            mode=MODE_BY_ID[s.mode],
            bit_depth=s.bit_depth,
            bpp=8 * len(data) / (s.width * s.height),
        )
    else:
        in_dim, out_dim = 1, s.channels
        info.update(
            modality="audio",
            frames=s.frames,
            rate=s.rate,
            channels=s.channels,
            subtype=s.subtype,
            format=s.format,
            duration=s.frames / s.rate,
            kbps=8 * len(data) / (s.frames / s.rate) / 1000,
        )
    limits.check("model layers", cls.layer_count(header.arch), "max_layers")
    n_params = cls.count_parameters(header.arch, in_dim, out_dim)
    limits.check("model parameters", cls.resident_parameters(header.arch, in_dim, out_dim), "max_parameters")
    with torch.device("meta"):  # the shapes only: nothing is allocated
        sizes = [p.numel() for _, p in cls.from_arch(header.arch, in_dim, out_dim).coded_tensors()]
    # What storing each symbol in a fixed number of bits (its range's width) would take.
    fixed = sum(
        n * (16 if t.coder == CODER_RAW16 else max(1, math.ceil(math.log2(t.hi - t.lo + 1))))
        for n, t in zip(sizes, header.tensors)
    )
    info.update(
        parameters=n_params,
        bits_per_weight=8 * len(payload) / max(1, n_params),
        fixed_width_bits_per_weight=fixed / max(1, n_params),
        tensors=[
            {"step_exp": t.step_exp, "lo": t.lo, "hi": t.hi,
             "coder": container.CODER_NAMES[t.coder], "param": t.param}
            for t in header.tensors
        ],
    )  # fmt: skip
    info.update(family.describe(header))
    return info
