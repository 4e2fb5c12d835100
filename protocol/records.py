"""RecordBatch v2: header view, validation, offset patching, building and reading.

The hot path (Produce -> disk -> Fetch) only touches the 61-byte header through
`BatchHeader`, `split_batches`, `crc_ok` and the patch helpers. Decoding records
(`iter_records`) is for cold paths: timestamps lookups, internal topics, markers.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Iterator
from typing import NamedTuple

import cramjam
from crc32c import crc32c

from kafkette.protocol import lz4_frame
from kafkette.protocol.errors import ErrorCode
from kafkette.protocol.primitives import DecodeError, read_varint, varint

HEADER = struct.Struct(">qiibIhiqqqhii")
HEADER_SIZE = HEADER.size  # 61
LOG_OVERHEAD = 12  # baseOffset + batchLength: the bytes not counted by batchLength
CRC_START = 21  # CRC-32C covers attributes .. end
CRC_OFFSET = 17
MAGIC_OFFSET = 16  # same position in every message format version
LEADER_EPOCH_OFFSET = 12
MAX_TIMESTAMP_OFFSET = 35  # after attributes, last offset delta and base timestamp

_I64 = struct.Struct(">q")
_I32 = struct.Struct(">i")
_I16 = struct.Struct(">h")
_U32 = struct.Struct(">I")
_CONTROL_KEY = struct.Struct(">hh")
_CONTROL_VALUE = struct.Struct(">hi")

COMPRESSION_MASK = 0x07
TIMESTAMP_TYPE_BIT = 0x08
TRANSACTIONAL_BIT = 0x10
CONTROL_BIT = 0x20

NONE, GZIP, SNAPPY, LZ4, ZSTD = range(5)
ABORT, COMMIT = 0, 1
NO_PRODUCER_ID = -1
NO_SEQUENCE = -1


class RecordsError(ValueError):
    """The records field can't be appended; `error` is the Kafka code to answer with."""

    def __init__(self, error: ErrorCode, reason: str) -> None:
        super().__init__(reason)
        self.error = error


class BatchHeader(NamedTuple):
    base_offset: int
    batch_length: int
    partition_leader_epoch: int
    magic: int
    crc: int
    attributes: int
    last_offset_delta: int
    base_timestamp: int
    max_timestamp: int
    producer_id: int
    producer_epoch: int
    base_sequence: int
    record_count: int

    @classmethod
    def parse(cls, buf: bytes | bytearray | memoryview, pos: int = 0) -> BatchHeader:
        return cls._make(HEADER.unpack_from(buf, pos))

    @property
    def size(self) -> int:
        """Bytes the whole batch occupies, header included."""
        return self.batch_length + LOG_OVERHEAD

    @property
    def last_offset(self) -> int:
        return self.base_offset + self.last_offset_delta

    @property
    def next_offset(self) -> int:
        return self.base_offset + self.last_offset_delta + 1

    @property
    def compression(self) -> int:
        return self.attributes & COMPRESSION_MASK

    @property
    def is_log_append_time(self) -> bool:
        return bool(self.attributes & TIMESTAMP_TYPE_BIT)

    @property
    def is_transactional(self) -> bool:
        return bool(self.attributes & TRANSACTIONAL_BIT)

    @property
    def is_control(self) -> bool:
        return bool(self.attributes & CONTROL_BIT)

    @property
    def last_sequence(self) -> int:
        return add_sequence(self.base_sequence, self.last_offset_delta)


class Record(NamedTuple):
    offset: int
    timestamp: int
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes | None]]


class NewRecord(NamedTuple):
    """A record to encode with `build_batch`; timestamp None means the batch's."""

    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes | None], ...] = ()
    timestamp: int | None = None


def add_sequence(sequence: int, delta: int) -> int:
    """Producer sequences wrap from INT32_MAX to 0."""
    return (sequence + delta) & 0x7FFFFFFF if sequence >= 0 else sequence


def split_batches(buf: bytes | bytearray | memoryview) -> list[tuple[BatchHeader, memoryview]]:
    """Cut a records field into its batches. Raises RecordsError for anything but whole v2 batches."""
    view = memoryview(buf)
    total = len(view)
    batches = []
    pos = 0
    while pos < total:
        if total - pos < LOG_OVERHEAD + 5:
            raise RecordsError(ErrorCode.CORRUPT_MESSAGE, "truncated batch header")
        magic = view[pos + MAGIC_OFFSET]
        if magic != 2:
            code = ErrorCode.INVALID_RECORD if magic < 2 else ErrorCode.CORRUPT_MESSAGE
            raise RecordsError(code, f"magic {magic}")
        if total - pos < HEADER_SIZE:
            raise RecordsError(ErrorCode.CORRUPT_MESSAGE, "truncated batch header")
        header = BatchHeader._make(HEADER.unpack_from(view, pos))
        end = pos + header.batch_length + LOG_OVERHEAD
        if header.batch_length < HEADER_SIZE - LOG_OVERHEAD or end > total:
            raise RecordsError(ErrorCode.CORRUPT_MESSAGE, f"bad batch length {header.batch_length}")
        batches.append((header, view[pos:end]))
        pos = end
    return batches


def crc_ok(batch: bytes | bytearray | memoryview, header: BatchHeader | None = None) -> bool:
    expected = header.crc if header is not None else _U32.unpack_from(batch, CRC_OFFSET)[0]
    return crc32c(memoryview(batch)[CRC_START:]) == expected


def set_base_offset(buf: bytearray | memoryview, offset: int, pos: int = 0) -> None:
    _I64.pack_into(buf, pos, offset)


def set_leader_epoch(buf: bytearray | memoryview, epoch: int, pos: int = 0) -> None:
    _I32.pack_into(buf, pos + LEADER_EPOCH_OFFSET, epoch)


def set_max_timestamp(buf: bytearray, timestamp: int) -> None:
    """Kafka's setMaxTimestamp for CreateTime: the batch's max timestamp set, the CRC redone over it."""
    _I64.pack_into(buf, MAX_TIMESTAMP_OFFSET, timestamp)
    _U32.pack_into(buf, CRC_OFFSET, crc32c(memoryview(buf)[CRC_START:]))


def set_log_append_time(buf: bytearray, timestamp: int, pos: int = 0) -> None:
    """Kafka's LogAppendTime: the timestamp-type bit and the max timestamp set, the CRC redone over them."""
    attributes = _I16.unpack_from(buf, pos + CRC_START)[0]
    _I16.pack_into(buf, pos + CRC_START, attributes | TIMESTAMP_TYPE_BIT)
    _I64.pack_into(buf, pos + MAX_TIMESTAMP_OFFSET, timestamp)
    end = pos + LOG_OVERHEAD + _I32.unpack_from(buf, pos + 8)[0]
    _U32.pack_into(buf, pos + CRC_OFFSET, crc32c(memoryview(buf)[pos + CRC_START:end]))


# --- building ---------------------------------------------------------------


def build_batch(
    records: Iterable[NewRecord | tuple],
    *,
    timestamp_ms: int,
    base_offset: int = 0,
    producer_id: int = NO_PRODUCER_ID,
    producer_epoch: int = -1,
    base_sequence: int = NO_SEQUENCE,
    transactional: bool = False,
    control: bool = False,
    compression: int = NONE,
) -> bytes:
    """Encode records into one v2 batch with a correct CRC."""
    items = [r if isinstance(r, NewRecord) else NewRecord(*r) for r in records]
    if not items:
        raise ValueError("a batch holds at least one record")
    stamps = [timestamp_ms if r.timestamp is None else r.timestamp for r in items]
    base_ts = min(stamps)
    body = b"".join(_encode_record(i, stamps[i] - base_ts, r) for i, r in enumerate(items))
    if compression != NONE:
        body = compress(compression, body)
    attributes = compression | (TRANSACTIONAL_BIT if transactional else 0) | (CONTROL_BIT if control else 0)
    return assemble_batch(
        body,
        attributes=attributes,
        base_offset=base_offset,
        last_offset_delta=len(items) - 1,
        base_timestamp=base_ts,
        max_timestamp=max(stamps),
        producer_id=producer_id,
        producer_epoch=producer_epoch,
        base_sequence=base_sequence,
        record_count=len(items),
    )


def assemble_batch(body: bytes, *, attributes: int, base_offset: int, last_offset_delta: int,
                   base_timestamp: int, max_timestamp: int, producer_id: int, producer_epoch: int,
                   base_sequence: int, record_count: int) -> bytes:
    """Put a header (with CRC) in front of an already encoded, possibly compressed, records body."""
    header = bytearray(HEADER.pack(
        base_offset, HEADER_SIZE - LOG_OVERHEAD + len(body), -1, 2, 0, attributes, last_offset_delta,
        base_timestamp, max_timestamp, producer_id, producer_epoch, base_sequence, record_count,
    ))
    _U32.pack_into(header, CRC_OFFSET, crc32c(body, crc32c(memoryview(header)[CRC_START:])))
    return bytes(header) + body


def build_control_batch(producer_id: int, producer_epoch: int, commit: bool,
                        coordinator_epoch: int, timestamp_ms: int) -> bytes:
    key = _CONTROL_KEY.pack(0, COMMIT if commit else ABORT)
    value = _CONTROL_VALUE.pack(0, coordinator_epoch)
    return build_batch(
        [NewRecord(key, value)],
        timestamp_ms=timestamp_ms,
        producer_id=producer_id,
        producer_epoch=producer_epoch,
        transactional=True,
        control=True,
    )


def _encode_record(offset_delta: int, timestamp_delta: int, record: NewRecord) -> bytes:
    parts = [b"\x00", varint(timestamp_delta), varint(offset_delta), _bytes_field(record.key),
             _bytes_field(record.value), varint(len(record.headers))]
    for name, value in record.headers:
        parts.append(_bytes_field(name.encode() if isinstance(name, str) else name))
        parts.append(_bytes_field(value))
    body = b"".join(parts)
    return varint(len(body)) + body


def _bytes_field(data: bytes | None) -> bytes:
    if data is None:
        return varint(-1)
    return varint(len(data)) + data


# --- reading ----------------------------------------------------------------

_XERIAL_MAGIC = b"\x82SNAPPY\x00"


def compress(codec: int, data: bytes) -> bytes:
    if codec == GZIP:
        return bytes(cramjam.gzip.compress(data))
    if codec == SNAPPY:
        return bytes(cramjam.snappy.compress_raw(data))
    if codec == LZ4:
        return lz4_frame.encode(data)
    if codec == ZSTD:
        return bytes(cramjam.zstd.compress(data))
    raise ValueError(f"unknown compression codec {codec}")


def decompress(codec: int, data: bytes | memoryview) -> bytes:
    if codec == NONE:
        return bytes(data)
    if codec == GZIP:
        return bytes(cramjam.gzip.decompress(data))
    if codec == SNAPPY:
        return _snappy_decompress(bytes(data))
    if codec == LZ4:
        return bytes(cramjam.lz4.decompress(data))
    if codec == ZSTD:
        return bytes(cramjam.zstd.decompress(data))
    raise RecordsError(ErrorCode.CORRUPT_MESSAGE, f"unknown compression codec {codec}")


def _snappy_decompress(data: bytes) -> bytes:
    """Java clients frame snappy the xerial way (16-byte header, then length-prefixed raw blocks)."""
    if not data.startswith(_XERIAL_MAGIC):
        return bytes(cramjam.snappy.decompress_raw(data))
    out = []
    pos = 16
    while pos < len(data):
        (size,) = _I32.unpack_from(data, pos)
        pos += 4
        out.append(bytes(cramjam.snappy.decompress_raw(data[pos:pos + size])))
        pos += size
    return b"".join(out)


def iter_records(batch: bytes | bytearray | memoryview) -> Iterator[Record]:
    """The records of a whole batch; a compressed one is inflated whole (internal topics, markers, tests)."""
    header = BatchHeader.parse(batch)
    return read_records(decompress(header.compression, memoryview(batch)[HEADER_SIZE:header.size]), header)


def read_records(body: bytes | bytearray | memoryview, header: BatchHeader) -> Iterator[Record]:
    """Decode the records of an already inflated batch body."""
    log_append_time = header.is_log_append_time
    pos = 0
    for _ in range(header.record_count):
        length, pos = _read_varint(body, pos)
        end = pos + length
        pos += 1  # record attributes, unused
        ts_delta, pos = _read_varint(body, pos)
        offset_delta, pos = _read_varint(body, pos)
        key, pos = _read_bytes(body, pos)
        value, pos = _read_bytes(body, pos)
        count, pos = _read_varint(body, pos)
        headers = []
        for _ in range(count):
            name, pos = _read_bytes(body, pos)
            hvalue, pos = _read_bytes(body, pos)
            headers.append(((name or b"").decode(errors="replace"), hvalue))
        if pos != end:
            raise RecordsError(ErrorCode.CORRUPT_MESSAGE, "record length mismatch")
        timestamp = header.max_timestamp if log_append_time else header.base_timestamp + ts_delta
        yield Record(header.base_offset + offset_delta, timestamp, key, value, headers)


def control_record(batch: bytes | bytearray | memoryview) -> tuple[int, int]:
    """(type, coordinator_epoch) of a control batch's record."""
    record = next(iter_records(batch))
    _, kind = _CONTROL_KEY.unpack_from(record.key or b"")
    coordinator_epoch = _CONTROL_VALUE.unpack_from(record.value)[1] if record.value and len(record.value) >= 6 else -1
    return kind, coordinator_epoch


def control_type(batch: bytes | bytearray | memoryview) -> int:
    """ABORT (0) or COMMIT (1) for a transaction marker batch."""
    return control_record(batch)[0]


def _read_varint(buf: bytes | bytearray | memoryview, pos: int) -> tuple[int, int]:
    try:
        return read_varint(buf, pos)
    except DecodeError as e:
        raise RecordsError(ErrorCode.CORRUPT_MESSAGE, str(e)) from e


def _read_bytes(buf: bytes | bytearray | memoryview, pos: int) -> tuple[bytes | None, int]:
    length, pos = _read_varint(buf, pos)
    if length < 0:
        return None, pos
    if pos + length > len(buf):
        raise RecordsError(ErrorCode.CORRUPT_MESSAGE, "truncated record field")
    return bytes(buf[pos:pos + length]), pos + length
