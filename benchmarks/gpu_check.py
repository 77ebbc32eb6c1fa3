"""Encode and decode a few Kodak images on the CPU and on a CUDA GPU: correctness and speed-up.

    python benchmarks/gpu_check.py                  # on a machine with CUDA: about 5 minutes
    python benchmarks/gpu_check.py --steps 100      # quicker
    python benchmarks/gpu_check.py --device cpu     # dry run of this script where there is no GPU

Needs the Kodak images (``inrcodec bench --download kodak`` fetches them to ~/.cache/inrcodec, or
pass ``--kodak DIR``). For each image and model family (SIREN and the latent grid) it:

1. encodes the image on the CPU (one torch thread: what each ``--jobs`` worker uses) and on the
   GPU, with the same fixed number of steps, and times both;
2. decodes every file (the CPU's and the GPU's) on both devices and checks, per file:

   - the parameters the GPU computes with are exactly the entropy-decoded, dequantized values
     the CPU uses (compared bit for bit after the round trip to the GPU). The entropy decoding
     itself runs in numpy on the CPU whatever the device; its integers are hashed into the
     report (``symbols_sha256``), to compare with the same file decoded on another machine;
   - decoded pixels differ by at most 1;
   - a file encoded on the GPU is a valid file anywhere (it decodes on the CPU);

3. times the grid family's synthesis in bf16 (autocast, the default) against fp32 on the GPU,
   the one place mixed precision is used (SIREN stays fp32: its omega amplifies bf16 rounding);
4. times fitting the images one at a time against one stacked (batched) fit on the GPU.

Prints a table and writes ``gpu_check.json`` and ``summary.md`` to ``--out``. Exit status 1 if
any correctness check fails; 0 otherwise, and 0 with a note where no CUDA device exists.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from inrcodec import codec, container, decoder
from inrcodec.bench.datasets import default_cache_dir
from inrcodec.bench.machine import machine_info
from inrcodec.fit import Budget
from inrcodec.grid import GridConfig
from inrcodec.grid.training import fit
from inrcodec.io.image import read_image
from inrcodec.options import EncodeOptions
from inrcodec.rate import image_target
from inrcodec.stacked import encode_images_stacked

ROOT = Path(__file__).resolve().parents[1]


def kodak_folder(given: Path | None) -> Path:
    for folder in (given, ROOT.parent / "shared" / "data" / "kodak", default_cache_dir() / "kodak"):
        if folder is not None and (folder / "kodim01.png").exists():
            return folder
    raise SystemExit("no Kodak images found: pass --kodak DIR, or run `inrcodec bench --download kodak -o /tmp/k`")


def sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def timed(device: str, fn: Callable[[], Any]) -> tuple[Any, float]:
    sync(device)
    start = time.perf_counter()
    result = fn()
    sync(device)
    return result, time.perf_counter() - start


def symbols_hash(data: bytes) -> str:
    h = hashlib.sha256()
    for q in decoder.entropy_decoded(data):
        h.update(np.ascontiguousarray(q, dtype="<i8").tobytes())
    return h.hexdigest()


def parameters_survive_the_device(data: bytes, device: str) -> bool:
    """Whether the model a file describes holds, on ``device``, exactly the CPU's values."""
    header, payload = container.unpack(data)
    s = header.signal
    model = decoder.build_model_from(header, payload, 2, s.channels)
    on_cpu = {k: v.clone() for k, v in model.state_dict().items()}
    moved = model.to(device)
    return all(torch.equal(on_cpu[k], v.cpu()) for k, v in moved.state_dict().items())


def check_file(data: bytes, device: str) -> dict[str, Any]:
    """Decode one file on the CPU and on ``device``; the correctness verdict and the times."""
    cpu, cpu_s = timed("cpu", lambda: codec.decode_image(data, device="cpu", threads=1).pixels)
    dev, dev_s = timed(device, lambda: codec.decode_image(data, device=device).pixels)
    diff = np.abs(cpu.astype(np.int64) - dev.astype(np.int64))
    row = {
        "symbols_sha256": symbols_hash(data),
        "parameters_identical": parameters_survive_the_device(data, device),
        "max_pixel_difference": int(diff.max()),
        "share_pixels_different": float(np.mean(diff > 0)),
        "decode_cpu_s": cpu_s,
        "decode_device_s": dev_s,
    }
    row["ok"] = row["parameters_identical"] and row["max_pixel_difference"] <= 1
    return row


def encode_both(img, model: str, steps: int, device: str) -> list[dict[str, Any]]:
    """Encode on the CPU and on ``device``; check both files on both devices."""
    rows = []
    for side, where in (("reference", "cpu"), ("checked", device)):
        opts = EncodeOptions(bpp=0.3, steps=steps, model=model, device=where, threads=1, seed=0)
        result, seconds = timed(where, lambda opts=opts: codec.encode_image(img, opts))
        # "side" tells the two apart in a dry run, where both are encoded on the CPU
        row = {"model": model, "side": side, "encoded_on": where, "encode_s": seconds, "bytes": len(result.data),
               "psnr": result.psnr, **check_file(result.data, device)}  # fmt: skip
        rows.append(row)
    return rows


def precision_rows(img, steps: int, device: str) -> list[dict[str, Any]]:
    """The grid fit with its synthesis in bf16 (the default) and in fp32, on ``device``."""
    rows = []
    for bf16 in (True, False):
        config = GridConfig(bf16=bf16)
        target = image_target(img.height * img.width, bpp=0.3)

        def run_fit(config=config, target=target):
            return fit(img.pixels, target, None, Budget(steps=steps), config, device=torch.device(device))

        (task, _), seconds = timed(device, run_fit)
        rows.append({"synthesis": "bf16" if bf16 else "fp32", "fit_s": seconds, "psnr": task.evaluate(),
                     "bpp": task.last_bits / task.pixels})  # fmt: skip
    return rows


def stacking_rows(images: list, steps: int, device: str) -> list[dict[str, Any]]:
    """SIREN fits of the images one at a time, then all in one stacked fit, on ``device``."""
    opts = EncodeOptions(bpp=0.3, steps=steps, model="siren", device=device, seed=0)
    _, alone = timed(device, lambda: [codec.encode_image(img, opts) for img in images])
    results, together = timed(device, lambda: encode_images_stacked(images, opts))
    n = len(images)
    return [{"mode": "one at a time", "images": n, "seconds": alone, "images_per_hour": n / alone * 3600},
            {"mode": "stacked", "images": n, "seconds": together, "images_per_hour": n / together * 3600,
             "mean_psnr": float(np.mean([r.psnr for r in results]))}]  # fmt: skip


def summary(report: dict[str, Any]) -> str:
    lines = [f"# GPU check: {report['device_name']}\n", f"steps {report['steps']}, images {', '.join(report['images'])}\n",
             "| image | model | encoded on | encode s | bytes | PSNR | max pixel diff | parameters identical | ok |",
             "|---|---|---|---:|---:|---:|---:|---|---|"]  # fmt: skip
    for r in report["files"]:
        lines.append(f"| {r['image']} | {r['model']} | {r['encoded_on']} | {r['encode_s']:.1f} | {r['bytes']} | "
                     f"{r['psnr']:.2f} | {r['max_pixel_difference']} | {r['parameters_identical']} | {r['ok']} |")  # fmt: skip
    lines += ["", "| model | CPU encode s (1 thread) | GPU encode s | speed-up |", "|---|---:|---:|---:|"]
    for model, s in report["speedup"].items():
        lines.append(f"| {model} | {s['cpu_s']:.1f} | {s['device_s']:.1f} | {s['speedup']:.1f}x |")
    lines += ["", "| grid synthesis | fit s | PSNR | bpp |", "|---|---:|---:|---:|"]
    lines += [
        f"| {r['synthesis']} | {r['fit_s']:.1f} | {r['psnr']:.2f} | {r['bpp']:.3f} |" for r in report["precision"]
    ]
    lines += ["", "| SIREN fits | images | seconds | images/hour |", "|---|---:|---:|---:|"]
    lines += [
        f"| {r['mode']} | {r['images']} | {r['seconds']:.1f} | {r['images_per_hour']:.0f} |" for r in report["stacking"]
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kodak", type=Path, help="folder of kodim01.png .. kodim24.png")
    parser.add_argument("--images", default="kodim15,kodim23", help="comma-separated (landscape ones stack)")
    parser.add_argument("--steps", type=int, default=200, help="fitting steps per encode")
    parser.add_argument("--models", default="siren,grid")
    parser.add_argument("--device", default="cuda", help="the device to check against the CPU (cpu: a dry run)")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "gpu")
    args = parser.parse_args(argv)
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        print("no CUDA device here: nothing to check (run this on a machine with a GPU)")
        return 0
    folder = kodak_folder(args.kodak)
    names = [n.strip() for n in args.images.split(",") if n.strip()]
    images = [read_image(folder / f"{n}.png") for n in names]
    device_name = torch.cuda.get_device_name(0) if args.device.startswith("cuda") else "cpu (dry run)"
    print(f"device: {device_name}; torch {torch.__version__}; TF32 matmul {torch.backends.cuda.matmul.allow_tf32}")
    # Warm up the device (context creation, kernels) so the first timing is not all start-up.
    codec.encode_image(images[0].pixels[:32, :32], EncodeOptions(steps=5, device=args.device))

    files = []
    for name, img in zip(names, images):
        for model in args.models.split(","):
            for row in encode_both(img, model, args.steps, args.device):
                files.append({"image": name, **row})
                print(json.dumps(files[-1]), flush=True)
    speedup = {}
    for model in args.models.split(","):
        cpu_s = sum(r["encode_s"] for r in files if r["model"] == model and r["side"] == "reference")
        dev_s = sum(r["encode_s"] for r in files if r["model"] == model and r["side"] == "checked")
        speedup[model] = {"cpu_s": cpu_s, "device_s": dev_s, "speedup": cpu_s / dev_s}
    report = {
        "device_name": device_name,
        "steps": args.steps,
        "images": names,
        "files": files,
        "speedup": speedup,
        "precision": precision_rows(images[0], args.steps, args.device) if "grid" in args.models else [],
        "stacking": stacking_rows(images, args.steps, args.device),
        "machine": machine_info(1, 1, args.device),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "gpu_check.json").write_text(json.dumps(report, indent=2) + "\n")
    text = summary(report)
    (args.out / "summary.md").write_text(text)
    print(text)
    failed = [f for f in files if not f["ok"]]
    for f in failed:
        print(f"FAILED: {f['image']} {f['model']} encoded on {f['encoded_on']}: {f}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
