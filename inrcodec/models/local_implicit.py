"""A learned local implicit image function: a small image as a continuous function of (x, y).

The super-resolution prior that ``inrcodec upscale`` uses by default and ``inrcodec decode
--sr learned`` applies to a decoded image (the LIIF idea, Chen et al. 2021, built small enough
to train on one CPU core). Unlike the families beside it, it is not stored in ``.inr`` files:
it ships with the package.

1. an encoder, a few 3 x 3 convolutions with residual blocks, turns the small image into a
   feature vector per small pixel;
2. an MLP maps (a small pixel's feature, the query point's offset from that pixel's centre, the
   size of the output cell) to a colour correction; the four small pixels around the query
   point each give one, blended with bilinear weights, so the result is one continuous function
   of the coordinates (the weights of a pixel fall to zero where it leaves the neighbourhood);
3. the correction is added to a bicubic interpolation of the small image at the same point.

Coordinates follow :mod:`inrcodec.coords`: the small and the large image cover the same square
and pixels are sampled at their centres, so any output size works, integer scales or not.

What is learned and what is not: the encoder and the MLP are trained once, offline, on the
training photos (``benchmarks/train_local_implicit.py``, never Kodak); nothing is fitted per
image. The weights ship in ``weights/local_implicit.npz`` (about 360 KB) and are read from the
package, never downloaded.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..io.image import Image

#: the shipped weights, trained by benchmarks/train_local_implicit.py: super-resolution (--task sr)
#: and denoising (--task denoise, the same architecture with the noise level as a fourth input)
WEIGHTS = Path(__file__).with_name("weights") / "local_implicit.npz"
DENOISE_WEIGHTS = Path(__file__).with_name("weights") / "local_implicit_denoise.npz"
INPAINT_WEIGHTS = Path(__file__).with_name("weights") / "local_implicit_inpaint.npz"
#: the noise level's scale in the denoiser's input plane (sigma on 0-255 divided by this)
SIGMA_UNIT = 50.0
#: output pixels rendered per batch: bounds the working set (about 80 MB of activations)
QUERY_CHUNK = 65536
#: small-image rows encoded at a time, and the rows added either side: the encoder sees 10 rows
#: each way (10 convolutions of 3 x 3), so 12 make the bands join exactly
BAND, HALO = 48, 12


class ResidualBlock(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1, padding_mode="replicate")
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, padding_mode="replicate")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv2(F.relu(self.conv1(x)))


class LocalImplicit(nn.Module):
    """Encoder + local MLP. ``features`` channels per small pixel, ``blocks`` residual blocks,
    ``hidden`` units in each of the MLP's hidden layers."""

    def __init__(self, features: int = 32, blocks: int = 4, hidden: int = 64, in_channels: int = 3) -> None:
        super().__init__()
        self.shape = {"features": features, "blocks": blocks, "hidden": hidden, "in_channels": in_channels}
        # replicate padding: a crop's border in training (Pillow reduces a crop as a whole image)
        # then looks like an image's border when decoding
        self.head = nn.Conv2d(in_channels, features, 3, padding=1, padding_mode="replicate")
        self.body = nn.Sequential(*[ResidualBlock(features) for _ in range(blocks)])
        self.tail = nn.Conv2d(features, features, 3, padding=1, padding_mode="replicate")
        # the MLP's first layer on the feature part, applied once per small pixel (a 1 x 1
        # convolution) instead of once per query and neighbour: 4 x (scale^2) fewer products
        self.project = nn.Conv2d(features, hidden, 1)
        self.offset = nn.Linear(4, hidden, bias=False)  # (dy, dx, cell height, cell width)
        self.mlp = nn.Sequential(nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, 3))

    def encode(self, small: torch.Tensor) -> torch.Tensor:
        """(B, in_channels, h, w) -> (B, hidden, h, w): each small pixel's first-layer term.

        The first three channels are the image's RGB on [0, 1]; a denoiser's fourth is the noise
        level (sigma / 50, on the 0-255 scale), constant over the image."""
        x = self.head(small - 0.5)
        x = self.tail(self.body(x)) + x
        return self.project(x)

    def correction(
        self, code: torch.Tensor, batch: torch.Tensor, py: torch.Tensor, px: torch.Tensor, cell: torch.Tensor
    ) -> torch.Tensor:
        """(N, 3) colour corrections at query points of the images in ``code`` (B, hidden, h, w).

        ``batch``: (N,) the image of each point; ``py``, ``px``: (N,) positions in small-pixel
        units (pixel i's centre is at i); ``cell``: (N, 2) the output cell's height and width in
        small-pixel units.
        """
        b, hidden, h, w = code.shape
        code = code.permute(0, 2, 3, 1).reshape(b * h * w, hidden)
        y0, x0 = torch.floor(py), torch.floor(px)
        out = 0.0
        for dy in (0.0, 1.0):
            for dx in (0.0, 1.0):
                iy, ix = y0 + dy, x0 + dx
                weight = (1 - (py - iy).abs()) * (1 - (px - ix).abs())  # bilinear: continuous in (y, x)
                if not bool((weight != 0).any()):
                    continue  # at pixel centres (scale 1, denoising) three neighbours weigh nothing
                iy, ix = iy.clamp(0, h - 1), ix.clamp(0, w - 1)
                rel = torch.cat([torch.stack([py - iy, px - ix], dim=1), cell], dim=1)
                z = code[(batch * (h * w) + iy * w + ix).long()] + self.offset(rel)
                out = out + weight[:, None] * self.mlp(z)
        return out

    def state_arrays(self) -> dict[str, np.ndarray]:
        arrays = {k: v.detach().cpu().numpy() for k, v in self.state_dict().items()}
        arrays.update({f"shape.{k}": np.array(v) for k, v in self.shape.items()})
        return arrays

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> LocalImplicit:
        shape = {k.split(".", 1)[1]: int(v) for k, v in arrays.items() if k.startswith("shape.")}
        model = cls(**shape)
        model.load_state_dict(
            {k: torch.from_numpy(np.array(v)) for k, v in arrays.items() if not k.startswith("shape.")}
        )
        return model.eval()


def bicubic_at(small: torch.Tensor, py: torch.Tensor, px: torch.Tensor) -> torch.Tensor:
    """(B, 3, h, w) sampled at (B, Q) positions in small-pixel units -> (B, Q, 3), by bicubic
    interpolation (align_corners=False: pixel centres, as coords.axis)."""
    _, _, h, w = small.shape
    grid = torch.stack([(px + 0.5) / w * 2 - 1, (py + 0.5) / h * 2 - 1], dim=-1)[:, None]
    return F.grid_sample(small, grid, mode="bicubic", padding_mode="border", align_corners=False)[:, :, 0].transpose(
        1, 2
    )


def sample_positions(n_small: int, n_out: int) -> torch.Tensor:
    """Output pixel centres of an ``n_out`` axis in small-pixel units (the same [-1, 1] span)."""
    return (torch.arange(n_out, dtype=torch.float32) + 0.5) * (n_small / n_out) - 0.5


@functools.lru_cache(maxsize=3)
def shipped_model(path: Path = WEIGHTS) -> LocalImplicit:
    """A model trained on the training photos, read from the package."""
    with np.load(path) as data:
        return LocalImplicit.from_arrays(dict(data))


@torch.no_grad()
def render(model: LocalImplicit, small: np.ndarray, height: int, width: int) -> np.ndarray:
    """(h, w, C) inputs (RGB on [0, 1], then any condition planes) -> (height, width, 3) float
    values (not clipped).

    The encoder runs on bands of ``BAND`` small rows with ``HALO`` rows either side, so the
    working set stays bounded for any image; the halo covers the encoder's receptive field, so
    the bands join exactly (the result equals one pass over the whole image, to round-off).
    """
    h, w = small.shape[:2]
    x = torch.from_numpy(np.ascontiguousarray(small.transpose(2, 0, 1), dtype=np.float32))[None]
    ys, xs = sample_positions(h, height), sample_positions(w, width)
    owner = torch.floor(ys).clamp(0, h - 1)  # the small row above each output row
    cell = torch.tensor([[h / height, w / width]], dtype=torch.float32)
    out = np.empty((height, width, 3), dtype=np.float32)
    rows_per_chunk = max(1, QUERY_CHUNK // width)
    for band in range(0, h, BAND):
        rows = torch.nonzero((owner >= band) & (owner < band + BAND))[:, 0]
        if rows.numel() == 0:
            continue
        lo, hi = max(0, band - HALO), min(h, band + BAND + 1 + HALO)
        part = x[:, :, lo:hi]
        code = model.encode(part)
        for first in range(int(rows[0]), int(rows[-1]) + 1, rows_per_chunk):
            last = min(first + rows_per_chunk, int(rows[-1]) + 1)
            py = (ys[first:last, None] - lo).expand(-1, width).reshape(-1)
            px = xs[None, :].expand(last - first, -1).reshape(-1)
            n = py.numel()
            value = bicubic_at(part[:, :3], py[None], px[None])[0] + model.correction(
                code, torch.zeros(n), py, px, cell.expand(n, 2)
            )
            out[first:last] = value.reshape(last - first, width, 3).numpy()
    return out


def push_pull(values: torch.Tensor, known: torch.Tensor) -> torch.Tensor:
    """Fill the unknown pixels of (B, C, H, W) ``values`` from the known ones (``known``
    (B, 1, H, W) in [0, 1]): halve the image with weights until the holes close, then blend each
    level's own estimate with the coarser one's, bilinearly upsampled ("push-pull"). O(pixels),
    any share missing; known pixels come back unchanged. The inpainting model's starting point."""
    h, w = values.shape[-2:]
    estimate = values * known / known.clamp_min(1e-12)
    if (h == 1 and w == 1) or bool((known >= 1).all()):
        return estimate
    pooled_known = F.avg_pool2d(known, 2, ceil_mode=True)
    pooled = F.avg_pool2d(values * known, 2, ceil_mode=True) / pooled_known.clamp_min(1e-12)
    # saturating weights: a coarse cell with one known pixel in four counts as known
    coarse = push_pull(pooled, (4 * pooled_known).clamp(max=1))
    up = F.interpolate(coarse, size=(h, w), mode="bilinear", align_corners=False)
    return known * estimate + (1 - known) * up


def inpaint_inputs(values: np.ndarray, missing: np.ndarray) -> np.ndarray:
    """The inpainting model's (H, W, 4) input: the push-pull fill of RGB ``values`` on [0, 1]
    and the known mask (1 = known)."""
    known = torch.from_numpy((~missing).astype(np.float32))[None, None]
    x = torch.from_numpy(np.ascontiguousarray(values.transpose(2, 0, 1), dtype=np.float32))[None]
    filled = push_pull(x, known)[0].numpy().transpose(1, 2, 0)
    return np.concatenate([filled, known[0, 0, :, :, None].numpy()], axis=2)


def _through(img: Image, height: int, width: int, colour_to_output: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """``img``'s colour through ``colour_to_output`` ((h, w, 3) values on [0, 1] -> (height,
    width, 3)), as integers of its bit depth. Grey images go through as three equal channels and
    come back as their mean; an alpha channel is interpolated bicubically (the models know
    photos, not masks)."""
    values = img.pixels.astype(np.float32) / img.max_value
    colour_channels = 3 if img.channels >= 3 else 1
    colour = values[:, :, :colour_channels]
    if colour_channels == 1:
        colour = np.repeat(colour, 3, axis=2)
    out = colour_to_output(colour)
    if colour_channels == 1:
        out = out.mean(axis=2, keepdims=True)
    if img.channels in (2, 4):
        alpha = torch.from_numpy(np.ascontiguousarray(values[None, None, :, :, -1]))
        if alpha.shape[-2:] != (height, width):
            alpha = F.interpolate(alpha, size=(height, width), mode="bicubic", align_corners=False)
        out = np.concatenate([out, alpha[0, 0, :, :, None].numpy()], axis=2)
    return np.clip(np.round(out * img.max_value), 0, img.max_value).astype(img.pixels.dtype)


def upscale_image(img: Image, height: int, width: int) -> np.ndarray:
    """``img`` at height x width through the shipped super-resolution model, as integers."""
    return _through(img, height, width, lambda colour: render(shipped_model(), colour, height, width))


def denoise_image(img: Image, sigma: float) -> np.ndarray:
    """``img`` through the shipped denoising model for noise ``sigma`` (0-255 scale), as integers."""

    def denoised(colour: np.ndarray) -> np.ndarray:
        plane = np.full(colour.shape[:2] + (1,), sigma / SIGMA_UNIT, dtype=np.float32)
        return render(shipped_model(DENOISE_WEIGHTS), np.concatenate([colour, plane], axis=2), img.height, img.width)

    return _through(img, img.height, img.width, denoised)


def inpaint_image(img: Image, missing: np.ndarray) -> np.ndarray:
    """``img`` with its ``missing`` (H, W) pixels filled by the shipped inpainting model, as
    integers; known pixels (and alpha) unchanged."""

    def filled(colour: np.ndarray) -> np.ndarray:
        return render(shipped_model(INPAINT_WEIGHTS), inpaint_inputs(colour, missing), img.height, img.width)

    return np.where(missing[:, :, None], _through(img, img.height, img.width, filled), img.pixels)


def working_bytes(height: int, width: int) -> int:
    """Bytes :func:`upscale_image` holds besides its input and output: the float output, one
    query chunk's activations (4 neighbours x 3 layers of 64 floats) and the weights."""
    return height * width * 3 * 4 + QUERY_CHUNK * 4 * 3 * 64 * 4 + (16 << 20)
