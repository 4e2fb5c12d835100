"""The LZ4 frame format as Kafka uses it (KafkaLZ4BlockOutputStream, librdkafka): independent blocks.

`encode` writes the frame librdkafka writes (64 KiB blocks, no checksums but the descriptor's);
`protocol.inflate` reads frames. cramjam has LZ4 blocks but no frame writer without block checksums.
"""

from __future__ import annotations

import struct

import cramjam

MAGIC = 0x184D2204
BLOCK_SIZES = {4: 64 << 10, 5: 256 << 10, 6: 1 << 20, 7: 4 << 20}  # the descriptor's block size value
INDEPENDENT_BLOCKS, BLOCK_CHECKSUMS, CONTENT_SIZE, CONTENT_CHECKSUM = 0x20, 0x10, 0x08, 0x04
STORED = 0x80000000  # a block size with this bit set: the block is stored as it is
U32_LE = struct.Struct("<I")
_PRIME1, _PRIME2, _PRIME3, _PRIME4, _PRIME5 = 2654435761, 2246822519, 3266489917, 668265263, 374761393
_MASK = 0xFFFFFFFF


def descriptor_checksum(descriptor: bytes | memoryview) -> int:
    """The frame descriptor's checksum byte: the second byte of its xxHash32 (seed 0; fewer than 16 bytes)."""
    h = (_PRIME5 + len(descriptor)) & _MASK
    pos = 0
    while pos + 4 <= len(descriptor):
        h = _rotl((h + U32_LE.unpack_from(descriptor, pos)[0] * _PRIME3) & _MASK, 17) * _PRIME4 & _MASK
        pos += 4
    for byte in descriptor[pos:]:
        h = _rotl((h + byte * _PRIME5) & _MASK, 11) * _PRIME1 & _MASK
    h = (h ^ (h >> 15)) * _PRIME2 & _MASK
    h = (h ^ (h >> 13)) * _PRIME3 & _MASK
    return (h ^ (h >> 16)) >> 8 & 0xFF


def _rotl(x: int, r: int) -> int:
    return ((x << r) | (x >> (32 - r))) & _MASK


def encode(data: bytes) -> bytes:
    """`data` as one frame of independent 64 KiB blocks, each compressed, or stored when that does not shrink it."""
    descriptor = bytes([0x40 | INDEPENDENT_BLOCKS, 4 << 4])
    out = bytearray(U32_LE.pack(MAGIC) + descriptor + bytes([descriptor_checksum(descriptor)]))
    block_size = BLOCK_SIZES[4]
    for start in range(0, len(data), block_size):
        raw = data[start:start + block_size]
        packed = bytes(cramjam.lz4.compress_block(raw, store_size=False))
        out += U32_LE.pack(len(packed)) + packed if len(packed) < len(raw) else U32_LE.pack(len(raw) | STORED) + raw
    return bytes(out + U32_LE.pack(0))
