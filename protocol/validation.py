"""What a Produce partition's records must be before they are appended, and Kafka's answer when they are not.

Two steps, in Kafka's order:

- `frame_batch`: ProduceRequest.validateRecords as KafkaApis runs it, on the
  batch framing alone (ByteBufferLogInputStream's size and magic checks, one
  batch per partition, zstd only from Produce v7).
- `validate_batch`: UnifiedLog.analyzeAndValidateRecords (base offset 0, size,
  CRC, codec id) and LogValidator (offset range against the record count, no control
  batches, a sequence for idempotent batches, then every record as
  DefaultRecord reads it; keys on compacted topics and timestamps in range as
  record errors). Compressed batches are inflated within a budget
  (`protocol.inflate`); when one overflows the first buffer, the records
  that fitted are walked before a larger buffer is tried.

The compiled walker (`protocol.record_scan.check_batch`) runs every check of
a batch in one call and says whether it may be appended as it came; only
when it may not does the code here find out why, in Kafka's order.

Kafka answers a malformed record by throwing, with no record_errors; only the
key and timestamp rules give `record_errors` and an `error_message`
(RecordValidationException). The messages here also go out on the other
errors: they cost nothing and say what to fix.
"""

from __future__ import annotations

import struct
from typing import NamedTuple

from crc32c import crc32c

from kafkette.protocol.errors import ErrorCode
from kafkette.protocol.inflate import CorruptData, TooLarge, inflate
from kafkette.protocol.record_scan import (
    ACCEPT,
    BAD_HEADERS,
    BAD_KEY,
    BAD_LENGTH,
    BAD_OFFSET_DELTA,
    BAD_VARINT,
    INFLATE,
    LENGTH_MISMATCH,
    OK,
    OVERRUN,
    TRUNCATED,
    check_batch,
    scan_records,
)
from kafkette.protocol.records import (
    CRC_START,
    HEADER,
    HEADER_SIZE,
    COMPRESSION_MASK,
    LOG_OVERHEAD,
    MAGIC_OFFSET,
    NONE,
    ZSTD,
    BatchHeader,
    read_records,
    set_max_timestamp,
)

NO_LIMIT = (1 << 63) - 1
INFLATE_RATIO = 64  # a batch may inflate to 64x the topic's max.message.bytes ...
MAX_INFLATED_BYTES = 256 << 20  # ... and never past 256 MiB
_MIN_BATCH_LENGTH = 14  # LegacyRecord.RECORD_OVERHEAD_V0: Kafka's smallest plausible batch length
_SIZE = struct.Struct(">i")

PROBLEMS = {
    TRUNCATED: "a record runs past the end of the batch",
    BAD_LENGTH: "a record length is negative or too short for the record's fields",
    BAD_VARINT: "a varint is longer than 5 bytes (10 for the timestamp delta) or overflows",
    OVERRUN: "a record's fields run past its length",
    BAD_OFFSET_DELTA: "record i of the batch must have offset delta i",
    BAD_KEY: "a key or value length is below -1",
    BAD_HEADERS: "a header count or header key length is negative, or a header value length is below -1",
    LENGTH_MISMATCH: "a record's fields end before its length does",
}


class TopicRules(NamedTuple):
    """The topic configs LogValidator applies (in the order record_scan.check_batch takes them)."""

    max_message_bytes: int
    compacted: bool = False
    log_append_time: bool = False
    timestamp_before_max_ms: int = NO_LIMIT
    timestamp_after_max_ms: int = NO_LIMIT

    @property
    def inflated_limit(self) -> int:
        return min(max(self.max_message_bytes, 1) * INFLATE_RATIO, MAX_INFLATED_BYTES)


class Rejected(NamedTuple):
    """Kafka's answer for a partition whose records can't be appended."""

    error: ErrorCode
    message: str
    record_errors: tuple[tuple[int, str], ...] = ()


class _Reject(Exception):
    def __init__(self, rejected: Rejected) -> None:
        super().__init__(rejected.message)
        self.rejected = rejected


def _invalid(message: str) -> Rejected:
    return Rejected(ErrorCode.INVALID_RECORD, message)


def frame_batch(records: bytes | memoryview | None, version: int) -> tuple[memoryview, BatchHeader] | Rejected:
    """The one v2 batch of a Produce partition and its header, or why Kafka refuses it before anything else."""
    if not records:
        return _invalid(f"Produce v{version} must carry at least one record batch per partition")
    view = memoryview(records)
    total = len(view)
    if total >= HEADER_SIZE and view[MAGIC_OFFSET] == 2:  # the usual case: exactly one whole v2 batch
        header = BatchHeader._make(HEADER.unpack_from(view))
        if header.batch_length + LOG_OVERHEAD == total and header.batch_length >= HEADER_SIZE - LOG_OVERHEAD:
            if version < 7 and header.attributes & COMPRESSION_MASK == ZSTD:
                return Rejected(ErrorCode.UNSUPPORTED_COMPRESSION_TYPE, "zstd needs Produce v7 or later")
            return view, header
    size = _batch_size(view)
    if isinstance(size, Rejected):
        return size
    if size is None:
        return _invalid(f"Produce v{version} must carry at least one whole record batch per partition")
    if view[MAGIC_OFFSET] != 2:
        return _invalid(f"Produce v{version} must carry record batches of magic 2, not {view[MAGIC_OFFSET]}")
    if size < HEADER_SIZE:
        return Rejected(ErrorCode.CORRUPT_MESSAGE, f"a batch of {size} bytes is shorter than its 61-byte header")
    header = BatchHeader._make(HEADER.unpack_from(view))
    if version < 7 and header.compression == ZSTD:
        return Rejected(ErrorCode.UNSUPPORTED_COMPRESSION_TYPE, "zstd needs Produce v7 or later")
    following = _batch_size(view[size:])
    if isinstance(following, Rejected):
        return following
    if following is not None:
        return _invalid(f"Produce v{version} may carry only one record batch per partition")
    return view[:size], header  # a torn tail after the batch is dropped, as Kafka trims it


def _batch_size(view: memoryview) -> int | Rejected | None:
    """ByteBufferLogInputStream.nextBatchSize: the whole size of the batch at the start of `view`, None if none is whole."""
    if len(view) < LOG_OVERHEAD:
        return None
    (length,) = _SIZE.unpack_from(view, 8)
    if length < _MIN_BATCH_LENGTH:
        return Rejected(ErrorCode.CORRUPT_MESSAGE,
                        f"Record size {length} is less than the minimum record overhead ({_MIN_BATCH_LENGTH})")
    if len(view) <= MAGIC_OFFSET:
        return None
    if view[MAGIC_OFFSET] > 2:  # also a negative magic byte
        return Rejected(ErrorCode.CORRUPT_MESSAGE, f"Invalid magic found in record: {view[MAGIC_OFFSET]}")
    size = length + LOG_OVERHEAD
    return size if len(view) >= size else None


def validate_batch(batch: memoryview, header: BatchHeader, rules: TopicRules, now_ms: int,
                   where: str) -> memoryview | Rejected:
    """The batch as it may be appended (its max timestamp set from its records, as Kafka does), or Kafka's refusal.

    `where` names the topic partition in messages, as Kafka's do ("topic-0").
    Kafka checks the CRC before the records; here it is checked only on the
    way to a refusal or a rewrite, which gives the same answers: an accepted
    batch has its CRC checked once, by the storage engine.
    """
    verdict = check_batch(batch, None, *rules, now_ms)
    body = None
    if verdict == INFLATE:
        try:
            body = _inflate(batch, header, rules.inflated_limit)
        except _Reject:  # a refusal, but a CRC error comes first: the review says which
            return _review(batch, header, None, rules, now_ms, where)
        verdict = check_batch(batch, body, *rules, now_ms)
    if verdict == ACCEPT:
        return batch
    return _review(batch, header, body, rules, now_ms, where)


def _review(batch: memoryview, header: BatchHeader, body: memoryview | bytes | None, rules: TopicRules, now_ms: int,
            where: str) -> memoryview | Rejected:
    """What validate_batch answers when the walker did not accept the batch as it came: every check, in Kafka's order."""
    if header.base_offset != 0:
        return _invalid(f"the base offset of a produced batch must be 0, not {header.base_offset}")
    if header.size > rules.max_message_bytes:
        return Rejected(ErrorCode.MESSAGE_TOO_LARGE, f"the batch of {header.size} bytes is larger than "
                        f"max.message.bytes ({rules.max_message_bytes}) of {where}")
    checked = _check_contents(batch, header, body, rules, now_ms, where)
    if checked is not batch and crc32c(batch[CRC_START:]) != header.crc:
        return Rejected(ErrorCode.CORRUPT_MESSAGE, f"the batch CRC does not match its bytes in {where}")
    return checked


def _check_contents(batch: memoryview, header: BatchHeader, body: memoryview | bytes | None, rules: TopicRules,
                    now_ms: int, where: str) -> memoryview | Rejected:
    if header.compression > ZSTD:  # Kafka 4.4 fails on these with an unexpected exception, hence its code
        return Rejected(ErrorCode.UNKNOWN_SERVER_ERROR,
                        f"compression codec {header.compression} is none of 0-4 (none, gzip, snappy, lz4, zstd)")
    rejected = _check_header(header, where)
    if rejected is not None:
        return rejected
    try:
        if body is None:
            body = batch[HEADER_SIZE:] if header.compression == NONE else _inflate(batch, header, rules.inflated_limit)
        stats = _scan(body, header.record_count)
    except _Reject as err:
        return err.rejected
    rejected = _check_records(body, header, stats, rules, now_ms, where)
    if rejected is not None:
        return rejected
    return _with_max_timestamp(batch, header, header.base_timestamp + stats[1], rules)


def _check_header(header: BatchHeader, where: str) -> Rejected | None:
    """LogValidator.validateBatch for a client's batch."""
    count_from_offsets = header.last_offset_delta + 1
    if count_from_offsets <= 0:
        return _invalid(f"the batch has an invalid offset range [0, {header.last_offset_delta}] in {where}")
    if header.record_count <= 0:
        return _invalid(f"invalid record count {header.record_count} in {where}")
    if count_from_offsets != header.record_count:
        return _invalid(f"the batch's offset range [0, {header.last_offset_delta}] does not match its "
                        f"{header.record_count} records in {where}")
    if header.is_control:
        return _invalid(f"clients may not write control batches (to {where})")
    if header.producer_id >= 0 and header.base_sequence < 0:
        return _invalid(f"invalid sequence {header.base_sequence} in a batch of producer {header.producer_id} "
                        f"in {where}")
    return None


def _inflate(batch: memoryview, header: BatchHeader, limit: int) -> memoryview | bytes:
    """The records of a compressed batch, inflated within `limit` (raises _Reject)."""
    count = header.record_count

    def check_prefix(prefix: memoryview) -> None:  # a bomb of garbage stops at its first bad record
        problem, _, index, *_ = scan_records(prefix, 0, len(prefix), 0, count, False)
        if problem != OK:
            raise _Reject(_invalid(f"record {index}: {PROBLEMS[problem]}"))
        if index == count:
            raise _Reject(_invalid(f"the batch holds more bytes than its {count} records"))

    try:
        return inflate(header.compression, batch[HEADER_SIZE:], limit, check_prefix)
    except CorruptData as err:  # Kafka 4.4 answers UNKNOWN_SERVER_ERROR: its decompressor throws
        raise _Reject(Rejected(ErrorCode.UNKNOWN_SERVER_ERROR,
                               f"the compressed records can't be inflated: {err}")) from None
    except TooLarge as err:
        raise _Reject(Rejected(ErrorCode.MESSAGE_TOO_LARGE, f"{err}: {INFLATE_RATIO}x max.message.bytes, "
                               f"at most {MAX_INFLATED_BYTES >> 20} MiB; send smaller batches")) from None


def _scan(body: memoryview | bytes, count: int) -> tuple[int, int, int]:
    """(min timestamp delta, max timestamp delta, records without a key) of records filling `body`."""
    problem, pos, index, min_delta, max_delta, keyless = scan_records(body, 0, len(body), 0, count, True)
    if problem != OK:
        raise _Reject(_invalid(f"record {index}: {PROBLEMS[problem]}"))
    if pos != len(body):
        raise _Reject(_invalid(f"the batch holds more bytes than its {count} records"))
    return min_delta, max_delta, keyless


def _check_records(body: memoryview | bytes, header: BatchHeader, stats: tuple[int, int, int], rules: TopicRules,
                   now_ms: int, where: str) -> Rejected | None:
    """LogValidator.validateRecord's rules: keys on compacted topics, timestamps in range (record errors).

    The walk's minimum and maximum timestamps and its count of null keys say
    whether any record breaks them; only then are the records decoded to list which.
    """
    min_delta, max_delta, keyless = stats
    checks_time = rules.timestamp_before_max_ms != NO_LIMIT or rules.timestamp_after_max_ms != NO_LIMIT
    out_of_range = checks_time and not rules.log_append_time and (
        now_ms - (header.base_timestamp + min_delta) > rules.timestamp_before_max_ms
        or header.base_timestamp + max_delta - now_ms > rules.timestamp_after_max_ms)
    producer_set_append_time = rules.log_append_time and header.is_log_append_time
    if not (out_of_range or producer_set_append_time or (rules.compacted and keyless)):
        return None
    errors: list[tuple[int, str]] = []
    invalid_timestamp = False
    for index, record in enumerate(read_records(body, header)):
        if rules.compacted and record.key is None:
            errors.append((index, f"Compacted topic cannot accept message without key in topic partition {where}"))
        elif producer_set_append_time:
            invalid_timestamp = True
            errors.append((index, "Invalid timestamp type in message. Producer should not set timestamp type "
                                  "to LogAppendTime."))
        elif out_of_range and record.timestamp != -1 and (
                now_ms - record.timestamp > rules.timestamp_before_max_ms
                or record.timestamp - now_ms > rules.timestamp_after_max_ms):
            invalid_timestamp = True
            low = now_ms - rules.timestamp_before_max_ms if rules.timestamp_before_max_ms != NO_LIMIT else "-inf"
            high = now_ms + rules.timestamp_after_max_ms if rules.timestamp_after_max_ms != NO_LIMIT else "+inf"
            errors.append((index, f"Timestamp {record.timestamp} of message with offset {record.offset} is out "
                                  f"of range. The timestamp should be within [{low}, {high}]"))
    if not errors:
        return None
    if invalid_timestamp:
        return Rejected(ErrorCode.INVALID_TIMESTAMP, "One or more records have been rejected due to invalid timestamp",
                        tuple(errors))
    shown = ", ".join(f"RecordError(batchIndex={i}, message='{m}')" for i, m in errors[:3])
    return Rejected(ErrorCode.INVALID_RECORD, f"One or more records have been rejected due to {len(errors)} record "
                    f"errors in total, and only showing the first three errors at most: [{shown}]", tuple(errors))


def _with_max_timestamp(batch: memoryview, header: BatchHeader, max_timestamp: int,
                        rules: TopicRules) -> memoryview:
    """Kafka sets a CreateTime batch's max timestamp to its records' largest; rewritten only when a client got it wrong."""
    if rules.log_append_time or header.is_log_append_time or max_timestamp == header.max_timestamp:
        return batch
    fixed = bytearray(batch)
    set_max_timestamp(fixed, max_timestamp)
    return memoryview(fixed)
