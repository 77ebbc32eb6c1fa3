"""Every released format version stays decodable: golden files and the hashes they decode to."""

import hashlib
from pathlib import Path

import numpy as np
import pytest

import inrcodec
from inrcodec import codec, container

DATA = Path(__file__).resolve().parent / "data"

# file -> (sha256 of the entropy-decoded integer symbols, sha256 of the decoded pixels)
GOLDEN = {
    "golden_v1_0.inr": (
        "e87b23d883c90108c321cb8ae4c6c96e879723ef407ecd01fa39e4abfe2ba4c6",
        "160e578b5db8b0e8c103bdf97449b27ec0b80d15f06f03961f42df85677ba919",
    ),
}


def symbol_hash(data: bytes) -> str:
    header, payload = container.unpack(data)
    cls = codec.family_by_id(header.family)
    model = cls.from_arch(header.arch, 2, header.signal.channels)
    shapes = [tuple(p.shape) for _, p in model.coded_tensors()]
    h = hashlib.sha256()
    for q in codec.decode_symbols(header.tensors, shapes, payload):
        h.update(np.ascontiguousarray(q, dtype="<i8").tobytes())
    return h.hexdigest()


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_golden_file_decodes_to_its_hashes(name):
    data = (DATA / name).read_bytes()
    symbols, pixels = GOLDEN[name]
    assert symbol_hash(data) == symbols
    out = inrcodec.decode(data)
    assert hashlib.sha256(out.tobytes()).hexdigest() == pixels
