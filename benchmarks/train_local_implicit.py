"""Train the learned priors that ship in the package (inrcodec/models/local_implicit.py).

    python benchmarks/train_local_implicit.py                  # super-resolution weights (one thread, ~45 min)
    python benchmarks/train_local_implicit.py --task denoise   # denoising weights
    python benchmarks/train_local_implicit.py --steps 200 --out /tmp/li.npz --log /tmp/li.jsonl   # smoke

Data: the training photos in ``../shared/data/train/wikipedia`` (never Kodak). Every 12th photo
(the 1st, 13th, 25th and 37th) is held out for validation; the other 42 train. Each step of the
super-resolution task takes 8 random
square crops, a random scale s in [1, 4] per crop (continuous: the model serves any scale), a
random flip and quarter turn, reduces the crop to 48 x 48 with Pillow's antialiased bicubic (the
degradation the benchmark uses) and asks for 1024 random pixels of the crop at full size. Loss:
L1 on [0, 1] values. Adam, cosine learning-rate decay, one torch thread, fixed seeds: the same
machine gives the same weights bit for bit, another CPU the same quality to round-off.

Validation (written to ``--log`` every ``--every`` steps and at the end): the four held-out
photos' central 384 x 384 crops reduced by 2, 3 and 4, PSNR of the model against Pillow's
bicubic and Lanczos upscaling of the same small image.

``--task denoise``: the same architecture with the noise level as a fourth input plane. Each
step takes 8 random 64 x 64 crops (flip, quarter turn) with Gaussian noise of sigma uniform in
[5, 50] (0-255), rounded and clipped to 8 bits; the targets are the clean pixels, at scale 1;
loss L2. Validation: the held-out crops at sigma 15, 25 and 50 against skimage's non-local means.

``--task inpaint``: the input is the push-pull fill of the known pixels plus the known mask;
8 random 64 x 64 crops per step under random masks (:func:`random_mask`: scattered pixels or
strokes); loss L2 on the missing pixels. Validation: the held-out photos' central 256 x 256
crops with 50 % and 90 % of pixels missing at random, against skimage's biharmonic inpainting.
"""

from __future__ import annotations

import argparse
import functools
import json
import math
import sys
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from inrcodec.models.local_implicit import (
    DENOISE_WEIGHTS,
    INPAINT_WEIGHTS,
    SIGMA_UNIT,
    WEIGHTS,
    LocalImplicit,
    bicubic_at,
    inpaint_inputs,
    render,
)

PHOTOS = ROOT.parent / "shared" / "data" / "train" / "wikipedia"
SMALL = 48  # small crop side
NOISY = 64  # denoising and inpainting crop side
INPAINT_CROP = 256  # inpainting validation crop side (biharmonic is slow)
SIGMAS = (5.0, 50.0)  # the denoiser's noise levels (0-255), drawn uniformly
QUERIES = 1024  # full-size pixels asked for per crop
BATCH = 8


def load_photos() -> tuple[list[np.ndarray], list[np.ndarray]]:
    paths = sorted(PHOTOS.glob("*.png"))
    photos = [np.asarray(Image.open(p).convert("RGB")) for p in paths]
    train = [p for i, p in enumerate(photos) if i % 12 != 0]
    held_out = [p for i, p in enumerate(photos) if i % 12 == 0]
    return train, held_out


def reduce(pixels: np.ndarray, height: int, width: int) -> np.ndarray:
    """Pillow's antialiased bicubic reduction, as the benchmark's."""
    return np.asarray(Image.fromarray(pixels).resize((width, height), Image.BICUBIC, reducing_gap=None))


def random_square(photo: np.ndarray, side: int, rng: np.random.Generator) -> np.ndarray:
    """A random side x side crop of ``photo``, flipped at random and turned a random quarter."""
    top, left = rng.integers(photo.shape[0] - side + 1), rng.integers(photo.shape[1] - side + 1)
    crop = photo[top : top + side, left : left + side]
    return np.ascontiguousarray(np.rot90(crop[:, ::-1] if rng.integers(2) else crop, k=rng.integers(4)))


def centre_square(photo: np.ndarray, side: int) -> np.ndarray:
    """The central side x side crop of ``photo`` (the validation crops)."""
    top, left = (photo.shape[0] - side) // 2, (photo.shape[1] - side) // 2
    return np.ascontiguousarray(photo[top : top + side, left : left + side])


def make_batch(photos: list[np.ndarray], rng: np.random.Generator):
    smalls, py, px, cells, targets = [], [], [], [], []
    for _ in range(BATCH):
        photo = photos[rng.integers(len(photos))]
        scale = rng.uniform(1.0, 4.0)
        big = min(round(SMALL * scale), *photo.shape[:2])
        crop = random_square(photo, big, rng)
        smalls.append(reduce(crop, SMALL, SMALL))
        s = big / SMALL  # the scale actually made (the crop side is an integer)
        pick = rng.choice(big * big, size=QUERIES, replace=big * big < QUERIES)
        iy, ix = pick // big, pick % big
        py.append((iy + 0.5) / s - 0.5)
        px.append((ix + 0.5) / s - 0.5)
        cells.append(np.full((QUERIES, 2), 1 / s))
        targets.append(crop[iy, ix])
    small = torch.from_numpy(np.stack(smalls).transpose(0, 3, 1, 2).astype(np.float32) / 255)
    as_t = lambda a: torch.from_numpy(np.stack(a).astype(np.float32))
    return small, as_t(py), as_t(px), as_t(cells), as_t(targets) / 255


def make_noisy_batch(photos: list[np.ndarray], rng: np.random.Generator):
    """Crops with Gaussian noise of a random sigma, rounded and clipped to 8 bits (as the
    benchmark's), each with its sigma plane; targets: the clean pixels at every pixel centre."""
    inputs, targets = [], []
    for _ in range(BATCH):
        photo = photos[rng.integers(len(photos))]
        crop = random_square(photo, NOISY, rng)
        sigma = rng.uniform(*SIGMAS)
        noisy = np.clip(np.round(crop + rng.normal(0.0, sigma, crop.shape)), 0, 255) / 255
        inputs.append(np.concatenate([noisy, np.full((NOISY, NOISY, 1), sigma / SIGMA_UNIT)], axis=2))
        targets.append(crop / 255)
    x = torch.from_numpy(np.stack(inputs).transpose(0, 3, 1, 2).astype(np.float32))
    return x, torch.from_numpy(np.stack(targets).astype(np.float32))


def denoise_loss(model: LocalImplicit, photos: list[np.ndarray], rng: np.random.Generator) -> torch.Tensor:
    x, target = make_noisy_batch(photos, rng)
    code = model.encode(x)
    grid = torch.arange(NOISY, dtype=torch.float32)
    py = grid[:, None].expand(NOISY, NOISY).reshape(-1).repeat(BATCH)
    px = grid[None, :].expand(NOISY, NOISY).reshape(-1).repeat(BATCH)
    batch = torch.arange(BATCH).repeat_interleave(NOISY * NOISY)
    cell = torch.ones(py.numel(), 2)
    pred = x[:, :3].permute(0, 2, 3, 1).reshape(-1, 3) + model.correction(code, batch, py, px, cell)
    return ((pred - target.reshape(-1, 3)) ** 2).mean()  # L2: the denoiser is judged on PSNR


def random_mask(rng: np.random.Generator, size: int) -> np.ndarray:
    """True where missing: scattered pixels (a share uniform in [0.3, 0.95]) three times in four,
    else strokes (random lines 1-3 pixels wide, text- and scratch-like) over 5-25 % of the crop."""
    if rng.random() < 0.75:
        return rng.random((size, size)) < rng.uniform(0.3, 0.95)
    missing = np.zeros((size, size), dtype=bool)
    goal = rng.uniform(0.05, 0.25) * size * size
    while missing.sum() < goal:
        width, length = rng.integers(1, 4), rng.integers(4, size)
        top, left = rng.integers(size - width + 1), rng.integers(size - length + 1)
        if rng.integers(2):
            missing[top : top + width, left : left + length] = True
        else:
            missing[left : left + length, top : top + width] = True
    return missing


def inpaint_loss(model: LocalImplicit, photos: list[np.ndarray], rng: np.random.Generator) -> torch.Tensor:
    """L2 on the missing pixels of crops under random masks; the input is the push-pull fill."""
    inputs, targets, masks = [], [], []
    for _ in range(BATCH):
        photo = photos[rng.integers(len(photos))]
        crop = random_square(photo, NOISY, rng) / 255
        missing = random_mask(rng, NOISY)
        inputs.append(inpaint_inputs(crop.astype(np.float32), missing))
        targets.append(crop)
        masks.append(missing)
    x = torch.from_numpy(np.stack(inputs).transpose(0, 3, 1, 2).astype(np.float32))
    target = torch.from_numpy(np.stack(targets).astype(np.float32)).reshape(-1, 3)
    where = torch.from_numpy(np.stack(masks).reshape(-1))
    code = model.encode(x)
    grid = torch.arange(NOISY, dtype=torch.float32)
    py = grid[:, None].expand(NOISY, NOISY).reshape(-1).repeat(BATCH)[where]
    px = grid[None, :].expand(NOISY, NOISY).reshape(-1).repeat(BATCH)[where]
    batch = torch.arange(BATCH).repeat_interleave(NOISY * NOISY)[where]
    cell = torch.ones(py.numel(), 2)
    pred = x[:, :3].permute(0, 2, 3, 1).reshape(-1, 3)[where] + model.correction(code, batch, py, px, cell)
    return ((pred - target[where]) ** 2).mean()


def sr_loss(model: LocalImplicit, photos: list[np.ndarray], rng: np.random.Generator) -> torch.Tensor:
    small, py, px, cell, target = make_batch(photos, rng)
    code = model.encode(small)
    batch = torch.arange(BATCH).repeat_interleave(QUERIES)
    pred = bicubic_at(small, py, px).reshape(-1, 3) + model.correction(
        code, batch, py.reshape(-1), px.reshape(-1), cell.reshape(-1, 2)
    )
    return (pred - target.reshape(-1, 3)).abs().mean()


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return 10 * math.log10(255**2 / mse)


def validate_sr(model: LocalImplicit, held_out: list[np.ndarray]) -> dict:
    model.eval()
    report = {}
    for factor in (2, 3, 4):
        ours, cubic, lanczos = [], [], []
        for photo in held_out:
            clean = centre_square(photo, 384)
            small = reduce(clean, 384 // factor, 384 // factor)
            out = render(model, small.astype(np.float32) / 255, 384, 384)
            ours.append(psnr(np.clip(np.round(out * 255), 0, 255), clean))
            for method, acc in ((Image.BICUBIC, cubic), (Image.LANCZOS, lanczos)):
                acc.append(psnr(np.asarray(Image.fromarray(small).resize((384, 384), method)), clean))
        report[f"x{factor}"] = {
            "psnr": round(float(np.mean(ours)), 4),
            "bicubic": round(float(np.mean(cubic)), 4),
            "lanczos": round(float(np.mean(lanczos)), 4),
            "gain_over_lanczos": round(float(np.mean(ours) - np.mean(lanczos)), 4),
        }
    model.train()
    return report


def validate_denoise(model: LocalImplicit, held_out: list[np.ndarray]) -> dict:
    """PSNR on the held-out photos' central 384 x 384 crops at sigma 15, 25 and 50 (noise seed
    fixed), against the noisy input and skimage's non-local means (h = 0.8 sigma, as the
    applications benchmark)."""
    from skimage.restoration import denoise_nl_means

    model.eval()
    report = {}
    for sigma in (15, 25, 50):
        ours, noisy_db, nlm = [], [], []
        for i, photo in enumerate(held_out):
            clean = centre_square(photo, 384)
            rng = np.random.default_rng(1000 + i)
            noisy = np.clip(np.round(clean + rng.normal(0.0, sigma, clean.shape)), 0, 255).astype(np.uint8)
            x = np.concatenate([noisy / 255, np.full((384, 384, 1), sigma / SIGMA_UNIT)], axis=2).astype(np.float32)
            out = render(model, x, 384, 384)
            ours.append(psnr(np.clip(np.round(out * 255), 0, 255), clean))
            noisy_db.append(psnr(noisy, clean))
            s = sigma / 255
            den = denoise_nl_means(noisy / 255, h=0.8 * s, sigma=s, fast_mode=True, patch_size=5,
                                   patch_distance=6, channel_axis=-1)  # fmt: skip
            nlm.append(psnr(np.clip(np.round(den * 255), 0, 255), clean))
        report[f"sigma{sigma}"] = {"psnr": round(float(np.mean(ours)), 4), "noisy": round(float(np.mean(noisy_db)), 4),
                                   "nl_means": round(float(np.mean(nlm)), 4),
                                   "gain_over_nl_means": round(float(np.mean(ours) - np.mean(nlm)), 4)}  # fmt: skip
    model.train()
    return report


@functools.lru_cache(maxsize=8)
def biharmonic_psnr(index: int, share: float, clean_bytes: bytes) -> float:
    """skimage's biharmonic inpainting of one validation crop (slow, so computed once)."""
    from skimage.restoration import inpaint_biharmonic

    clean = np.frombuffer(clean_bytes, dtype=np.uint8).reshape(INPAINT_CROP, INPAINT_CROP, 3)
    missing = np.random.default_rng(2000 + index).random(clean.shape[:2]) < share
    filled = inpaint_biharmonic(np.where(missing[:, :, None], 0, clean) / 255, missing, channel_axis=-1)
    return psnr(np.clip(np.round(filled * 255), 0, 255), clean)


def validate_inpaint(model: LocalImplicit, held_out: list[np.ndarray]) -> dict:
    """PSNR on the held-out photos' central 256 x 256 crops with 50 % and 90 % of pixels missing
    at random (seed fixed), against skimage's biharmonic inpainting."""
    model.eval()
    report = {}
    for share in (0.5, 0.9):
        ours, biharmonic = [], []
        for i, photo in enumerate(held_out):
            clean = centre_square(photo, INPAINT_CROP)
            missing = np.random.default_rng(2000 + i).random(clean.shape[:2]) < share
            x = inpaint_inputs(clean.astype(np.float32) / 255, missing)
            out = np.where(missing[:, :, None], render(model, x, INPAINT_CROP, INPAINT_CROP), clean / 255)
            ours.append(psnr(np.clip(np.round(out * 255), 0, 255), clean))
            biharmonic.append(biharmonic_psnr(i, share, clean.tobytes()))
        report[f"missing{round(share * 100)}"] = {"psnr": round(float(np.mean(ours)), 4),
                                                 "biharmonic": round(float(np.mean(biharmonic)), 4),
                                                 "gain_over_biharmonic": round(float(np.mean(ours) - np.mean(biharmonic)), 4)}  # fmt: skip
    model.train()
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", choices=("sr", "denoise", "inpaint"), default="sr")
    parser.add_argument("--steps", type=int, default=15000)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--every", type=int, default=500, help="validate every this many steps")
    parser.add_argument(
        "--stop-after", type=int, help="end after this step, on the --steps schedule (a check of the log)"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, help="the weights [the package's, for the task]")
    parser.add_argument("--log", type=Path, help="[benchmarks/results/local_implicit/train_log(_denoise).jsonl]")
    args = parser.parse_args(argv)
    results = ROOT / "benchmarks" / "results" / "local_implicit"
    args.out = args.out or {"sr": WEIGHTS, "denoise": DENOISE_WEIGHTS, "inpaint": INPAINT_WEIGHTS}[args.task]
    args.log = args.log or results / ("train_log.jsonl" if args.task == "sr" else f"train_log_{args.task}.jsonl")
    torch.set_num_threads(1)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    train, held_out = load_photos()
    model = LocalImplicit(in_channels=3 if args.task == "sr" else 4)
    loss_of, validate = {"sr": (sr_loss, validate_sr), "denoise": (denoise_loss, validate_denoise),
                         "inpaint": (inpaint_loss, validate_inpaint)}[args.task]  # fmt: skip
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    warmup = min(200, args.steps // 10)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer,
        lambda k: min(1.0, (k + 1) / warmup) * 0.5 * (1 + math.cos(math.pi * min(k, args.steps) / args.steps)),
    )
    args.log.parent.mkdir(parents=True, exist_ok=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    log = args.log.open("w")
    start, running = time.process_time(), []
    params = sum(p.numel() for p in model.parameters())
    header = {"command": " ".join(sys.argv), "task": args.task, "parameters": params, "train_photos": len(train), "held_out": len(held_out),
              "steps": args.steps, "lr": args.lr, "seed": args.seed, "torch": torch.__version__}  # fmt: skip
    log.write(json.dumps(header) + "\n")
    print(json.dumps(header), file=sys.stderr)
    for step in range(1, min(args.steps, args.stop_after or args.steps) + 1):
        loss = loss_of(model, train, rng)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        schedule.step()
        running.append(loss.item())
        if step % args.every == 0 or step in (args.steps, args.stop_after):
            row = {"step": step, "loss": round(float(np.mean(running)), 6), "cpu_s": round(time.process_time() - start, 1),
                   "validation": validate(model, held_out)}  # fmt: skip
            running = []
            log.write(json.dumps(row) + "\n")
            log.flush()
            print(json.dumps(row), file=sys.stderr)
            np.savez(args.out, **model.state_arrays())
    return 0


if __name__ == "__main__":
    sys.exit(main())
