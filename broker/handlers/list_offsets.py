"""ListOffsets: earliest (-2), latest (-1: HWM, or LSO for read_committed), max timestamp (-3), by time;
on the partition's leader (broker.cluster), with the leader epoch of the offset found."""

import structlog

from kafkette.broker.auth.acl import Operation, ResourceType
from kafkette.broker.cluster import PartitionState
from kafkette.broker.context import RequestContext
from kafkette.broker.registry import handles
from kafkette.protocol.errors import ErrorCode
from kafkette.protocol.messages.list_offsets import LIST_OFFSETS, ListOffsetsRequest, ListOffsetsResponse
from kafkette.protocol.records import RecordsError
from kafkette.protocol.types import IsolationLevel
from kafkette.storage.engine import PartitionEngine

log = structlog.get_logger()
R = ListOffsetsResponse
LATEST, EARLIEST, MAX_TIMESTAMP = -1, -2, -3
DEBUGGING_REPLICA_ID = -2  # may ask a follower


@handles(LIST_OFFSETS, versions=(1, 7))
def list_offsets(ctx: RequestContext, body: ListOffsetsRequest) -> ListOffsetsResponse:
    committed = body.isolation_level == IsolationLevel.READ_COMMITTED
    denied = ctx.denied(Operation.DESCRIBE, ResourceType.TOPIC, body.topics)
    topics = []
    for wanted in body.topics:
        if wanted.name in denied:
            topics.append(R.ListOffsetsTopicResponse(name=wanted.name, partitions=[R.ListOffsetsPartitionResponse(
                partition_index=p.partition_index, error_code=ErrorCode.TOPIC_AUTHORIZATION_FAILED)
                for p in wanted.partitions]))
            continue
        partitions = []
        for p in wanted.partitions:
            partition = ctx.broker.store.partition(wanted.name, p.partition_index)
            error = ctx.broker.missing_partition_error(wanted.name) if partition is None else \
                ctx.partition_error(wanted.name, p.partition_index, p.current_leader_epoch,
                                    leader_only=body.replica_id != DEBUGGING_REPLICA_ID)
            if partition is None or error != ErrorCode.NONE:
                partitions.append(R.ListOffsetsPartitionResponse(partition_index=p.partition_index, error_code=error))
                continue
            state = ctx.broker.cluster.partition(wanted.name, p.partition_index)
            assert state is not None  # the cluster places every partition the store holds
            try:
                partitions.append(_lookup(partition, state, p.partition_index, p.timestamp, committed))
            except RecordsError as err:  # a stored batch that can't be read: this partition's answer, not the connection's
                log.error("stored batch unreadable", topic=wanted.name, partition=p.partition_index, error=str(err))
                partitions.append(R.ListOffsetsPartitionResponse(partition_index=p.partition_index, error_code=err.error))
        topics.append(R.ListOffsetsTopicResponse(name=wanted.name, partitions=partitions))
    return R(throttle_time_ms=0, topics=topics)


def _lookup(partition: PartitionEngine, state: PartitionState, index: int, timestamp: int,
            committed: bool) -> R.ListOffsetsPartitionResponse:
    """The offset and timestamp found, and the epoch of the leader that wrote it (the current one for latest)."""
    if timestamp == LATEST:
        offset = partition.last_stable_offset if committed else partition.high_watermark
        found_at, epoch = -1, state.leader_epoch
    elif timestamp == EARLIEST:
        offset, found_at = partition.log_start_offset, -1
        epoch = state.epoch_at(offset)
    else:
        found = partition.max_timestamp() if timestamp == MAX_TIMESTAMP else partition.offset_for_timestamp(timestamp)
        if found is None:  # no record qualifies
            return R.ListOffsetsPartitionResponse(partition_index=index, error_code=0)
        offset, found_at = found
        epoch = state.epoch_at(offset)
    return R.ListOffsetsPartitionResponse(partition_index=index, error_code=0, timestamp=found_at, offset=offset,
                                          leader_epoch=epoch)
