"""Produce: append each partition's batches verbatim, on the partition's leader (broker.cluster); acks 0, 1
and -1 (a failed acks=0 request closes the connection, as Kafka's does).

Every append happens synchronously, so pipelined Produce requests on one
connection land in the order they were sent; with `--fsync always` the log
fsyncs before the append returns, so the answer always follows durability.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kafkette.broker.context import RequestContext
from kafkette.broker.dispatch import CloseConnection
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
    node = ctx.node_id if ctx.broker.cluster.routed else None  # None: the one node leads everything, at epoch 0
    responses = []
    for t in body.topic_data:
        topic = _topic(ctx.broker, t.name)
        responses.append(R.TopicProduceResponse(name=t.name, partition_responses=[
            _append(ctx.broker, topic, t.name, data, body, now, version, node) for data in t.partition_data]))
    if body.acks == 0:
        if any(p.error_code for t in responses for p in t.partition_responses):
            # Kafka answers nothing to acks=0, so it closes the connection: the client refreshes its metadata
            raise CloseConnection("a Produce with acks=0 failed (Kafka closes the connection so that the "
                                  "producer refreshes its metadata)")
        return None
    response = R(responses=responses, throttle_time_ms=0)
    if node is not None and version >= 10:
        response.node_endpoints = _leader_endpoints(ctx, responses)
    return response


def _failed(index: int, error: ErrorCode, message: str | None = None) -> R.PartitionProduceResponse:
    return R.PartitionProduceResponse(index=index, error_code=error, base_offset=-1, log_append_time_ms=-1,
                                      log_start_offset=-1, record_errors=[], error_message=message)


def _topic(broker: Broker, name: str):
    topic = broker.store.topic(name)
    if topic is None and broker.auto_create(name) == ErrorCode.NONE:
        topic = broker.store.topic(name)
    return topic


def _append(broker: Broker, topic, name: str, data, body: ProduceRequest, now: int, version: int,
            node: int | None) -> R.PartitionProduceResponse:
    if topic is None or not 0 <= data.index < topic.partition_count:
        return _failed(data.index, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION)
    if name in INTERNAL_TOPICS:
        return _failed(data.index, ErrorCode.INVALID_TOPIC_EXCEPTION, "clients cannot write to internal topics")
    leader_epoch = 0
    if node is not None:
        state = broker.cluster.partition(name, data.index)
        assert state is not None  # the cluster places every partition the store holds
        error = state.error_at(node)
        if error != ErrorCode.NONE:
            failed = _failed(data.index, error)
            if version >= 10:  # KIP-951: where the leader is now
                failed.current_leader = R.LeaderIdAndEpoch(leader_id=state.leader, leader_epoch=state.leader_epoch)
            return failed
        leader_epoch = state.leader_epoch
    error, message = _validate(data.records, version, max_message_bytes(topic.configs))
    if error != ErrorCode.NONE:
        return _failed(data.index, error, message)
    if body.acks == -1 and "min.insync.replicas" in topic.configs:
        error, message = _in_sync(broker, name, data.index, int(topic.configs["min.insync.replicas"]))
        if error != ErrorCode.NONE:
            return _failed(data.index, error, message)
    first = BatchHeader.parse(data.records)
    if first.is_transactional:
        error = broker.transactions.verify_produce(body.transactional_id, first, name, data.index, version)
        if error != ErrorCode.NONE:
            return _failed(data.index, error)
    log = broker.store.partition(name, data.index)
    assert log is not None
    result = log.append(data.records, now_ms=now, leader_epoch=leader_epoch)
    if result.error != ErrorCode.NONE:
        return _failed(data.index, result.error)
    return R.PartitionProduceResponse(index=data.index, error_code=0, base_offset=result.base_offset,
                                      log_append_time_ms=result.log_append_time, log_start_offset=result.log_start_offset,
                                      record_errors=[], error_message=None)


def _in_sync(broker: Broker, name: str, index: int, min_isr: int) -> tuple[ErrorCode, str | None]:
    """NOT_ENOUGH_REPLICAS if the in-sync set is smaller than min.insync.replicas (Kafka refuses acks=all then)."""
    state = broker.cluster.partition(name, index)
    assert state is not None  # the cluster places every partition the store holds
    if len(state.isr) >= min_isr:
        return ErrorCode.NONE, None
    return ErrorCode.NOT_ENOUGH_REPLICAS, (f"The size of the current ISR {state.isr} is insufficient to satisfy "
                                           f"the min.isr requirement of {min_isr} for partition {name}-{index}")


def _leader_endpoints(ctx: RequestContext, responses: list) -> list[R.NodeEndpoint]:
    """KIP-951: the addresses of the leaders named in NOT_LEADER_OR_FOLLOWER answers, on the client's listener."""
    leaders = {p.current_leader.leader_id for t in responses for p in t.partition_responses
               if p.error_code == ErrorCode.NOT_LEADER_OR_FOLLOWER and p.current_leader is not None}
    endpoints = []
    for node in sorted(leaders):
        listener = ctx.broker.cluster.listener(node, ctx.listener.name)
        if listener is not None:
            endpoints.append(R.NodeEndpoint(node_id=node, host=listener.advertised[0], port=listener.advertised[1],
                                            rack=None))
    return endpoints


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
