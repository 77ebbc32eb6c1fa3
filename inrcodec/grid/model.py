"""The latent-grid model: multi-resolution integer latents, a tiny synthesis MLP, a context model.

The image is ``synthesis(features(x, y))``. The features are a pyramid of latent grids: level k
has ``ceil(H / 2^k) x ceil(W / 2^k)`` cells, all quantized to integers in the file. A fixed 2x
interpolation cascade (coarsest to finest, Keys' cubic or bilinear; :mod:`.upsampling`) brings
every level to the stored pixel grid; any other output size interpolates that feature grid
continuously at the output pixel centres (:mod:`inrcodec.coords`), so decoding works at any
resolution. A per-pixel MLP maps the features to colour. The model also holds the float context
network (:mod:`.context`) that the rate term trains; it knows nothing of files or bits.

This family follows the recipe of Cool-chic and C3 (latent pyramid, tiny synthesis, learned
entropy model, rate-aware training) with three differences that make it practical on a CPU in
minutes and decodable at any size: separable fixed-kernel upsampling, per-pixel synthesis without
convolutions, and a raster-causal context decoded in vectorised wavefronts rather than one latent
at a time.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .. import coords
from ..errors import FormatError
from ..limits import STEP_WORK
from ..models.base import ELEMENT_WORK, INR, DecodeCost, band_points
from .context import CONTEXT_INPUTS, ContextModel
from .upsampling import KERNEL_BY_ID, KERNEL_IDS, UP2_TAPS, axis_taps, resample_leading, up2, up2_rows

ACTIVATIONS = {"relu": 1, "gelu": 2}
ACTIVATION_BY_ID = {v: k for k, v in ACTIVATIONS.items()}
#: arch fields before the per-level channel counts
_FIXED_ARCH = 9
#: decode work units per feature of the stored grid for the 2x cascade, and per channel and tap
#: of an interpolation at another size (gathers and multiply-adds of whole rows); the cascade
#: holds up to this many copies of the feature grid (measured: benchmarks/decode_cost.py)
CASCADE_WORK = 400
TAP_WORK = 30
CASCADE_COPIES = 6
#: decode work units per output row or column whose interpolation taps are computed (float64)
TAPS_SETUP_WORK = 200


def level_sizes(height: int, width: int, first: int, count: int) -> list[tuple[int, int]]:
    return [(math.ceil(height / 2**k), math.ceil(width / 2**k)) for k in range(first, first + count)]


# --- the model ------------------------------------------------------------------------------------


class GridImage(INR):
    """Latent pyramid + synthesis MLP + context model. ``in_dim`` is 2 (x, y)."""

    name = "grid"
    family_id = 3
    input_dims = (2,)

    def __init__(
        self,
        height: int,
        width: int,
        out_dim: int,
        *,
        levels: int,
        first_level: int,
        channels: tuple[int, ...],
        hidden: int,
        depth: int,
        activation: str,
        kernel: str,
        context_hidden: int,
        generator: torch.Generator | None = None,
    ) -> None:
        """The architecture, field by field (what the header stores); the recipe that chooses
        it is :mod:`inrcodec.grid.recipe`."""
        super().__init__(2, out_dim)
        count = levels - first_level
        if count < 1 or len(channels) != count or min(channels) < 1:
            raise ValueError("invalid latent pyramid")
        self.height, self.width = height, width
        self.levels, self.first_level = levels, first_level
        self.channels = tuple(channels)
        self.hidden, self.depth = hidden, depth
        self.activation, self.kernel = activation, kernel
        self.context_hidden = context_hidden
        self.sizes = level_sizes(height, width, first_level, count)
        self.latents = nn.ParameterList(
            nn.Parameter(torch.zeros(c, h, w)) for c, (h, w) in zip(self.channels, self.sizes)
        )
        dims = [sum(self.channels)] + [hidden] * depth + [out_dim]
        self.synthesis = nn.ModuleList(nn.Linear(a, b) for a, b in zip(dims[:-1], dims[1:]))
        self.context = ContextModel(count, context_hidden)
        self._init(generator)

    @torch.no_grad()
    def _init(self, g: torch.Generator | None) -> None:
        for layer in self.synthesis:
            bound = 1.0 / math.sqrt(layer.in_features)
            layer.weight.uniform_(-bound, bound, generator=g)
            layer.bias.zero_()
        self.context.reset(g)

    # -- architecture ---------------------------------------------------------------------------

    def arch(self) -> tuple[int, ...]:
        return (
            self.height, self.width, self.levels, self.first_level, self.hidden, self.depth,
            ACTIVATIONS[self.activation], KERNEL_IDS[self.kernel], self.context_hidden,
            *self.channels,
        )  # fmt: skip

    @classmethod
    def _parse(cls, arch):
        if len(arch) < _FIXED_ARCH + 1:
            raise FormatError(f"grid architecture too short ({len(arch)} numbers)")
        h, w, levels, first, hidden, depth, act, kern, ctx = arch[:_FIXED_ARCH]
        channels = tuple(arch[_FIXED_ARCH:])
        if (
            h < 1 or w < 1 or not 1 <= levels <= 24 or not 0 <= first < levels
            or len(channels) != levels - first or min(channels) < 1 or max(channels) > 64
            or not 1 <= hidden <= 1024 or not 0 <= depth <= 64 or not 1 <= ctx <= 256
            or act not in ACTIVATION_BY_ID or kern not in KERNEL_BY_ID
        ):  # fmt: skip
            raise FormatError(f"invalid grid architecture {tuple(arch)}")
        return dict(height=h, width=w, levels=levels, first_level=first, channels=channels,
                    hidden=hidden, depth=depth, activation=ACTIVATION_BY_ID[act],
                    kernel=KERNEL_BY_ID[kern], context_hidden=ctx)  # fmt: skip

    @classmethod
    def from_arch(cls, arch, in_dim, out_dim) -> GridImage:
        if in_dim != 2:
            raise FormatError("the grid family stores images only")
        return cls(out_dim=out_dim, **cls._parse(arch))

    @classmethod
    def count_parameters(cls, arch, in_dim, out_dim) -> int:
        a = cls._parse(arch)
        sizes = level_sizes(a["height"], a["width"], a["first_level"], len(a["channels"]))
        latents = sum(c * h * w for c, (h, w) in zip(a["channels"], sizes))
        dims = [sum(a["channels"])] + [a["hidden"]] * a["depth"] + [out_dim]
        synthesis = sum((i + 1) * o for i, o in zip(dims[:-1], dims[1:]))
        context = (CONTEXT_INPUTS + 1) * a["context_hidden"] + 2 * a["context_hidden"]
        return latents + synthesis + context + 2 * len(a["channels"])

    @classmethod
    def layer_count(cls, arch) -> int:
        a = cls._parse(arch)
        return a["depth"] + 1 + len(a["channels"]) + 2

    @classmethod
    def decode_cost(cls, arch, in_dim, out_dim, shape) -> DecodeCost:
        """Rendering (:meth:`render_tiles`): the feature cascade up to the stored grid, then per
        band the interpolation along the rows (over the stored width) and the columns, and the
        synthesis MLP on every output pixel. Decoding the latents is the context scheme's cost
        (:meth:`inrcodec.grid.coding.ContextScheme.decode_cost`)."""
        a = cls._parse(arch)
        out_h, out_w = shape
        height, width = a["height"], a["width"]
        channels = sum(a["channels"])
        taps = len(UP2_TAPS[a["kernel"]][0])
        features = channels * height * width
        point_floats = 3 * max(channels, a["hidden"], out_dim)
        band = band_points(point_floats)
        rows, cols = max(1, band // max(out_w, width)), min(out_w, max(1, band))
        tiles = -(-out_h // rows) * -(-out_w // cols)
        bands = -(-out_h // rows)
        row_pass = 0 if out_h == height else out_h * (width * channels * taps * TAP_WORK + TAPS_SETUP_WORK)
        col_pass = 0 if out_w == width else channels * taps * TAP_WORK
        # column taps: once, or per tile of every band when a row holds several tiles
        col_taps = 0 if out_w == width else TAPS_SETUP_WORK * out_w * (bands if out_w > cols else 1)
        dims = [channels] + [a["hidden"]] * a["depth"] + [out_dim]
        synthesis = sum(i * o + ELEMENT_WORK * o for i, o in zip(dims[:-1], dims[1:]))
        work = (
            CASCADE_WORK * features + row_pass + col_taps + out_h * out_w * (col_pass + synthesis) + tiles * STEP_WORK
        )
        # The cascade's copies of the feature grid at its peak; then the grid (and its row-major
        # copy) while a band is interpolated along the rows over the stored width and a tile
        # along the columns (three buffers each), with their taps.
        band_floats = 4 * rows * width * channels + 3 * rows * cols * channels
        memory = 4 * max(CASCADE_COPIES * features, 2 * features + band_floats) + 64 * (rows + cols)
        return DecodeCost(work, memory, point_floats)

    # -- coded tensors --------------------------------------------------------------------------

    def context_tensors(self) -> list[tuple[str, nn.Parameter]]:
        return self.context.tensors()

    def synthesis_tensors(self) -> list[tuple[str, nn.Parameter]]:
        return [(n, p) for n, p in self.named_parameters() if n.startswith("synthesis.")]

    def latent_tensors(self) -> list[tuple[str, nn.Parameter]]:
        return [(f"latents.{i}", p) for i, p in enumerate(self.latents)]

    def coded_tensors(self) -> list[tuple[str, nn.Parameter]]:
        """Context network, synthesis, then latents (finest first)."""
        return self.context_tensors() + self.synthesis_tensors() + self.latent_tensors()

    # -- features and synthesis -----------------------------------------------------------------

    def feature_grid(
        self, latents: list[torch.Tensor] | None = None, half: bool = False, rows: tuple[int, int] | None = None
    ) -> torch.Tensor:
        """All levels brought to the stored pixel grid (or to half of it), (C_total, h, w).

        ``rows = (r0, r1)`` gives only those rows of the full-resolution grid, with the last 2x
        step computed on them alone (what a training step on a band of the image needs)."""
        lat = list(self.latents) if latents is None else latents
        target = 1 if half else 0
        if rows is not None and (half or self.first_level > 1):
            return self.feature_grid(lat, half)[:, rows[0] : rows[1]]
        # Cascade from the coarsest level down to the finest stored one (or level 1 for `half`).
        stop = max(0, target - self.first_level)
        last = 1 if rows is not None and self.first_level == 0 else stop  # level 0 joins below
        t = lat[-1]
        for i in range(len(lat) - 2, last - 1, -1):
            t = torch.cat([lat[i], up2(t, self.kernel, self.sizes[i])], 0)
        if rows is not None:  # one 2x step left, to level 0, on the band only
            band = up2_rows(t, self.kernel, (self.height, self.width), *rows)
            return band if self.first_level == 1 else torch.cat([lat[0][:, rows[0] : rows[1]], band], 0)
        for level in range(self.first_level + stop - 1, target - 1, -1):  # stored levels end coarser
            h, w = math.ceil(self.height / 2**level), math.ceil(self.width / 2**level)
            t = up2(t, self.kernel, (h, w))
        if stop > 0:  # half resolution with finer stored levels: average them down
            finer = [F.adaptive_avg_pool2d(lat[i][None], t.shape[-2:])[0] for i in range(stop)]
            t = torch.cat([*finer, t], 0)
        return t

    def synthesize(self, features: torch.Tensor) -> torch.Tensor:
        """Per-pixel MLP on (N, C_total) features -> (N, out_dim)."""
        act = F.relu if self.activation == "relu" else F.gelu
        h = features
        for i, layer in enumerate(self.synthesis):
            h = layer(h)
            if i < len(self.synthesis) - 1:
                h = act(h)
        return h

    def forward(self, points: torch.Tensor) -> torch.Tensor:
        """Values at arbitrary (x, y) points: the feature grid interpolated there, then synthesis."""
        grid = self.feature_grid()
        pts = points.detach().cpu().double().numpy()
        ix, wx = axis_taps(self.width, pts[:, 0], self.kernel)
        iy, wy = axis_taps(self.height, pts[:, 1], self.kernel)
        feats = 0
        for a in range(iy.shape[1]):
            for b in range(ix.shape[1]):
                w = torch.from_numpy((wy[:, a] * wx[:, b]).astype(np.float32)).to(grid.device)
                rows = torch.from_numpy(iy[:, a]).to(grid.device)
                cols = torch.from_numpy(ix[:, b]).to(grid.device)
                feats = feats + grid[:, rows, cols] * w
        return self.synthesize(feats.t())

    @torch.no_grad()
    def render_tiles(
        self, height: int, width: int, device: torch.device, band_pixels: int = 1 << 16
    ) -> Iterator[tuple[int, int, np.ndarray]]:
        """As :meth:`INR.render_tiles`: the feature grid is built once; each band of output rows is
        interpolated from it along the rows (holding rows x stored width features, so the band
        height follows the wider of the two), then each tile along the columns and synthesized."""
        self.to(device)
        grid = self.feature_grid()
        same_h, same_w = height == self.height, width == self.width
        rows = max(1, band_pixels // max(width, self.width))
        cols = min(width, max(1, band_pixels))
        # (H, C, W): a band of output rows is then a leading slice (same height) or gather.
        by_row = grid.permute(1, 0, 2) if same_h else grid.permute(1, 0, 2).contiguous()

        def col_taps(c0: int):
            if same_w:
                return None
            return axis_taps(self.width, coords.axis(width, c0, min(width, c0 + cols)), self.kernel)

        # Every band uses the same column taps. With one tile per band they are computed once;
        # with several (a row wider than a tile) each tile computes its own, because holding
        # them all would take 64 bytes per output column (8 GiB for 2^27 columns).
        starts = range(0, width, cols)
        once = {0: col_taps(0)} if len(starts) == 1 else None
        for r0 in range(0, height, rows):
            r1 = min(height, r0 + rows)
            if same_h:
                band = by_row[r0:r1]
            else:
                band = resample_leading(by_row, *axis_taps(self.height, coords.axis(height, r0, r1), self.kernel))
            by_col = band.permute(2, 0, 1)  # (W, rows, C)
            if not same_w:
                by_col = by_col.contiguous()
            for c0 in starts:
                c1 = min(width, c0 + cols)
                taps = once[c0] if once is not None else col_taps(c0)
                tile = by_col[c0:c1] if taps is None else resample_leading(by_col, *taps)
                features = tile.permute(1, 0, 2).reshape(-1, tile.shape[2])  # row-major pixels
                values = self.synthesize(features)
                yield r0, c0, values.reshape(r1 - r0, c1 - c0, -1).cpu().numpy()
