"""Valid .inr files of any architecture and size, made in milliseconds without fitting.

The decoder's cost does not depend on what a network learned, only on its architecture, its
output size and its symbol ranges, so the cost-model checks (``tests/test_cost_model.py``,
``benchmarks/decode_cost.py``) and the structure-aware fuzzer (``tests/fuzz/fuzz_structured.py``)
build their files here: random weights and latents, quantized and entropy-coded by the codec's own
writers, behind a valid header and CRC.
"""

from __future__ import annotations

import numpy as np
import torch

from inrcodec import container, quantize
from inrcodec.container import AudioFields, Header, ImageFields, TensorCode
from inrcodec.grid.coding import SCHEMES
from inrcodec.grid.model import GridImage
from inrcodec.grid.payload import encode_payload
from inrcodec.models import FourierMLP, Segments, Siren
from inrcodec.point_codec import code_tensors


def grid(height: int, width: int, channels: int = 3, *, levels: int = 5, first_level: int = 0,
         level_channels: tuple[int, ...] | None = None, hidden: int = 16, depth: int = 2, context_hidden: int = 8,
         kernel: str = "bicubic", scheme: str = "wavefront", latent_range: int = 3, seed: int = 0) -> bytes:  # fmt: skip
    """A latent-grid image file: random integer latents in +-``latent_range`` and small random
    context and synthesis weights."""
    count = levels - first_level
    level_channels = tuple(level_channels or (1,) * count)
    g = torch.Generator().manual_seed(seed)
    model = GridImage(height, width, channels, levels=levels, first_level=first_level, channels=level_channels,
                      hidden=hidden, depth=depth, activation="relu", kernel=kernel, context_hidden=context_hidden,
                      generator=g)  # fmt: skip
    with torch.no_grad():
        for z in model.latents:
            z.copy_(torch.randint(-latent_range, latent_range + 1, z.shape, generator=g).float())
        model.context.out.weight.uniform_(-0.05, 0.05, generator=g)
        model.context.level_bias.uniform_(-0.5, 0.5, generator=g)
    codes, payload = encode_payload(model, SCHEMES[scheme], lambda: 0.0)
    return container.pack(
        Header(ImageFields(width, height, channels, 8), model.family_id, model.arch(), codes), payload
    )


def _point_payload(model, bits: float = 8.0) -> tuple[tuple, bytes]:
    arrays = [p.detach().numpy().astype(np.float64) for _, p in model.coded_tensors()]
    return code_tensors(arrays, [quantize.exp_for_bits(a, bits) for a in arrays])


def point_image(model: str, height: int, width: int, channels: int = 3, *, depth: int = 3, layer_width: int = 16,
                frequencies: int = 16, seed: int = 0) -> bytes:  # fmt: skip
    """A SIREN or Fourier-feature image file of the given shape, with its initial random weights."""
    g = torch.Generator().manual_seed(seed)
    if model == "siren":
        net = Siren(2, channels, depth=depth, width=layer_width, generator=g)
    else:
        net = FourierMLP(2, channels, depth=depth, width=layer_width, frequencies=frequencies, generator=g)
    codes, payload = _point_payload(net)
    return container.pack(Header(ImageFields(width, height, channels, 8), net.family_id, net.arch(), codes), payload)


def audio(frames: int, rate: int = 8000, channels: int = 1, *, segments: int = 4, model: str = "siren",
          depth: int = 2, layer_width: int = 16, seed: int = 0) -> bytes:  # fmt: skip
    """A segments audio file of ``segments`` SIREN or Fourier networks."""
    g = torch.Generator().manual_seed(seed)
    inner = Siren if model == "siren" else FourierMLP
    kwargs = {"first_omega": 30.0, "hidden_omega": 30.0} if inner is Siren else {}
    net = Segments.build(inner, segments, 0.125, channels, generator=g, depth=depth, width=layer_width, **kwargs)
    codes, payload = _point_payload(net)
    fields = AudioFields(frames, rate, channels, "PCM_16", "WAV")
    return container.pack(Header(fields, net.family_id, net.arch(), codes), payload)


def constant_grid(height: int, width: int, channels: int = 1, *, context_hidden: int = 8, context_weight: int = 1,
                  level_bias: int = 1, scheme: int = 1) -> bytes:  # fmt: skip
    """A grid file of one full-resolution level and no hidden synthesis layer whose every tensor
    is a constant (``lo = hi``), so that its payload is empty: the smallest file that makes a
    decoder do a whole level's work (84 bytes for the defaults). The context weights (in units
    of 2^-10) are ``context_weight``, the level bias ``level_bias``."""
    w, b = context_weight, level_bias
    tensors = [TensorCode(-80, w, w, 0, 0), TensorCode(-80, w, w, 0, 0), TensorCode(-80, w, w, 0, 0),
               TensorCode(-80, b, b, 0, 0), TensorCode(0, 0, 0, 0, 0), TensorCode(0, 0, 0, 0, 0),
               TensorCode(0, 0, 0, 2, scheme)]  # fmt: skip
    arch = (height, width, 1, 0, 1, 0, 1, 1, context_hidden, 1)
    return container.pack(Header(ImageFields(width, height, channels, 8), 3, arch, tuple(tensors)), b"")


def audio_grid(frames: int, rate: int = 44100, channels: int = 1, *, hop: int = 1024, density: float = 1.0,
               latent_range: int = 40, seed: int = 0) -> bytes:  # fmt: skip
    """An audio-grid file: random latents in +-``latent_range``, a share ``density`` of them
    nonzero (the off-grid synthesis's cost follows it), and a random context network."""
    from inrcodec.grid import audio as grid_audio
    from inrcodec.grid.lapped import AudioGrid, frame_count

    rng = np.random.default_rng(seed)
    hidden = grid_audio.CONTEXT_HIDDEN
    shape = (channels, frame_count(frames, hop), hop)
    latents = rng.integers(-latent_range, latent_range + 1, shape) * (rng.random(shape) < density)
    w1 = rng.integers(-400, 401, (hidden, 6))
    b1 = rng.integers(-400, 401, hidden)
    w2 = np.stack([np.zeros(hidden, np.int64), rng.integers(-100, 101, hidden)])
    bias = np.tile(np.array([0, 3 << 10]), (channels, 1))
    symbols = [w1, b1, w2, bias]
    codes, payload = grid_audio.code(grid_audio.integer_context(symbols), symbols, latents,
                                     -7 * grid_audio.STEP_UNITS_PER_OCTAVE)  # fmt: skip
    fields = AudioFields(frames, rate, channels, "PCM_16", "WAV")
    arch = (hop, frames, hidden, int(channels == 2))
    return container.pack(Header(fields, AudioGrid.family_id, arch, codes), payload)
