"""Produce: append each partition's batches verbatim; acks 0, 1 and -1.

Every append happens synchronously, so pipelined Produce requests on one
connection land in the order they were sent; with `--fsync always` the log
fsyncs before the append returns, so the answer always follows durability.
"""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING

from kafkette.broker.context import RequestContext
from kafkette.broker.internal_topic import INTERNAL_TOPICS
from kafkette.broker.registry import handles
from kafkette.broker.topic_configs import max_message_bytes
from kafkette.protocol.errors import ErrorCode
from kafkette.protocol.messages.produce import PRODUCE, ProduceRequest, ProduceResponse
from kafkette.protocol.records import (
    HEADER_SIZE,
    LOG_OVERHEAD,
    MAGIC_OFFSET,
    ZSTD,
    BatchHeader,
    RecordsError,
    split_batches,
)

if TYPE_CHECKING:
    from kafkette.broker.state import Broker

R = ProduceResponse
_I32 = struct.Struct(">i")
LEGACY_RECORD_OVERHEAD = 14  # Kafka's LegacyRecord.RECORD_OVERHEAD_V0: no batch length is below it


# Kafka 4 serves v3+ but advertises v0: librdkafka before 2.10 compresses nothing unless ApiVersions lists
# Produce v0 (KAFKA-18659). A v0-v2 request closes the connection, as any unserved version does.
@handles(PRODUCE, versions=(3, 10), advertised_min=0)
def produce(ctx: RequestContext, body: ProduceRequest) -> ProduceResponse | None:
    version = ctx.version
    if body.acks not in (-1, 0, 1):
        return R(throttle_time_ms=0, responses=[R.TopicProduceResponse(name=t.name, partition_responses=[
            _failed(p.index, ErrorCode.INVALID_REQUIRED_ACKS) for p in t.partition_data]) for t in body.topic_data])
    if body.transactional_id is None and _has_transactional_batch(body):
        # Kafka authorizes transactional records against their transactional id: none is never authorized
        return R(throttle_time_ms=0, responses=[R.TopicProduceResponse(name=t.name, partition_responses=[
            _failed(p.index, ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED) for p in t.partition_data])
            for t in body.topic_data])
    now = ctx.now_ms()
    responses = []
    for t in body.topic_data:
        topic = _topic(ctx.broker, t.name)
        responses.append(R.TopicProduceResponse(name=t.name, partition_responses=[
            _append(ctx.broker, topic, t.name, data, body.transactional_id, now, version) for data in t.partition_data]))
    if body.acks == 0:
        return None
    return R(responses=responses, throttle_time_ms=0)


def _has_transactional_batch(body: ProduceRequest) -> bool:
    for t in body.topic_data:
        for p in t.partition_data:
            records = p.records
            if isinstance(records, (bytes, bytearray, memoryview)) and len(records) >= HEADER_SIZE and \
                    records[MAGIC_OFFSET] == 2 and BatchHeader.parse(records).is_transactional:
                return True
    return False


def _failed(index: int, error: ErrorCode, message: str | None = None,
            log_start_offset: int = -1) -> R.PartitionProduceResponse:
    return R.PartitionProduceResponse(index=index, error_code=error, base_offset=-1, log_append_time_ms=-1,
                                      log_start_offset=log_start_offset, record_errors=[], error_message=message)


# Kafka reports the partition's log start offset beside the errors its log raises (sequence, epoch, transaction
# state), and -1 beside those found before the log is reached (Kafka's ReplicaManager.appendToLocalLog).
_ERRORS_WITHOUT_LOG_START = {ErrorCode.CORRUPT_MESSAGE, ErrorCode.MESSAGE_TOO_LARGE, ErrorCode.RECORD_LIST_TOO_LARGE}


def _topic(broker: Broker, name: str):
    """The topic, or None: Produce never creates one (Kafka creates topics on Metadata requests only)."""
    return broker.store.topic(name)


def _append(broker: Broker, topic, name: str, data, transactional_id, now: int, version: int) -> R.PartitionProduceResponse:
    if topic is None or not 0 <= data.index < topic.partition_count:
        return _failed(data.index, broker.missing_partition_error(name))
    if name in INTERNAL_TOPICS:
        return _failed(data.index, ErrorCode.INVALID_TOPIC_EXCEPTION, "clients cannot write to internal topics")
    error, message = _validate(data.records, version, max_message_bytes(topic.configs))
    if error != ErrorCode.NONE:
        return _failed(data.index, error, message)
    log = broker.store.partition(name, data.index)
    assert log is not None
    first = BatchHeader.parse(data.records)
    if first.is_transactional:
        error = broker.transactions.verify_produce(transactional_id, first, name, data.index, version)
        if error != ErrorCode.NONE:
            return _failed(data.index, error)  # Kafka's transaction verification: before the log, so -1
    result = log.append(data.records, now_ms=now)
    if result.error != ErrorCode.NONE:
        start = -1 if result.error in _ERRORS_WITHOUT_LOG_START else result.log_start_offset
        return _failed(data.index, result.error, log_start_offset=start)
    return R.PartitionProduceResponse(index=data.index, error_code=0, base_offset=result.base_offset,
                                      log_append_time_ms=result.log_append_time, log_start_offset=result.log_start_offset,
                                      record_errors=[], error_message=None)


def _whole_batch(records, pos: int) -> tuple[int, ErrorCode]:
    """(size, NONE) of the batch at `pos` as Kafka's ByteBufferLogInputStream reads it: size 0 when no whole
    batch is there, CORRUPT_MESSAGE for a length or magic no batch can have."""
    left = len(records) - pos
    if left < LOG_OVERHEAD:
        return 0, ErrorCode.NONE
    (length,) = _I32.unpack_from(records, pos + LOG_OVERHEAD - 4)
    if length < LEGACY_RECORD_OVERHEAD:
        return 0, ErrorCode.CORRUPT_MESSAGE
    if left < MAGIC_OFFSET + 1:
        return 0, ErrorCode.NONE
    if not 0 <= records[pos + MAGIC_OFFSET] <= 2:
        return 0, ErrorCode.CORRUPT_MESSAGE
    size = length + LOG_OVERHEAD
    return (size if left >= size else 0), ErrorCode.NONE


def _validate(records, version: int, max_bytes: int) -> tuple[ErrorCode, str | None]:
    """Kafka's ProduceRequest.validateRecords and its batch size check, before anything is appended:
    exactly one whole batch of magic 2 per partition (a truncated batch is no batch)."""
    records = records if records is not None else b""
    size, error = _whole_batch(records, 0)
    if error != ErrorCode.NONE:
        return error, "the records hold a batch length or magic no record batch can have"
    if size == 0:
        return ErrorCode.INVALID_RECORD, "a Produce request must carry one whole record batch per partition"
    if records[MAGIC_OFFSET] != 2:
        return ErrorCode.INVALID_RECORD, "Produce v3 and later must carry record batches with magic 2"
    more, error = _whole_batch(records, size)
    if error != ErrorCode.NONE:
        return error, "the records hold a batch length or magic no record batch can have"
    if more:
        return ErrorCode.INVALID_RECORD, "Produce v3 and later carry exactly one record batch per partition"
    if len(records) < HEADER_SIZE:
        return ErrorCode.CORRUPT_MESSAGE, "the record batch is shorter than its header"
    if version < 7 and BatchHeader.parse(records).compression == ZSTD:
        return ErrorCode.UNSUPPORTED_COMPRESSION_TYPE, "zstd needs Produce v7 or later"
    if len(records) > max_bytes:
        try:
            sizes = [header.size for header, _ in split_batches(records)]
        except RecordsError as e:
            return e.error, str(e)
        if max(sizes) > max_bytes:
            return ErrorCode.MESSAGE_TOO_LARGE, f"a batch is larger than max.message.bytes ({max_bytes})"
    return ErrorCode.NONE, None
