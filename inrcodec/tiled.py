"""The tiled family: a large image as overlapping latent-grid tiles, fitted independently.

``--model grid`` on an image of more than :data:`TILE_ABOVE` pixels (or with ``tile`` set) writes
this family (format 2.1): the image is cut into tiles of at most :data:`TILE_SIZE` pixels a side
that overlap by ``2 x`` :data:`TILE_MARGIN` pixels (:mod:`inrcodec.grid.tiles` has the geometry,
the model and the blended, streaming decode). Each tile is an ordinary latent grid fitted to its
own pixels by :func:`inrcodec.grid.training.fit`, with the same step budget as a whole image, so
cost grows linearly with the pixels and the tiles run in parallel on any
:class:`~inrcodec.executors.Executor` (``--jobs``, ``--executor ray``). Each tile's fit is
deterministic for its seed (the image's seed and the tile's index), so a parallel encode writes
the same bytes as a serial one.

Rate: the whole image's bit budget is shared out before fitting, and each tile's rate control
steers to its share. The shares follow how many bytes JPEG spends on each tile at the quality
that lands nearest the image's target (:func:`shares`): a cheap stand-in for the allocation at
one rate-distortion slope, so busy tiles get more bits than flat ones (docs/scaling.md measures
it against equal bits per pixel).

The recipe is the image's, not each tile's: the pyramid, the context scheme and the level count
are chosen once, from the image's target density and its smallest tile, so every tile has one
architecture (the header stores it once).
"""

from __future__ import annotations

import io
import math
import time
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import torch
from PIL import Image as PILImage

from . import container
from .container import CODER_FAMILY, CODER_LAPLACE, Header, ImageFields, TensorCode
from .errors import FormatError
from .executors import Executor, make_executor
from .family import Family, ImageFit, ImageJob, smallest_file
from .fit import Budget, Checkpoint, Progress
from .grid.family import GRID, grid_budget, latent_decode_cost
from .grid.model import GridImage
from .grid.payload import CONTEXT_STEP_EXP, encode_payload, read_grid_symbols_many
from .grid.recipe import GridConfig, bpp_for_lmbda, build_model, scheme_for
from .grid.tiles import LENGTH_BYTES, MAX_TILES, TiledImage, join_payload, split_axis
from .grid.training import fit
from .models.base import DecodeCost
from .rate import RateTarget
from .runtime import resolve_device

#: images with more pixels than this are tiled unless ``tile`` says otherwise
TILE_ABOVE = 1 << 20
#: the largest core of an automatic tile, in pixels a side: per pixel, fits of 512 x 512 to
#: 1024 x 1024 cost the same per step (docs/scaling.md); larger tiles spend less on each tile's
#: networks and decode in fewer wavefront steps per pixel, smaller ones spread over more workers
TILE_SIZE = 768
#: pixels each tile reaches past its core on each interior side: the cross-fade is twice this wide
TILE_MARGIN = 8
#: the smallest ``tile`` a user may ask for
MIN_TILE = 32
#: JPEG qualities tried for the rate shares (:func:`shares`)
_JPEG_QUALITIES = (1, 3, 6, 10, 15, 25, 40, 60, 80, 92)
#: how the shares follow JPEG (:func:`shares`): 1 = in proportion to its bytes, 0 = to the tiles'
#: pixels
SHARE_ACTIVITY = 1.0


def tile_geometry(image_shape: tuple[int, int, int], opts) -> tuple[int, int, int] | None:
    """(tiles down, tiles across, margin) an encode of ``image_shape`` with ``opts`` uses, or
    None for one untiled grid: above :data:`TILE_ABOVE` pixels unless ``opts.tile`` is 0, and
    when ``opts.tile`` names a tile size smaller than the image (one tile is one grid)."""
    height, width, _ = image_shape
    tile = getattr(opts, "tile", None)
    if tile == 0 or (tile is None and height * width <= TILE_ABOVE):
        return None
    size = tile or TILE_SIZE
    margin = TILE_MARGIN
    while True:
        ny, nx = split_axis(height, size, margin), split_axis(width, size, margin)
        # every tile's tensors go in the header's table (at most 4096 entries, 17 per tile)
        if ny * nx * 17 <= 4096 and ny * nx <= MAX_TILES:
            break
        size = math.ceil(size * 1.25)
    if ny * nx == 1:
        return None
    return ny, nx, margin


def applies(image_shape: tuple[int, int, int], opts) -> bool:
    """Whether a grid encode of ``image_shape`` with ``opts`` is tiled."""
    return tile_geometry(image_shape, opts) is not None


def image_bpp(opts, target: RateTarget | None, pixels: int) -> float:
    config = GridConfig().with_overrides(opts.grid)
    return bpp_for_lmbda(config, opts.lmbda) if opts.lmbda is not None else target.bits / pixels


def tile_config(opts, target_bpp: float, geometry: TiledImage) -> GridConfig:
    """The recipe every tile fits with: the image's (high-rate pyramid or not, context scheme),
    fixed so that a tile's own target density cannot change it, with as many levels as the
    smallest tile has."""
    config = GridConfig().with_overrides(opts.grid).for_target(target_bpp)
    scheme = scheme_for(config, target_bpp)
    smallest = min(max(geometry.tile_shape(i)) for i in range(geometry.count))
    levels = min(config.levels, max(1, math.ceil(math.log2(max(1, smallest))) + 1))
    return replace(config, context_scheme=scheme.name, levels=levels)


def planned_model(image_shape: tuple[int, int, int], opts, target_bpp: float) -> tuple[TiledImage, GridConfig]:
    """The (empty) tiled model and the tiles' recipe of an encode."""
    height, width, channels = image_shape
    ny, nx, margin = tile_geometry(image_shape, opts) or (1, 1, TILE_MARGIN)
    geometry = TiledImage(
        height, width, channels, tiles_y=ny, tiles_x=nx, margin=margin, inner=(1, 0, 1, 0, 1, 1, 1, 1)
    )
    config = tile_config(opts, target_bpp, geometry)
    h, w = geometry.tile_shape(0)
    with torch.device("meta"):
        inner = build_model(config, h, w, channels, None).arch()[2:]
    return TiledImage(height, width, channels, tiles_y=ny, tiles_x=nx, margin=margin, inner=inner), config


def _tile_codes(model: TiledImage, scheme_id: int) -> tuple[TensorCode, ...]:
    a = GridImage._parse(model.tile_arch(0))
    per_tile = (
        [TensorCode(CONTEXT_STEP_EXP, 0, 0, CODER_LAPLACE, 0)] * 4
        + [TensorCode(0, 0, 0, CODER_LAPLACE, 0)] * (2 * (a["depth"] + 1))
        + [TensorCode(0, 0, 0, CODER_FAMILY, scheme_id)] * len(a["channels"])
    )
    return tuple(per_tile) * model.count


def _plan(
    image_shape: tuple[int, int, int], opts, target: RateTarget
) -> tuple[tuple[int, ...], tuple[TensorCode, ...]]:
    target_bpp = image_bpp(opts, target, image_shape[0] * image_shape[1])
    model, config = planned_model(image_shape, opts, target_bpp)
    return model.arch(), _tile_codes(model, scheme_for(config, target_bpp).id)


# --- the fit ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TileTask:
    """One tile's fit, as a worker receives it."""

    index: int
    pixels: np.ndarray  # (h, w, C) integers
    bits: float | None  # the tile's share of the target, or None at a fixed lambda
    lmbda: float | None
    budget: Budget
    config: GridConfig
    seed: int
    device: str


@dataclass(frozen=True)
class TileResult:
    """A fitted, coded tile."""

    index: int
    arch: tuple[int, ...]
    codes: tuple[TensorCode, ...]
    stream: bytes
    steps: int
    lmbda: float  # where its rate control left lambda
    cpu_seconds: float


def tile_seed(seed: int, index: int) -> int:
    """Tile ``index``'s seed: a different stream of noise per tile, fixed by the image's seed."""
    return (seed * 1_000_003 + 7_919 * (index + 1)) % (1 << 63)


def fit_tile(task: TileTask, progress=None) -> TileResult:
    """Fit and code one tile (runs in a worker: module-level, picklable in and out)."""
    start = time.process_time()
    target = None if task.bits is None else RateTarget(task.bits)
    fitted, steps = fit(task.pixels, target, task.lmbda, task.budget, task.config, seed=task.seed,
                        device=resolve_device(task.device), progress=progress)  # fmt: skip
    codes, stream = encode_payload(fitted.model, fitted.scheme, fitted.evaluate)
    return TileResult(task.index, fitted.model.arch(), codes, stream, steps, float(fitted.lmbda),
                      time.process_time() - start)  # fmt: skip


def _jpeg_bytes(pixels: np.ndarray, quality: int) -> int:
    if pixels.dtype == np.uint16:
        pixels = (pixels >> 8).astype(np.uint8)
    colour = pixels[:, :, :3] if pixels.shape[2] >= 3 else pixels[:, :, :1]
    im = PILImage.fromarray(colour[:, :, 0] if colour.shape[2] == 1 else colour)
    out = io.BytesIO()
    im.save(out, "JPEG", quality=quality)
    return out.tell()


def shares(tiles: list[np.ndarray], target_bits: float, activity: float | None = None) -> list[float]:
    """Each tile's share of the image's bits: its pixels times JPEG's bits per pixel on it to the
    power ``activity`` (default :data:`SHARE_ACTIVITY`), JPEG at the quality whose total lands
    nearest ``target_bits``. 1: in proportion to JPEG's bytes; 0: to the pixels."""
    activity = SHARE_ACTIVITY if activity is None else activity
    pixels = np.array([t.shape[0] * t.shape[1] for t in tiles], dtype=np.float64)
    by_pixels = pixels / pixels.sum()
    if activity == 0 or len(tiles) == 1:
        return list(by_pixels)
    best = None
    for q in _JPEG_QUALITIES:
        sizes = np.array([_jpeg_bytes(t, q) for t in tiles], dtype=np.float64)
        miss = abs(math.log(8 * sizes.sum() / target_bits))
        if best is None or miss < best[0]:
            best = (miss, sizes)
        if 8 * sizes.sum() > target_bits:
            break
    weights = pixels * (best[1] / pixels) ** activity
    return list(weights / weights.sum())


def _fixed_bytes(image_shape: tuple[int, int, int], model: TiledImage) -> int:
    """Bytes of a tiled file outside the tiles' own shares: framing, the header without its
    tensor table (each tile's fit counts its own entries), the payload's length table."""
    height, width, channels = image_shape
    header = Header(ImageFields(width, height, channels, 8), model.family_id, model.arch(), (),
                    target_kind=container.TARGET_BPP, target_value=1 << 20)  # fmt: skip
    return container.FRAMING_BYTES + container.header_size(header) + LENGTH_BYTES * model.count


def _tile_bits(result: TileResult) -> int:
    """What a tile adds to the file: its stream and its entries in the header's tensor table."""
    empty = Header(ImageFields(1, 1, 1, 8), TiledImage.family_id, (), ())
    table = container.header_size(replace(empty, tensors=result.codes)) - container.header_size(empty)
    return 8 * (len(result.stream) + table)


def tile_tasks(job_pixels: np.ndarray, opts, target: RateTarget, budget: Budget, model: TiledImage,
               config: GridConfig, activity: float | None = None) -> list[TileTask]:  # fmt: skip
    """The tiles' fits of an encode: their pixels, their shares of the target, their budgets."""
    crops = []
    for i in range(model.count):
        ty, tx = divmod(i, model.cols.count)
        (a, e), (c, d) = model.rows.extent(ty), model.cols.extent(tx)
        crops.append(np.ascontiguousarray(job_pixels[a:e, c:d]))
    if opts.lmbda is not None:
        bits: list[float | None] = [None] * model.count
    else:
        available = max(target.bits - 8 * _fixed_bytes(job_pixels.shape, model), target.bits / 2)
        bits = [available * s for s in shares(crops, available, activity)]
    total = sum(c.shape[0] * c.shape[1] for c in crops)
    tasks = []
    for i, (crop, b) in enumerate(zip(crops, bits)):
        # a time budget is the whole encode's: each tile gets its pixels' share
        seconds = None if budget.seconds is None else budget.seconds * crop.shape[0] * crop.shape[1] / total
        tile_budget = Budget(steps=budget.steps, seconds=seconds, target_psnr=budget.target_psnr)
        tasks.append(TileTask(i, crop, b, opts.lmbda, tile_budget, config, tile_seed(opts.seed, i), opts.device))
    return tasks


#: tile counts from which the second half's targets correct the first half's miss (:func:`run_tiles`)
CORRECT_FROM = 8
#: the most a second-half tile's target moves from its share, either way
_MAX_CORRECTION = 2.0


#: how much of the first half's miss a second-half target assumes it will repeat (:func:`corrected`)
CORRECTION_POWER = 0.5


def corrected(tasks: list[TileTask], done: list[TileResult], asked: list[float],
              power: float | None = None) -> list[TileTask]:  # fmt: skip
    """``tasks`` (not yet fitted) with targets that make up for how far the fitted tiles ``done``
    landed from what they were ``asked``: the bits left over (or overdrawn) are shared out by
    the tasks' own shares, each asked for divided by how the fitted tiles landed on average to
    the power ``power`` (default :data:`CORRECTION_POWER`: the square root). The grid's rate
    control misses in the same direction on tiles alike (a short fit lands under), but less so
    at the higher targets the correction asks for: dividing by the whole miss (power 1)
    overshot (measured: docs/scaling.md, ``benchmarks/tile_rate.py``)."""
    power = CORRECTION_POWER if power is None else power
    got = [_tile_bits(r) for r in done]
    landed = min(_MAX_CORRECTION, max(1 / _MAX_CORRECTION, sum(got) / sum(asked)))
    share = sum(t.bits for t in tasks)
    left = sum(asked) + share - sum(got)  # the budget the remaining tiles have
    out = []
    for t in tasks:
        want = t.bits * left / share / (math.sqrt(landed) if power == 0.5 else landed**power)
        out.append(replace(t, bits=min(_MAX_CORRECTION * t.bits, max(t.bits / _MAX_CORRECTION, want))))
    return out


def _saved(result: TileResult) -> dict[str, Any]:
    """A finished tile as a checkpoint stores it (tensors and plain values only)."""
    codes = torch.tensor([[c.step_exp, c.lo, c.hi, c.coder, c.param] for c in result.codes], dtype=torch.int64)
    stream = torch.from_numpy(np.frombuffer(result.stream, dtype=np.uint8).copy())
    return {"arch": list(result.arch), "codes": codes, "stream": stream, "steps": result.steps,
            "lmbda": result.lmbda, "cpu_seconds": result.cpu_seconds}  # fmt: skip


def _restored(index: int, record: dict[str, Any]) -> TileResult:
    codes = tuple(TensorCode(*map(int, row)) for row in record["codes"].tolist())
    stream = record["stream"].numpy().tobytes()
    return TileResult(index, tuple(record["arch"]), codes, stream, record["steps"], record["lmbda"],
                      record["cpu_seconds"])  # fmt: skip


def run_tiles(tasks: list[TileTask], executor: Executor | None, progress=None,
              checkpoint: Checkpoint | None = None) -> list[TileResult]:  # fmt: skip
    """Fit every tile, on ``executor`` (None: one after another here, with progress per step),
    and return them in tile order.

    From :data:`CORRECT_FROM` tiles at a rate target, the tiles run in two halves: the second
    half's targets make up for the first half's miss (:func:`corrected`). The halves depend on
    the tile count alone, so the file is the same on any executor. With a ``checkpoint``, every
    finished tile is saved there as it comes back, and a resumed encode fits only the tiles it
    lacks (each tile's fit is deterministic, so the file is the same)."""
    results: dict[int, TileResult] = {}
    if checkpoint is not None:
        for t in tasks:
            record = checkpoint.get(f"tile {t.index}")
            if record is not None:
                results[t.index] = _restored(t.index, record)
    start = time.perf_counter()
    total = sum(t.budget.steps or 0 for t in tasks) or None
    resumed = done_steps = sum(r.steps for r in results.values())

    def report(p: Progress | None) -> None:
        if progress is None:
            return
        elapsed = time.perf_counter() - start
        step = done_steps + (p.step if p else 0)
        remaining = elapsed * (total - step) / (step - resumed) if total and step > resumed else None
        progress(Progress("fit", step, total, elapsed, remaining, p.psnr if p else None, None,
                          f"  tile {min(len(tasks), len(results) + 1)}/{len(tasks)}"))  # fmt: skip

    def finished(r: TileResult) -> None:
        nonlocal done_steps
        results[r.index] = r
        done_steps += r.steps
        if checkpoint is not None:
            checkpoint.save(f"tile {r.index}", _saved(r))

    half = len(tasks) // 2 if len(tasks) >= CORRECT_FROM and tasks[0].bits is not None else len(tasks)
    for k, wave in enumerate((tasks[:half], tasks[half:])):
        if k and wave:
            first = [results[t.index] for t in tasks[:half]]
            wave = corrected(wave, first, [t.bits for t in tasks[:half]])
        wave = [t for t in wave if t.index not in results]
        if executor is None:
            for t in wave:
                finished(fit_tile(t, report))
        else:
            for r in executor.map_unordered(fit_tile, wave):
                finished(r)
                report(None)
    return [results[i] for i in range(len(tasks))]


def encode_tiled(job: ImageJob) -> ImageFit:
    """Fit and code every tile of the image (on ``job.executor``, or on ``opts.jobs`` local
    worker processes, or here), and join them into one file's tensors and payload."""
    opts, img = job.options, job.image
    shape = (img.height, img.width, img.channels)
    target_bpp = image_bpp(opts, job.target, img.height * img.width)
    model, config = planned_model(shape, opts, target_bpp)
    tasks = tile_tasks(img.pixels, opts, job.target, job.budget, model, config)
    jobs = opts.jobs or 1
    if job.executor is None and jobs > 1 and len(tasks) > 1:
        with make_executor(min(jobs, len(tasks)), opts.threads) as pool:
            results = run_tiles(tasks, pool, job.progress, job.checkpoint)
    else:
        results = run_tiles(tasks, job.executor, job.progress, job.checkpoint)
    for r in results:
        if r.arch != model.tile_arch(r.index):  # the plan and the fit must agree
            raise AssertionError(f"tile {r.index} was fitted as {r.arch}, planned as {model.tile_arch(r.index)}")
    codes = tuple(c for r in results for c in r.codes)
    return ImageFit(model, codes, join_payload([r.stream for r in results]), max(r.steps for r in results))


# --- reading ---------------------------------------------------------------------------------------


def _per_tile(header: Header, model: TiledImage) -> int:
    per_tile = TiledImage.tensors_per_tile(header.arch)
    if len(header.tensors) != per_tile * model.count:
        raise FormatError(f"header lists {len(header.tensors)} tensors, {model.count} tiles of the tiled "
                          f"model have {per_tile * model.count}")  # fmt: skip
    return per_tile


def _check_header(header: Header) -> None:
    if tuple(header.arch[:2]) != (header.signal.height, header.signal.width):
        raise FormatError("tiled image size in the architecture does not match the image size")
    model = TiledImage.from_arch(header.arch, 2, header.signal.channels)
    _per_tile(header, model)


def _read_symbols(model: TiledImage, header: Header, payload: bytes) -> list[np.ndarray]:
    _per_tile(header, model)
    model.attach(header, payload)
    streams = model.streams()
    out: list[np.ndarray] = []
    for ty in range(model.rows.count):  # a tile row at a time, as rendering decodes them
        row = list(range(ty * model.cols.count, (ty + 1) * model.cols.count))
        subs, grids = model.empty_tiles(row)
        for weights, levels in read_grid_symbols_many(grids, subs, [streams[i] for i in row]):
            out += weights + levels
    return out


def _fill(model: TiledImage, header: Header, payload: bytes) -> None:
    _per_tile(header, model)
    model.attach(header, payload)


def _decode_cost(header: Header, in_dim: int, out_dim: int, shape: tuple[int, ...]) -> DecodeCost:
    """Every tile's grid decode onto its share of the output (GRID's cost: its latents under
    the header's ranges, its rendering), plus the blend and the rows of a tile row
    (:meth:`TiledImage.decode_cost`). A tile row's latents are decoded together (their working
    memories add up), then its tiles are rendered one after another."""
    model = TiledImage.from_arch(header.arch, 2, out_dim)
    per_tile = TiledImage.tensors_per_tile(header.arch)
    if len(header.tensors) != per_tile * model.count:  # malformed: GRID's cost takes the widest ranges
        header = replace(header, tensors=())
    blend = TiledImage.decode_cost(header.arch, in_dim, out_dim, shape)
    work, memory = blend.work, 0
    for ty in range(model.rows.count):
        ys, latents, render = model.rows.span(ty, shape[0]), 0, 0
        for tx in range(model.cols.count):
            xs = model.cols.span(tx, shape[1])
            if ys.n and xs.n:
                tile = model.tile_header(header, ty * model.cols.count + tx, per_tile)
                cost = GRID.cost(tile, 2, out_dim, (ys.n, xs.n))
                work += cost.work
                latents += latent_decode_cost(tile)[1]
                render = max(render, cost.memory)
        memory = max(memory, latents, render)
    return DecodeCost(work, memory + blend.memory, blend.point_floats)


def _describe(header: Header) -> dict[str, Any]:
    model = TiledImage.from_arch(header.arch, 2, header.signal.channels)
    per_tile = TiledImage.tensors_per_tile(header.arch)
    tile0 = GRID.describe(model.tile_header(header, 0, per_tile))
    heights, widths = model.rows.sizes(), model.cols.sizes()
    # the inner grid's fields are the first tile's (the others differ in size only)
    return {
        "tiles": [model.rows.count, model.cols.count],
        "tile_margin": model.rows.margin,
        "tile_heights": [min(heights), max(heights)],
        "tile_widths": [min(widths), max(widths)],
        **tile0,
    }


#: what the lower bound on a file counts per tile, in bits: the grid's floors (grid/family.py)
_CONTEXT_HIDDEN_BITS = 4.0
_SYNTHESIS_WEIGHT_BITS = 0.5


def _min_bytes(image_shape: tuple[int, int, int], opts) -> int:
    """A lower bound on any tiled file for ``image_shape``: framing, the header with every
    tile's tensor fields at their fewest bytes, the length table, and each tile's weights at the
    grid's floors (the low-rate pyramid, as GRID's bound takes)."""
    model, _ = planned_model(image_shape, opts, 0.01)
    codes = tuple(replace(c, param=0) for c in _tile_codes(model, 0))
    with torch.device("meta"):
        tile = GridImage.from_arch(model.tile_arch(0), 2, image_shape[2])
    weights = sum(p.numel() for name, p in tile.synthesis_tensors() if name.endswith("weight"))
    bits = model.count * (_CONTEXT_HIDDEN_BITS * tile.context.hidden.weight.numel() + _SYNTHESIS_WEIGHT_BITS * weights)
    return smallest_file(image_shape, model.family_id, model.arch(), codes, bits) + LENGTH_BYTES * model.count


#: the encoder's working set, above the process's own (as the grid's, docs/reliability.md): a
#: tile's fit takes up to this many times the grid's estimate for its size (measured over whole
#: fits at the default effort, whose peak the short fits the grid's estimate was measured on do
#: not reach: a 768 x 512 image 365 MiB against 265 estimated), a worker process this much more
#: (an interpreter with torch and inrcodec: 265 MiB measured), and the rest this much
_TILE_FIT_FACTOR = 1.5
_WORKER_BYTES = 280 << 20
_ENCODE_BASE_BYTES = 32 << 20


def _encode_memory(image_shape: tuple[int, int, int], opts, arch: tuple[int, ...]) -> int:
    """The tiled encoder's working set: the tiles' pixels (a copy of the image) and one tile's
    fit in this process, or ``opts.jobs`` worker processes each fitting one; at the end the check
    decode of the whole file and its output."""
    height, width, channels = image_shape
    model = TiledImage.from_arch(arch, 2, channels)
    tile = max(GRID.encode_memory((*model.tile_shape(i), channels), opts, model.tile_arch(i))
               for i in range(model.count))  # fmt: skip
    fit = int(_TILE_FIT_FACTOR * tile)
    image = height * width * channels * 2
    header = Header(ImageFields(width, height, channels, 8), model.family_id, arch, (), version=(2, 1))
    decode = _decode_cost(header, 2, channels, (height, width)).memory + image
    jobs = min(opts.jobs or 1, model.count)
    fits = fit if jobs == 1 else jobs * (fit + _WORKER_BYTES)
    return _ENCODE_BASE_BYTES + image + max(fits, decode)


TILED = Family(
    TiledImage, grid_budget, _read_symbols, _fill, options=GRID.options, encode_image=encode_tiled,
    check_header=_check_header, describe=_describe, min_bytes=_min_bytes, decode_cost=_decode_cost, plan=_plan,
    encode_memory=_encode_memory, chosen_as=GRID.name, applies=applies,
)  # fmt: skip
