"""protocol.primitives: varints, strings, bytes and lengths, against hand-written encodings."""

from __future__ import annotations

import struct

import pytest

from kafkette.protocol import primitives as p

# (value, unsigned varint bytes)
UVARINTS = [
    (0, b"\x00"),
    (1, b"\x01"),
    (127, b"\x7f"),
    (128, b"\x80\x01"),
    (300, b"\xac\x02"),
    (16383, b"\xff\x7f"),
    (16384, b"\x80\x80\x01"),
    (2**21 - 1, b"\xff\xff\x7f"),
    (2**21, b"\x80\x80\x80\x01"),
    (2**31 - 1, b"\xff\xff\xff\xff\x07"),
    (2**32 - 1, b"\xff\xff\xff\xff\x0f"),
    (2**63 - 1, b"\xff\xff\xff\xff\xff\xff\xff\xff\x7f"),
    (2**64 - 1, b"\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01"),
]

# (value, zigzag varint bytes): 0 -> 0, -1 -> 1, 1 -> 2, -2 -> 3, ...
VARINTS = [
    (0, b"\x00"),
    (-1, b"\x01"),
    (1, b"\x02"),
    (-2, b"\x03"),
    (63, b"\x7e"),
    (-64, b"\x7f"),
    (64, b"\x80\x01"),
    (-65, b"\x81\x01"),
    (127, b"\xfe\x01"),
    (128, b"\x80\x02"),
    (2**31 - 1, b"\xfe\xff\xff\xff\x0f"),
    (-(2**31), b"\xff\xff\xff\xff\x0f"),
    (2**63 - 1, b"\xfe\xff\xff\xff\xff\xff\xff\xff\xff\x01"),
    (-(2**63), b"\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01"),
]


@pytest.mark.parametrize("value, encoded", UVARINTS, ids=[str(v) for v, _ in UVARINTS])
def test_uvarint(value: int, encoded: bytes) -> None:
    assert p.uvarint(value) == encoded
    assert p.read_uvarint(encoded, 0) == (value, len(encoded))
    assert p.read_uvarint(b"\xee" + encoded + b"\x05", 1) == (value, 1 + len(encoded))
    assert p.read_uvarint(memoryview(encoded), 0) == (value, len(encoded))


@pytest.mark.parametrize("value, encoded", VARINTS, ids=[str(v) for v, _ in VARINTS])
def test_varint(value: int, encoded: bytes) -> None:
    assert p.varint(value) == encoded
    assert p.read_varint(encoded, 0) == (value, len(encoded))
    assert p.read_varint(b"\x00\x00" + encoded, 2) == (value, 2 + len(encoded))


def test_varint_roundtrip_over_a_range() -> None:
    values = [0, 1, -1] + [s * (2**k + d) for k in range(0, 63) for d in (-1, 0, 1) for s in (1, -1)]
    for value in values:
        if -(2**63) <= value < 2**63:
            data = p.varint(value)
            assert p.read_varint(data, 0) == (value, len(data))
    for value in [2**k + d for k in range(0, 64) for d in (-1, 0, 1) if 0 <= 2**k + d < 2**64]:
        data = p.uvarint(value)
        assert p.read_uvarint(data, 0) == (value, len(data))
        assert len(data) == max(1, -(-value.bit_length() // 7))


@pytest.mark.parametrize("data", [b"", b"\x80", b"\xff\xff", b"\x80\x80\x80\x80"])
def test_truncated_varint(data: bytes) -> None:
    with pytest.raises(p.DecodeError):
        p.read_uvarint(data, 0)
    with pytest.raises(p.DecodeError):
        p.read_varint(data, 0)


def test_overlong_varint() -> None:
    """More than ten bytes (70 bits) cannot be a varlong."""
    with pytest.raises(p.DecodeError):
        p.read_uvarint(b"\x80" * 10 + b"\x01", 0)


# ---------------------------------------------------------------------------------------------- strings

MULTIBYTE = [
    "é",  # 2 bytes
    "日本語",  # 3 bytes each
    "🦀",  # 4 bytes
    "a\u0000b",  # NUL is an ordinary byte
    "é" * 100,  # 200 bytes: the compact length needs two varint bytes
    "x" * 127,  # compact length 128: exactly the first two-byte varint
    "x" * 126,  # compact length 127: the last one-byte varint
]


@pytest.mark.parametrize("text", MULTIBYTE, ids=range(len(MULTIBYTE)))
def test_compact_string_multibyte(text: str) -> None:
    raw = text.encode("utf-8")
    n = len(raw) + 1
    length = bytes([n]) if n < 128 else bytes([(n & 0x7F) | 0x80, n >> 7])
    assert p.compact_string(text) == length + raw
    assert p.read_compact_string(length + raw + b"tail", 0) == (text, len(length) + len(raw))


@pytest.mark.parametrize("text", MULTIBYTE, ids=range(len(MULTIBYTE)))
def test_legacy_string_multibyte(text: str) -> None:
    raw = text.encode("utf-8")
    assert p.string(text) == struct.pack(">h", len(raw)) + raw  # length in bytes, not characters
    assert p.read_string(b"\x00" + p.string(text), 1) == (text, 1 + 2 + len(raw))


def test_compact_string_multibyte_fixtures() -> None:
    assert p.compact_string("é") == b"\x03\xc3\xa9"
    assert p.compact_string("日本") == b"\x07\xe6\x97\xa5\xe6\x9c\xac"
    assert p.compact_string("🦀") == b"\x05\xf0\x9f\xa6\x80"
    assert p.compact_string("é" * 100)[:2] == b"\xc9\x01"  # 201
    assert p.string("é") == b"\x00\x02\xc3\xa9"


def test_null_and_empty_strings() -> None:
    assert p.string(None) == b"\xff\xff" and p.string("") == b"\x00\x00"
    assert p.compact_string(None) == b"\x00" and p.compact_string("") == b"\x01"
    assert p.read_string(b"\xff\xff", 0) == (None, 2)
    assert p.read_string(b"\x00\x00", 0) == ("", 2)
    assert p.read_compact_string(b"\x00", 0) == (None, 1)
    assert p.read_compact_string(b"\x01", 0) == ("", 1)


@pytest.mark.parametrize("reader, data", [
    (p.read_string, b""),
    (p.read_string, b"\x00"),
    (p.read_string, b"\x00\x05abc"),
    (p.read_compact_string, b""),
    (p.read_compact_string, b"\x06abc"),
    (p.read_compact_string, b"\x80"),
    (p.read_bytes, b"\x00\x00\x00"),
    (p.read_bytes, b"\x00\x00\x00\x04abc"),
    (p.read_bytes_view, b"\x00\x00\x00\x04abc"),
    (p.read_compact_bytes, b"\x05abc"),
    (p.read_compact_bytes_view, b"\x05abc"),
    (p.read_array_length, b"\x00\x00\x00"),
    (p.read_array_length, b"\x00\x00\x01\x00"),  # 256 elements cannot fit in 4 bytes
    (p.read_compact_array_length, b"\x80\x02"),  # 255 elements cannot fit in 2 bytes
    (p.read_compact_array_length, b""),
])
def test_readers_raise_decode_error_past_the_end(reader, data: bytes) -> None:
    with pytest.raises(p.DecodeError):
        reader(data, 0)


# ---------------------------------------------------------------------------------------------- bytes


def test_bytes_encodings() -> None:
    assert p.bytes_field(None) == b"\xff\xff\xff\xff"
    assert p.bytes_field(b"") == b"\x00\x00\x00\x00"
    assert p.bytes_field(b"\x01\x02") == b"\x00\x00\x00\x02\x01\x02"
    assert p.bytes_field(memoryview(b"\x01\x02")) == b"\x00\x00\x00\x02\x01\x02"
    assert p.compact_bytes(None) == b"\x00"
    assert p.compact_bytes(b"") == b"\x01"
    assert p.compact_bytes(bytearray(b"\x01\x02")) == b"\x03\x01\x02"
    blob = bytes(range(256)) * 2
    assert p.compact_bytes(blob) == b"\x81\x04" + blob  # 513


def test_bytes_view_does_not_copy() -> None:
    buf = bytearray(b"\x00\x00\x00\x03abcZ")
    view, end = p.read_bytes_view(buf, 0)
    assert end == 7 and bytes(view) == b"abc"
    buf[4] = ord("X")
    assert bytes(view) == b"Xbc"  # a window onto the input, not a copy
    view.release()
    cview, cend = p.read_compact_bytes_view(b"\x00\x04xyz!", 1)
    assert cend == 5 and bytes(cview) == b"xyz"
    data, _ = p.read_bytes(b"\x00\x00\x00\x01q", 0)
    assert type(data) is bytes and data == b"q"


def test_null_bytes_readers() -> None:
    assert p.read_bytes(b"\xff\xff\xff\xff", 0) == (None, 4)
    assert p.read_bytes_view(b"\xff\xff\xff\xff", 0) == (None, 4)
    assert p.read_compact_bytes(b"\x00", 0) == (None, 1)
    assert p.read_compact_bytes_view(b"\x00", 0) == (None, 1)


# ---------------------------------------------------------------------------------------------- arrays and tags


def test_array_lengths() -> None:
    assert p.array_length(None) == b"\xff\xff\xff\xff"
    assert p.array_length([]) == b"\x00\x00\x00\x00"
    assert p.array_length([1, 2, 3]) == b"\x00\x00\x00\x03"
    assert p.compact_array_length(None) == b"\x00"
    assert p.compact_array_length([]) == b"\x01"
    assert p.compact_array_length(list(range(200))) == b"\xc9\x01"
    assert p.read_array_length(b"\x00\x00\x00\x02" + b"\x00" * 8, 0) == (2, 4)
    assert p.read_array_length(b"\xff\xff\xff\xff", 0) == (-1, 4)
    assert p.read_compact_array_length(b"\x03" + b"\x00" * 8, 0) == (2, 1)
    assert p.read_compact_array_length(b"\x00", 0) == (-1, 1)


def test_skip_tagged_fields() -> None:
    assert p.skip_tagged_fields(b"\x00", 0) == 1
    data = b"\x02" + b"\x00\x02ab" + b"\x81\x01\x81\x01" + b"z" * 129 + b"after"
    assert p.skip_tagged_fields(data, 0) == len(data) - 5
    with pytest.raises(p.DecodeError):
        p.skip_tagged_fields(b"\x01\x00\x05abc", 0)
    with pytest.raises(p.DecodeError):
        p.skip_tagged_fields(b"\x02\x00\x00", 0)


def test_fixed_width_helpers() -> None:
    assert p.pack_i16(-2) == b"\xff\xfe"
    assert p.pack_i32(2**31 - 1) == b"\x7f\xff\xff\xff"
    assert p.unpack_i16(b"\x80\x00", 0) == (-32768,)
    assert p.unpack_i32(b"\x00\xff\xff\xff\xfe", 1) == (-2,)


def test_decode_error_is_a_value_error() -> None:
    assert issubclass(p.DecodeError, ValueError)
