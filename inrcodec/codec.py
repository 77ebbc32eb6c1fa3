"""Image orchestration: signal -> fit -> quantize -> entropy -> container, and back.

The encoder validates the options, looks up the model family (:mod:`inrcodec.families`), turns
the rate the user asked for into a :class:`~inrcodec.rate.RateTarget`, and hands the family's
``encode_image`` hook an :class:`~inrcodec.family.ImageJob`; it packs what comes back. The
decoder checks the header against the limits before anything large is allocated, has the
family fill its model from the payload, and samples it on the requested grid, in tiles. Nothing
here knows a family by name.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field, replace

import numpy as np

from . import container, coords, families
from .container import Header, ImageFields, TensorCode
from .decoder import build_model_from, check_decode
from .errors import FormatError, InputError, LimitError, OptionError
from .executors import Executor
from .family import ImageJob
from .fit import Checkpoint, ProgressCallback, checkpoint_key
from .io.image import MODE_BY_ID, MODE_IDS, Image, from_values, read_image, storable, writer_bytes
from .limits import DEFAULT_LIMITS, Limits, read_inr
from .metrics import psnr as psnr_metric
from .models import INR, local_implicit
from .models.base import DecodeCost
from .options import EncodeOptions, refuse_inapplicable
from .rate import RateTarget, image_target
from .runtime import resolve_device, torch_threads

#: how a decode reaches a size above the stored one: the file's own function, or it at the
#: stored size refined by the shipped learned local implicit function
SR_METHODS = ("none", "learned")


@dataclass
class EncodeResult:
    """An encoded file and what it cost."""

    data: bytes
    psnr: float  # of the decoded 8-bit (or 16-bit) output at the stored size
    steps: int
    seconds: float
    notices: list[str] = field(default_factory=list)


# --- encoding ----------------------------------------------------------------------------------


def image_header(img: Image, model: INR, target: RateTarget, codes: tuple[TensorCode, ...]) -> Header:
    """The header of an image file: the signal, the model's family and architecture, its coded
    tensors and the rate target."""
    return Header(
        signal=ImageFields(img.width, img.height, MODE_IDS[img.mode], img.bit_depth),
        family=model.family_id,
        arch=model.arch(),
        tensors=codes,
        coords=coords.CONVENTION_PIXEL_CENTRES,
        target_kind=target.kind,
        target_value=target.value,
    )


def checked_options(options: EncodeOptions) -> EncodeOptions:
    """``options``, validated: values in range, and no option the chosen model does not use."""
    opts = options.validated()
    family = families.by_name(opts.model)
    refuse_inapplicable(opts, family.options, family.name)
    return opts


def encode_image(
    image: Image | np.ndarray | str | os.PathLike,
    options: EncodeOptions = EncodeOptions(),
    progress: ProgressCallback | None = None,
    limits: Limits = DEFAULT_LIMITS,
    executor: Executor | None = None,
) -> EncodeResult:
    """Fit, quantize and pack an image; the full result with statistics. ``executor`` runs the
    parts of a fit that are independent (a large image's tiles; default: ``options.jobs``
    local workers, or this process)."""
    opts = checked_options(options)
    img = storable(image if isinstance(image, Image) else read_image(image, limits.max_input_pixels))
    family = families.for_image(opts.model, (img.height, img.width, img.channels), opts)
    refuse_parallel(img, opts, executor is not None)
    device = resolve_device(opts.device)
    asked = opts
    opts, target = image_rate(opts, img.height * img.width)
    check_encode(img, opts, target, limits)  # first: a model the decoder refuses has no smallest file
    family.refuse_unreachable(img, asked)
    budget = family.budget(opts)
    checkpoint = open_checkpoint(opts, img.pixels, img.mode)
    start = time.perf_counter()
    with torch_threads(opts.threads):
        job = ImageJob(img, opts, target, budget, device, progress, checkpoint,
                       lambda model, codes: image_header(img, model, target, codes), executor)  # fmt: skip
        fitted = family.encode_image(job)
    data = container.pack(image_header(img, fitted.model, target, fitted.codes), fitted.payload)
    seconds = time.perf_counter() - start
    notices = list(img.notices)
    if checkpoint:
        notices += checkpoint.notices
        checkpoint.remove()
    return finish_encode(img, data, target, fitted.steps, seconds, limits, notices)


def refuse_parallel(img: Image, opts: EncodeOptions, executor: bool) -> None:
    """Refuse ``jobs`` above 1 or an ``executor`` for an encode that has nothing to run in
    parallel: only a tiled image's tiles are (one image's fit is one process's)."""
    family = families.for_image(opts.model, (img.height, img.width, img.channels), opts)
    if (opts.jobs not in (None, 1) or executor) and family.chosen_as is None:
        raise OptionError(f"--jobs and --executor fit a large image's tiles in parallel; this {img.width}x{img.height} "
                          f"image is one {family.name} model (tiles: --model grid above 2^20 pixels, or --tile N)")  # fmt: skip


def check_encode(img: Image, opts: EncodeOptions, target: RateTarget, limits: Limits, count: int = 1) -> None:
    """Refuse, before any fitting, an encode of ``img`` (``count`` such images fitted together)
    whose planned model the decoder would refuse (a layer, parameter, work or memory limit, or an
    architecture the format cannot hold), or whose working set would pass the encoder's memory
    limit: one line naming what, instead of a long fit that ends in an error or runs out of
    memory. The model is checked by the decoder's own checks, from the header it would write."""
    family = families.for_image(opts.model, (img.height, img.width, img.channels), opts)
    if family.plan is None:
        return
    image_shape = (img.height, img.width, img.channels)
    arch, codes = family.plan(image_shape, opts, target)
    header = Header(ImageFields(img.width, img.height, MODE_IDS[img.mode], img.bit_depth), family.id, tuple(arch),
                    codes, coords.CONVENTION_PIXEL_CENTRES, target.kind, target.value)  # fmt: skip
    what = f"the {family.name} model this encode plans"
    try:
        check_decode(header, 2, img.channels, (img.height, img.width), limits,
                     img.height * img.width * img.channels * (img.bit_depth // 8))  # fmt: skip
        container.unpack(container.pack(header, b""))  # the reader's own structural checks
    except (FormatError, LimitError) as e:  # (the flag is decode's: encode's --max-memory is its own)
        raise type(e)(f"{what} could not be decoded: {str(e).replace(' / --', ' / decode --')}") from None
    except ValueError as e:  # a field the writer cannot store at all (a negative count)
        raise OptionError(f"{what} cannot be written: {e}") from None
    need = count * family.encode_memory(image_shape, opts, tuple(arch))
    if need > limits.max_encode_memory:
        images = f"{count} {img.width}x{img.height} images" if count > 1 else f"this {img.width}x{img.height} image"
        raise LimitError(
            f"encoding {images} with the {family.name} model needs about {need >> 20} MiB, over the "
            f"limit of {limits.max_encode_memory >> 20} MiB (max_encode_memory / --max-memory)"
        )


#: the rate an image encode aims at when given neither a bpp nor a size
DEFAULT_BPP = 0.3


def image_rate(opts: EncodeOptions, pixels: int) -> tuple[EncodeOptions, RateTarget]:
    """``opts`` with the default rate filled in, and the rate target that means for an image of
    ``pixels`` pixels."""
    if opts.bpp is None and opts.size is None:
        opts = replace(opts, bpp=DEFAULT_BPP)
    return opts, image_target(pixels, opts.bpp, opts.size)


def finish_encode(img: Image, data: bytes, target: RateTarget, steps: int, seconds: float,
                  limits: Limits, notices: list[str]) -> EncodeResult:  # fmt: skip
    """The result of an image encode: the PSNR of ``data`` as a decoder sees it, plus a notice
    when the file missed its target size."""
    decoded = decode_image(data, limits=limits).pixels
    notices = list(notices)
    if abs(len(data) / target.bytes - 1) > 0.10:
        # Said neutrally: a point model misses when it is at its smallest or largest useful
        # size, the latent grid when its rate control did not settle in the budget.
        off = 100 * (len(data) / target.bytes - 1)
        notices.append(
            f"file is {len(data)} bytes, {abs(off):.0f} % {'over' if off > 0 else 'under'} "
            f"the target of {target.bytes:.0f}"
        )
    return EncodeResult(data, psnr_metric(img.pixels, decoded), steps, seconds, notices)


def open_checkpoint(opts, *signal) -> Checkpoint | None:
    """The checkpoint of an encode with options ``opts`` (either modality's) of ``signal``, keyed
    to both; None without ``opts.checkpoint``."""
    if opts.checkpoint is None:
        return None
    from . import __version__  # the package is imported by now

    # Another version fits differently (its recipe, its arithmetic), so its state is not resumed.
    key = checkpoint_key(__version__, container.MAJOR, container.MINOR,
                         replace(opts, checkpoint=None, checkpoint_every=0), *signal)  # fmt: skip
    return Checkpoint(opts.checkpoint, key, opts.checkpoint_every)


# --- decoding ----------------------------------------------------------------------------------


def decode_image(
    source: bytes | str | os.PathLike,
    *,
    scale: float | None = None,
    width: int | None = None,
    height: int | None = None,
    device: str = "cpu",
    threads: int | None = None,
    limits: Limits = DEFAULT_LIMITS,
    write_as: str | None = None,
    sr: str = "none",
) -> Image:
    """Decode an image .inr at its stored size, a scale factor, or a given width and/or height.
    ``write_as`` names the Pillow format the caller will write the result in, so that the
    writer's memory counts against ``limits.max_memory`` too.

    ``sr``: ``none`` samples the file's own function at the output size; ``learned`` samples it
    at the stored size and passes that through the shipped local implicit function
    (:mod:`inrcodec.models.local_implicit`), itself continuous in the coordinates, to reach the
    output size. It upscales only; the refinement runs on the CPU whatever ``device``."""
    if sr not in SR_METHODS:
        raise OptionError(f"sr must be one of {', '.join(SR_METHODS)}, got {sr!r}")
    header, payload = container.unpack(read_inr(source, limits))
    (out_h, out_w), cost = _image_decode_plan(header, scale, width, height, limits, write_as, sr)
    s = header.signal
    render_h, render_w = (s.height, s.width) if sr == "learned" else (out_h, out_w)
    dev = resolve_device(device)
    with torch_threads(threads):
        model = build_model_from(header, payload, 2, s.channels)
        # Each tile becomes integers as it is produced: the output is the only full-size array.
        pixels = np.empty((render_h, render_w, s.channels), dtype=np.uint16 if s.bit_depth == 16 else np.uint8)
        for r0, c0, values in model.render_tiles(render_h, render_w, dev, cost.band_points()):
            pixels[r0 : r0 + values.shape[0], c0 : c0 + values.shape[1]] = from_values(values, s.bit_depth)
        if sr == "learned":
            pixels = local_implicit.upscale_image(Image(pixels, MODE_BY_ID[s.mode]), out_h, out_w)
    return Image(pixels, MODE_BY_ID[s.mode])


def image_decode_cost(
    source: bytes | str | os.PathLike,
    *,
    scale: float | None = None,
    width: int | None = None,
    height: int | None = None,
    limits: Limits = DEFAULT_LIMITS,
    write_as: str | None = None,
) -> DecodeCost:
    """What :func:`decode_image` with these arguments would cost (work units, estimated peak
    bytes), from the header alone; the same refusals."""
    header, _ = container.unpack(read_inr(source, limits))
    return _image_decode_plan(header, scale, width, height, limits, write_as)[1]


def _image_decode_plan(header: Header, scale: float | None, width: int | None, height: int | None,
                       limits: Limits, write_as: str | None = None, sr: str = "none",
                       ) -> tuple[tuple[int, int], DecodeCost]:  # fmt: skip
    if not isinstance(header.signal, ImageFields):
        raise InputError("this .inr file holds audio, not an image (use decode_audio)")
    s = header.signal
    try:
        out_h, out_w = coords.output_size(s.height, s.width, scale, width, height)
    except ValueError as e:
        raise OptionError(str(e)) from None
    limits.check_output(out_h, out_w)
    output = out_h * out_w * s.channels * (2 if s.bit_depth == 16 else 1)
    if write_as is not None:  # the writer's copy and buffers, held while the output is
        output += writer_bytes(write_as, out_h, out_w, s.channels, s.bit_depth)
    rendered = (out_h, out_w)
    if sr == "learned":
        if out_h < s.height or out_w < s.width:
            raise OptionError(
                f"--sr learned only upscales: {out_w}x{out_h} is smaller than the stored {s.width}x{s.height}"
            )
        rendered = (s.height, s.width)
        output += rendered[0] * rendered[1] * s.channels * 2 + local_implicit.working_bytes(out_h, out_w)
    return (out_h, out_w), check_decode(header, 2, s.channels, rendered, limits, output)
