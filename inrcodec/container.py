"""The .inr byte format: magic, version, header, payload, CRC. Bytes and integers only.

The layout is documented byte by byte in docs/format.md; this module is its implementation and
must change only together with that document and the version number.

    offset      size  field
    0           4     magic 0x89 'I' 'N' 'R'
    4           1     major version
    5           1     minor version
    6           4     header length H, uint32 little-endian
    10          H     header (fields below, mostly LEB128 varints)
    10+H        4     payload length P, uint32 little-endian
    14+H        P     payload: the entropy-coded parameters (little-endian uint32 words)
    14+H+P      4     CRC-32 (zlib/IEEE) of bytes 0 .. 14+H+P-1, uint32 little-endian

A reader checks, in this order: magic, total length (truncation), CRC, major version, then the
header's own structure. Each failure has its own message.
"""

from __future__ import annotations

import re
import struct
import zlib
from dataclasses import dataclass, field

from .errors import FormatError, VersionError

MAGIC = b"\x89INR"
MAJOR = 2
MINOR = 0
#: major versions this reader decodes: 2.0 changed what a latent grid's coder parameter means
#: (1.x readers would ignore it and misdecode), the layout here is the same
READABLE_MAJORS = (1, 2)
#: model families newer than their major version, and the minor version that added them: 2.1
#: added the tiled family (5), 2.2 the audio grid (6). A file is written with the oldest version that has its family, so
#: files of the other families stay 2.0; a 2.0 decoder refuses a tiled file by name ("unknown
#: model family 5"), and this reader refuses a file that claims a family its version lacks.
FAMILY_MINOR = {5: 1, 6: 2}
#: bytes around the header and payload: magic, version, two lengths, CRC
FRAMING_BYTES = 4 + 2 + 4 + 4 + 4

MODALITY_IMAGE = 1
MODALITY_AUDIO = 2

TARGET_NONE = 0
TARGET_BPP = 1  # value: bits per pixel x 10^4
TARGET_BYTES = 2  # value: file size in bytes
TARGET_KBPS = 3  # value: kbit/s x 10^3
TARGET_NAMES = {TARGET_NONE: "none", TARGET_BPP: "bpp", TARGET_BYTES: "bytes", TARGET_KBPS: "kbps"}

#: how a coded tensor's symbols are modelled; see docs/format.md
CODER_LAPLACE = 0  # discretized Laplace, parameter = scale index
CODER_RAW16 = 1  # IEEE float16 bit patterns, coded with a uniform model: exactly 16 bits each
CODER_FAMILY = 2  # a model-family-defined (e.g. context-adaptive) coder, parameter family-defined
CODER_NAMES = {CODER_LAPLACE: "laplace", CODER_RAW16: "raw-fp16", CODER_FAMILY: "family"}

# Structural bounds: anything beyond them is malformed, whatever the resource limits say.
_MAX_ARCH = 64
_MAX_TENSORS = 4096
_MAX_EXTRA = 1 << 20
_MAX_DIM = (1 << 31) - 1
#: the highest sample rate anywhere in inrcodec (the top professional rate, 768 kHz): a decoder
#: resamples by the ratio of two rates, so an absurd stored rate would mean absurd work
MAX_RATE = 768_000
_SUBTYPE_RE = re.compile(rb"^[A-Z0-9_]{1,32}$")


@dataclass(frozen=True)
class ImageFields:
    width: int
    height: int
    mode: int  # 1 L, 2 LA, 3 RGB, 4 RGBA
    bit_depth: int  # 8 or 16

    @property
    def channels(self) -> int:
        return self.mode


@dataclass(frozen=True)
class AudioFields:
    frames: int
    rate: int
    channels: int
    subtype: str  # libsndfile subtype of the original, e.g. "PCM_16", "FLOAT"
    format: str  # libsndfile major format of the original, e.g. "WAV", "FLAC"


@dataclass(frozen=True)
class TensorCode:
    """How one coded tensor is stored: its quantization step and symbol model."""

    step_exp: int  # step = 2^(step_exp / 8)
    lo: int  # smallest symbol
    hi: int  # largest symbol
    coder: int = CODER_LAPLACE
    param: int = 0  # coder parameter: the Laplace scale index for CODER_LAPLACE


@dataclass(frozen=True)
class Header:
    signal: ImageFields | AudioFields
    family: int
    arch: tuple[int, ...]
    tensors: tuple[TensorCode, ...]
    coords: int = 1
    target_kind: int = TARGET_NONE
    target_value: int = 0
    extra: bytes = b""
    version: tuple[int, int] = field(default=(MAJOR, MINOR), compare=False)

    @property
    def modality(self) -> int:
        return MODALITY_IMAGE if isinstance(self.signal, ImageFields) else MODALITY_AUDIO


# --- varints -----------------------------------------------------------------------------------


class _Writer:
    def __init__(self) -> None:
        self.buf = bytearray()

    def u8(self, v: int) -> None:
        if not 0 <= v <= 255:
            raise ValueError(f"u8 field out of range: {v}")
        self.buf.append(v)

    def uvarint(self, v: int) -> None:
        if v < 0:
            raise ValueError(f"negative value for an unsigned field: {v}")
        while True:
            byte = v & 0x7F
            v >>= 7
            if v:
                self.buf.append(byte | 0x80)
            else:
                self.buf.append(byte)
                return

    def svarint(self, v: int) -> None:
        self.uvarint((v << 1) if v >= 0 else ((-v) << 1) - 1)  # zigzag

    def blob(self, b: bytes) -> None:
        self.uvarint(len(b))
        self.buf += b


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def _need(self, n: int, what: str) -> None:
        if self.pos + n > len(self.data):
            raise FormatError(f"header ends inside the {what} field")

    def u8(self, what: str) -> int:
        self._need(1, what)
        v = self.data[self.pos]
        self.pos += 1
        return v

    def uvarint(self, what: str, limit: int = (1 << 63) - 1) -> int:
        v = shift = 0
        for _ in range(10):
            byte = self.u8(what)
            v |= (byte & 0x7F) << shift
            if not byte & 0x80:
                if v > limit:
                    raise FormatError(f"header field {what} = {v} exceeds {limit}")
                return v
            shift += 7
        raise FormatError(f"header field {what} is an overlong varint")

    def svarint(self, what: str, limit: int = (1 << 62)) -> int:
        z = self.uvarint(what)
        v = (z >> 1) if not z & 1 else -((z + 1) >> 1)
        if abs(v) > limit:
            raise FormatError(f"header field {what} = {v} is out of range")
        return v

    def blob(self, what: str, limit: int) -> bytes:
        n = self.uvarint(f"{what} length", limit)
        self._need(n, what)
        b = bytes(self.data[self.pos : self.pos + n])
        self.pos += n
        return b


# --- header ------------------------------------------------------------------------------------


def _write_header(h: Header) -> bytes:
    w = _Writer()
    w.u8(h.modality)
    s = h.signal
    if isinstance(s, ImageFields):
        w.uvarint(s.width)
        w.uvarint(s.height)
        w.u8(s.mode)
        w.u8(s.bit_depth)
    else:
        w.uvarint(s.frames)
        w.uvarint(s.rate)
        w.uvarint(s.channels)
        w.blob(s.subtype.encode("ascii"))
        w.blob(s.format.encode("ascii"))
    w.u8(h.coords)
    w.u8(h.family)
    w.uvarint(len(h.arch))
    for a in h.arch:
        w.svarint(a)
    w.u8(h.target_kind)
    w.uvarint(h.target_value)
    w.uvarint(len(h.tensors))
    for t in h.tensors:
        w.svarint(t.step_exp)
        w.svarint(t.lo)
        w.svarint(t.hi)
        w.u8(t.coder)
        w.uvarint(t.param)
    w.blob(h.extra)
    return bytes(w.buf)


def _ascii_field(b: bytes, what: str) -> str:
    if not _SUBTYPE_RE.match(b):
        raise FormatError(f"header field {what} is not a valid name")
    return b.decode("ascii")


def _read_header(data: bytes, version: tuple[int, int]) -> Header:
    r = _Reader(data)
    modality = r.u8("modality")
    signal: ImageFields | AudioFields
    if modality == MODALITY_IMAGE:
        width = r.uvarint("width", _MAX_DIM)
        height = r.uvarint("height", _MAX_DIM)
        mode = r.u8("colour mode")
        depth = r.u8("bit depth")
        if width < 1 or height < 1:
            raise FormatError(f"header gives an empty image ({width}x{height})")
        if mode not in (1, 2, 3, 4):
            raise FormatError(f"unknown colour mode {mode}")
        if depth not in (8, 16):
            raise FormatError(f"unsupported bit depth {depth}")
        if depth == 16 and mode != 1:
            raise FormatError(f"16-bit depth is for grayscale (colour mode 1) only, header has colour mode {mode}")
        signal = ImageFields(width, height, mode, depth)
    elif modality == MODALITY_AUDIO:
        frames = r.uvarint("frames", _MAX_DIM)
        rate = r.uvarint("sample rate", MAX_RATE)
        channels = r.uvarint("channels", 1024)
        subtype = _ascii_field(r.blob("subtype", 32), "subtype")
        fmt = _ascii_field(r.blob("format", 32), "format")
        if frames < 1 or rate < 1 or channels < 1:
            raise FormatError(f"header gives empty audio ({frames} frames, {rate} Hz, {channels} ch)")
        signal = AudioFields(frames, rate, channels, subtype, fmt)
    else:
        raise FormatError(f"unknown modality {modality}")
    coords = r.u8("coordinate convention")
    family = r.u8("model family")
    if family in FAMILY_MINOR and version < (MAJOR, FAMILY_MINOR[family]):
        raise FormatError(f"model family {family} needs format {MAJOR}.{FAMILY_MINOR[family]} "
                          f"(file is {version[0]}.{version[1]})")  # fmt: skip
    n_arch = r.uvarint("architecture count", _MAX_ARCH)
    arch = tuple(r.svarint(f"architecture[{i}]", 1 << 40) for i in range(n_arch))
    target_kind = r.u8("rate target kind")
    if target_kind not in TARGET_NAMES:
        raise FormatError(f"unknown rate target kind {target_kind}")
    target_value = r.uvarint("rate target value", 1 << 48)
    n_tensors = r.uvarint("tensor count", _MAX_TENSORS)
    tensors = []
    for i in range(n_tensors):
        step_exp = r.svarint(f"tensor {i} step", 1 << 12)
        lo = r.svarint(f"tensor {i} lowest symbol", 1 << 31)
        hi = r.svarint(f"tensor {i} highest symbol", 1 << 31)
        coder = r.u8(f"tensor {i} coder")
        param = r.uvarint(f"tensor {i} coder parameter", 1 << 31)
        if hi < lo:
            raise FormatError(f"tensor {i} has an empty symbol range {lo}..{hi}")
        if coder not in CODER_NAMES:
            raise FormatError(f"tensor {i} uses unknown coder {coder}")
        tensors.append(TensorCode(step_exp, lo, hi, coder, param))
    extra = r.blob("family extra", _MAX_EXTRA)
    if r.pos != len(data):
        raise FormatError(f"header has {len(data) - r.pos} unexpected trailing bytes")
    return Header(
        signal=signal,
        family=family,
        arch=arch,
        tensors=tuple(tensors),
        coords=coords,
        target_kind=target_kind,
        target_value=target_value,
        extra=extra,
        version=version,
    )


# --- file --------------------------------------------------------------------------------------


def written_version(family: int) -> tuple[int, int]:
    """The format version a file of model family ``family`` is written as (:data:`FAMILY_MINOR`)."""
    return MAJOR, FAMILY_MINOR.get(family, MINOR)


def pack(header: Header, payload: bytes) -> bytes:
    """The complete .inr file for a header and payload."""
    hdr = _write_header(header)
    body = b"".join(
        [MAGIC, bytes(written_version(header.family)), struct.pack("<I", len(hdr)), hdr,
         struct.pack("<I", len(payload)), payload]
    )  # fmt: skip
    return body + struct.pack("<I", zlib.crc32(body))


def unpack(data: bytes) -> tuple[Header, bytes]:
    """Header and payload of an .inr file, or a FormatError saying what is wrong with it."""
    data = bytes(data)
    if not data:
        raise FormatError("file is empty (0 bytes)")
    if len(data) < 4 or data[:4] != MAGIC:
        if len(data) < 4 and MAGIC.startswith(data):
            raise FormatError(f"file is truncated ({len(data)} bytes, not even a magic number)")
        raise FormatError("not an .inr file (wrong magic bytes)")
    if len(data) < 10:
        raise FormatError(f"file is truncated ({len(data)} bytes)")
    major, minor = data[4], data[5]
    (hdr_len,) = struct.unpack_from("<I", data, 6)
    if 14 + hdr_len > len(data):
        raise FormatError(f"file is truncated (header needs {hdr_len} bytes, file has {len(data)})")
    (pay_len,) = struct.unpack_from("<I", data, 10 + hdr_len)
    expected = FRAMING_BYTES + hdr_len + pay_len
    if len(data) < expected:
        raise FormatError(f"file is truncated ({len(data)} of {expected} bytes)")
    if len(data) > expected:
        raise FormatError(f"file has {len(data) - expected} unexpected bytes after the checksum")
    (crc,) = struct.unpack_from("<I", data, expected - 4)
    if zlib.crc32(memoryview(data)[: expected - 4]) != crc:  # no copy of a large file
        raise FormatError("checksum mismatch: the file is corrupt")
    if major not in READABLE_MAJORS:
        raise VersionError(f"unsupported format version {major}.{minor} (this inrcodec reads 1.x and 2.x)")
    header = _read_header(data[10 : 10 + hdr_len], (major, minor))
    payload = data[14 + hdr_len : expected - 4]
    return header, payload


def header_size(header: Header) -> int:
    """Bytes the header block takes (without framing)."""
    return len(_write_header(header))
