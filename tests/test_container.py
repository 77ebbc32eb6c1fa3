import struct
import zlib

import pytest

from inrcodec import container
from inrcodec.container import AudioFields, Header, ImageFields, TensorCode
from inrcodec.errors import FormatError, VersionError


def image_header() -> Header:
    return Header(
        signal=ImageFields(width=768, height=512, mode=3, bit_depth=8),
        family=1,
        arch=(5, 28, 480, -7),
        tensors=(TensorCode(-50, -300, 299, 0, 17), TensorCode(12, 0, 65535, 1, 0),
                 TensorCode(0, 5, 5, 2, 123456)),
        coords=1,
        target_kind=container.TARGET_BPP,
        target_value=3000,
        extra=b"\x01\x02family",
    )  # fmt: skip


def audio_header() -> Header:
    return Header(
        signal=AudioFields(frames=308700, rate=44100, channels=2, subtype="PCM_24", format="FLAC"),
        family=2,
        arch=(3,),
        tensors=(),
        target_kind=container.TARGET_KBPS,
        target_value=24000,
    )


@pytest.mark.parametrize("header", [image_header(), audio_header()])
def test_every_header_field_round_trips(header):
    payload = bytes(range(256)) * 3
    back, pay = container.unpack(container.pack(header, payload))
    assert back == header
    assert back.version == (container.MAJOR, container.MINOR)
    assert pay == payload


def test_layout_matches_the_documented_framing():
    h, payload = image_header(), b"\xaa" * 12
    data = container.pack(h, payload)
    assert data[:4] == b"\x89INR" and data[4] == container.MAJOR and data[5] == container.MINOR
    (hlen,) = struct.unpack_from("<I", data, 6)
    (plen,) = struct.unpack_from("<I", data, 10 + hlen)
    assert plen == len(payload) and len(data) == container.FRAMING_BYTES + hlen + plen
    assert struct.unpack_from("<I", data, len(data) - 4)[0] == zlib.crc32(data[:-4])


def test_every_single_byte_flip_is_detected():
    data = container.pack(image_header(), b"\x10\x20\x30\x40" * 4)
    for i in range(len(data)):
        for flip in (0x01, 0x80, 0xFF):
            bad = bytearray(data)
            bad[i] ^= flip
            with pytest.raises(FormatError):
                container.unpack(bytes(bad))


def test_every_truncation_is_detected():
    data = container.pack(image_header(), b"\x10\x20\x30\x40" * 4)
    for n in range(len(data)):
        with pytest.raises(FormatError, match=r"truncated|magic|empty"):
            container.unpack(data[:n])


def test_trailing_bytes_are_detected():
    data = container.pack(image_header(), b"")
    with pytest.raises(FormatError, match="after the checksum"):
        container.unpack(data + b"\x00")


def _with_version(data: bytes, major: int) -> bytes:
    body = data[:4] + bytes([major]) + data[5:-4]
    return body + struct.pack("<I", zlib.crc32(body))


def test_future_major_version_is_refused_with_its_own_message():
    data = _with_version(container.pack(image_header(), b""), container.MAJOR + 1)
    with pytest.raises(VersionError, match=r"unsupported format version 3\.\d \(this inrcodec reads 1\.x and 2\.x\)"):
        container.unpack(data)


def test_every_readable_major_version_is_read():
    for major in container.READABLE_MAJORS:
        header, _ = container.unpack(_with_version(container.pack(image_header(), b""), major))
        assert header.version[0] == major


def test_wrong_magic_and_bad_crc_have_their_own_messages():
    data = container.pack(image_header(), b"abcd")
    with pytest.raises(FormatError, match=r"not an \.inr file"):
        container.unpack(b"\x89PNG" + data[4:])
    bad = bytearray(data)
    bad[-6] ^= 1
    with pytest.raises(FormatError, match="checksum"):
        container.unpack(bytes(bad))


def test_valid_crc_over_malformed_header_is_a_format_error():
    def packed(header_bytes: bytes) -> bytes:
        body = b"\x89INR" + bytes([1, 0]) + struct.pack("<I", len(header_bytes)) + header_bytes
        body += struct.pack("<I", 0)
        return body + struct.pack("<I", zlib.crc32(body))

    for hdr in (b"", b"\x07", b"\x01\x00", b"\x01" + b"\xff" * 12, b"\x01\x05\x05\x03\x09"):
        with pytest.raises(FormatError):
            container.unpack(packed(hdr))
