"""Every released format version stays decodable: golden files, what they decode to, and how exactly.

The v1.1 files of the point families and audio were written by inrcodec 0.1.0 with
``encode_image("tests/data/golden_source.png", EncodeOptions(model="siren", bpp=6, steps=200,
seed=11))`` (and ``model="fourier", depth=2, width=8``; and ``model="grid"`` for the latent grid), and ``encode_audio`` of a 0.1 s stereo tone at 8 kHz
(``kbps=48, segment=0.05, steps=200, seed=11``). The v2.0 grid file (the wavefront context) was
written by inrcodec 0.3.0 with the same grid call. The v2.1 tiled file (the tiled family, 2 x 2
tiles) was written by inrcodec 0.5.0, the first that writes format 2.1, with
``inrcodec.encode(skimage.data.astronaut()[100:164, 180:260], bpp=4, steps=100, seed=11, tile=40)``.
The v2.2 audio grid file (family 6) was written by inrcodec 0.7.0, the first that writes format
2.2, from the v1.1 segments file's reference samples (``golden_v1_1_segments.decoded.npy / 32767``,
8 kHz stereo) with ``inrcodec.encode_audio(samples, 8000, kbps=48, steps=100, seed=11)``.
They are never rewritten.

Two things are checked, with two strictnesses (docs/reliability.md, "What is exact and what is
within ±1"):

- the entropy-decoded integers (every symbol and latent, hence every weight the network gets) are
  integer arithmetic, the same on every machine: their sha256 is asserted exactly;
- the pixels and samples come from float synthesis through the CPU's math kernels (MKL, oneDNN,
  torch's vectorised kernels), whose sums may round differently on another CPU or kernel path:
  they are compared with stored references within ±1 LSB, and only a small share may differ.

The references are the decoded output at the stored size, beside each golden file:
``golden_<name>.decoded.png`` (the pixels, 8- or 16-bit as decoded) and
``golden_<name>.decoded.npy`` (audio as 16-bit PCM, ``round(sample * 32767)``). They were written
by ``python -m tests.test_golden --write`` on the development machine (AMD EPYC, torch's AVX512
path), and are never rewritten except together with a format change (a new golden file gets
its reference; the existing ones keep theirs).
"""

import hashlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import inrcodec
from inrcodec import decoder

DATA = Path(__file__).resolve().parent / "data"

# file -> sha256 of the entropy-decoded integer symbols: exact on every machine
GOLDEN = {
    "golden_v1_0.inr": "e87b23d883c90108c321cb8ae4c6c96e879723ef407ecd01fa39e4abfe2ba4c6",
    "golden_v1_1_siren.inr": "f3045eec0d48bcc4d3e0eea8d557c09db2677280a54e2763ff9bd87a0f50f7c4",
    "golden_v1_1_fourier.inr": "e437ab30d7e6d8a2679b00174e206a345e63249171d36251b03ba2d940c146a6",
    "golden_v1_1_grid.inr": "2beba3efe77cf19fe5afac6cf453580653b8447e634e15ec9eef51f950822ccc",
    "golden_v2_0_grid.inr": "84d9c20ad541f16d7489bb076a7753a07457bda9e68e786c29371cdd9543be94",
    "golden_v2_1_tiled.inr": "c7c5740d2710e32a8f5032bd56c637a0de314f919a88d7c4149d412e8f20bfc0",
    "golden_v1_1_segments.inr": "9656fbdc9a9aeca2b0f61980988c908a4927536cfbb2ba00882fd689b5856d06",
    "golden_v2_2_audio.inr": "6a34c6aa065925db5cf10fbda71b76d60009c57a362caeb3c6efcceda19a3996",
}

#: Decoded values may differ from the reference by at most this much, in the output's own units
#: (8-bit pixel values, 16-bit ones for a 16-bit image, 16-bit PCM steps for audio): a float sum
#: rounded in another order moves a value across a rounding boundary by one step, never more.
MAX_DIFFERENCE = 1

#: ... and at most this share of the values may differ at all. Another kernel path changes the
#: float outputs by a few float32 ulps (measured: at most 1.3e-6 on a sample, 0.04 of a PCM step),
#: so only values that lie that close to a rounding boundary flip: at most 8 of the 1600 audio
#: samples (0.5 %, MKL_CBWR=COMPATIBLE) and none of the 576 values of any image, over the switches
#: of benchmarks/kernel_paths.sh; "a few of 1600" on an Intel CPU. A changed decoder (another
#: rounding, another weight) moves far more values than 1 %, and nearly always by more than one.
MAX_DIFFERING_SHARE = 0.01


def symbol_hash(data: bytes) -> str:
    h = hashlib.sha256()
    for q in decoder.entropy_decoded(data):
        h.update(np.ascontiguousarray(q, dtype="<i8").tobytes())
    return h.hexdigest()


def decoded_output(data: bytes) -> np.ndarray:
    """The decoded pixels (H, W, C) as decoded, or the decoded samples as 16-bit PCM."""
    if decoder.peek_modality(data) == "image":
        return inrcodec.decode(data)
    samples, _ = inrcodec.decode_audio(data)
    return np.round(samples.astype(np.float64) * 32767).astype("<i2")


def reference_path(name: str, modality: str) -> Path:
    return DATA / f"{Path(name).stem}.decoded.{'png' if modality == 'image' else 'npy'}"


def read_reference(path: Path) -> np.ndarray:
    if path.suffix == ".npy":
        return np.load(path, allow_pickle=False)
    with Image.open(path) as im:
        a = np.asarray(im)
    if im.mode.startswith("I;16") or im.mode == "I":
        a = a.astype(np.uint16)
    return a if a.ndim == 3 else a[:, :, None]


def write_reference(path: Path, out: np.ndarray) -> None:
    """Store ``out`` losslessly and check that it reads back bit for bit."""
    if path.suffix == ".npy":
        np.save(path, out, allow_pickle=False)
    elif out.dtype == np.uint8:
        Image.fromarray(out[:, :, 0] if out.shape[2] == 1 else out).save(path)
    elif out.dtype == np.uint16 and out.shape[2] == 1:
        Image.fromarray(out[:, :, 0]).save(path)  # I;16: Pillow writes 16 bits for grayscale only
    else:
        raise ValueError(f"no lossless PNG writer for {out.shape[2]}-channel {out.dtype} pixels")
    back = read_reference(path)
    assert back.dtype == out.dtype and np.array_equal(back, out), path


def differences(out: np.ndarray, ref: np.ndarray) -> tuple[int, int, int]:
    """(values that differ, the largest difference, values in all) of an output and its reference."""
    assert (out.shape, out.dtype) == (ref.shape, ref.dtype), (out.shape, out.dtype, ref.shape, ref.dtype)  # fmt: skip
    diff = np.abs(out.astype(np.int64) - ref.astype(np.int64))
    return int(np.count_nonzero(diff)), int(diff.max(initial=0)), diff.size


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_golden_file_decodes_to_its_hashes(name):
    """Its symbols' hash exactly; its pixels or samples within ±1 of the reference, few differing."""
    data = (DATA / name).read_bytes()
    assert symbol_hash(data) == GOLDEN[name]
    out = decoded_output(data)
    ref = read_reference(reference_path(name, decoder.peek_modality(data)))
    differing, largest, total = differences(out, ref)
    assert largest <= MAX_DIFFERENCE, f"{name}: a value differs by {largest} from the reference"
    assert differing <= MAX_DIFFERING_SHARE * total, f"{name}: {differing} of {total} values differ"


def test_golden_grid_files_use_their_versions_context_schemes():
    from inrcodec import container
    from inrcodec.grid.payload import scheme_of

    for name, version, scheme in (("golden_v1_1_grid.inr", (1, 1), "checkerboard"),
                                  ("golden_v2_0_grid.inr", (2, 0), "wavefront")):  # fmt: skip
        header, _ = container.unpack((DATA / name).read_bytes())
        assert header.version == version and scheme_of(header).name == scheme
    header, _ = container.unpack((DATA / "golden_v2_1_tiled.inr").read_bytes())
    assert header.version == (2, 1) and header.family == 5
    header, _ = container.unpack((DATA / "golden_v2_2_audio.inr").read_bytes())
    assert header.version == (2, 2) and header.family == 6


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


def write_references() -> None:
    """Write every golden file's reference output (only together with a format change)."""
    for name in sorted(GOLDEN):
        data = (DATA / name).read_bytes()
        path = reference_path(name, decoder.peek_modality(data))
        write_reference(path, decoded_output(data))
        print(path.relative_to(DATA.parents[1]))


def compare() -> bool:
    """Print, per golden file, how many values differ from its reference and by at most how much."""
    ok = True
    for name in sorted(GOLDEN):
        data = (DATA / name).read_bytes()
        exact = symbol_hash(data) == GOLDEN[name]
        ref = read_reference(reference_path(name, decoder.peek_modality(data)))
        differing, largest, total = differences(decoded_output(data), ref)
        ok &= exact and largest <= MAX_DIFFERENCE and differing <= MAX_DIFFERING_SHARE * total
        print(f"{Path(name).stem}: symbols {'exact' if exact else 'DIFFER'}, "
              f"{differing}/{total} values differ, by at most {largest}")  # fmt: skip
    return ok


if __name__ == "__main__":
    # python -m tests.test_golden            compare this machine's decodes with the references
    # python -m tests.test_golden --write    write the references (only with a format change)
    import sys

    if sys.argv[1:] == ["--write"]:
        write_references()
    elif sys.argv[1:]:
        sys.exit("usage: python -m tests.test_golden [--write]")
    else:
        sys.exit(0 if compare() else 1)
