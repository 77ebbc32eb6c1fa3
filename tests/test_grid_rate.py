"""The default model (the latent grid) lands on its rate target: a real photo, within ±10 %.

The grid steers its rate during the fit (lambda feedback on the coded bits, docs/grid.md "Rate
control"), so the size of a file depends on the fit as much as on the target. This checks it where
it matters, on a photo (a 128 x 128 crop of scikit-image's astronaut: her face, hair and the
background), at the default effort's step count, at the two top targets, where the high-rate
recipe (a full-resolution latent level) is in use, and at 0.5 bpp, where the low-rate one is.

Measured with 0.4.0 (1500 steps, AMD EPYC): 2.0 bpp landed at +2.3 to +4.2 % (seeds 0-2), 1.5 bpp
at +1.5 and +4.3 % (seeds 0-1). With 0.7.1's persistent rate feedback (seeds 0-1): 0.5 bpp at +0.5
and -2.9 % (the low-rate recipe, also tested here), 0.3 bpp at +2.5 and +7.1 %, 1.0 bpp still
-12.8 and -9.4 % (the rate drifts down as the learning rates decay; docs/grid.md), so 1.0 and
0.3 are not tested here; on whole Kodak images every target's accuracy is in docs/results.md.
With 400 steps the top targets land 13-34 % under (the rate is still falling when a short fit
ends), so the test runs the full default count.
"""

import numpy as np
import pytest

import inrcodec
from inrcodec.grid.recipe import EFFORT_STEPS

#: steps of the fit: the default effort's (1500 in 0.4.0), ~28 CPU-s each for this crop
STEPS = EFFORT_STEPS["default"]


@pytest.fixture(scope="module")
def photo():
    from skimage import data

    return np.ascontiguousarray(data.astronaut()[40:168, 140:268])


@pytest.mark.slow
@pytest.mark.parametrize("bpp", [0.5, 1.5, 2.0])
def test_a_photo_lands_within_ten_percent_of_its_target(photo, bpp):
    data = inrcodec.encode(photo, bpp=bpp, steps=STEPS, seed=0)
    got = 8 * len(data) / (photo.shape[0] * photo.shape[1])
    assert abs(got / bpp - 1) <= 0.10, f"{got:.3f} bpp for a {bpp} bpp target ({100 * (got / bpp - 1):+.1f} %)"
    assert inrcodec.info(data)["model"] == "grid"
