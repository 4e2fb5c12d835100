"""ListOffsets: earliest (-2), latest (-1: HWM, or LSO for read_committed), max timestamp (-3), by time."""

import structlog

from kafkette.broker.context import RequestContext
from kafkette.broker.handlers.metadata import LEADER_EPOCH
from kafkette.broker.registry import handles
from kafkette.protocol.messages.list_offsets import LIST_OFFSETS, ListOffsetsRequest, ListOffsetsResponse
from kafkette.protocol.records import RecordsError
from kafkette.protocol.types import IsolationLevel
from kafkette.storage.engine import PartitionEngine

log = structlog.get_logger()
R = ListOffsetsResponse
LATEST, EARLIEST, MAX_TIMESTAMP = -1, -2, -3


@handles(LIST_OFFSETS, versions=(1, 7))
def list_offsets(ctx: RequestContext, body: ListOffsetsRequest) -> ListOffsetsResponse:
    committed = body.isolation_level == IsolationLevel.READ_COMMITTED
    topics = []
    for wanted in body.topics:
        partitions = []
        for p in wanted.partitions:
            partition = ctx.broker.store.partition(wanted.name, p.partition_index)
            if partition is None:
                partitions.append(R.ListOffsetsPartitionResponse(
                    partition_index=p.partition_index, error_code=ctx.broker.missing_partition_error(wanted.name)))
                continue
            try:
                offset, timestamp = _lookup(partition, p.timestamp, committed)
            except RecordsError as err:  # a stored batch that can't be read: this partition's answer, not the connection's
                log.error("stored batch unreadable", topic=wanted.name, partition=p.partition_index, error=str(err))
                partitions.append(R.ListOffsetsPartitionResponse(partition_index=p.partition_index, error_code=err.error))
                continue
            partitions.append(R.ListOffsetsPartitionResponse(partition_index=p.partition_index, error_code=0,
                                                             timestamp=timestamp, offset=offset,
                                                             leader_epoch=LEADER_EPOCH if offset >= 0 else -1))
        topics.append(R.ListOffsetsTopicResponse(name=wanted.name, partitions=partitions))
    return R(throttle_time_ms=0, topics=topics)


def _lookup(log: PartitionEngine, timestamp: int, committed: bool) -> tuple[int, int]:
    """(offset, timestamp) for one partition; (-1, -1) when no record qualifies."""
    if timestamp == LATEST:
        return (log.last_stable_offset if committed else log.high_watermark), -1
    if timestamp == EARLIEST:
        return log.log_start_offset, -1
    found = log.max_timestamp() if timestamp == MAX_TIMESTAMP else log.offset_for_timestamp(timestamp)
    if found is None:
        return -1, -1
    return found
