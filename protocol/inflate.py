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
from typing import Any

import cramjam
from kafkette.protocol import lz4_frame
from kafkette.protocol.records import GZIP, LZ4, SNAPPY, ZSTD

_XERIAL_MAGIC = b"\x82SNAPPY\x00"
_XERIAL_HEADER = 16  # magic, version, compatible version
_BLOCK_SIZE = struct.Struct(">i")
_FULL = "failed to write whole buffer"  # what cramjam says when the output buffer is too small
_DECOMPRESSORS = {GZIP: cramjam.gzip, ZSTD: cramjam.zstd}


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
    if codec == LZ4:
        return _lz4_into(memoryview(data), out)
    module = _DECOMPRESSORS.get(codec)
    if module is None:
        raise CorruptData(f"compression codec {codec} is not gzip, snappy, lz4 or zstd")
    return _cramjam_into(module, data, out)


def _cramjam_into(module: Any, data: bytes | memoryview, out: bytearray) -> int:
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


def _lz4_into(data: memoryview, out: bytearray) -> int:
    """An LZ4 frame as Kafka's Lz4BlockInputStream reads it (independent blocks only), a block at a time.

    cramjam's frame decoder zero-fills a 4 MiB buffer per call: 30 times the cost of inflating a
    batch of 10 KB. A block never inflates past the frame's block size, so one that may not fit in
    what is left of `out` is inflated into a buffer of that size and copied.
    """
    if len(data) < 7 or lz4_frame.U32_LE.unpack_from(data)[0] != lz4_frame.MAGIC:
        raise CorruptData("Stream unsupported (invalid magic bytes)")
    flags, descriptor = data[4], data[5]
    if flags >> 6 != 1 or flags & 0x03:
        raise CorruptData(f"LZ4 frame flags {flags:#04x}: version 1 and reserved bits 0 are supported")
    if not flags & lz4_frame.INDEPENDENT_BLOCKS:
        raise CorruptData("Dependent block stream is unsupported")
    block_size = lz4_frame.BLOCK_SIZES.get(descriptor >> 4)  # also catches the reserved bits
    if block_size is None or descriptor & 0x0F:
        raise CorruptData(f"LZ4 block descriptor {descriptor:#04x}: block size value must be between 4 and 7")
    pos = 15 if flags & lz4_frame.CONTENT_SIZE else 7  # after the content size, if any, and the descriptor checksum
    if len(data) < pos or data[pos - 1] != lz4_frame.descriptor_checksum(data[4:pos - 1]):
        raise CorruptData("LZ4 frame descriptor checksum mismatch")
    if flags & (lz4_frame.BLOCK_CHECKSUMS | lz4_frame.CONTENT_CHECKSUM):  # no client of Kafka's writes these
        return _cramjam_into(cramjam.lz4, data, out)
    view = memoryview(out)
    written = 0
    while True:
        if pos + 4 > len(data):
            raise CorruptData("the LZ4 frame ends before its end mark")
        (size,) = lz4_frame.U32_LE.unpack_from(data, pos)
        pos += 4
        if size == 0:
            return written
        stored, size = size & lz4_frame.STORED, size & ~lz4_frame.STORED
        if size > block_size or pos + size > len(data):
            raise CorruptData("an LZ4 block is larger than its frame allows or runs past it")
        block = data[pos:pos + size]
        pos += size
        room = len(out) - written
        if not stored and room >= block_size:
            written += _lz4_block_into(block, view[written:])
            continue
        if not stored:
            spare = bytearray(block_size)
            block = memoryview(spare)[:_lz4_block_into(block, spare)]
        fitted = min(len(block), room)
        view[written:written + fitted] = block[:fitted]
        if len(block) > room:
            raise BufferFull(len(out))
        written += fitted


def _lz4_block_into(block: memoryview, out: memoryview | bytearray) -> int:
    try:
        return cramjam.lz4.decompress_block_into(block, out)
    except cramjam.DecompressionError as err:
        raise CorruptData(f"an LZ4 block does not inflate: {err}") from None


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
