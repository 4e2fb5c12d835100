"""Bounded inflation (protocol.inflate), without sockets: every codec gives back what was compressed, stops
at the buffer it is given with the bytes that fitted, and reads LZ4 frames as Kafka's Lz4BlockInputStream does."""

from __future__ import annotations

import os
import struct
from functools import partial

import cramjam
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from kafkette.protocol import lz4_frame
from kafkette.protocol.inflate import BufferFull, CorruptData, inflate_into
from kafkette.protocol.records import GZIP, LZ4, SNAPPY, ZSTD, compress

CODECS = [GZIP, SNAPPY, LZ4, ZSTD]


def hand_made_frame(blocks: list[bytes], flags: int = 0x60, descriptor: int = 0x40,
                    content_size: int | None = None) -> bytes:
    """An LZ4 frame made by hand: each block compressed, or stored when compressing does not shrink it."""
    header = bytes([flags | (lz4_frame.CONTENT_SIZE if content_size is not None else 0), descriptor])
    if content_size is not None:
        header += struct.pack("<Q", content_size)
    out = bytearray(struct.pack("<I", lz4_frame.MAGIC) + header + bytes([lz4_frame.descriptor_checksum(header)]))
    for raw in blocks:
        packed = bytes(cramjam.lz4.compress_block(raw, store_size=False))
        out += struct.pack("<I", len(packed)) + packed if len(packed) < len(raw) else (
            struct.pack("<I", len(raw) | lz4_frame.STORED) + raw)
    return bytes(out + b"\x00\x00\x00\x00")


def cramjam_frame(data: bytes) -> bytes:
    """cramjam's own frame of independent blocks: with block and content checksums."""
    compressor = cramjam.lz4.Compressor(block_linked=False)
    compressor.compress(data)
    return bytes(compressor.finish())


def test_the_descriptor_checksum_is_xxhash32s_second_byte():
    assert lz4_frame.descriptor_checksum(b"") == 0x02CC5D05 >> 8 & 0xFF  # XXH32("", 0)
    assert lz4_frame.descriptor_checksum(b"abc") == 0x32D153FF >> 8 & 0xFF
    made = cramjam_frame(b"x" * 100)
    assert lz4_frame.descriptor_checksum(made[4:6]) == made[6]


@settings(max_examples=200, deadline=None, database=None, derandomize=True)
@given(codec=st.sampled_from(CODECS), data=st.binary(max_size=3000) | st.integers(0, 200_000).map(lambda n: b"ab" * n),
       room=st.integers(1, 5000))
def test_every_codec_inflates_what_was_compressed_and_stops_at_the_buffer(codec, data, room):
    compressed = compress(codec, data)
    out = bytearray(len(data) + 1)
    assert bytes(out[:inflate_into(codec, compressed, out)]) == data
    small = bytearray(room)
    try:
        written = inflate_into(codec, compressed, small)
    except BufferFull as full:
        assert len(data) > room and full.filled <= room
        assert bytes(small[:full.filled]) == data[:full.filled]
    else:
        assert bytes(small[:written]) == data


@pytest.mark.parametrize("make", [hand_made_frame, partial(hand_made_frame, content_size=110_010),
                                  partial(hand_made_frame, descriptor=0x70), lambda blocks: cramjam_frame(b"".join(blocks))],
                         ids=["plain", "content-size", "4MiB", "checksums"])
def test_lz4_frames_of_several_blocks_compressed_and_stored(make):
    blocks = [b"abc" * 20_000, os.urandom(50_000), b"z" * 10]  # the random block is stored, not compressed
    frame = make(blocks)
    out = bytearray(1 << 20)
    assert bytes(out[:inflate_into(LZ4, frame, out)]) == b"".join(blocks)
    near_end = bytearray(60_010)  # the second block starts with less room than a block may take
    with pytest.raises(BufferFull) as full:
        inflate_into(LZ4, frame, near_end)
    assert full.value.filled == len(near_end) and bytes(near_end) == b"".join(blocks)[:len(near_end)]


@pytest.mark.parametrize("frame,message", [
    (bytes(cramjam.lz4.compress(b"linked blocks")), "Dependent block stream is unsupported"),
    (b"\x04\x22\x4d\x19" + b"\x60\x40\x00" + b"\x00" * 4, "invalid magic bytes"),
    (hand_made_frame([b"x" * 100], flags=0xA0), "version 1"),
    (hand_made_frame([b"x" * 100], descriptor=0x30), "between 4 and 7"),
    (hand_made_frame([b"x" * 100])[:-4], "before its end mark"),
    (hand_made_frame([b"x" * 100])[:12], "runs past it"),
    (hand_made_frame([])[:-4] + struct.pack("<I", 5) + b"\xff" * 5 + b"\x00" * 4, "does not inflate"),
    (hand_made_frame([b"x" * 100])[:6] + b"\x00" + hand_made_frame([b"x" * 100])[7:], "descriptor checksum"),
], ids=["dependent-blocks", "magic", "version", "block-size", "no-end-mark", "cut-block", "garbage-block",
        "descriptor-checksum"])
def test_lz4_frames_kafka_does_not_read_are_corrupt(frame, message):
    with pytest.raises(CorruptData, match=message):
        inflate_into(LZ4, frame, bytearray(1 << 20))
