"""Rate accuracy of the default effort at low targets on 768 x 512 centred crops (Kodak's size) of
training photos the screens do not use: one JSON line per file (the real file's bpp, its error
against the target, PSNR).

    python benchmarks/archive/rate_check_768.py NAME [key=value ...] > NAME.jsonl

``key=value`` overrides GridConfig fields as in grid_screen.py; ``PHOTOS`` and ``BPPS`` choose the
photos (default 002,003,005,008,012,017) and the targets (default 0.06,0.12). Used for the rate
feedback without its persistence under soft rounding (0.8.0; docs/grid.md).
"""

import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from inrcodec.codec import encode_image
from inrcodec.options import EncodeOptions

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from grid_screen import parse_overrides
from large_images import centred

torch.set_num_threads(1)
name = sys.argv[1]
overrides = parse_overrides(sys.argv[2:])
TRAIN = os.environ.get("TRAIN", str(Path(__file__).resolve().parents[3] / "shared" / "data" / "train" / "wikipedia"))
for photo in os.environ.get("PHOTOS", "002,003,005,008,012,017").split(","):
    a = np.asarray(Image.open(f"{TRAIN}/{photo}.png").convert("RGB"))
    a = np.ascontiguousarray(centred(a, 768, 512))
    for target in [float(x) for x in os.environ.get("BPPS", "0.06,0.12").split(",")]:
        t = time.time()
        r = encode_image(a, EncodeOptions(model="grid", bpp=target, effort="default", grid=overrides))
        bpp = 8 * len(r.data) / (a.shape[0] * a.shape[1])
        print(
            json.dumps(
                {
                    "name": name,
                    "photo": photo,
                    "target": target,
                    "bpp": round(bpp, 4),
                    "error_pct": round(100 * (bpp / target - 1), 1),
                    "psnr": round(r.psnr, 3),
                    "wall_s": round(time.time() - t),
                }
            ),
            flush=True,
        )
