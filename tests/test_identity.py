"""Byte identity: 24 fixed encodes give exactly the files recorded in tests/data/identity/hashes.json.

``benchmarks/encode_identity.py`` defines the cases (every path an encode can take: SIREN, Fourier,
the grid under both context schemes, rate and size targets, a fixed lambda, audio); this test
imports it by path and compares the SHA-256 of each encode with the recorded one, so a change
that alters a single encoded byte fails here, naming the case.

Encoder output comes from float training, so it is defined only per kernel path (docs/reliability.md,
"What is exact and what is within ±1"): the list records the path it was made on (torch version,
``torch.backends.cpu.get_cpu_capability()``, the CPU vendor, ``MKL_CBWR``), and on any other path
the comparison is skipped, saying which part differs.

The list is re-recorded deliberately, in the same change, whenever the codec's output changes on
purpose (a new recipe, a format change)::

    python benchmarks/encode_identity.py --record

Slow (24 encodes of 200-300 steps): ``pytest -m "not slow"`` leaves it out.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
from pathlib import Path

import pytest
import torch

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "encode_identity.py"


def _load_script():
    spec = importlib.util.spec_from_file_location("encode_identity", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


identity = _load_script()
RECORDED = json.loads(identity.LIST.read_text())
CASES = identity.cases()


def test_the_list_records_every_case_once():
    names = [name for name, _, _ in CASES]
    assert len(names) == len(set(names)) == 24
    assert sorted(RECORDED["hashes"]) == sorted(names), "re-record: python benchmarks/encode_identity.py --record"


@pytest.fixture(scope="module")
def recorded_kernel_path():
    """Skip unless this process runs the float kernels the list was recorded on."""
    recorded, here = RECORDED["kernel_path"], identity.kernel_path()
    differ = [f"{k} {recorded.get(k)!r} here {here.get(k)!r}" for k in sorted(set(recorded) | set(here))
              if recorded.get(k) != here.get(k)]  # fmt: skip
    if differ:
        pytest.skip(
            "encoded bytes are defined per kernel path (docs/reliability.md) and this is not the one "
            f"the list was recorded on: {'; '.join(differ)}"
        )
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as the script runs them
    yield
    torch.set_num_threads(threads)


@pytest.mark.slow
@pytest.mark.parametrize("name, source, options", CASES, ids=[name for name, _, _ in CASES])
def test_encoded_bytes_are_the_recorded_ones(recorded_kernel_path, name, source, options):
    digest = hashlib.sha256(identity.encode(source, options)).hexdigest()
    expected = RECORDED["hashes"][name]
    assert digest == expected, (
        f"{name}: the encoded file changed (sha256 {digest[:16]}..., recorded {expected[:16]}...). "
        "If the change is deliberate, re-record: python benchmarks/encode_identity.py --record"
    )
