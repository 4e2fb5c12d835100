"""DescribeProducers: the producer state of partitions (ids, epochs, sequences, open transactions)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kafkette.broker.context import RequestContext
from kafkette.broker.registry import handles
from kafkette.protocol.messages.describe_producers import (
    DESCRIBE_PRODUCERS,
    DescribeProducersRequest,
    DescribeProducersResponse,
)

if TYPE_CHECKING:
    from kafkette.broker.state import Broker

R = DescribeProducersResponse


@handles(DESCRIBE_PRODUCERS, versions=(0, 0))
def describe_producers(ctx: RequestContext, body: DescribeProducersRequest) -> DescribeProducersResponse:
    return R(throttle_time_ms=0, topics=[
        R.TopicResponse(name=t.name, partitions=[_partition(ctx.broker, t.name, p) for p in t.partition_indexes])
        for t in body.topics])


def _partition(broker: Broker, topic: str, partition: int) -> R.PartitionResponse:
    log = broker.store.partition(topic, partition)
    if log is None:
        return R.PartitionResponse(partition_index=partition, error_code=broker.missing_partition_error(topic),
                                   error_message=None, active_producers=[])
    return R.PartitionResponse(partition_index=partition, error_code=0, error_message=None, active_producers=[
        R.ProducerState(producer_id=p.producer_id, producer_epoch=p.epoch, last_sequence=p.last_sequence,
                        last_timestamp=p.last_timestamp, coordinator_epoch=p.coordinator_epoch,
                        current_txn_start_offset=p.current_txn_start_offset)
        for p in log.producers_info()])
