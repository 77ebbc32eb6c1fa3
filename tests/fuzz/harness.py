"""What every fuzzer runs on one input: decode it the way the CLI would, and check the outcome.

An input must end in a decoded signal or an :class:`~inrcodec.errors.InrError` with a one-line
message; anything else (another exception, a Rust panic, a multi-line message) is a finding.
The limits are tighter than the defaults so that each input decodes in milliseconds: the fuzzer
explores structure, not size. The same checks before allocating apply at any limit.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import replace

import numpy as np

from inrcodec import audio, codec, container, decoder
from inrcodec.errors import InrError
from inrcodec.limits import Limits

#: small enough that any input decodes in well under a second on one core; the fuzzer's
#: -rss_limit_mb then checks the decoder's memory estimate against max_memory
FUZZ_LIMITS = Limits(
    max_input_pixels=1 << 16,
    max_output_pixels=1 << 16,
    max_parameters=1 << 17,
    max_layers=32,
    max_file_bytes=1 << 20,
    max_work=1 << 28,
    max_memory=1 << 28,
)


#: the other output sizes and sample rates a file is decoded at, as multiples of the stored ones
_SCALES = (0.5, 1.5, 0.3, 2.25)


def decode_any(data: bytes, limits: Limits = FUZZ_LIMITS) -> np.ndarray:
    """Decode an .inr file (image or audio) as ``inrcodec info`` then ``inrcodec decode`` would:
    at the stored size or rate, then at another one picked from the file's checksum, so that the
    resampling paths see hostile files too. Returns the stored-size decoding."""
    decoder.describe(data, limits)
    other = _SCALES[zlib.crc32(data) % len(_SCALES)]
    if decoder.peek_modality(data, limits) == "image":
        out = codec.decode_image(data, limits=limits).pixels
        codec.decode_image(data, scale=other, limits=limits)
        return out
    samples, rate = audio.decode_audio(data, limits=limits)
    audio.decode_audio(data, min(container.MAX_RATE, max(1, round(rate * other))), limits=limits)
    return samples


def check_outcome(data: bytes, limits: Limits = FUZZ_LIMITS) -> str:
    """Decode ``data``; return 'decoded' or the error's message. Anything else propagates.

    Raises AssertionError for an error message that is not one non-empty line, or a decoded
    signal that is not a finite array of the promised kind.
    """
    try:
        out = decode_any(data, limits)
    except InrError as e:
        message = str(e)
        assert message and "\n" not in message, f"{type(e).__name__} message is not one line: {message!r}"
        return message
    assert isinstance(out, np.ndarray) and out.size > 0
    assert out.dtype in (np.uint8, np.uint16) or bool(np.isfinite(out).all())
    return "decoded"


def split(data: bytes) -> tuple[bytes, bytes, bytes] | None:
    """(version bytes, header, payload) of a well-framed file (CRC not checked), else None."""
    if len(data) < container.FRAMING_BYTES or data[:4] != container.MAGIC:
        return None
    (h,) = struct.unpack_from("<I", data, 6)
    if 14 + h > len(data):
        return None
    (p,) = struct.unpack_from("<I", data, 10 + h)
    if len(data) != container.FRAMING_BYTES + h + p:
        return None
    return data[4:6], data[10 : 10 + h], data[14 + h : 14 + h + p]


def frame(version: bytes, header: bytes, payload: bytes) -> bytes:
    """A file around raw header and payload bytes, with correct lengths and a valid CRC."""
    body = b"".join([container.MAGIC, version, struct.pack("<I", len(header)), header,
                     struct.pack("<I", len(payload)), payload])  # fmt: skip
    return body + struct.pack("<I", zlib.crc32(body))


#: values a header field is set to: the edges of every range the parser and the limits check
INTERESTING = (
    0,
    1,
    2,
    3,
    4,
    7,
    8,
    15,
    16,
    17,
    31,
    32,
    63,
    64,
    65,
    95,
    96,
    127,
    128,
    255,
    256,
    320,
    321,
    1023,
    1024,
    1025,
    4096,
    65535,
    65536,
    (1 << 17) - 1,
    1 << 17,
    (1 << 17) + 1,
    768_000,
    768_001,
    (1 << 20) + 1,
    (1 << 31) - 1,
    1 << 31,
    1 << 32,
    1 << 40,
    (1 << 62) + 1,
    (1 << 63) - 1,
)


def field_spans(header: bytes) -> list[tuple[int, int]]:
    """(start, end) of each LEB128 group of the header. Nearly every field is a varint or a byte
    below 128, so editing these groups edits the fields."""
    spans, start = [], 0
    for i, b in enumerate(header):
        if not b & 0x80:
            spans.append((start, i + 1))
            start = i + 1
    return spans


def uvarint(v: int) -> bytes:
    out = bytearray()
    while True:
        byte, v = v & 0x7F, v >> 7
        out.append(byte | (0x80 if v else 0))
        if not v:
            return bytes(out)


def edit_field(header: bytes, index: int, value: int) -> bytes:
    """The header with its ``index``-th field (modulo their number) set to ``value``."""
    spans = field_spans(header)
    if not spans:
        return header
    a, b = spans[index % len(spans)]
    return header[:a] + uvarint(value) + header[b:]


#: header fields stored as one byte, and as unsigned varints; the rest are signed
_U8 = {"mode", "bit_depth", "coords", "family", "target_kind", "coder"}
_UNSIGNED = {"width", "height", "frames", "rate", "channels", "target_value", "param"}


def header_fields(header: container.Header) -> list[str]:
    """Names of every numeric field of a header: ``signal.width``, ``arch.3``, ``tensor.2.lo``..."""
    names = [f"signal.{f}" for f in vars(header.signal) if isinstance(getattr(header.signal, f), int)]
    names += ["coords", "family", "target_kind", "target_value"]
    names += [f"arch.{i}" for i in range(len(header.arch))]
    names += [f"tensor.{i}.{f}" for i in range(len(header.tensors))
              for f in ("step_exp", "lo", "hi", "coder", "param")]  # fmt: skip
    return names


def get_field(header: container.Header, name: str) -> int:
    """The value of the field :func:`header_fields` calls ``name``."""
    part, *rest = name.split(".")
    if part == "signal":
        return getattr(header.signal, rest[0])
    if part == "arch":
        return header.arch[int(rest[0])]
    if part == "tensor":
        return getattr(header.tensors[int(rest[0])], rest[1])
    return getattr(header, part)


def with_field(header: container.Header, name: str, value: int) -> container.Header:
    """The header with field ``name`` set to ``value``, brought into the field's storable range
    (a byte, or non-negative), so that :func:`inrcodec.container.pack` can write it."""
    key = name.split(".")[-1]
    if key in _U8:
        value %= 256
    elif key in _UNSIGNED:
        value = abs(value)
    part, *rest = name.split(".")
    if part == "signal":
        return replace(header, signal=replace(header.signal, **{key: value}))
    if part == "arch":
        i = int(rest[0])
        return replace(header, arch=header.arch[:i] + (value,) + header.arch[i + 1 :])
    if part == "tensor":
        i = int(rest[0])
        tensors = list(header.tensors)
        tensors[i] = replace(tensors[i], **{key: value})
        return replace(header, tensors=tuple(tensors))
    return replace(header, **{key: value})


def nearby(value: int, pick: int) -> int:
    """A value near ``value``, or an interesting one: ``pick`` chooses which."""
    moves = (value + 1, value - 1, value + 2, value * 2, value // 2, -value, value + 1000)
    choices = moves + INTERESTING
    return choices[pick % len(choices)]


def main(argv: list[str] | None = None) -> None:
    """Replay files or folders of inputs; print how many ended in each outcome.

    python -m tests.fuzz.harness tests/fuzz/corpus tests/fuzz/seeds
    """
    import collections
    import re
    import sys
    from pathlib import Path

    outcomes: collections.Counter[str] = collections.Counter()
    for arg in argv if argv is not None else sys.argv[1:]:
        root = Path(arg)
        for path in sorted(root.iterdir()) if root.is_dir() else [root]:
            outcomes[re.sub(r"-?\d+", "N", check_outcome(path.read_bytes()))] += 1
    for message, n in outcomes.most_common():
        print(f"{n:6d}  {message}")
    print(f"{sum(outcomes.values()):6d}  inputs, all decoded or refused with one-line InrError messages")


if __name__ == "__main__":
    main()
