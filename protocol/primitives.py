"""Kafka's variable-length primitives: (unsigned/zigzag) varints, strings, bytes, lengths.

Readers take `(buf, pos)` and return `(value, new_pos)`; writers return bytes.
Every reader raises `DecodeError` on input that runs past the end.
"""

from __future__ import annotations

import struct

_I16 = struct.Struct(">h")
_I32 = struct.Struct(">i")
unpack_i16 = _I16.unpack_from
unpack_i32 = _I32.unpack_from
pack_i16 = _I16.pack
pack_i32 = _I32.pack


class DecodeError(ValueError):
    """The bytes do not hold the message their header announces."""


def read_uvarint(buf, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(buf):
            raise DecodeError("varint runs past the end of the message")
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise DecodeError("varint is too long")


def read_varint(buf, pos: int) -> tuple[int, int]:
    raw, pos = read_uvarint(buf, pos)
    return (raw >> 1) ^ -(raw & 1), pos


def uvarint(value: int) -> bytes:
    if value < 0x80:
        return bytes((value,))
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def varint(value: int) -> bytes:
    return uvarint((value << 1) ^ (value >> 63))


def _slice(buf, pos: int, n: int) -> int:
    end = pos + n
    if n < 0 or end > len(buf):
        raise DecodeError(f"field of {n} bytes runs past the end of the message")
    return end


def read_string(buf, pos: int) -> tuple[str | None, int]:
    if pos + 2 > len(buf):
        raise DecodeError("string length runs past the end")
    n = unpack_i16(buf, pos)[0]
    pos += 2
    if n < 0:
        return None, pos
    end = _slice(buf, pos, n)
    return str(buf[pos:end], "utf-8"), end


def read_compact_string(buf, pos: int) -> tuple[str | None, int]:
    n, pos = read_uvarint(buf, pos)
    if n == 0:
        return None, pos
    end = _slice(buf, pos, n - 1)
    return str(buf[pos:end], "utf-8"), end


def read_bytes_view(buf, pos: int) -> tuple[memoryview | None, int]:
    if pos + 4 > len(buf):
        raise DecodeError("bytes length runs past the end")
    n = unpack_i32(buf, pos)[0]
    pos += 4
    if n < 0:
        return None, pos
    end = _slice(buf, pos, n)
    return memoryview(buf)[pos:end], end


def read_compact_bytes_view(buf, pos: int) -> tuple[memoryview | None, int]:
    n, pos = read_uvarint(buf, pos)
    if n == 0:
        return None, pos
    end = _slice(buf, pos, n - 1)
    return memoryview(buf)[pos:end], end


def read_bytes(buf, pos: int) -> tuple[bytes | None, int]:
    view, pos = read_bytes_view(buf, pos)
    return (None if view is None else bytes(view)), pos


def read_compact_bytes(buf, pos: int) -> tuple[bytes | None, int]:
    view, pos = read_compact_bytes_view(buf, pos)
    return (None if view is None else bytes(view)), pos


def read_array_length(buf, pos: int) -> tuple[int, int]:
    if pos + 4 > len(buf):
        raise DecodeError("array length runs past the end")
    n = unpack_i32(buf, pos)[0]
    if n > len(buf):
        raise DecodeError(f"array of {n} elements cannot fit in the message")
    return n, pos + 4


def read_compact_array_length(buf, pos: int) -> tuple[int, int]:
    n, pos = read_uvarint(buf, pos)
    if n - 1 > len(buf):
        raise DecodeError(f"array of {n - 1} elements cannot fit in the message")
    return n - 1, pos


def string(value: str | None) -> bytes:
    if value is None:
        return b"\xff\xff"
    data = value.encode()
    return pack_i16(len(data)) + data


def compact_string(value: str | None) -> bytes:
    if value is None:
        return b"\x00"
    data = value.encode()
    return uvarint(len(data) + 1) + data


def bytes_field(value) -> bytes:
    if value is None:
        return b"\xff\xff\xff\xff"
    return pack_i32(len(value)) + bytes(value)


def compact_bytes(value) -> bytes:
    if value is None:
        return b"\x00"
    return uvarint(len(value) + 1) + bytes(value)


def array_length(value: list | None) -> bytes:
    return b"\xff\xff\xff\xff" if value is None else pack_i32(len(value))


def compact_array_length(value: list | None) -> bytes:
    return b"\x00" if value is None else uvarint(len(value) + 1)


def skip_tagged_fields(buf, pos: int) -> int:
    count, pos = read_uvarint(buf, pos)
    for _ in range(count):
        _, pos = read_uvarint(buf, pos)
        size, pos = read_uvarint(buf, pos)
        pos = _slice(buf, pos, size)
    return pos
