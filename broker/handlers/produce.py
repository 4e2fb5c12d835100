"""Produce: append each partition's batches verbatim; acks 0, 1 and -1.

Every append happens synchronously, so pipelined Produce requests on one
connection land in the order they were sent; with `--fsync always` the log
fsyncs before the append returns, so the answer always follows durability.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kafkette.broker.context import RequestContext
from kafkette.broker.internal_topic import INTERNAL_TOPICS
from kafkette.broker.registry import handles
from kafkette.broker.topic_configs import max_message_bytes
from kafkette.protocol.errors import ErrorCode
from kafkette.protocol.messages.produce import PRODUCE, ProduceRequest, ProduceResponse
from kafkette.protocol.records import HEADER_SIZE, MAGIC_OFFSET, ZSTD, BatchHeader, RecordsError, split_batches

if TYPE_CHECKING:
    from kafkette.broker.state import Broker

R = ProduceResponse


@handles(PRODUCE, versions=(3, 10))
def produce(ctx: RequestContext, body: ProduceRequest) -> ProduceResponse | None:
    version = ctx.version
    if body.acks not in (-1, 0, 1):
        return R(throttle_time_ms=0, responses=[R.TopicProduceResponse(name=t.name, partition_responses=[
            _failed(p.index, ErrorCode.INVALID_REQUIRED_ACKS) for p in t.partition_data]) for t in body.topic_data])
    now = ctx.now_ms()
    responses = []
    for t in body.topic_data:
        topic = _topic(ctx.broker, t.name)
        responses.append(R.TopicProduceResponse(name=t.name, partition_responses=[
            _append(ctx.broker, topic, t.name, data, body.transactional_id, now, version) for data in t.partition_data]))
    if body.acks == 0:
        return None
    return R(responses=responses, throttle_time_ms=0)


def _failed(index: int, error: ErrorCode, message: str | None = None) -> R.PartitionProduceResponse:
    return R.PartitionProduceResponse(index=index, error_code=error, base_offset=-1, log_append_time_ms=-1,
                                      log_start_offset=-1, record_errors=[], error_message=message)


def _topic(broker: Broker, name: str):
    topic = broker.store.topic(name)
    if topic is None and broker.auto_create(name) == ErrorCode.NONE:
        topic = broker.store.topic(name)
    return topic


def _append(broker: Broker, topic, name: str, data, transactional_id, now: int, version: int) -> R.PartitionProduceResponse:
    if topic is None or not 0 <= data.index < topic.partition_count:
        return _failed(data.index, broker.missing_partition_error(name))
    if name in INTERNAL_TOPICS:
        return _failed(data.index, ErrorCode.INVALID_TOPIC_EXCEPTION, "clients cannot write to internal topics")
    error, message = _validate(data.records, version, max_message_bytes(topic.configs))
    if error != ErrorCode.NONE:
        return _failed(data.index, error, message)
    first = BatchHeader.parse(data.records)
    if first.is_transactional:
        error = broker.transactions.verify_produce(transactional_id, first, name, data.index, version)
        if error != ErrorCode.NONE:
            return _failed(data.index, error)
    log = broker.store.partition(name, data.index)
    assert log is not None
    result = log.append(data.records, now_ms=now)
    if result.error != ErrorCode.NONE:
        return _failed(data.index, result.error)
    return R.PartitionProduceResponse(index=data.index, error_code=0, base_offset=result.base_offset,
                                      log_append_time_ms=result.log_append_time, log_start_offset=result.log_start_offset,
                                      record_errors=[], error_message=None)


def _validate(records, version: int, max_bytes: int) -> tuple[ErrorCode, str | None]:
    """Kafka's ProduceRequest.validateRecords and its batch size check, before anything is appended."""
    if records is None or len(records) < HEADER_SIZE:
        return ErrorCode.INVALID_RECORD, "a Produce request must carry at least one record batch per partition"
    if records[MAGIC_OFFSET] != 2:
        return ErrorCode.INVALID_RECORD, "Produce v3 and later must carry record batches with magic 2"
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
