"""Measure the applications against the classical method a user would reach for.

    python benchmarks/applications.py                       # the committed run (about 30 min, one core)
    python benchmarks/applications.py --images kodim23 --seconds 5 --out /tmp/apps-smoke   # a smoke test

Writes to ``--out`` (default benchmarks/results/applications/): ``rows.csv`` (one row per image,
task, setting and method), ``summary.json`` and ``summary.md`` (means per task, setting and
method), ``command.txt`` (the exact command), ``machine.json``, and one figure per task
(``fig_*.png``: crops of the input, the baselines, ours and the original side by side).

The tasks, all on 8-bit Kodak images chosen up front (kodim01, 05, 15, 20, 23) and bach.wav:

- super-resolution x4: the original reduced with Pillow's antialiased bicubic
  (``resize(..., BICUBIC, reducing_gap=None)``), upscaled by Pillow bicubic and Lanczos, by
  ``inrcodec.apps.upscale``, and by the same with an initialisation learned on the training photos
  (``shared/data/train/wikipedia``, never Kodak; Reptile, see :func:`learn_init`);
- denoising: Gaussian noise sigma 15 and 25 (0-255, seed fixed per image), against skimage's
  ``denoise_tv_chambolle`` (weight chosen per sigma on the training photos), ``denoise_wavelet``
  (BayesShrink, YCbCr, sigma given) and ``denoise_nl_means`` (h = 0.8 sigma, sigma given,
  fast_mode, 5x5 patches, distance 6: skimage's documented example); ours is given sigma too;
- reconstruction: 50 % and 90 % of pixels removed at random (seed fixed), and a 64 x 64 block in
  the centre, against ``inpaint_biharmonic``;
- audio gap filling: eight gaps of 10-50 ms in bach.wav, against linear interpolation across each
  gap; SNR and log-spectral distance inside the gaps. The fits use the application's step budget
  (600 per gap), not ``--seconds``, so that they are deterministic.

Rerunning some tasks (``--tasks audio``) into the same folder keeps the other tasks' rows.

PSNR and SSIM are on the whole image (inrcodec.metrics), times are wall-clock seconds per image
on one thread. Every INR fit gets ``--seconds`` (early stopping may end it sooner).
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import shlex
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import torch
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from inrcodec import (
    apps,
    coords,
)
from inrcodec.apps.common import FitOptions, build_network, resolve
from inrcodec.apps.upscale import default_options as upscale_defaults
from inrcodec.bench.machine import machine_info
from inrcodec.fit import seeded_generator
from inrcodec.io.audio import read_audio
from inrcodec.io.image import read_image, to_values
from inrcodec.metrics import log_spectral_distance, psnr, snr_db, ssim
from inrcodec.tasks import PointFitTask

SHARED = ROOT.parent / "shared" / "data"
IMAGES = "kodim01,kodim05,kodim15,kodim20,kodim23"
#: TV weights (on [0, 1] images) per sigma, chosen on the training photos by tune_tv_weight
TV_WEIGHT = {15: 0.06, 25: 0.09}


# --- helpers ---------------------------------------------------------------------------------------


def to_uint8(x: np.ndarray) -> np.ndarray:
    """A float image on [0, 1] as 8-bit pixels, rounded."""
    return np.clip(np.round(x * 255.0), 0, 255).astype(np.uint8)


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def image_row(image, task, setting, method, truth, out, seconds, extra=None):
    row = {"image": image, "task": task, "setting": setting, "method": method,
           "psnr": psnr(truth, out), "ssim": ssim(truth, out), "seconds": seconds}  # fmt: skip
    row.update(extra or {})
    return row


def fit_extra(result) -> dict:
    return {"steps": result.steps, "stop": result.stop_reason}


def downscale(pixels: np.ndarray, factor: int = 4) -> np.ndarray:
    h, w = pixels.shape[:2]
    im = Image.fromarray(pixels).resize((w // factor, h // factor), Image.BICUBIC, reducing_gap=None)
    return np.asarray(im)


def pil_upscale(pixels: np.ndarray, size: tuple[int, int], method) -> np.ndarray:
    return np.asarray(Image.fromarray(pixels).resize((size[1], size[0]), method))


def training_photos(limit: int | None = None) -> list[np.ndarray]:
    """The training photos at Kodak's scale: longer side 768, centre 768 x 512 (or 512 x 768)."""
    out = []
    for path in sorted((SHARED / "train" / "wikipedia").glob("*.png"))[:limit]:
        im = Image.open(path).convert("RGB")
        s = 768 / max(im.size)
        im = im.resize((round(im.size[0] * s), round(im.size[1] * s)), Image.LANCZOS)
        w, h = (768, 512) if im.size[0] >= im.size[1] else (512, 768)
        if im.size[0] < w or im.size[1] < h:
            continue
        left, top = (im.size[0] - w) // 2, (im.size[1] - h) // 2
        out.append(np.asarray(im.crop((left, top, left + w, top + h))))
    return out


# --- super-resolution ---------------------------------------------------------------------------------


def learn_init(photos: list[np.ndarray], opts: FitOptions, seconds: float, seed: int = 0):
    """A SIREN initialisation for fitting 4x-reduced photos, by Reptile (Nichol et al. 2018).

    Each outer step fits a copy of the init to one reduced training photo for ``inner`` Adam
    steps and moves the init a share ``eps`` of the way toward the result; landscape photos only,
    as the init is tied to the [-1, 1] square's orientation.
    """
    g = seeded_generator(seed)
    small = [downscale(p) for p in photos if p.shape[1] >= p.shape[0]]
    model = build_network(opts, 2, 3, g)
    inner, eps = 20, 0.3
    start, outer = time.perf_counter(), 0
    while time.perf_counter() - start < seconds:
        img = small[outer % len(small)]
        h, w = img.shape[:2]
        points = torch.from_numpy(coords.image_points(h, w))
        values = torch.from_numpy(to_values(img).reshape(-1, 3))
        clone = build_network(opts, 2, 3, g)
        clone.load_state_dict(model.state_dict())
        task = PointFitTask(clone, points, values, lambda p: 0.0, lr=opts.lr, batch_size=opts.batch, generator=g)
        adam = torch.optim.Adam(task.parameter_groups())
        for step in range(inner):
            adam.zero_grad()
            task.training_loss(step, 0.0).backward()
            adam.step()
        with torch.no_grad():
            for p, q in zip(model.parameters(), clone.parameters()):
                p.add_(eps * (q - p))
        outer += 1
    return model, outer


def super_resolution(name, clean, seconds, init, figs):
    small = downscale(clean)
    size = clean.shape[:2]
    rows = []
    outs = {}
    for method, pil in (("bicubic", Image.BICUBIC), ("lanczos", Image.LANCZOS)):
        out, t = timed(lambda: pil_upscale(small, size, pil))
        rows.append(image_row(name, "super-resolution x4", "bicubic-reduced", method, clean, out, t))
        outs[method] = out
    r, t = timed(lambda: apps.run_upscale(small, 4, options=FitOptions(seconds=seconds)))
    rows.append(
        image_row(name, "super-resolution x4", "bicubic-reduced", "inr (siren)", clean, r.output, t, fit_extra(r))
    )
    outs["inr (siren)"] = r.output
    if init is not None:
        r, t = timed(lambda: apps.run_upscale(small, 4, options=FitOptions(seconds=seconds), init=init))
        rows.append(image_row(name, "super-resolution x4", "bicubic-reduced", "inr (siren, learned init)",
                              clean, r.output, t, fit_extra(r)))  # fmt: skip
        outs["inr (siren, learned init)"] = r.output
    figs["sr"] = (name, pil_upscale(small, size, Image.NEAREST), outs, clean)
    return rows


# --- denoising --------------------------------------------------------------------------------------


def add_noise(clean: np.ndarray, sigma: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.clip(np.round(clean + rng.normal(0.0, sigma, clean.shape)), 0, 255).astype(np.uint8)


def classical_denoisers(sigma: float):
    from skimage.restoration import denoise_nl_means, denoise_tv_chambolle, denoise_wavelet

    s = sigma / 255.0
    return {
        "tv_chambolle": lambda x: denoise_tv_chambolle(x, weight=TV_WEIGHT[int(sigma)], channel_axis=-1),
        "wavelet": lambda x: denoise_wavelet(x, sigma=s, channel_axis=-1, convert2ycbcr=True,
                                             method="BayesShrink", mode="soft", rescale_sigma=True),
        "nl_means": lambda x: denoise_nl_means(x, h=0.8 * s, sigma=s, fast_mode=True, patch_size=5,
                                               patch_distance=6, channel_axis=-1),
    }  # fmt: skip


def tune_tv_weight(photos, sigmas=(15, 25), weights=(0.03, 0.045, 0.06, 0.075, 0.09, 0.11, 0.13)) -> dict:
    """The TV weight with the best mean PSNR on crops of the training photos, per sigma."""
    from skimage.restoration import denoise_tv_chambolle

    crops = [p[128:384, 256:512] for p in photos[:6]]
    best = {}
    for sigma in sigmas:
        scores = {w: np.mean([psnr(c, to_uint8(denoise_tv_chambolle(add_noise(c, sigma, i) / 255.0, weight=w,
                                                                     channel_axis=-1)))
                              for i, c in enumerate(crops)]) for w in weights}  # fmt: skip
        best[sigma] = max(scores, key=scores.get)
    return best


def denoising(name, index, clean, seconds, sigmas, figs):
    rows = []
    for sigma in sigmas:
        noisy = add_noise(clean, sigma, seed=1000 * int(sigma) + index)
        setting = f"sigma {sigma:g}"
        rows.append(image_row(name, "denoising", setting, "noisy input", clean, noisy, 0.0))
        outs = {}
        for method, fn in classical_denoisers(sigma).items():
            out, t = timed(lambda: to_uint8(fn(noisy / 255.0)))
            rows.append(image_row(name, "denoising", setting, method, clean, out, t))
            outs[method] = out
        r, t = timed(lambda: apps.run_denoise(noisy, sigma, options=FitOptions(seconds=seconds)))
        label = f"inr ({r.settings['model']})"
        rows.append(image_row(name, "denoising", setting, label, clean, r.output, t, fit_extra(r)))
        outs[label] = r.output
        est = apps.estimate_sigma(noisy)
        rows[-1]["sigma_estimate"] = est
        figs[f"denoise{sigma:g}"] = (name, noisy, outs, clean)
    return rows


# --- reconstruction ----------------------------------------------------------------------------------


def masks_for(shape, index) -> dict[str, np.ndarray]:
    h, w = shape
    rng = np.random.default_rng(2000 + index)
    block = np.zeros((h, w), bool)
    top, left = (h - 64) // 2, (w - 64) // 2
    block[top : top + 64, left : left + 64] = True
    return {"50% random": rng.random((h, w)) < 0.5, "90% random": rng.random((h, w)) < 0.9, "64x64 block": block}


def reconstruction(name, index, clean, seconds, figs):
    from skimage.restoration import inpaint_biharmonic

    rows = []
    for setting, mask in masks_for(clean.shape[:2], index).items():
        damaged = clean.copy()
        damaged[mask] = 0
        outs = {}
        out, t = timed(lambda: to_uint8(inpaint_biharmonic(damaged / 255.0, mask, channel_axis=-1)))
        rows.append(image_row(name, "reconstruction", setting, "biharmonic", clean, out, t,
                              {"psnr_missing": psnr(clean[mask], out[mask])}))  # fmt: skip
        outs["biharmonic"] = out
        r, t = timed(lambda: apps.run_inpaint(damaged, mask, options=FitOptions(seconds=seconds)))
        label = f"inr ({r.settings['model']})"
        rows.append(image_row(name, "reconstruction", setting, label, clean, r.output, t,
                              {"psnr_missing": psnr(clean[mask], r.output[mask]), **fit_extra(r)}))  # fmt: skip
        outs[label] = r.output
        figs[f"inpaint {setting}"] = (name, damaged, outs, clean)
    return rows


# --- audio -------------------------------------------------------------------------------------------


def audio_gaps(frames: int, rate: int, seed: int = 7) -> list[tuple[float, float]]:
    """Eight gaps (10, 20, 30, 50 ms, twice each) at seeded places, at least 0.4 s apart."""
    rng = np.random.default_rng(seed)
    lengths = [0.010, 0.020, 0.030, 0.050] * 2
    duration = frames / rate
    slots = np.linspace(0.3, duration - 0.3, len(lengths) + 1)
    gaps = []
    for k, length in enumerate(lengths):
        start = rng.uniform(slots[k], slots[k + 1] - length - 0.1)
        gaps.append((round(start, 4), round(start + length, 4)))
    return gaps


def audio():
    from inrcodec.apps.gaps import gap_ranges

    clip = read_audio(SHARED / "audio" / "bach.wav")
    x = clip.samples
    gaps = audio_gaps(clip.frames, clip.rate)
    ranges = gap_ranges(gaps, clip.frames, clip.rate)
    missing = np.zeros(clip.frames, bool)
    for a, b in ranges:
        missing[a:b] = True
    damaged = x.copy()
    damaged[missing] = 0
    t_idx = np.arange(clip.frames)
    linear, t_lin = timed(lambda: np.stack(
        [np.interp(t_idx, t_idx[~missing], damaged[~missing, c]) for c in range(x.shape[1])], 1))  # fmt: skip
    # the application's step budget (600 per gap), which keeps the result deterministic
    r, t_inr = timed(lambda: apps.run_inpaint_audio(damaged, clip.rate, gaps))
    rows = []
    for method, out, t in (("linear interpolation", linear, t_lin), ("inr (siren)", r.output, t_inr)):
        lsds = []
        for (a, b), (s, e) in zip(ranges, gaps):
            lsds.append(log_spectral_distance(x[a:b], out[a:b]))
            rows.append({"image": "bach.wav", "task": "audio gap filling", "setting": f"{1000 * (e - s):.0f} ms",
                         "method": method, "snr_gap_db": snr_db(x[a:b], out[a:b]), "lsd_gap_db": lsds[-1],
                         "seconds": t / len(ranges), "gap": f"{s}-{e}"})  # fmt: skip
        rows.append({"image": "bach.wav", "task": "audio gap filling", "setting": "all gaps", "method": method,
                     "snr_gap_db": snr_db(x[missing], out[missing]), "lsd_gap_db": float(np.mean(lsds)),
                     "seconds": t})  # fmt: skip
    return rows, (x, linear, r.output, ranges, clip.rate)


# --- outputs -----------------------------------------------------------------------------------------


def earlier_rows(path: Path, rerun: set[str]) -> list[dict]:
    """The rows of an earlier run in the same folder for the tasks not run again, so that one
    task can be rerun (``--tasks audio``) without losing the others."""
    if not path.exists():
        return []
    kept = []
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            if row["task"] in rerun:
                continue
            for key, value in list(row.items()):
                if value == "":
                    del row[key]
                elif key in ("psnr", "ssim", "psnr_missing", "snr_gap_db", "lsd_gap_db", "seconds", "sigma_estimate"):
                    row[key] = float(value)
            kept.append(row)
    return kept


def summarise(rows: list[dict]) -> list[dict]:
    groups = defaultdict(list)
    for row in rows:
        groups[(row["task"], row["setting"], row["method"])].append(row)
    out = []
    for (task, setting, method), rs in groups.items():
        entry = {"task": task, "setting": setting, "method": method, "images": len(rs)}
        for key in ("psnr", "ssim", "psnr_missing", "snr_gap_db", "lsd_gap_db", "seconds"):
            vals = [r[key] for r in rs if key in r and r[key] is not None and math.isfinite(r[key])]
            if vals:
                entry[key] = float(np.mean(vals))
        out.append(entry)
    return out


def markdown(summary: list[dict]) -> str:
    lines = []
    for task in dict.fromkeys(s["task"] for s in summary):
        part = [s for s in summary if s["task"] == task]
        if task == "audio gap filling":
            lines += [f"### {task}", "", "| gap | method | SNR in the gap (dB) | log-spectral distance in the gap (dB) | time (s) |",
                      "|---|---|---:|---:|---:|"]  # fmt: skip
            lines += [f"| {s['setting']} | {s['method']} | {s['snr_gap_db']:.2f} | {s.get('lsd_gap_db', float('nan')):.2f} "
                      f"| {s['seconds']:.2f} |" for s in part]  # fmt: skip
        else:
            extra = task == "reconstruction"
            head = (
                "| setting | method | PSNR (dB) | SSIM |" + (" PSNR missing px (dB) |" if extra else "") + " time (s) |"
            )
            lines += [f"### {task}", "", head, "|---|---|---:|---:|" + ("---:|" if extra else "") + "---:|"]
            for s in part:
                miss = f" {s.get('psnr_missing', float('nan')):.2f} |" if extra else ""
                lines.append(
                    f"| {s['setting']} | {s['method']} | {s['psnr']:.2f} | {s['ssim']:.4f} |{miss} {s['seconds']:.1f} |"
                )
        lines.append("")
    return "\n".join(lines)


def crop_box(shape, size=128, centred=False):
    """A detailed crop, or (``centred``) the one around the centre, where the missing block is."""
    h, w = shape[:2]
    dy, dx = (0, 0) if centred else (-40, 60)
    return slice(h // 2 - size // 2 + dy, h // 2 + size // 2 + dy), slice(
        w // 2 - size // 2 + dx, w // 2 + size // 2 + dx
    )


def figure(path: Path, title: str, entry) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    name, given, outs, clean = entry
    panels = [("input", given), *outs.items(), ("original", clean)]
    ys, xs = crop_box(clean.shape, centred="block" in title)
    fig, axes = plt.subplots(1, len(panels), figsize=(2.6 * len(panels), 3.0))
    for ax, (label, img) in zip(axes, panels):
        ax.imshow(img[ys, xs], interpolation="nearest")
        sub = "" if label in ("original",) else f"\n{psnr(clean, img):.2f} dB"
        ax.set_title(f"{label}{sub}", fontsize=9)
        ax.axis("off")
    fig.suptitle(f"{title} ({name}, 128 x 128 crop)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def audio_figure(path: Path, data) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    x, linear, ours, ranges, rate = data
    picks = [ranges[2], ranges[3]]
    fig, axes = plt.subplots(1, len(picks), figsize=(11, 3.2))
    for ax, (a, b) in zip(axes, picks):
        pad = (b - a) // 2
        t = (np.arange(a - pad, b + pad) / rate) * 1000
        ax.plot(t, x[a - pad : b + pad, 0], "k", lw=1.2, label="original")
        ax.plot(t, linear[a - pad : b + pad, 0], "C0", lw=1, label="linear")
        ax.plot(t, ours[a - pad : b + pad, 0], "C3", lw=1, label="inr (siren)")
        ax.axvspan(a / rate * 1000, b / rate * 1000, color="0.9")
        ax.set_xlabel("ms")
        ax.set_title(f"{(b - a) / rate * 1000:.0f} ms gap at {a / rate:.2f} s", fontsize=9)
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", default=IMAGES, help=f"Kodak images [{IMAGES}]")
    parser.add_argument("--kodak", type=Path, default=SHARED / "kodak")
    parser.add_argument("--seconds", type=float, default=30.0, help="budget of each INR fit [30]")
    parser.add_argument("--init-seconds", type=float, default=90.0, help="Reptile budget for the SR init [90]")
    parser.add_argument("--tasks", default="sr,denoise,inpaint,audio")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "applications")
    args = parser.parse_args()
    torch.set_num_threads(1)
    tasks = set(args.tasks.split(","))
    args.out.mkdir(parents=True, exist_ok=True)
    with open(args.out / "command.txt", "a") as f:  # a rerun of some tasks adds its command
        f.write(" ".join(["python", *map(shlex.quote, sys.argv)]) + "\n")
    (args.out / "machine.json").write_text(json.dumps(machine_info(jobs=1, threads=1), indent=2) + "\n")

    rows, figs, notes = [], {}, {}
    init = None
    photos = training_photos() if tasks & {"sr", "denoise"} else []
    if "denoise" in tasks:
        notes["tv_weight_tuned_on_training_photos"] = tune_tv_weight(photos)
        TV_WEIGHT.update(notes["tv_weight_tuned_on_training_photos"])
    if "sr" in tasks and args.init_seconds > 0:
        opts = resolve(FitOptions(), upscale_defaults(128, 192))
        init, outer = learn_init(photos, opts, args.init_seconds)
        notes["sr_init"] = {"reptile_outer_steps": outer, "photos": len(photos), "seconds": args.init_seconds}
    for index, name in enumerate(args.images.split(",")):
        clean = read_image(args.kodak / f"{name}.png").pixels
        print(f"{name}: {clean.shape[1]}x{clean.shape[0]}", flush=True)
        if "sr" in tasks:
            rows += super_resolution(name, clean, args.seconds, init, figs)
        if "denoise" in tasks:
            rows += denoising(name, index, clean, args.seconds, (15, 25), figs)
        if "inpaint" in tasks:
            rows += reconstruction(name, index, clean, args.seconds, figs)
        print(markdown(summarise([r for r in rows if r["image"] == name])), flush=True)
    if "audio" in tasks:
        audio_rows, audio_data = audio()
        rows += audio_rows
        audio_figure(args.out / "fig_audio.png", audio_data)
    for key, entry in figs.items():
        figure(args.out / f"fig_{key.replace(' ', '_').replace('%', 'pct')}.png", key, entry)

    rows = earlier_rows(args.out / "rows.csv", {r["task"] for r in rows}) + rows
    summary = summarise(rows)
    keys = sorted({k for r in rows for k in r})
    with open(args.out / "rows.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=keys)
        writer.writeheader()
        writer.writerows(rows)
    if (args.out / "summary.json").exists():
        notes = {**json.loads((args.out / "summary.json").read_text()).get("notes", {}), **notes}
    (args.out / "summary.json").write_text(json.dumps({"summary": summary, "notes": notes, "images": args.images,
                                                       "seconds_per_fit": args.seconds}, indent=2) + "\n")  # fmt: skip
    (args.out / "summary.md").write_text(markdown(summary))
    print(markdown(summary))


if __name__ == "__main__":
    main()
