"""Decompression into a bounded buffer: a batch never inflates past the buffer it is given.

`inflate_into` writes a batch body's inflated bytes into `out` and stops when
`out` is full (cramjam's `decompress_into` stops there too: a 16 GiB bomb costs
no more than the buffer). `protocol.validation` starts with a reused 1 MiB
buffer, checks the records of what fitted, and only then tries a larger one, up
to the limit a topic's `max.message.bytes` allows.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterator

import cramjam

from kafkette.protocol.records import GZIP, LZ4, SNAPPY, ZSTD

_XERIAL_MAGIC = b"\x82SNAPPY\x00"
_XERIAL_HEADER = 16  # magic, version, compatible version
_BLOCK_SIZE = struct.Struct(">i")
_FULL = "failed to write whole buffer"  # what cramjam says when the output buffer is too small
_DECOMPRESSORS = {GZIP: cramjam.gzip, LZ4: cramjam.lz4, ZSTD: cramjam.zstd}


class BufferFull(Exception):
    """The inflated bytes do not fit; `out[:filled]` holds the ones that did."""

    def __init__(self, filled: int) -> None:
        super().__init__(f"inflated past {filled} bytes")
        self.filled = filled


class CorruptData(Exception):
    """The compressed bytes are not a valid stream of their codec."""


def inflate_into(codec: int, data: bytes | memoryview, out: bytearray) -> int:
    """Inflate `data` into `out`; returns the number of bytes written."""
    if codec == SNAPPY:
        return _snappy_into(bytes(data), out)
    module = _DECOMPRESSORS.get(codec)
    if module is None:
        raise CorruptData(f"compression codec {codec} is not gzip, snappy, lz4 or zstd")
    try:
        return module.decompress_into(data, out)
    except cramjam.DecompressionError as err:
        if _FULL in str(err):
            raise BufferFull(len(out)) from None
        raise CorruptData(str(err)) from None


def _snappy_into(data: bytes, out: bytearray) -> int:
    """Raw snappy (librdkafka) or the xerial framing Java clients use: length-prefixed raw blocks.

    Snappy states each block's inflated size up front, so nothing is inflated that would not fit.
    """
    blocks = [data] if not data.startswith(_XERIAL_MAGIC) else list(_xerial_blocks(data))
    written = 0
    view = memoryview(out)
    try:
        for block in blocks:
            size = cramjam.snappy.decompress_raw_len(block)
            if size > len(out) - written:
                raise BufferFull(written)
            written += cramjam.snappy.decompress_raw_into(block, view[written:])
    except cramjam.DecompressionError as err:
        raise CorruptData(str(err)) from None
    return written


def _xerial_blocks(data: bytes) -> Iterator[bytes]:
    pos = _XERIAL_HEADER
    while pos < len(data):
        if pos + 4 > len(data):
            raise CorruptData("truncated xerial snappy block length")
        (size,) = _BLOCK_SIZE.unpack_from(data, pos)
        pos += 4
        if size < 0 or pos + size > len(data):
            raise CorruptData("xerial snappy block runs past the data")
        yield data[pos:pos + size]
        pos += size



class TooLarge(Exception):
    """The batch would inflate past the limit."""


SCRATCH_BYTES = 1 << 20
_scratch = bytearray(SCRATCH_BYTES)


def inflate(codec: int, data: bytes | memoryview, limit: int,
            check_prefix: Callable[[memoryview], None] | None = None) -> memoryview:
    """The inflated body of a batch, at most `limit` bytes; raises TooLarge or CorruptData.

    Small bodies land in a reused 1 MiB buffer: the view returned is only valid
    until the next call. Past it, `check_prefix` sees the bytes that fitted
    (and may raise to stop there), then a buffer four times larger is tried,
    up to `limit`, so a bomb costs at most `limit` bytes and a few passes.
    """
    out = _scratch
    while True:
        try:
            size = inflate_into(codec, data, out)
        except BufferFull as full:
            if check_prefix is not None:
                check_prefix(memoryview(out)[:full.filled])
            if len(out) > limit:
                raise TooLarge(f"the batch inflates past {limit} bytes") from None
            out = bytearray(min(len(out) * 4, limit + 1))
            continue
        if size > limit:
            raise TooLarge(f"the batch inflates past {limit} bytes")
        return memoryview(out)[:size]
