"""Large images: encode cost, memory and rate, decode time and memory, and seams, by image size.

    python benchmarks/large_images.py stitch --inputs DIR               # the test images (below)
    python benchmarks/large_images.py run SIZE [--bpp 0.3] [--effort default | --steps N] [--jobs 1] [--tile N]
    python benchmarks/large_images.py summary                           # rebuild summary.md

The images (``stitch``; written to ``--inputs``, default /tmp/inrcodec-large, not committed: the
24-megapixel PNG is 40 MB) come from the training photos in ``../shared/data/train/wikipedia``
(the largest is 1.3 megapixels), cropped, never scaled:

- ``0.4mp``: the centred 768 x 512 crop of 001.png (Kodak's size);
- ``2mp``: 1800 x 1200, a 2 x 2 stitch of centred 900 x 600 crops of the first four photos that
  hold one (sorted by name);
- ``12mp``: 4000 x 3000, a 4 x 4 stitch of 1000 x 750 crops;
- ``24mp``: 6000 x 4000, a 6 x 5 stitch of 1000 x 800 crops.

``run`` encodes one of them with the command line (``python -m inrcodec encode``, one torch
thread per process; ``--steps N`` instead of an effort: a short fit, for the cost of one step and
the memory, which do not depend on the step count) and then decodes the file at 1x in a process of its own (one thread), and
appends a row to ``runs.jsonl`` in ``-o`` (default benchmarks/results/large): CPU seconds of the
encode (the process and its worker processes: ``getrusage(RUSAGE_CHILDREN)``), wall seconds,
peak RSS (the encoder process's own, and the sum over its process tree sampled every 0.2 s),
bytes, bpp, PSNR; the decode's CPU and wall seconds and peak RSS; and for a tiled file the PSNR
of every 16-pixel band across a seam against the image's (``seams``), with crops of the worst
seam written beside it. Heavy runs should go under ``nice``; the machine's load is recorded.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import psutil
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
TRAIN = ROOT.parent / "shared" / "data" / "train" / "wikipedia"
RESULTS = ROOT / "benchmarks" / "results" / "large"
#: (canvas width, height, cell width, height, columns, rows) of each stitched image
STITCHES = {
    "2mp": (1800, 1200, 900, 600, 2, 2),
    "12mp": (4000, 3000, 1000, 750, 4, 4),
    "24mp": (6000, 4000, 1000, 800, 6, 5),
}


def centred(a: np.ndarray, w: int, h: int) -> np.ndarray:
    y, x = (a.shape[0] - h) // 2, (a.shape[1] - w) // 2
    return a[y : y + h, x : x + w]


def stitch(inputs: Path) -> None:
    inputs.mkdir(parents=True, exist_ok=True)
    photos = [np.asarray(Image.open(p).convert("RGB")) for p in sorted(TRAIN.glob("*.png"))]
    Image.fromarray(np.ascontiguousarray(centred(photos[0], 768, 512))).save(inputs / "0.4mp.png")
    for name, (width, height, cw, ch, cols, rows) in STITCHES.items():
        fit = [p for p in photos if p.shape[0] >= ch and p.shape[1] >= cw]
        if len(fit) < cols * rows:
            sys.exit(f"{name}: only {len(fit)} photos hold a {cw} x {ch} crop, {cols * rows} needed")
        canvas = np.zeros((height, width, 3), np.uint8)
        for k in range(cols * rows):
            r, c = divmod(k, cols)
            canvas[r * ch : (r + 1) * ch, c * cw : (c + 1) * cw] = centred(fit[k], cw, ch)
        Image.fromarray(canvas).save(inputs / f"{name}.png")
        print(f"{inputs / name}.png: {width} x {height}, {cols * rows} photos", file=sys.stderr)


def _watch(cmd: list[str], env: dict[str, str]) -> tuple[subprocess.CompletedProcess, float, float, int]:
    """Run ``cmd``; (its result, wall seconds, CPU seconds of it and its children, peak RSS
    summed over its process tree)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = 0
    watched = psutil.Process(proc.pid)
    while proc.poll() is None:
        try:
            tree = [watched, *watched.children(recursive=True)]
            peak = max(peak, sum(p.memory_info().rss for p in tree if p.is_running()))
        except psutil.Error:
            pass
        time.sleep(0.2)
    out, err = proc.communicate()
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err), wall, cpu, peak


_DECODE = """
import json, resource, sys, time, numpy as np
from inrcodec import codec
t0, c0 = time.perf_counter(), time.process_time()
img = codec.decode_image(sys.argv[1], threads=1)
wall, cpu = time.perf_counter() - t0, time.process_time() - c0
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
np.save(sys.argv[2], img.pixels)
print(json.dumps({"decode_wall_s": wall, "decode_cpu_s": cpu, "decode_peak_rss": rss}))
"""


def seams(original: np.ndarray, decoded: np.ndarray, data: bytes, crops: Path | None,
          cells: tuple[int, int] | None = None) -> dict | None:  # fmt: skip
    """PSNR of every 16-pixel band across a tile seam (rows and columns), against the image's.
    In a stitch (``cells``: the photos' height and width) a seam within 16 pixels of an edge
    between two photos is counted apart: the band holds that edge, which no codec keeps as well
    as the rest."""
    from inrcodec import container
    from inrcodec.grid.tiles import TiledImage
    from inrcodec.metrics import psnr
    from inrcodec.options import EncodeOptions
    from inrcodec.tiled import tile_geometry

    header, _ = container.unpack(data)
    if header.family == TiledImage.family_id:
        model = TiledImage.from_arch(header.arch, 2, header.signal.channels)
    else:  # an untiled file: the bands where an automatic tiling would put its seams, to compare
        geometry = tile_geometry(original.shape, EncodeOptions())
        if geometry is None:
            return None
        ny, nx, margin = geometry
        model = TiledImage(*original.shape, tiles_y=ny, tiles_x=nx, margin=margin, inner=())
    whole = psnr(original, decoded)
    bands, edges = [], []
    for axis, tiles in ((0, model.rows), (1, model.cols)):
        for i in range(1, tiles.count):
            b = tiles.bound(i)
            sl = [slice(None), slice(None)]
            sl[axis] = slice(b - 8, b + 8)
            edge = cells is not None and min(b % cells[axis], -b % cells[axis]) < 16
            (edges if edge else bands).append((psnr(original[tuple(sl)], decoded[tuple(sl)]), axis, b))
    if not bands:
        return None
    worst = min(bands)
    if crops is not None:
        crops.mkdir(parents=True, exist_ok=True)
        _, axis, b = worst
        centre = [original.shape[0] // 2, original.shape[1] // 2]
        centre[axis] = b
        y0, x0 = max(0, centre[0] - 64), max(0, centre[1] - 64)
        pair = np.concatenate([original[y0 : y0 + 128, x0 : x0 + 128], decoded[y0 : y0 + 128, x0 : x0 + 128]], 1)
        name = f"seam_{'row' if axis == 0 else 'col'}{b}_y{y0}_x{x0}.png"
        Image.fromarray(pair).resize((pair.shape[1] * 2, pair.shape[0] * 2), Image.NEAREST).save(crops / name)
    values = [v for v, _, _ in bands]
    return {"psnr": whole, "seams": len(bands), "seam_psnr_mean": float(np.mean(values)),
            "seam_psnr_min": float(min(values)), "worst_seam": [worst[1], worst[2]],
            "seam_minus_image_min_db": float(min(values) - whole),
            "seam_minus_image_mean_db": float(np.mean(values) - whole),
            "seams_on_photo_edges": len(edges),
            "photo_edge_seam_minus_image_min_db": float(min(v for v, _, _ in edges) - whole) if edges else None}  # fmt: skip


def estimated_memory(shape: tuple[int, int, int], args) -> int:
    """The encoder's own estimate of its working set for this run (what ``--max-memory`` is
    checked against), from the plan it makes before fitting."""
    from inrcodec import codec, families
    from inrcodec.options import EncodeOptions

    rate = {"effort": args.effort} if args.steps is None else {"steps": args.steps}
    opts = codec.checked_options(
        EncodeOptions(bpp=args.bpp, tile=args.tile, jobs=args.jobs if args.jobs > 1 else None, **rate)
    )
    opts, target = codec.image_rate(opts, shape[0] * shape[1])
    family = families.for_image(opts.model, shape, opts)
    arch, _ = family.plan(shape, opts, target)
    return family.encode_memory(shape, opts, tuple(arch))


def run(args) -> None:
    image = Path(args.inputs) / f"{args.size}.png"
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    effort = args.effort if args.steps is None else f"{args.steps} steps"
    tag = f"{args.size}_{args.bpp:g}_{args.effort if args.steps is None else f's{args.steps}'}_j{args.jobs}"
    tag += f"_t{args.tile}" if args.tile is not None else ""
    with tempfile.TemporaryDirectory() as tmp:
        inr = Path(tmp) / f"{tag}.inr"
        cmd = [sys.executable, "-m", "inrcodec", "encode", str(image), "-o", str(inr), "--bpp", str(args.bpp),
               "--jobs", str(args.jobs), "--json", "--quiet"]  # fmt: skip
        cmd += ["--effort", args.effort] if args.steps is None else ["--steps", str(args.steps)]
        if args.tile is not None:
            cmd += ["--tile", str(args.tile)]
        load = os.getloadavg()
        result, wall, cpu, tree_peak = _watch(cmd, env)
        if result.returncode:
            sys.exit(result.stderr)
        record = json.loads(result.stdout)
        own_peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024  # the largest child so far
        decoded_path = Path(tmp) / "decoded.npy"
        dec, _, _, _ = _watch([sys.executable, "-c", _DECODE, str(inr), str(decoded_path)], env)
        if dec.returncode:
            sys.exit(dec.stderr)
        decode = json.loads(dec.stdout)
        data = inr.read_bytes()
        original = np.asarray(Image.open(image).convert("RGB"))
        cells = STITCHES[args.size][2:4][::-1] if args.size in STITCHES else None
        seam = seams(original, np.load(decoded_path), data, out / "seams" / tag if args.steps is None else None, cells)
        if args.keep:
            (out / "files").mkdir(exist_ok=True)
            (out / "files" / inr.name).write_bytes(data)
    from inrcodec import decoder

    info = decoder.describe(data)
    pixels = original.shape[0] * original.shape[1]
    row = {
        "tag": tag, "image": args.size, "width": original.shape[1], "height": original.shape[0],
        "megapixels": pixels / 1e6, "bpp_target": args.bpp, "effort": effort, "jobs": args.jobs,
        "tile": args.tile, "model": info["model"], "tiles": info.get("tiles"), "bytes": len(data),
        "bpp": 8 * len(data) / pixels, "psnr": record["psnr"], "encode_cpu_s": cpu, "encode_wall_s": wall,
        "cpu_s_per_mp": cpu / (pixels / 1e6), "encode_peak_rss_largest_process": own_peak,
        "encode_peak_rss_tree": tree_peak, "encode_memory_estimate": estimated_memory(original.shape, args), **decode, "seams": seam, "loadavg_at_start": load,
        "loadavg_at_end": os.getloadavg(), "command": " ".join(["python", *sys.argv]),
        "inrcodec_steps": record["steps"], "date": time.strftime("%Y-%m-%d %H:%M"),
    }  # fmt: skip
    with open(out / "runs.jsonl", "a") as f:
        f.write(json.dumps(row) + "\n")
    print(json.dumps(row, indent=1))
    summary(out)


def _rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()] if path.exists() else []


def projected_cpu_s(row: dict, steps_rows: list[dict], steps: int = 1500) -> float | None:
    """A short fit's CPU seconds projected to ``steps``: its own, plus the extra steps at the
    per-pixel cost ``tile_step_cost.py`` measured at the size nearest its tiles', over every
    stored pixel (the tiles' margins included). What it leaves out: the entropy coding of a
    fitted file's larger latents (checked against the default-effort rows)."""
    if "steps" not in row["effort"] or not steps_rows:
        return None
    from inrcodec.grid.tiles import TileAxis
    from inrcodec.tiled import TILE_MARGIN

    ny, nx = row["tiles"] or (1, 1)
    heights = TileAxis(row["height"], ny, TILE_MARGIN).sizes()
    widths = TileAxis(row["width"], nx, TILE_MARGIN).sizes()
    tile = max(heights) * max(widths)
    nearest = min(steps_rows, key=lambda r: abs(r["width"] * r["height"] - tile))
    stored = sum(heights) * sum(widths)
    return row["encode_cpu_s"] + (steps - row["inrcodec_steps"]) * stored * nearest["ns_per_pixel_step"] * 1e-9


def summary(out: Path) -> None:
    """``summary.md`` in ``out``: the rows of ``runs.jsonl``, and those of ``step_cost.jsonl``
    (benchmarks/tile_step_cost.py) and ``tile_rate.jsonl`` (benchmarks/tile_rate.py) when present."""
    mib = lambda v: "-" if v is None else f"{v / 2**20:.0f}"
    lines = [
        "# Large images: measured rows",
        "",
        "## Encode and decode by image size (benchmarks/large_images.py, runs.jsonl)",
        "",
        "CPU s: the encoder process and its workers (user + system). Peak RSS: sampled every 0.2 s over",
        "the encoder's process tree, and the largest single process (getrusage). Estimate: the encoder's",
        "own, before fitting (what --max-memory is checked against). Load: the 1-minute load average at",
        "the start and end of the encode, on 2 cores. Seams: the worst 16-pixel band across a tile",
        "boundary, PSNR against the whole image's (not shown for short fits, whose pictures are a blur).",
        "",
        "Projected: a short fit's CPU s / MP at the default effort (1500 steps), its own CPU s plus the",
        "extra steps at the cost per pixel and step of step_cost.jsonl (the size nearest its tiles').",
        "",
        "| image | MP | effort | bpp target | model | tiles | jobs | bpp | PSNR dB | encode CPU s | CPU s / MP "
        "| projected CPU s / MP, default effort "
        "| encode wall s | peak RSS, all processes MiB | peak RSS, largest process MiB | estimate MiB "
        "| decode 1x CPU s | decode wall s | decode peak RSS MiB | worst seam band − image dB | load |",
        "|---|---:|---|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    steps = _rows(out / "step_cost.jsonl")
    for r in _rows(out / "runs.jsonl"):
        projected = projected_cpu_s(r, steps)
        seam = r.get("seams")
        load = f"{r['loadavg_at_start'][0]:.1f}" + (f"–{r['loadavg_at_end'][0]:.1f}" if "loadavg_at_end" in r else "")
        lines.append(
            f"| {r['image']} | {r['megapixels']:.2f} | {r['effort']} | {r['bpp_target']:g} | {r['model']} "
            f"| {'x'.join(map(str, r['tiles'])) if r['tiles'] else '-'} | {r['jobs']} | {r['bpp']:.4f} "
            f"| {r['psnr']:.2f} | {r['encode_cpu_s']:.0f} | {r['cpu_s_per_mp']:.1f} "
            f"| {'-' if projected is None else format(projected / r['megapixels'], '.0f')} | {r['encode_wall_s']:.0f} "
            f"| {mib(r['encode_peak_rss_tree'])} | {mib(r['encode_peak_rss_largest_process'])} "
            f"| {mib(r.get('encode_memory_estimate'))} "
            f"| {r['decode_cpu_s']:.2f} | {r['decode_wall_s']:.2f} | {mib(r['decode_peak_rss'])} "
            f"| {'-' if not seam or 'steps' in r['effort'] else format(seam['seam_minus_image_min_db'], '+.2f')} "
            f"| {load} |"
        )
    if steps:
        lines += [
            "",
            "## One fitting step by tile size (benchmarks/tile_step_cost.py, step_cost.jsonl)",
            "",
            "One latent grid, 0.3 bpp recipe, one thread; CPU seconds of a long fit minus a short one, per",
            "extra step and pixel.",
            "",
            "| size | pixels | CPU s, short fit | CPU s, long fit | steps | CPU ms per step | ns per pixel and step | load |",
            "|---|---:|---:|---:|---|---:|---:|---:|",
        ]
        for r in steps:
            lines.append(
                f"| {r['width']} x {r['height']} | {r['width'] * r['height']} | {r['short_cpu_s']:.1f} "
                f"| {r['long_cpu_s']:.1f} | {r['short_steps']} / {r['long_steps']} | {1e3 * r['cpu_s_per_step']:.0f} "
                f"| {r['ns_per_pixel_step']:.0f} | {r['loadavg'][0]:.1f} |"
            )
    rate = _rows(out / "tile_rate.jsonl")
    if rate:
        lines += [
            "",
            "## Rate over tiles (benchmarks/tile_rate.py, tile_rate.jsonl)",
            "",
            "The astronaut's lower half (256 x 512) at 1 bpp in 2 x 4 tiles; second-half correction: none,",
            "or the first half's miss to this power (0.5: the default).",
            "",
            "| seed | correction | steps | bytes | bpp | miss % | PSNR dB | CPU s |",
            "|---:|---|---:|---:|---:|---:|---:|---:|",
        ]
        for r in rate:
            lines.append(
                f"| {r['seed']} | {r['correction_power']} | {r['steps']} | {r['bytes']} | {r['bpp']:.4f} "
                f"| {r['miss_percent']:+.1f} | {r['psnr']:.2f} | {r['cpu_s']:.0f} |"
            )
    (out / "summary.md").write_text("\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    s = sub.add_parser("stitch")
    s.add_argument("--inputs", default="/tmp/inrcodec-large")
    r = sub.add_parser("run")
    r.add_argument("size", choices=["0.4mp", *STITCHES])
    r.add_argument("--inputs", default="/tmp/inrcodec-large")
    r.add_argument("--bpp", type=float, default=0.3)
    r.add_argument("--effort", default="default")
    r.add_argument("--steps", type=int, help="fit this many steps instead of an effort's")
    r.add_argument("--jobs", type=int, default=1)
    r.add_argument("--tile", type=int)
    r.add_argument("--keep", action="store_true", help="keep the .inr file in OUT/files")
    r.add_argument("-o", "--out", default=str(RESULTS))
    m = sub.add_parser("summary")
    m.add_argument("-o", "--out", default=str(RESULTS))
    args = parser.parse_args()
    if args.command == "stitch":
        stitch(Path(args.inputs))
    elif args.command == "run":
        run(args)
    else:
        summary(Path(args.out))


if __name__ == "__main__":
    main()
