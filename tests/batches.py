"""Hand-made record batches for the validation, bomb and fuzz tests: valid ones to mutate, and zstd bombs."""

from __future__ import annotations

import struct

from kafkette.protocol.primitives import varint
from kafkette.protocol.records import CRC_OFFSET, CRC_START, HEADER, HEADER_SIZE, ZSTD, BatchHeader, build_batch
from crc32c import crc32c

TS = 1_700_000_000_000
_U32 = struct.Struct(">I")


def good_batch(count: int = 3, **options) -> bytes:
    return build_batch([(b"k%d" % i, b"value-%d" % i) for i in range(count)], timestamp_ms=TS, **options)


def with_crc(batch: bytes | bytearray) -> bytes:
    out = bytearray(batch)
    _U32.pack_into(out, CRC_OFFSET, crc32c(memoryview(out)[CRC_START:]))
    return bytes(out)


def reheader(batch: bytes, **fields) -> bytes:
    """The batch with header fields replaced (BatchHeader names) and its CRC made right again."""
    header = BatchHeader.parse(batch)._replace(**fields)
    return with_crc(HEADER.pack(*header) + batch[HEADER_SIZE:])


def with_body(body: bytes, count: int, attributes: int = 0, **fields) -> bytes:
    """A batch around a hand-written records body, header consistent with `count` unless `fields` say otherwise."""
    values = dict(base_offset=0, batch_length=HEADER_SIZE - 12 + len(body), partition_leader_epoch=-1, magic=2, crc=0,
                  attributes=attributes, last_offset_delta=count - 1, base_timestamp=TS, max_timestamp=TS,
                  producer_id=-1, producer_epoch=-1, base_sequence=-1, record_count=count)
    values.update(fields)
    return with_crc(HEADER.pack(*BatchHeader(**values)) + body)


def record(offset_delta: int, key: bytes | None = b"k", value: bytes | None = b"v", *, timestamp_delta: int = 0,
           headers: bytes = b"\x00", extra: bytes = b"", length_delta: int = 0) -> bytes:
    """One record in the v2 encoding; `extra` and `length_delta` make it malformed on purpose."""
    def field(data: bytes | None) -> bytes:
        return varint(-1) if data is None else varint(len(data)) + data
    body = b"\x00" + varint(timestamp_delta) + varint(offset_delta) + field(key) + field(value) + headers + extra
    return varint(len(body) + length_delta) + body


def zstd_rle_frame(blocks: int, byte: int = 0, prefix: bytes = b"", suffix: bytes = b"") -> bytes:
    """A zstd frame: raw `prefix`, `blocks` RLE blocks of 128 KiB of `byte`, raw `suffix`; 4 bytes per 128 KiB."""
    out = bytearray(struct.pack("<I", 0xFD2FB528) + bytes([0x00, 0x38]))  # no content size, 128 KiB window
    parts = ([(0, prefix)] if prefix else []) + [(1, None)] * blocks + ([(0, suffix)] if suffix else [])
    for i, (kind, data) in enumerate(parts):
        last = 1 if i == len(parts) - 1 else 0
        size = 128 << 10 if kind == 1 else len(data)
        out += (last | kind << 1 | size << 3).to_bytes(3, "little")
        out += bytes([byte]) if kind == 1 else data
    return bytes(out)


def zstd_batch(frame: bytes, count: int, **fields) -> bytes:
    return with_body(frame, count, attributes=ZSTD, **fields)
