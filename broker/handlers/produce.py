"""Produce: validate each partition's batch as Kafka does (protocol.validation), append it verbatim on the
partition's leader (broker.cluster); acks 0, 1, -1 (a failed acks=0 request closes the connection, as Kafka's does).

Every append happens synchronously, so pipelined Produce requests on one
connection land in the order they were sent; with `--fsync always` the log
fsyncs before the append returns, so the answer always follows durability.
"""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING

from kafkette.broker.auth.acl import Operation, ResourceType
from kafkette.broker.context import RequestContext
from kafkette.broker.dispatch import CloseConnection
from kafkette.broker.internal_topic import INTERNAL_TOPICS
from kafkette.broker.registry import handles
from kafkette.broker.topic_configs import (
    TopicDefaults,
    min_insync_replicas,
    produce_rules,
)
from kafkette.protocol.errors import ErrorCode
from kafkette.protocol.messages.produce import PRODUCE, ProduceRequest, ProduceResponse
from kafkette.protocol.records import HEADER_SIZE, MAGIC_OFFSET, TRANSACTIONAL_BIT
from kafkette.protocol.validation import Rejected, frame_batch, validate_batch

if TYPE_CHECKING:
    from kafkette.broker.state import Broker

R = ProduceResponse
ATTRIBUTES_LOW_BYTE = 22  # the flags byte of the batch's int16 attributes
PRODUCER_ID_OFFSET = 43
_PRODUCER = struct.Struct(">qh")


# Kafka 4 serves v3+ but advertises v0: librdkafka before 2.10 compresses nothing unless ApiVersions lists
# Produce v0 (KAFKA-18659). A v0-v2 request closes the connection, as any unserved version does.
@handles(PRODUCE, versions=(3, 10), advertised_min=0)
def produce(ctx: RequestContext, body: ProduceRequest) -> ProduceResponse | None:
    version = ctx.version
    node = ctx.node_id if ctx.broker.cluster.routed else None  # None: the one node leads everything, at epoch 0
    transactional = _transactional_producers(body)
    if transactional and _transactional_id_refused(ctx, body.transactional_id):
        # Kafka authorizes transactional records against their transactional id before anything else
        # (KafkaApis.handleProduceRequest): none is never authorized
        error = ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED
        responses = [R.TopicProduceResponse(name=t.name, partition_responses=[
            _failed(p.index, error, "Transactional Id authorization failed.") for p in t.partition_data])
            for t in body.topic_data]
    else:
        denied = ctx.denied(Operation.WRITE, ResourceType.TOPIC, body.topic_data)
        error = _request_error(body, transactional)
        now = ctx.now_ms()
        defaults = ctx.broker.topic_defaults(ctx.node_id)  # the configs a topic has not set: this broker's
        responses = [R.TopicProduceResponse(name=t.name, partition_responses=[
            _failed(data.index, ErrorCode.TOPIC_AUTHORIZATION_FAILED) if t.name in denied else
            _append(ctx.broker, _topic(ctx.broker, t.name), t.name, data, body, now, version, node, error, defaults)
            for data in t.partition_data]) for t in body.topic_data]
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


def _transactional_id_refused(ctx: RequestContext, transactional_id: str | None) -> bool:
    return transactional_id is None or not ctx.authorize(Operation.WRITE, ResourceType.TRANSACTIONAL_ID,
                                                         transactional_id)


def _transactional_producers(body: ProduceRequest) -> set[tuple[int, int]]:
    return {producer for t in body.topic_data for p in t.partition_data
            if (producer := _transactional_producer(p.records)) is not None}


def _request_error(body: ProduceRequest, transactional: set[tuple[int, int]]) -> ErrorCode:
    """Errors Kafka gives every authorized partition that exists and is framed (ReplicaManager.appendRecords
    and handleProduceAppend)."""
    if body.acks not in (-1, 0, 1):
        return ErrorCode.INVALID_REQUIRED_ACKS
    if len(transactional) > 1:
        return ErrorCode.INVALID_PRODUCER_ID_MAPPING
    return ErrorCode.NONE


def _transactional_producer(records) -> tuple[int, int] | None:
    """(producer id, epoch) of a transactional v2 batch; one byte read for any other."""
    if (records is None or len(records) < HEADER_SIZE or records[MAGIC_OFFSET] != 2
            or not records[ATTRIBUTES_LOW_BYTE] & TRANSACTIONAL_BIT):
        return None
    producer = _PRODUCER.unpack_from(records, PRODUCER_ID_OFFSET)
    return producer if producer[0] >= 0 else None


def _failed(index: int, error: ErrorCode, message: str | None = None, record_errors: tuple[tuple[int, str], ...] = (),
            log_start_offset: int = -1) -> R.PartitionProduceResponse:
    """A refused partition; record_errors and error_message exist on the wire from Produce v8."""
    return R.PartitionProduceResponse(
        index=index, error_code=error, base_offset=-1, log_append_time_ms=-1, log_start_offset=log_start_offset,
        record_errors=[R.PartitionProduceResponse.BatchIndexAndErrorMessage(batch_index=i, batch_index_error_message=m)
                       for i, m in record_errors],
        error_message=message)


# Kafka reports the partition's log start offset beside the errors its log raises (LogValidator's, sequence,
# epoch, transaction state), and -1 beside those found before the log is reached or listed by
# ReplicaManager.appendToLocalLog as known (corrupt, too large).
_ERRORS_WITHOUT_LOG_START = {ErrorCode.CORRUPT_MESSAGE, ErrorCode.MESSAGE_TOO_LARGE, ErrorCode.RECORD_LIST_TOO_LARGE}


def _log_start(error: ErrorCode, log) -> int:
    return -1 if error in _ERRORS_WITHOUT_LOG_START else log.log_start_offset


def _topic(broker: Broker, name: str):
    """The topic, or None: Produce never creates one (Kafka creates topics on Metadata requests only)."""
    return broker.store.topic(name)


def _append(broker: Broker, topic, name: str, data, body: ProduceRequest, now: int, version: int,
            node: int | None, request_error: ErrorCode, defaults: TopicDefaults) -> R.PartitionProduceResponse:
    """One partition, checked in Kafka's order: it exists and its records are framed (KafkaApis), the
    request-wide errors (ReplicaManager.appendRecords), then what the log decides."""
    if topic is None or not 0 <= data.index < topic.partition_count:
        return _failed(data.index, broker.missing_partition_error(name))
    framed = frame_batch(data.records, version)
    if isinstance(framed, Rejected):
        return _failed(data.index, framed.error, framed.message)
    if request_error != ErrorCode.NONE:
        return _failed(data.index, request_error)
    if name in INTERNAL_TOPICS:
        return _failed(data.index, ErrorCode.INVALID_TOPIC_EXCEPTION, "clients cannot write to internal topics")
    batch, header = framed
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
    if header.is_transactional:
        error = broker.transactions.verify_produce(body.transactional_id, header, name, data.index, version)
        if error != ErrorCode.NONE:
            message = "Partition was not added to the transaction" if error == ErrorCode.INVALID_TXN_STATE else None
            return _failed(data.index, error, message)  # Kafka's transaction verification: before the log, so -1
    log = broker.store.partition(name, data.index)
    assert log is not None
    if body.acks == -1 and (min_isr := min_insync_replicas(topic.configs, defaults)) > 1:
        error, message = _in_sync(broker, name, data.index, min_isr)
        if error != ErrorCode.NONE:
            return _failed(data.index, error, message, log_start_offset=_log_start(error, log))
    checked = validate_batch(batch, header, produce_rules(topic.configs, defaults), now, f"{name}-{data.index}")
    if isinstance(checked, Rejected):
        return _failed(data.index, checked.error, checked.message, checked.record_errors,
                       _log_start(checked.error, log))
    result = log.append(checked, now_ms=now, leader_epoch=leader_epoch)
    if result.error != ErrorCode.NONE:
        return _failed(data.index, result.error, log_start_offset=_log_start(result.error, log))
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

