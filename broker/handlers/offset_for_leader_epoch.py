"""OffsetForLeaderEpoch: the leader epoch never changes on this single node (it is always 0)."""

from kafkette.broker.context import RequestContext
from kafkette.broker.handlers.metadata import LEADER_EPOCH
from kafkette.broker.registry import handles
from kafkette.protocol.errors import ErrorCode
from kafkette.protocol.messages.offset_for_leader_epoch import (
    OFFSET_FOR_LEADER_EPOCH,
    OffsetForLeaderEpochRequest,
    OffsetForLeaderEpochResponse,
)
from kafkette.storage.engine import PartitionEngine

R = OffsetForLeaderEpochResponse


@handles(OFFSET_FOR_LEADER_EPOCH, versions=(0, 4))
def offset_for_leader_epoch(ctx: RequestContext, body: OffsetForLeaderEpochRequest) -> OffsetForLeaderEpochResponse:
    topics = []
    for wanted in body.topics:
        missing = ctx.broker.missing_partition_error(wanted.topic)
        results = [_end_offset(ctx.broker.store.partition(wanted.topic, p.partition), p, missing)
                   for p in wanted.partitions]
        topics.append(R.OffsetForLeaderTopicResult(topic=wanted.topic, partitions=results))
    return R(throttle_time_ms=0, topics=topics)


def _end_offset(log: PartitionEngine | None, p, missing: ErrorCode) -> R.EpochEndOffset:
    if log is None:
        return R.EpochEndOffset(error_code=missing, partition=p.partition)
    if p.current_leader_epoch > LEADER_EPOCH:
        return R.EpochEndOffset(error_code=ErrorCode.UNKNOWN_LEADER_EPOCH, partition=p.partition)
    if p.leader_epoch > LEADER_EPOCH:
        return R.EpochEndOffset(error_code=0, partition=p.partition, leader_epoch=-1, end_offset=-1)
    return R.EpochEndOffset(error_code=0, partition=p.partition, leader_epoch=LEADER_EPOCH,
                            end_offset=log.high_watermark)
