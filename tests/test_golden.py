"""Every released format version stays decodable: golden files and the hashes they decode to.

The v1.1 files of the point families and audio were written by inrcodec 0.1.0 with
``encode_image("tests/data/golden_source.png", EncodeOptions(model="siren", bpp=6, steps=200,
seed=11))`` (and ``model="fourier", depth=2, width=8``; and ``model="grid"`` for the latent grid), and ``encode_audio`` of a 0.1 s stereo tone at 8 kHz
(``kbps=48, segment=0.05, steps=200, seed=11``). The v2.0 grid file (the wavefront context) was
written by inrcodec 0.3.0 with the same grid call. They are never rewritten.
"""

import hashlib
from pathlib import Path

import numpy as np
import pytest

import inrcodec
from inrcodec import codec

DATA = Path(__file__).resolve().parent / "data"

# file -> (sha256 of the entropy-decoded integer symbols, sha256 of the decoded pixels or samples)
GOLDEN = {
    "golden_v1_0.inr": (
        "e87b23d883c90108c321cb8ae4c6c96e879723ef407ecd01fa39e4abfe2ba4c6",
        "160e578b5db8b0e8c103bdf97449b27ec0b80d15f06f03961f42df85677ba919",
    ),
    "golden_v1_1_siren.inr": (
        "f3045eec0d48bcc4d3e0eea8d557c09db2677280a54e2763ff9bd87a0f50f7c4",
        "93a93136eb603f2eb0d09ebe98cd3fbe32e03fc257d3cd84f87a7ec651d09ef1",
    ),
    "golden_v1_1_fourier.inr": (
        "e437ab30d7e6d8a2679b00174e206a345e63249171d36251b03ba2d940c146a6",
        "ab32a3bd3044075e78333216fc8acde378cc82871f0227b1793c3401b05fd92b",
    ),
    "golden_v1_1_grid.inr": (
        "2beba3efe77cf19fe5afac6cf453580653b8447e634e15ec9eef51f950822ccc",
        "ab2e9e32b7843b78d66ca630aa7ca57b01dbb7afd010bb5d7d4b7d077d9cf22f",
    ),
    "golden_v2_0_grid.inr": (
        "84d9c20ad541f16d7489bb076a7753a07457bda9e68e786c29371cdd9543be94",
        "bdb01df9368b4339e57e575749aa040944117b3ecd4b8396c8a77ea3df8b5b8f",
    ),
    "golden_v1_1_segments.inr": (
        "9656fbdc9a9aeca2b0f61980988c908a4927536cfbb2ba00882fd689b5856d06",
        "e450673613e4eb80484f4e9ebc2ae94d5256c1d2cd33ee9cbb7fca9f85425a65",
    ),
}


def symbol_hash(data: bytes) -> str:
    h = hashlib.sha256()
    for q in codec.entropy_decoded(data):
        h.update(np.ascontiguousarray(q, dtype="<i8").tobytes())
    return h.hexdigest()


def output_hash(data: bytes) -> str:
    """sha256 of the decoded pixels, or of the decoded samples as 16-bit PCM."""
    if codec.peek_modality(data) == "image":
        out = inrcodec.decode(data)
    else:
        samples, _ = inrcodec.decode_audio(data)
        out = np.round(samples.astype(np.float64) * 32767).astype("<i2")
    return hashlib.sha256(out.tobytes()).hexdigest()


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_golden_file_decodes_to_its_hashes(name):
    data = (DATA / name).read_bytes()
    symbols, output = GOLDEN[name]
    assert symbol_hash(data) == symbols
    assert output_hash(data) == output


def test_golden_grid_files_use_their_versions_context_schemes():
    from inrcodec import container, grid_codec

    for name, version, scheme in (("golden_v1_1_grid.inr", (1, 1), "checkerboard"),
                                  ("golden_v2_0_grid.inr", (2, 0), "wavefront")):  # fmt: skip
        header, _ = container.unpack((DATA / name).read_bytes())
        assert header.version == version and grid_codec.context_scheme(header) == scheme


def _with_latent_scheme(name: str, scheme: int) -> bytes:
    """A golden grid file with its latents' context scheme changed, version and CRC kept valid."""
    import dataclasses
    import struct
    import zlib

    from inrcodec import container

    data = (DATA / name).read_bytes()
    header, payload = container.unpack(data)
    tensors = tuple(dataclasses.replace(t, param=scheme) if t.coder == container.CODER_FAMILY else t
                    for t in header.tensors)  # fmt: skip
    body = container.pack(dataclasses.replace(header, tensors=tensors), payload)[:-4]
    body = body[:4] + data[4:6] + body[6:]  # the original file's version
    return body + struct.pack("<I", zlib.crc32(body))


@pytest.mark.parametrize("name, scheme, message", [
    ("golden_v1_1_grid.inr", 1, "latent context scheme 1 needs format 2.0 \\(file is 1.1\\)"),
    ("golden_v2_0_grid.inr", 7, "unknown latent context scheme 7"),
])  # fmt: skip
def test_a_context_scheme_the_version_does_not_have_is_refused(name, scheme, message):
    with pytest.raises(inrcodec.FormatError, match=message):
        inrcodec.decode(_with_latent_scheme(name, scheme))
