"""Batch encoding and decoding of many files: one job per process (or a Ray cluster), resumable.

    >>> from inrcodec.batch import encode_batch, decode_batch
    >>> outcome = encode_batch(["a.png", "b.png"], "out", EncodeOptions(bpp=0.3), jobs=2)
    >>> [r.status for r in outcome.results], outcome.failed

- **Naming**: ``<folder>/<stem>.inr`` (or ``.png`` and so on when decoding); without a folder,
  each output goes beside its input. Two inputs that would write one output are refused before
  any work; the same file named twice is encoded once.
- **Resuming**: an output that already exists and is valid for its input is skipped (see
  :func:`existing_encode` and :func:`existing_decode`); ``force`` redoes it. Outputs are written
  atomically, so an interrupted batch leaves only complete files, and rerunning it finishes it.
- **Errors** of one file (an unreadable input, a limit, a failed write) are recorded in its
  :class:`FileResult` and the batch goes on; :attr:`BatchOutcome.failed` lists them.
- **Where the work runs**: an :mod:`inrcodec.executors` executor: ``jobs`` worker processes
  with ``threads`` torch threads each (one by default), or tasks on a Ray cluster. This process
  reads every input and writes every output; workers receive pixels or file bytes and return
  file bytes or pixels, so a cluster needs no shared file system.
- **Stacking** (``stack`` > 1): each job fits up to that many same-size images together in one
  batched computation (:mod:`inrcodec.stacked`).

Progress is reported through a callback after every file; nothing here prints.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from . import container, coords, families
from .codec import EncodeResult, decode_image, encode_image, image_rate
from .container import ImageFields
from .errors import InrError, OptionError
from .executors import Executor, RayExecutor, make_executor
from .io.files import make_output_folder, write_bytes_atomic
from .io.image import Image, image_format_for, image_size, read_image, write_image
from .limits import DEFAULT_LIMITS, Limits, read_inr
from .options import EncodeOptions
from .runtime import resolve_device

#: the status of a file in a batch
DONE, SKIPPED, FAILED = "done", "skipped", "failed"


@dataclass(frozen=True)
class FileResult:
    """What happened to one input: written, skipped (its output was already valid), or failed."""

    input: str
    output: str
    status: str
    bytes: int | None = None  # of the .inr file (the output when encoding, the input when decoding)
    bpp: float | None = None
    psnr: float | None = None  # of the encode, as decoded; None when skipped or decoding
    seconds: float | None = None  # encode or decode time (a stacked image: its share)
    error: str | None = None
    notices: tuple[str, ...] = ()

    def record(self) -> dict[str, Any]:
        """A JSON-ready dict of the fields."""
        return {**asdict(self), "notices": list(self.notices)}


@dataclass(frozen=True)
class BatchProgress:
    """What the progress callback is told after each file."""

    done: int  # files finished, skipped ones included
    total: int
    cached: int  # of which skipped: their output was already there and valid
    failed: int
    elapsed_s: float
    eta_s: float | None  # None until a file has been worked on
    last: str  # the file just finished and its status


BatchProgressCallback = Callable[[BatchProgress], None]


@dataclass
class BatchOutcome:
    """Every file's result, in input order."""

    results: list[FileResult] = field(default_factory=list)

    @property
    def failed(self) -> list[FileResult]:
        return [r for r in self.results if r.status == FAILED]

    @property
    def skipped(self) -> list[FileResult]:
        return [r for r in self.results if r.status == SKIPPED]

    @property
    def ok(self) -> bool:
        return not self.failed


# --- planning ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """One input of a batch and the output it will have."""

    index: int
    input: Path
    output: Path


def plan_outputs(inputs: Iterable[str | os.PathLike], folder: str | os.PathLike | None, suffix: str) -> list[Entry]:
    """The output path of every input: ``folder/<stem><suffix>``, or beside the input without a
    folder. A file named twice counts once; two inputs with one output are an OptionError."""
    entries: list[Entry] = []
    seen: set[Path] = set()
    writers: dict[Path, list[Path]] = {}
    for name in inputs:
        path = Path(name)
        if path.resolve() in seen:
            continue
        seen.add(path.resolve())
        output = (Path(folder) if folder is not None else path.parent) / (path.stem + suffix)
        writers.setdefault(output.resolve(), []).append(path)
        entries.append(Entry(len(entries), path, output))
    clashes = [paths for paths in writers.values() if len(paths) > 1]
    if clashes:
        first = clashes[0]
        output = next(e.output for e in entries if e.input == first[0])
        raise OptionError(
            f"{len(clashes)} output name(s) would be written by more than one input, e.g. {output} "
            f"from {', '.join(map(str, first))}: rename them, or run them into separate folders"
        )
    return entries


def _make_folder(folder: str | os.PathLike | None) -> None:
    if folder is not None:
        make_output_folder(folder)


def _message(error: BaseException) -> str:
    """One line for a file's error: an InrError's own message, else the exception's type too."""
    if isinstance(error, InrError):
        return str(error)
    return " ".join(f"{type(error).__name__}: {error}".split())


# --- running -----------------------------------------------------------------------------------


class _Tally:
    """Collects results in input order and reports progress with an ETA after each file."""

    def __init__(self, total: int, progress: BatchProgressCallback | None) -> None:
        self.total = total
        self.progress = progress
        self.results: dict[int, FileResult] = {}
        self.started = time.perf_counter()
        self.seconds: list[float] = []  # work time of each file done here
        self.jobs = 1

    def add(self, index: int, result: FileResult) -> None:
        self.results[index] = result
        if result.status != SKIPPED and result.seconds is not None:
            self.seconds.append(result.seconds)
        if self.progress is None:
            return
        left = self.total - len(self.results)
        eta = sum(self.seconds) / len(self.seconds) * left / max(1, self.jobs) if self.seconds else None
        failed = sum(r.status == FAILED for r in self.results.values())
        skipped = sum(r.status == SKIPPED for r in self.results.values())
        self.progress(BatchProgress(len(self.results), self.total, skipped, failed,
                                    time.perf_counter() - self.started, eta,
                                    f"{Path(result.input).name} {result.status}"))  # fmt: skip

    def outcome(self) -> BatchOutcome:
        return BatchOutcome([self.results[i] for i in sorted(self.results)])


def _run(entries: list[Entry], tally: _Tally, worker: Callable[[Any], list[dict[str, Any]]],
         jobs: Iterable[Any], finish: Callable[[Entry, dict[str, Any]], FileResult], pool: Executor) -> None:  # fmt: skip
    """Run ``worker`` over ``jobs`` on ``pool``; ``finish`` turns each file's reply (a dict with its
    ``index``) into its result, writing the output."""
    if not entries:  # all done already: start no workers (a Ray instance takes seconds)
        return
    by_index = {e.index: e for e in entries}
    with pool:
        tally.jobs = pool.jobs
        for replies in pool.map_unordered(worker, jobs):
            for reply in replies:
                entry = by_index[reply["index"]]
                if "error" in reply:
                    tally.add(
                        entry.index, FileResult(str(entry.input), str(entry.output), FAILED, error=reply["error"])
                    )
                    continue
                try:
                    result = finish(entry, reply)
                except Exception as e:  # writing this file's output failed: recorded, the batch goes on
                    result = FileResult(str(entry.input), str(entry.output), FAILED, error=_message(e))
                tally.add(entry.index, result)


def _check_device(device: str, executor: str | Executor) -> None:
    """Refuse a device this machine lacks once, up front, rather than once per file. On Ray the
    workers' machines decide (a driver without a GPU may run a GPU cluster)."""
    if executor != "ray" and not isinstance(executor, RayExecutor):
        resolve_device(device)


def _pool(executor: str | Executor, jobs: int, threads: int | None, address: str | None, device: str) -> Executor:
    """The executor of a batch: made from ``--jobs``/``--executor``, or the one given (a caller's
    own executor, e.g. a pool already started; its with-block is entered for the batch)."""
    if isinstance(executor, Executor):
        return executor
    return make_executor(jobs, threads, kind=executor, address=address, gpus=_gpus(device))


def _gpus(device: str) -> int:
    # A GPU per task on Ray; fits of one image are far from needing more.
    return 1 if device.startswith("cuda") else 0


# --- encoding ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class EncodeJob:
    """What a worker needs to encode some images: (index, image or None, read error or None)."""

    items: tuple[tuple[int, Image | None, str | None], ...]
    options: EncodeOptions
    limits: Limits


def existing_encode(entry: Entry, options: EncodeOptions, limits: Limits = DEFAULT_LIMITS) -> FileResult | None:
    """A skipped result if ``entry``'s output is already a valid encode of its input, else None.

    Valid means: an .inr file that passes every container check (magic, version, CRC), holds an
    image of the input's size, and was made with the same model family and rate target. Effort
    settings (steps, time, seed) are not stored in the file, so a changed one does not count:
    use ``force`` to redo those.
    """
    if not entry.output.is_file():
        return None
    try:
        data = read_inr(entry.output, limits)
        header, _ = container.unpack(data)
        width, height = image_size(entry.input)
    except InrError:
        return None  # not valid (or the input is unreadable, which the encode itself reports)
    s = header.signal
    if not isinstance(s, ImageFields) or (s.width, s.height) != (width, height):
        return None
    _, target = image_rate(options, width * height)
    family = families.by_id(header.family)
    if (family.chosen_as or family.name) != options.model or (header.target_kind, header.target_value) != (
        target.kind,
        target.value,
    ):
        return None
    return FileResult(
        str(entry.input), str(entry.output), SKIPPED, bytes=len(data), bpp=8 * len(data) / (width * height)
    )


def _read_for_encode(group: list[Entry], options: EncodeOptions, limits: Limits) -> EncodeJob:
    items = []
    for entry in group:
        try:
            items.append((entry.index, read_image(entry.input, limits.max_input_pixels), None))
        except (InrError, OSError) as e:
            items.append((entry.index, None, _message(e)))
    return EncodeJob(tuple(items), options, limits)


def _encode_images(images: list[Image], options: EncodeOptions, limits: Limits) -> list[EncodeResult | BaseException]:
    """Encode images, stacking those that share a shape; an exception stands for a failed one."""
    from .stacked import encode_images_stacked

    results: list[EncodeResult | BaseException | None] = [None] * len(images)
    buckets: dict[tuple, list[int]] = {}
    for i, img in enumerate(images):
        buckets.setdefault((img.pixels.shape, img.pixels.dtype.str), []).append(i)
    for members in buckets.values():
        try:
            if len(members) > 1:
                encoded = encode_images_stacked([images[i] for i in members], options, limits=limits)
            else:
                encoded = [encode_image(images[members[0]], options, limits=limits)]
        except Exception as e:  # the file's failure, recorded; the batch goes on
            encoded = [e] * len(members)
        for i, result in zip(members, encoded):
            results[i] = result
    return results  # type: ignore[return-value]


def encode_job(job: EncodeJob) -> list[dict[str, Any]]:
    """Worker side: encode the job's images; one reply per image, its bytes or its error."""
    replies: list[dict[str, Any]] = [{"index": i, "error": err} for i, _, err in job.items if err is not None]
    ready = [(i, img) for i, img, err in job.items if err is None]
    encoded = _encode_images([img for _, img in ready], job.options, job.limits)
    for (index, img), result in zip(ready, encoded):
        if isinstance(result, BaseException):
            replies.append({"index": index, "error": _message(result)})
        else:
            replies.append({"index": index, "data": result.data, "psnr": result.psnr, "seconds": result.seconds,
                            "pixels": img.width * img.height, "notices": list(result.notices)})  # fmt: skip
    return replies


def _write_encoded(entry: Entry, reply: dict[str, Any]) -> FileResult:
    data = reply["data"]
    try:
        write_bytes_atomic(entry.output, data, protect=[entry.input])
    except InrError as e:
        return FileResult(str(entry.input), str(entry.output), FAILED, error=_message(e))
    return FileResult(str(entry.input), str(entry.output), DONE, bytes=len(data), bpp=8 * len(data) / reply["pixels"],
                      psnr=reply["psnr"], seconds=reply["seconds"], notices=tuple(reply["notices"]))  # fmt: skip


def _groups(entries: list[Entry], stack: int) -> list[list[Entry]]:
    """Entries in groups of up to ``stack`` that share an image size (read from the headers)."""
    if stack <= 1:
        return [[e] for e in entries]
    buckets: dict[Any, list[Entry]] = {}
    for e in entries:
        try:
            key: Any = image_size(e.input)
        except InrError:
            key = e.index  # unreadable: alone, and the encode reports why
        buckets.setdefault(key, []).append(e)
    return [bucket[i : i + stack] for bucket in buckets.values() for i in range(0, len(bucket), stack)]


def encode_batch(
    inputs: Sequence[str | os.PathLike],
    folder: str | os.PathLike | None = None,
    options: EncodeOptions = EncodeOptions(),
    *,
    jobs: int = 1,
    stack: int = 1,
    force: bool = False,
    executor: str | Executor = "local",
    address: str | None = None,
    limits: Limits = DEFAULT_LIMITS,
    progress: BatchProgressCallback | None = None,
) -> BatchOutcome:
    """Encode image files into ``folder`` (see the module docstring); one result per input.

    ``options.threads`` torch threads run each job. ``stack`` > 1 fits up to that many same-size
    images together per job (SIREN and Fourier models only). ``executor`` is ``"local"``,
    ``"ray"`` or an :class:`~inrcodec.executors.Executor` to use instead of ``jobs``.
    """
    from .stacked import STACKABLE, stackable

    opts = options.validated()
    if opts.checkpoint is not None:
        raise OptionError("--checkpoint is for single encodes; a batch resumes by skipping the files it finished")
    if stack < 1:
        raise OptionError(f"stack must be at least 1, got {stack}")
    if stack > 1 and not stackable(opts):
        raise OptionError(f"--stack works with the {' and '.join(STACKABLE)} models only, not '{opts.model}'")
    _check_device(opts.device, executor)
    entries = plan_outputs(inputs, folder, ".inr")
    pool = _pool(executor, jobs, opts.threads, address, opts.device)
    _make_folder(folder)
    tally = _Tally(len(entries), progress)
    pending = []
    for entry in entries:
        skipped = None if force else existing_encode(entry, opts, limits)
        if skipped:
            tally.add(entry.index, skipped)
        else:
            pending.append(entry)
    work = (_read_for_encode(group, opts, limits) for group in _groups(pending, stack))
    _run(pending, tally, encode_job, work, _write_encoded, pool)
    return tally.outcome()


# --- decoding ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class DecodeRequest:
    """The output size of a batch decode (stored size when all are None), device, threads and
    the super-resolution method (:data:`inrcodec.codec.SR_METHODS`)."""

    scale: float | None = None
    width: int | None = None
    height: int | None = None
    device: str = "cpu"
    threads: int | None = None
    sr: str = "none"

    def size_for(self, fields: ImageFields) -> tuple[int, int]:
        """(height, width) of the output for a file's header."""
        try:
            return coords.output_size(fields.height, fields.width, self.scale, self.width, self.height)
        except ValueError as e:
            raise OptionError(str(e)) from None


@dataclass(frozen=True)
class DecodeJob:
    index: int
    data: bytes | None
    error: str | None
    request: DecodeRequest
    limits: Limits
    write_as: str | None = None  # the Pillow format the output is written in (its memory counts)


def existing_decode(entry: Entry, request: DecodeRequest, limits: Limits = DEFAULT_LIMITS) -> FileResult | None:
    """A skipped result if ``entry``'s output already holds a complete image of the size this
    decode would give (in the format its extension names), else None."""
    if not entry.output.is_file():
        return None
    from PIL import Image as PILImage

    try:
        data = read_inr(entry.input, limits)
        header, _ = container.unpack(data)
        if not isinstance(header.signal, ImageFields):
            return None
        height, width = request.size_for(header.signal)
        with PILImage.open(entry.output) as im:
            fmt, size = im.format, im.size
            im.verify()  # the whole file is there and its checksums hold
    except Exception:  # anything unreadable is simply decoded again
        return None
    if size != (width, height) or fmt != image_format_for(entry.output):
        return None
    s = header.signal
    return FileResult(
        str(entry.input), str(entry.output), SKIPPED, bytes=len(data), bpp=8 * len(data) / (s.width * s.height)
    )


def decode_job(job: DecodeJob) -> list[dict[str, Any]]:
    """Worker side: decode one file; its pixels or its error."""
    if job.error is not None:
        return [{"index": job.index, "error": job.error}]
    r = job.request
    start = time.perf_counter()
    try:
        header, _ = container.unpack(job.data)
        img = decode_image(job.data, scale=r.scale, width=r.width, height=r.height, device=r.device,
                           threads=r.threads, limits=job.limits, write_as=job.write_as, sr=r.sr)  # fmt: skip
    except Exception as e:  # the file's failure, recorded; the batch goes on
        return [{"index": job.index, "error": _message(e)}]
    s = header.signal
    return [{"index": job.index, "pixels": img.pixels, "mode": img.mode, "seconds": time.perf_counter() - start,
             "bytes": len(job.data), "stored_pixels": s.width * s.height}]  # fmt: skip


def _read_for_decode(entry: Entry, request: DecodeRequest, limits: Limits) -> DecodeJob:
    try:
        return DecodeJob(entry.index, read_inr(entry.input, limits), None, request, limits,
                         image_format_for(entry.output))  # fmt: skip
    except (InrError, OSError) as e:  # unreadable, or vanished since the batch was planned
        return DecodeJob(entry.index, None, _message(e), request, limits)


def _write_decoded(entry: Entry, reply: dict[str, Any]) -> FileResult:
    try:
        notices = write_image(entry.output, reply["pixels"], reply["mode"], protect=(entry.input,))
    except InrError as e:
        return FileResult(str(entry.input), str(entry.output), FAILED, error=_message(e))
    return FileResult(str(entry.input), str(entry.output), DONE, bytes=reply["bytes"],
                      bpp=8 * reply["bytes"] / reply["stored_pixels"], seconds=reply["seconds"],
                      notices=tuple(notices))  # fmt: skip


def decode_batch(
    inputs: Sequence[str | os.PathLike],
    folder: str | os.PathLike | None = None,
    *,
    fmt: str = "png",
    request: DecodeRequest = DecodeRequest(),
    jobs: int = 1,
    threads: int = 1,
    force: bool = False,
    executor: str | Executor = "local",
    address: str | None = None,
    limits: Limits = DEFAULT_LIMITS,
    progress: BatchProgressCallback | None = None,
) -> BatchOutcome:
    """Decode .inr image files into ``folder`` as ``<stem>.<fmt>``; one result per input.
    ``threads`` torch threads run each job."""
    suffix = "." + fmt.lower().lstrip(".")
    image_format_for("image" + suffix)  # an unwritable format fails before any work
    if request.scale is not None and (request.width is not None or request.height is not None):
        raise OptionError("give --scale or --width/--height, not both")
    if threads < 1:
        raise OptionError(f"threads must be at least 1, got {threads}")
    _check_device(request.device, executor)
    entries = plan_outputs(inputs, folder, suffix)
    pool = _pool(executor, jobs, threads, address, request.device)
    _make_folder(folder)
    tally = _Tally(len(entries), progress)
    pending = []
    for entry in entries:
        skipped = None if force else existing_decode(entry, request, limits)
        if skipped:
            tally.add(entry.index, skipped)
        else:
            pending.append(entry)
    work = (_read_for_decode(entry, request, limits) for entry in pending)
    _run(pending, tally, decode_job, work, _write_decoded, pool)
    return tally.outcome()
