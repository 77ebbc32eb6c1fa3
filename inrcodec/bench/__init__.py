"""Rate-distortion benchmarks of inrcodec against classical codecs (issue #3).

``inrcodec bench`` runs :func:`run_benchmark`; ``inrcodec plot`` draws saved results. The parts:

- :mod:`.codec_base`: the small codec interface every codec implements; :mod:`.codecs`: the
  registry of names (``inr`` in :mod:`.inr`, the Pillow codecs in :mod:`.classical`);
- :mod:`.harness`: tasks, caching (:mod:`.cache`), executors (:mod:`inrcodec.executors`), outputs
  (:mod:`.report`);
- :mod:`.bdrate`: Bjøntegaard delta rate and PSNR;
- :mod:`.plot` and :mod:`.published`: RD and encode-time plots over published reference curves;
- :mod:`.datasets`: fetching the Kodak images.
"""

from __future__ import annotations

from .bdrate import BDError, BDResult, bd_psnr, bd_rate
from .codec_base import Codec
from .codecs import CodecSpec, codec_names
from .harness import BenchConfig, BenchOutcome, Progress, run_benchmark

__all__ = [
    "BDError",
    "BDResult",
    "BenchConfig",
    "BenchOutcome",
    "Codec",
    "CodecSpec",
    "Progress",
    "bd_psnr",
    "bd_rate",
    "codec_names",
    "run_benchmark",
]
