"""The latent-grid family, one concept in one package. Reading order, as the data flows:

- :mod:`.upsampling`: the 2x cascade and continuous interpolation, in float and exact integers;
- :mod:`.model`: :class:`GridImage`, the latent pyramid, the synthesis MLP and (as a submodule)
  the float context network; it knows nothing of files or bits;
- :mod:`.context`: the context model, float (:class:`ContextModel`, for the rate term) and
  integer (:class:`IntegerContext`, for the coder) side by side;
- :mod:`.coding`: the context schemes (wavefront, checkerboard), each owning its float inputs and
  its integer coding of the pyramid;
- :mod:`.recipe`: :class:`GridConfig` (every default, with what it measured), the effort
  presets, the initial lambda, the scheme choice and the overhead estimate;
- :mod:`.training`: :class:`GridFitTask`, the rate-aware fit, and :func:`fit`;
- :mod:`.payload`: which integers a file stores, in which order;
- :mod:`.family`: the hooks the codec calls (:data:`GRID`).
"""

from .model import GridImage
from .recipe import GridConfig

__all__ = ["GridConfig", "GridImage"]
