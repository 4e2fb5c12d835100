"""DescribeProducers: the producer state of partitions (ids, epochs, sequences, open transactions)."""

from __future__ import annotations

from kafkette.broker.auth.acl import AUTHORIZATION_MESSAGES, Operation, ResourceType
from kafkette.broker.context import RequestContext
from kafkette.broker.registry import handles
from kafkette.protocol.errors import ErrorCode
from kafkette.protocol.messages.describe_producers import (
    DESCRIBE_PRODUCERS,
    DescribeProducersRequest,
    DescribeProducersResponse,
)

R = DescribeProducersResponse


@handles(DESCRIBE_PRODUCERS, versions=(0, 0))
def describe_producers(ctx: RequestContext, body: DescribeProducersRequest) -> DescribeProducersResponse:
    denied = ctx.denied(Operation.READ, ResourceType.TOPIC, body.topics)
    return R(throttle_time_ms=0, topics=[
        R.TopicResponse(name=t.name, partitions=[
            R.PartitionResponse(partition_index=p, error_code=ErrorCode.TOPIC_AUTHORIZATION_FAILED,
                                error_message=AUTHORIZATION_MESSAGES[ErrorCode.TOPIC_AUTHORIZATION_FAILED],
                                active_producers=[]) if t.name in denied else _partition(ctx, t.name, p)
            for p in t.partition_indexes])
        for t in body.topics])


def _partition(ctx: RequestContext, topic: str, partition: int) -> R.PartitionResponse:
    log = ctx.broker.store.partition(topic, partition)
    # any replica answers (Kafka's Partition.activeProducerState reads the local log, leader or not)
    refused = ctx.broker.missing_partition_error(topic) if log is None else \
        ctx.partition_error(topic, partition, leader_only=False)
    if log is None or refused != ErrorCode.NONE:
        return R.PartitionResponse(partition_index=partition, error_code=refused, error_message=None,
                                   active_producers=[])
    return R.PartitionResponse(partition_index=partition, error_code=0, error_message=None, active_producers=[
        R.ProducerState(producer_id=p.producer_id, producer_epoch=p.epoch, last_sequence=p.last_sequence,
                        last_timestamp=p.last_timestamp, coordinator_epoch=p.coordinator_epoch,
                        current_txn_start_offset=p.current_txn_start_offset)
        for p in log.producers_info()])
