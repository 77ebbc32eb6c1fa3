"""The coordinate-network pipeline: fit a point model, set its quantization steps to the rate
target, fine-tune through them, and pack the file; and its decoding.

Shared by every modality whose model is a coordinate network: images with a SIREN or a
Fourier-feature MLP, and audio, whose segments (:class:`~inrcodec.models.segments.Segments`)
stack such networks along time. The rate is set by the architecture (planned from the target,
:func:`inrcodec.rate.plan_point_model`) and by the quantization steps, which
:func:`inrcodec.rate.match_steps` moves until the real file meets the target.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from . import container, coords, quantize
from .container import CODER_LAPLACE, CODER_RAW16, Header, TensorCode
from .entropy import StreamDecoder, StreamEncoder
from .errors import FormatError, OptionError
from .family import Family, ImageFit, ImageJob, smallest_file
from .fit import Budget, Checkpoint, FitTask, ProgressCallback, Schedule, psnr_of_values, run, seeded_generator
from .io.image import Image, to_values
from .models import INR, FourierMLP, Segments, Siren
from .models.segments import OVERLAP_UNITS
from .rate import RateTarget, match_steps, plan_point_model
from .tasks import PointFitTask
from .tensors import laplace_code, raw16_code, read_tensor_symbols, symbol_values

#: what the coordinate networks use when an option is left unset
DEFAULTS = {"quant": "int", "bits": 10.0, "omega": 30.0, "lr": 1e-3, "batch": 1 << 16, "qat": 0.15}
#: ``--effort`` presets: seconds of fitting (these fits sample random batches, budgeted by time)
EFFORT_SECONDS = {"fast": 20.0, "default": 60.0, "high": 300.0, "max": 1200.0}


def setting(opts, name: str):
    """Option ``name`` of ``opts``, or the coordinate networks' default for it."""
    value = getattr(opts, name)
    return DEFAULTS[name] if value is None else value


@dataclass(frozen=True)
class Quantization:
    """How a point model is stored: ``quant`` "int" (steps starting at ``bits`` per weight,
    then ``qat`` of the budget fine-tuning through them at 0.3 x ``lr``) or "fp16"."""

    quant: str
    bits: float
    qat: float
    lr: float

    @classmethod
    def of(cls, opts) -> Quantization:
        """The settings of image or audio options, defaults filled in."""
        return cls(*(setting(opts, name) for name in ("quant", "bits", "qat", "lr")))


# --- coding the tensors ------------------------------------------------------------------------


def _coded_arrays(model: INR) -> list[tuple[str, np.ndarray]]:
    return [(n, p.detach().cpu().numpy().astype(np.float64)) for n, p in model.coded_tensors()]


def code_tensors(arrays: list[np.ndarray], exps: list[int] | None) -> tuple[tuple[TensorCode, ...], bytes]:
    """Quantize (or take fp16 bits of) each array and entropy-code them all into one payload."""
    encoder = StreamEncoder()
    if exps is None:
        codes = [raw16_code(encoder, a) for a in arrays]
    else:
        codes = [laplace_code(encoder, quantize.quantize(a, e), e) for a, e in zip(arrays, exps)]
    return tuple(codes), encoder.finish()


def read_point_symbols(model: INR, header: Header, payload: bytes) -> list[np.ndarray]:
    """The entropy-decoded integer symbols of each coded tensor: bit-exact on every machine."""
    shapes = [tuple(p.shape) for _, p in model.coded_tensors()]
    if len(header.tensors) != len(shapes):
        raise FormatError(f"header lists {len(header.tensors)} tensors, the model has {len(shapes)}")
    decoder = StreamDecoder(payload)
    symbols = [
        read_tensor_symbols(decoder, code, shape, i) for i, (code, shape) in enumerate(zip(header.tensors, shapes))
    ]
    decoder.finish()
    return symbols


def fill_point_model(model: INR, header: Header, payload: bytes) -> None:
    """Load a payload's tensors into an untrained model of the header's architecture."""
    tensors = model.coded_tensors()
    symbols = read_point_symbols(model, header, payload)
    with torch.no_grad():
        for (_, p), code, q in zip(tensors, header.tensors, symbols):
            p.copy_(torch.from_numpy(symbol_values(code, q)))


# --- fitting and packing -----------------------------------------------------------------------


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


def fit_and_pack(
    task: PointFitTask,
    budget: Budget,
    target: RateTarget,
    header_for: Callable[[tuple[TensorCode, ...]], Header],
    quantization: Quantization,
    *,
    progress: ProgressCallback | None = None,
    checkpoint: Checkpoint | None = None,
) -> tuple[bytes, int]:
    """Fit a point model, set its steps to the rate target, fine-tune through them, pack the file.

    ``header_for(codes)`` builds the modality's header around the coded tensors' fields. Returns
    the file's bytes and the number of fitting steps taken. Both fitting phases keep their state
    in ``checkpoint``, if given.
    """
    files, steps = fit_and_pack_members(
        task, [task], [PointPacker(task.model, target, header_for)], budget, quantization, progress=progress,
        checkpoint=checkpoint,
    )  # fmt: skip
    return files[0], steps


def fit_and_pack_members(
    driver: FitTask,
    members: list[PointFitTask],
    packers: list[PointPacker],
    budget: Budget,
    quantization: Quantization,
    *,
    progress: ProgressCallback | None = None,
    checkpoint: Checkpoint | None = None,
) -> tuple[list[bytes], int]:
    """:func:`fit_and_pack` for point tasks that ``driver`` optimises together: the one task
    itself, or a :class:`~inrcodec.stacked.StackedPointFitTask` fitting several images in one
    batched computation (it keeps its members' models current). One file per member."""
    q = quantization
    qat_share = q.qat if q.quant == "int" else 0.0
    result = run(driver, budget.scaled(1.0 - qat_share), progress=progress, checkpoint=checkpoint)
    steps = result.steps
    if q.quant == "fp16":
        return [p.assemble(None) for p in packers], steps
    exps = [p.first_steps(q.bits) for p in packers]
    if qat_share > 0:
        for member, packer, e in zip(members, packers, exps):
            member.steps = packer.step_sizes(e)
        driver.lr = q.lr * 0.3
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


# --- images --------------------------------------------------------------------------------------


def point_task(img: Image, opts, target: RateTarget, budget: Budget, device: torch.device) -> PointFitTask:
    """The fitting task of a coordinate-network encode of ``img``: the model planned for the
    target and seeded, on every pixel centre."""
    cls = {Siren.name: Siren, FourierMLP.name: FourierMLP}[opts.model]
    bits = 16.0 if setting(opts, "quant") == "fp16" else setting(opts, "bits")
    depth, width = plan_point_model(cls, target, 2, img.channels, bits, opts.depth, opts.width)
    g = seeded_generator(opts.seed)
    omega = setting(opts, "omega")
    kwargs = {"first_omega": omega, "hidden_omega": omega} if cls is Siren else {}
    model = cls(2, img.channels, depth=depth, width=width, generator=g, **kwargs).to(device)

    points = torch.from_numpy(coords.image_points(img.height, img.width)).to(device)
    values = torch.from_numpy(to_values(img.pixels).reshape(-1, img.channels)).to(device)
    ints = torch.from_numpy(img.pixels.reshape(-1, img.channels).astype(np.int64)).to(device)

    def score(pred: torch.Tensor) -> float:
        return psnr_of_values(pred, ints, img.max_value)

    # torch.compile costs ~15 s up front, so by default only long fits use it.
    long_fit = (budget.seconds or 0) >= 180 or (budget.steps or 0) >= 2000
    return PointFitTask(
        model, points, values, score, lr=setting(opts, "lr"), batch_size=setting(opts, "batch"), generator=g,
        compile=long_fit if opts.compile is None else opts.compile,
    )  # fmt: skip


def fit_point_image(job: ImageJob) -> ImageFit:
    """Fit, quantize and code a coordinate network to an image (the ``encode_image`` hook)."""
    opts = job.options
    task = point_task(job.image, opts, job.target, job.budget, job.device)
    packer_header = lambda codes: job.header_for(task.model, codes)
    data, steps = fit_and_pack(task, job.budget, job.target, packer_header, Quantization.of(opts),
                               progress=job.progress, checkpoint=job.checkpoint)  # fmt: skip
    header, payload = container.unpack(data)
    return ImageFit(task.model, header.tensors, payload, steps)


def point_budget(opts) -> Budget:
    """Seconds of fitting for ``opts.effort``, unless steps or a time are given."""
    if opts.steps is not None or opts.time is not None:
        return Budget(steps=opts.steps, seconds=opts.time, target_psnr=opts.psnr)
    return Budget(seconds=EFFORT_SECONDS[opts.effort], target_psnr=opts.psnr)


# --- what the codec says about a file, and the smallest one ------------------------------------

#: the lower bound on a file (:func:`point_min_bytes`) counts a bit per weight of the weight
#: matrices when the quantization starts at this many bits per weight or more: the steps then end
#: at most 6 octaves coarser (rate.match_steps), and the smallest files measured 1.9 bits or more
_FLOOR_FROM_BITS = 8.0


def point_plan(
    image_shape: tuple[int, int, int], opts, target: RateTarget
) -> tuple[tuple[int, ...], tuple[TensorCode, ...]]:
    """The architecture a coordinate-network encode of an image of ``image_shape`` plans for
    ``target`` (or the given depth and width), and its tensors' fields at their fewest bytes:
    known without building the network, however large."""
    channels = image_shape[2]
    cls = {Siren.name: Siren, FourierMLP.name: FourierMLP}[opts.model]
    fp16 = setting(opts, "quant") == "fp16"
    bits = 16.0 if fp16 else setting(opts, "bits")
    depth, layer_width = plan_point_model(cls, target, 2, channels, bits, opts.depth, opts.width)
    omega = setting(opts, "omega")
    kwargs = {"first_omega": omega, "hidden_omega": omega} if cls is Siren else {}
    # The architecture's other fields (omegas, frequencies), from a one-unit network: every
    # family's arch starts with (depth, width), and a network of the real size may be large.
    arch = (depth, layer_width, *cls(2, channels, depth=1, width=1, **kwargs).arch()[2:])
    code = TensorCode(0, 0, 65535, CODER_RAW16, 0) if fp16 else TensorCode(0, 0, 0, CODER_LAPLACE, 0)
    return arch, (code,) * (2 * (depth + 1))  # a weight and a bias per layer


def point_min_bytes(image_shape: tuple[int, int, int], opts) -> int:
    """A lower bound on any file of a coordinate network for an image of ``image_shape``: the
    framing and header of the smallest network the rate plan gives (or the given depth and width)
    with every tensor's fields at their fewest bytes, and its weights at 16 bits (fp16) or at a
    bit each (integer steps); biases at nothing."""
    channels = image_shape[2]
    cls = {Siren.name: Siren, FourierMLP.name: FourierMLP}[opts.model]
    bits = 16.0 if setting(opts, "quant") == "fp16" else setting(opts, "bits")
    arch, codes = point_plan(image_shape, opts, RateTarget(0.0))
    depth, layer_width = arch[:2]
    n_params = cls.count_parameters(arch, 2, channels)
    if codes[0].coder == CODER_RAW16:
        payload_bits = 16.0 * n_params
    else:
        weights = n_params - depth * layer_width - channels
        payload_bits = weights if bits >= _FLOOR_FROM_BITS else 0.0
    return smallest_file(image_shape, cls.family_id, arch, codes, payload_bits)


#: the encoder's working set (docs/reliability.md, measured on 512 x 512 and 1024 x 1024 images):
#: per pixel (coordinates, float and integer targets, the whole-image evaluations), per value of a
#: training batch's activations (saved for the backward pass, with their gradients), per
#: parameter (the optimiser's state, float64 copies for the quantization search), and the rest
_ENCODE_BYTES_PER_PIXEL = 400
_ENCODE_BYTES_PER_ACTIVATION = 16
_ENCODE_BYTES_PER_PARAMETER = 96
_ENCODE_BASE_BYTES = 64 << 20


def point_encode_memory(image_shape: tuple[int, int, int], opts, arch: tuple[int, ...]) -> int:
    """The working set of fitting a coordinate network of ``arch`` to an image of ``image_shape``."""
    height, width, channels = image_shape
    cls = {Siren.name: Siren, FourierMLP.name: FourierMLP}[opts.model]
    depth, layer_width = arch[:2]
    encoded = 2 if cls is Siren else 2 * (1 + 2 * arch[2])
    batch = min(height * width, setting(opts, "batch"))
    activations = batch * (encoded + layer_width * depth + channels)
    return (_ENCODE_BASE_BYTES + _ENCODE_BYTES_PER_PIXEL * height * width
            + _ENCODE_BYTES_PER_ACTIVATION * activations
            + _ENCODE_BYTES_PER_PARAMETER * cls.count_parameters(arch, 2, channels))  # fmt: skip


def _network_fields(cls: type[INR], arch: tuple[int, ...]) -> dict:
    if cls is Siren:
        depth, width, first, hidden = Siren._parse(arch)
        return {"depth": depth, "layer_width": width, "omega": first, "hidden_omega": hidden}
    depth, width, n, ratio = FourierMLP._parse(arch)
    return {"depth": depth, "layer_width": width, "frequencies": n, "frequency_ratio": ratio}


def describe_point(header: Header) -> dict:
    """The ``inrcodec info`` fields of a coordinate network's file: its depth and width (and
    omegas or Fourier frequencies); for audio segments, their count, overlap and inner network."""
    if header.family == Segments.family_id:
        count, units, inner, inner_arch = Segments._parse(header.arch)
        return {"segments": count, "overlap": units / OVERLAP_UNITS, "segment_model": inner.name,
                **_network_fields(inner, inner_arch)}  # fmt: skip
    return _network_fields(Siren if header.family == Siren.family_id else FourierMLP, header.arch)


_POINT_OPTIONS = frozenset({"quant", "bits", "depth", "width", "lr", "batch", "qat", "compile"})

SIREN = Family(Siren, point_budget, read_point_symbols, fill_point_model, options=_POINT_OPTIONS | {"omega"},
               encode_image=fit_point_image, describe=describe_point, min_bytes=point_min_bytes,
               plan=point_plan, encode_memory=point_encode_memory)  # fmt: skip
FOURIER = Family(FourierMLP, point_budget, read_point_symbols, fill_point_model, options=_POINT_OPTIONS,
                 encode_image=fit_point_image, describe=describe_point, min_bytes=point_min_bytes,
                 plan=point_plan, encode_memory=point_encode_memory)  # fmt: skip
#: audio's chain of point models (built by :mod:`inrcodec.audio`, found by its header number)
SEGMENTS = Family(Segments, point_budget, read_point_symbols, fill_point_model, options=_POINT_OPTIONS | {"omega"},
                  describe=describe_point)  # fmt: skip
