"""Orchestration: signal -> fit -> quantize -> entropy -> container, and back.

The encoder fits a model to the signal, quantizes its coded tensors, entropy-codes them and packs
the file; the decoder reverses the chain and samples the model on the requested grid, in chunks.
Resource limits are checked against the header before anything large is allocated.
"""

from __future__ import annotations

import contextlib
import math
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace

import numpy as np
import torch

from . import container, coords, entropy, quantize
from .container import CODER_LAPLACE, CODER_RAW16, Header, ImageFields, TensorCode
from .errors import FormatError, InputError, LimitError, OptionError
from .fit import Budget, Checkpoint, FitTask, ProgressCallback, Schedule, checkpoint_key, psnr_of_values, run, seeded_generator
from .io.files import check_input_file
from .io.image import MODE_BY_ID, MODE_IDS, Image, from_values, read_image, to_values
from .metrics import psnr as psnr_metric
from . import grid_codec
from .models import INR, family_by_id, family_by_name
from .models.base import DecodeCost
from .models.grid import GridImage
from .rate import RateTarget, image_target, match_steps, plan_point_model
from .tasks import PointFitTask


@dataclass(frozen=True)
class Limits:
    """Resource bounds the decoder (and encoder) enforce before allocating; all configurable.

    Every check runs on the header's numbers alone, so a file is refused before any large
    allocation or long computation. ``max_work`` bounds decode time: multiply-adds, of which one
    core does some 10^10 a second. ``max_memory`` bounds the decoder's own estimate of its
    working set (parameters, family-specific buffers, one band, the output).
    """

    max_input_pixels: int = 200_000_000
    max_output_pixels: int = 1 << 27  # 134 M pixels: about 400 MB of RGB output
    max_parameters: int = 50_000_000
    max_layers: int = 256
    max_file_bytes: int = 1 << 30
    max_work: int = 1 << 42  # 4.4e12 multiply-adds: minutes on one core
    max_memory: int = 1 << 32  # 4 GiB

    def check_output(self, height: int, width: int) -> None:
        if height * width > self.max_output_pixels:
            raise LimitError(
                f"decoded size {width}x{height} = {height * width} pixels exceeds the limit of "
                f"{self.max_output_pixels} (max_output_pixels / --max-pixels)"
            )

    def check(self, what: str, value: int, name: str) -> None:
        """Refuse ``value`` over the limit called ``name`` (a field of this class)."""
        limit = getattr(self, name)
        if value > limit:
            flag = _LIMIT_FLAGS.get(name)
            raise LimitError(
                f"{what} {value} exceeds the limit of {limit} ({name}{f' / {flag}' if flag else ''})"
            )


#: the command-line flag that sets each limit
_LIMIT_FLAGS = {"max_output_pixels": "--max-pixels", "max_parameters": "--max-params",
                "max_work": "--max-work", "max_memory": "--max-memory"}  # fmt: skip

DEFAULT_LIMITS = Limits()


@dataclass(frozen=True)
class EncodeOptions:
    """Everything that steers an image encode. ``None`` means: choose automatically."""

    bpp: float | None = None
    size: str | int | None = None
    model: str = "grid"
    effort: str = "default"  # a preset budget (EFFORTS); steps or time, when given, replace it
    steps: int | None = None
    time: float | None = None  # seconds of fitting
    psnr: float | None = None  # stop early at this PSNR
    seed: int = 0
    device: str = "cpu"
    threads: int = 1
    quant: str = "int"  # "int" (per-tensor steps + entropy coding) or "fp16" (COIN)
    bits: float = 10.0  # starting bits per weight for coordinate networks
    depth: int | None = None
    width: int | None = None
    omega: float = 30.0
    lr: float = 1e-3
    batch: int = 1 << 16
    qat: float = 0.15  # share of the budget spent on quantization-aware fine-tuning
    compile: bool | None = None  # torch.compile the network; None: only for fits of 3+ minutes
    lmbda: float | None = None  # grid: fixed rate-distortion trade-off instead of a rate target
    checkpoint: str | os.PathLike | None = None  # resume file: an interrupted encode continues
    checkpoint_every: float = 10.0  # seconds between checkpoint saves

    def validated(self) -> EncodeOptions:
        if self.quant not in ("int", "fp16"):
            raise OptionError(f"quant must be 'int' or 'fp16', got '{self.quant}'")
        if not 1 <= self.bits <= 16:
            raise OptionError(f"bits must be in 1..16, got {self.bits}")
        if not 0 <= self.qat < 1:
            raise OptionError(f"qat share must be in [0, 1), got {self.qat}")
        if self.batch < 1:
            raise OptionError(f"batch must be at least 1, got {self.batch}")
        if not (self.omega > 0 and math.isfinite(self.omega)):
            raise OptionError(f"omega must be positive, got {self.omega}")
        if self.threads < 1:
            raise OptionError(f"threads must be at least 1, got {self.threads}")
        if not self.checkpoint_every >= 0:
            raise OptionError(f"checkpoint interval must be 0 or more seconds, got {self.checkpoint_every}")
        for name in ("depth", "width"):
            v = getattr(self, name)
            if v is not None and v < 1:
                raise OptionError(f"{name} must be at least 1, got {v}")
        if self.model == GridImage.name and self.quant != "int":
            raise OptionError("--quant fp16 is for the coordinate networks (siren, fourier), not the grid")
        if self.effort not in EFFORTS:
            raise OptionError(f"effort must be one of {', '.join(EFFORTS)}, got '{self.effort}'")
        family_by_name(self.model)
        return self


@dataclass
class EncodeResult:
    """An encoded file and what it cost."""

    data: bytes
    psnr: float  # of the decoded 8-bit (or 16-bit) output at the stored size
    steps: int
    seconds: float
    notices: list[str] = field(default_factory=list)


# --- helpers shared by encoder and decoder -----------------------------------------------------


def resolve_device(device: str) -> torch.device:
    if device == "cpu":
        return torch.device("cpu")
    if device.startswith("cuda"):
        if not torch.cuda.is_available():
            raise OptionError("--device cuda was asked for, but CUDA is not available here")
        return torch.device(device)
    raise OptionError(f"unknown device '{device}' (use cpu or cuda)")


@contextlib.contextmanager
def torch_threads(threads: int | None) -> Iterator[None]:
    """Run with ``threads`` torch threads, then restore the previous setting."""
    before = torch.get_num_threads()
    if threads:
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def read_inr(source: bytes | str | os.PathLike, limits: Limits = DEFAULT_LIMITS) -> bytes:
    """The bytes of an .inr file given as bytes or a path, refusing oversized files unread."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source)
    path = check_input_file(source, ".inr file")
    size = path.stat().st_size
    if size > limits.max_file_bytes:
        raise LimitError(f"{path} is {size} bytes, over the limit of {limits.max_file_bytes}")
    return path.read_bytes()


#: raw fp16: every 16-bit pattern equally likely, so exactly 16 bits per value
_RAW16_MODEL = entropy.SymbolModel(0, 65535, np.ones(65536, dtype=np.int64))


def _coded_arrays(model: INR) -> list[tuple[str, np.ndarray]]:
    return [(n, p.detach().cpu().numpy().astype(np.float64)) for n, p in model.coded_tensors()]


def code_tensors(
    arrays: list[np.ndarray], exps: list[int] | None
) -> tuple[tuple[TensorCode, ...], bytes]:
    """Quantize (or take fp16 bits of) each array and entropy-code them all into one payload."""
    encoder = entropy.StreamEncoder()
    codes = []
    for i, a in enumerate(arrays):
        if exps is None:
            q = quantize.to_fp16_symbols(a)
            model = _RAW16_MODEL
            code = TensorCode(0, 0, 65535, CODER_RAW16, 0)
        else:
            q = quantize.quantize(a, exps[i])
            lo, hi = int(q.min()), int(q.max())
            try:
                entropy.check_table(lo, hi, entropy.MAX_SYMBOL)
            except FormatError:
                raise OptionError("quantization step too fine for the entropy coder; use fewer bits") from None
            s = entropy.best_scale_index(q)
            model = entropy.SymbolModel.laplace(s, lo, hi)
            code = TensorCode(exps[i], lo, hi, CODER_LAPLACE, s)
        encoder.add(q, model)
        codes.append(code)
    return tuple(codes), encoder.finish()


def decode_symbols(
    codes: tuple[TensorCode, ...], shapes: list[tuple[int, ...]], payload: bytes
) -> list[np.ndarray]:
    """The entropy-decoded integer symbols of each coded tensor: bit-exact on every machine."""
    if len(codes) != len(shapes):
        raise FormatError(f"header lists {len(codes)} tensors, the model has {len(shapes)}")
    decoder = entropy.StreamDecoder(payload)
    symbols = []
    for i, (code, shape) in enumerate(zip(codes, shapes)):
        n = int(np.prod(shape))
        if code.coder == CODER_RAW16:
            if (code.lo, code.hi) != (0, 65535):
                raise FormatError(f"tensor {i}: raw fp16 needs symbols 0..65535")
            model = _RAW16_MODEL
        elif code.coder == CODER_LAPLACE:
            if abs(code.step_exp) > quantize.STEP_EXP_LIMIT:
                raise FormatError(f"tensor {i}: quantization step 2^({code.step_exp}/8) out of range")
            model = entropy.SymbolModel.laplace(code.param, code.lo, code.hi)
        else:
            raise FormatError(f"tensor {i}: coder {code.coder} is not valid for this model family")
        symbols.append(decoder.read(n, model).reshape(shape))
    decoder.finish()
    return symbols


def decode_tensors(
    codes: tuple[TensorCode, ...], shapes: list[tuple[int, ...]], payload: bytes
) -> list[np.ndarray]:
    """The float arrays of the coded tensors (the inverse of :func:`code_tensors`)."""
    arrays = []
    for code, q in zip(codes, decode_symbols(codes, shapes, payload)):
        if code.coder == CODER_RAW16:
            values = quantize.from_fp16_symbols(q)
        else:
            values = quantize.dequantize(q, code.step_exp)
        arrays.append(np.nan_to_num(values, nan=0.0, posinf=0.0, neginf=0.0))
    return arrays


def entropy_decoded(source: bytes | str | os.PathLike, limits: Limits = DEFAULT_LIMITS) -> list[np.ndarray]:
    """Every integer the entropy decoder reads from a file, tensor by tensor (for the grid family
    the weights' symbols, then the latent levels): what must be identical on every machine."""
    header, payload = container.unpack(read_inr(source, limits))
    in_dim, shape = _stored_grid(header)
    check_decode(header, in_dim, header.signal.channels, shape, limits, 0)
    model = family_by_id(header.family).from_arch(header.arch, in_dim, header.signal.channels)
    if isinstance(model, GridImage):
        weights, levels = grid_codec.decode_symbols(model, header, payload)
        return weights + levels
    return decode_symbols(header.tensors, [tuple(p.shape) for _, p in model.coded_tensors()], payload)


def _stored_grid(header: Header) -> tuple[int, tuple[int, ...]]:
    """(input dimensions, stored sample grid) of a file: (2, (height, width)) or (1, (frames,))."""
    s = header.signal
    return (2, (s.height, s.width)) if isinstance(s, ImageFields) else (1, (s.frames,))


def check_decode(header: Header, in_dim: int, out_dim: int, shape: tuple[int, ...], limits: Limits,
                 output_bytes: int) -> DecodeCost:  # fmt: skip
    """Refuse, from the header alone, sampling the model on ``shape`` if that would break a limit;
    else the cost of it. ``output_bytes`` is what the caller itself holds of the output."""
    cls = family_by_id(header.family)
    if header.coords != coords.CONVENTION_PIXEL_CENTRES:
        raise FormatError(f"unknown coordinate convention {header.coords}")
    if in_dim not in cls.input_dims:
        raise FormatError(f"the {cls.name} family cannot hold {'audio' if in_dim == 1 else 'images'}")
    limits.check("model layers", cls.layer_count(header.arch), "max_layers")
    n_params = cls.count_parameters(header.arch, in_dim, out_dim)
    limits.check("model parameters", n_params, "max_parameters")
    if cls is GridImage and tuple(header.arch[:2]) != (header.signal.height, header.signal.width):
        raise FormatError("grid size in the architecture does not match the image size")
    cost = cls.decode_cost(header.arch, in_dim, out_dim, shape)
    # every sample also costs its coordinates, clamping and rounding: count those as 64
    limits.check("decoding work (multiply-adds)", cost.work + 64 * math.prod(shape), "max_work")
    # parameters: decoded symbols (int64), their dequantized values and the model's float32 copy
    memory = 24 * n_params + 4 * (cost.floats + cost.band_points() * cost.point_floats)
    limits.check("decoding memory (bytes)", memory + output_bytes, "max_memory")
    return cost


def rebuild_model(header: Header, payload: bytes, in_dim: int, out_dim: int, limits: Limits,
                  shape: tuple[int, ...] | None = None) -> INR:  # fmt: skip
    """The model a header and payload describe, after checking a decode onto ``shape`` (by default
    the stored size) against the limits."""
    shape = shape or _stored_grid(header)[1]
    check_decode(header, in_dim, out_dim, shape, limits, math.prod(shape) * out_dim * 4)
    return build_model_from(header, payload, in_dim, out_dim)


def build_model_from(header: Header, payload: bytes, in_dim: int, out_dim: int) -> INR:
    """Allocate the model of a header that passed :func:`check_decode` and fill it from the payload."""
    model = family_by_id(header.family).from_arch(header.arch, in_dim, out_dim)
    if isinstance(model, GridImage):
        grid_codec.decode_payload(model, header, payload)
        return model.eval()
    tensors = model.coded_tensors()
    arrays = decode_tensors(header.tensors, [tuple(p.shape) for _, p in tensors], payload)
    with torch.no_grad():
        for (_, p), a in zip(tensors, arrays):
            p.copy_(torch.from_numpy(a))
    return model.eval()


# --- images ------------------------------------------------------------------------------------


def _image_header(img: Image, model: INR, target: RateTarget, codes) -> Header:
    return Header(
        signal=ImageFields(img.width, img.height, MODE_IDS[img.mode], img.bit_depth),
        family=model.family_id,
        arch=model.arch(),
        tensors=codes,
        coords=coords.CONVENTION_PIXEL_CENTRES,
        target_kind=target.kind,
        target_value=target.value,
    )


def encode_image(
    image: Image | np.ndarray | str | os.PathLike,
    options: EncodeOptions = EncodeOptions(),
    progress: ProgressCallback | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> EncodeResult:
    """Fit, quantize and pack an image; the full result with statistics."""
    opts = options.validated()
    img = image if isinstance(image, Image) else read_image(image, limits.max_input_pixels)
    device = resolve_device(opts.device)
    opts, target = image_rate(opts, img.height * img.width)
    budget = encode_budget(opts)
    checkpoint = open_checkpoint(opts, img.pixels, img.mode)
    start = time.perf_counter()
    with torch_threads(opts.threads):
        if opts.model == GridImage.name:
            data, steps = _encode_grid_image(img, opts, target, budget, device, progress, checkpoint)
        else:
            data, steps = _encode_point_image(img, opts, target, budget, device, progress, checkpoint)
    seconds = time.perf_counter() - start
    notices = list(img.notices)
    if checkpoint:
        notices += checkpoint.notices
        checkpoint.remove()
    return finish_encode(img, data, target, steps, seconds, limits, notices)


#: the rate an image encode aims at when given neither a bpp nor a size
DEFAULT_BPP = 0.3


def image_rate(opts: EncodeOptions, pixels: int) -> tuple[EncodeOptions, RateTarget]:
    """``opts`` with the default rate filled in, and the rate target that means for an image of
    ``pixels`` pixels."""
    if opts.bpp is None and opts.size is None:
        opts = replace(opts, bpp=DEFAULT_BPP)
    return opts, image_target(pixels, opts.bpp, opts.size)


#: ``--effort`` presets: fitting steps of the latent-grid family, and seconds for the coordinate
#: networks (SIREN, Fourier features), whose random-batch fits are budgeted by time. Grid efforts
#: are step counts so that an effort gives the same file on any machine; what each costs on a
#: 768x512 image on one core is measured in docs/grid.md.
EFFORTS: dict[str, tuple[int, float]] = {
    "fast": (400, 20.0),
    "default": (1200, 60.0),
    "high": (3000, 300.0),
    "max": (8000, 1200.0),
}


def encode_budget(opts: EncodeOptions) -> Budget:
    """The fitting budget of an encode: ``steps`` and/or ``time`` when given, else the preset of
    ``effort`` for its model family; plus the PSNR target."""
    if opts.steps is not None or opts.time is not None:
        return Budget(steps=opts.steps, seconds=opts.time, target_psnr=opts.psnr)
    steps, seconds = EFFORTS[opts.effort]
    if opts.model == GridImage.name:
        return Budget(steps=steps, target_psnr=opts.psnr)
    return Budget(seconds=seconds, target_psnr=opts.psnr)


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
        notices.append(f"file is {len(data)} bytes, {abs(off):.0f} % {'over' if off > 0 else 'under'} "
                       f"the target of {target.bytes:.0f}")
    return EncodeResult(data, psnr_metric(img.pixels, decoded), steps, seconds, notices)


def open_checkpoint(opts, *signal) -> Checkpoint | None:
    """The checkpoint of an encode with options ``opts`` (either modality's) of ``signal``, keyed
    to both; None without ``opts.checkpoint``."""
    if opts.checkpoint is None:
        return None
    key = checkpoint_key(container.MAJOR, container.MINOR, replace(opts, checkpoint=None, checkpoint_every=0), *signal)
    return Checkpoint(opts.checkpoint, key, opts.checkpoint_every)


def _encode_grid_image(img, opts, target, budget, device, progress, checkpoint) -> tuple[bytes, int]:
    target_bpp = None if opts.lmbda is not None else target.bits / (img.height * img.width)
    model, task, steps = grid_codec.fit_grid(
        img.pixels, target_bpp, opts.lmbda, budget, seed=opts.seed, device=device, progress=progress,
        checkpoint=checkpoint,
    )  # fmt: skip
    codes, payload = grid_codec.encode_payload(model, task.evaluate)
    return container.pack(_image_header(img, model, target, codes), payload), steps


def _encode_point_image(img, opts, target, budget, device, progress, checkpoint) -> tuple[bytes, int]:
    task, header_for = point_task(img, opts, target, budget, device)
    return fit_and_pack(
        task, budget, target, header_for, quant=opts.quant, bits=opts.bits, qat=opts.qat, lr=opts.lr,
        progress=progress, checkpoint=checkpoint,
    )  # fmt: skip


def point_task(img: Image, opts: EncodeOptions, target: RateTarget, budget: Budget, device: torch.device
               ) -> tuple[PointFitTask, Callable[[tuple[TensorCode, ...]], Header]]:  # fmt: skip
    """The fitting task of a coordinate-network encode of ``img`` (model planned for the target
    and seeded), and the function that builds the file's header around the coded tensors."""
    cls = family_by_name(opts.model)
    bits = 16.0 if opts.quant == "fp16" else opts.bits
    depth, width = plan_point_model(
        cls.name, target, 2, img.channels, bits, opts.depth, opts.width
    )
    g = seeded_generator(opts.seed)
    kwargs = {"first_omega": opts.omega, "hidden_omega": opts.omega} if cls.name == "siren" else {}
    model = cls(2, img.channels, depth=depth, width=width, generator=g, **kwargs).to(device)

    points = torch.from_numpy(coords.image_points(img.height, img.width)).to(device)
    values = torch.from_numpy(to_values(img.pixels).reshape(-1, img.channels)).to(device)
    ints = torch.from_numpy(img.pixels.reshape(-1, img.channels).astype(np.int64)).to(device)

    def score(pred: torch.Tensor) -> float:
        return psnr_of_values(pred, ints, img.max_value)

    long_fit = (budget.seconds or 0) >= 180 or (budget.steps or 0) >= 2000
    task = PointFitTask(
        model, points, values, score, lr=opts.lr, batch_size=opts.batch, generator=g,
        compile=long_fit if opts.compile is None else opts.compile,
    )
    return task, lambda codes: _image_header(img, model, target, codes)


def fit_and_pack(
    task: PointFitTask,
    budget: Budget,
    target: RateTarget,
    header_for: Callable[[tuple[TensorCode, ...]], Header],
    *,
    quant: str,
    bits: float,
    qat: float,
    lr: float,
    progress: ProgressCallback | None = None,
    checkpoint: Checkpoint | None = None,
) -> tuple[bytes, int]:
    """Fit a point model, set its steps to the rate target, fine-tune through them, pack the file.

    Shared by every modality: ``header_for(codes)`` builds the modality's header around the coded
    tensors' fields. Returns the file's bytes and the number of fitting steps taken. Both fitting
    phases keep their state in ``checkpoint``, if given.
    """
    files, steps = fit_and_pack_members(
        task, [task], [PointPacker(task.model, target, header_for)], budget, quant=quant, bits=bits,
        qat=qat, lr=lr, progress=progress, checkpoint=checkpoint,
    )  # fmt: skip
    return files[0], steps


class PointPacker:
    """One point model's file: its bytes at given quantization steps, and the steps that meet
    its rate target."""

    def __init__(self, model: INR, target: RateTarget,
                 header_for: Callable[[tuple[TensorCode, ...]], Header]) -> None:  # fmt: skip
        self.model = model
        self.target = target
        self.header_for = header_for

    def assemble(self, exps: list[int] | None) -> bytes:
        codes, payload = code_tensors([a for _, a in _coded_arrays(self.model)], exps)
        return container.pack(self.header_for(codes), payload)

    def size(self, exps: list[int]) -> float:
        # Steps finer than the entropy coder takes count as too big, so that a target beyond the
        # model's reach settles on the finest codable steps instead of failing.
        try:
            return len(self.assemble(exps))
        except OptionError:
            return math.inf

    def first_steps(self, bits: float) -> list[int]:
        """Step exponents for ``bits`` per weight, moved until the file meets the target."""
        base = [quantize.exp_for_bits(a, bits) for _, a in _coded_arrays(self.model)]
        return match_steps(base, self.size, self.target.bytes)[0]

    def step_sizes(self, exps: list[int]) -> dict[str, float]:
        """The steps by coded tensor name, for quantization-aware fine-tuning."""
        return {n: quantize.step_from_exp(e) for (n, _), e in zip(self.model.coded_tensors(), exps)}

    def settled(self, exps: list[int]) -> list[int]:
        """``exps``, searched again if fine-tuning moved the weights and the size off target."""
        if abs(self.size(exps) / self.target.bytes - 1) > 0.05:
            return match_steps(exps, self.size, self.target.bytes, search=8)[0]
        return exps


def fit_and_pack_members(
    driver: FitTask,
    members: list[PointFitTask],
    packers: list[PointPacker],
    budget: Budget,
    *,
    quant: str,
    bits: float,
    qat: float,
    lr: float,
    progress: ProgressCallback | None = None,
    checkpoint: Checkpoint | None = None,
) -> tuple[list[bytes], int]:
    """:func:`fit_and_pack` for point tasks that ``driver`` optimises together: the one task
    itself, or a :class:`~inrcodec.stacked.StackedPointFitTask` fitting several images in one
    batched computation (it keeps its members' models current). One file per member."""
    qat_share = qat if quant == "int" else 0.0
    result = run(driver, budget.scaled(1.0 - qat_share), progress=progress, checkpoint=checkpoint)
    steps = result.steps
    if quant == "fp16":
        return [p.assemble(None) for p in packers], steps
    exps = [p.first_steps(bits) for p in packers]
    if qat_share > 0:
        for member, packer, e in zip(members, packers, exps):
            member.steps = packer.step_sizes(e)
        driver.lr = lr * 0.3
        tuned = run(
            driver,
            budget.scaled(qat_share),
            schedule=Schedule(warmup=0.0, decay_start=0.0, final=0.05),
            eval_every=50,
            phase="quantize",
            progress=progress,
            checkpoint=checkpoint,
        )
        steps += tuned.steps
        exps = [p.settled(e) for p, e in zip(packers, exps)]
    return [p.assemble(e) for p, e in zip(packers, exps)], steps


def decode_image(
    source: bytes | str | os.PathLike,
    *,
    scale: float | None = None,
    width: int | None = None,
    height: int | None = None,
    device: str = "cpu",
    threads: int | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> Image:
    """Decode an image .inr at its stored size, a scale factor, or a given width and/or height."""
    header, payload = container.unpack(read_inr(source, limits))
    if not isinstance(header.signal, ImageFields):
        raise InputError("this .inr file holds audio, not an image (use decode_audio)")
    s = header.signal
    try:
        out_h, out_w = coords.output_size(s.height, s.width, scale, width, height)
    except ValueError as e:
        raise OptionError(str(e)) from None
    limits.check_output(out_h, out_w)
    depth_bytes = 2 if s.bit_depth == 16 else 1
    cost = check_decode(header, 2, s.channels, (out_h, out_w), limits, out_h * out_w * s.channels * depth_bytes)
    dev = resolve_device(device)
    with torch_threads(threads):
        model = build_model_from(header, payload, 2, s.channels)
        # Each tile becomes integers as it is produced: the output is the only full-size array.
        pixels = np.empty((out_h, out_w, s.channels), dtype=np.uint16 if depth_bytes == 2 else np.uint8)
        for r0, c0, values in model.render_tiles(out_h, out_w, dev, cost.band_points()):
            pixels[r0 : r0 + values.shape[0], c0 : c0 + values.shape[1]] = from_values(values, s.bit_depth)
    return Image(pixels, MODE_BY_ID[s.mode])


def peek_modality(source: bytes | str | os.PathLike, limits: Limits = DEFAULT_LIMITS) -> str:
    """'image' or 'audio': what an .inr file holds (after all the container's checks)."""
    header, _ = container.unpack(read_inr(source, limits))
    return "image" if isinstance(header.signal, ImageFields) else "audio"


def describe(source: bytes | str | os.PathLike, limits: Limits = DEFAULT_LIMITS) -> dict:
    """Header fields and size statistics of an .inr file, as a JSON-ready dict."""
    data = read_inr(source, limits)
    header, payload = container.unpack(data)
    cls = family_by_id(header.family)
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
    limits.check("model parameters", n_params, "max_parameters")
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
    if cls is GridImage:
        info["context_scheme"] = grid_codec.context_scheme(header)
    return info
