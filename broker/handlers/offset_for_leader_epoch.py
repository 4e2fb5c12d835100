"""OffsetForLeaderEpoch: where a leader epoch ends, from the partition's leader-epoch history (broker.cluster)."""

from operator import attrgetter

from kafkette.broker.auth.acl import Operation, ResourceType
from kafkette.broker.context import RequestContext
from kafkette.broker.registry import handles
from kafkette.protocol.errors import ErrorCode
from kafkette.protocol.messages.offset_for_leader_epoch import (
    OFFSET_FOR_LEADER_EPOCH,
    OffsetForLeaderEpochRequest,
    OffsetForLeaderEpochResponse,
)

R = OffsetForLeaderEpochResponse
TOPIC_NAME = attrgetter("topic")


@handles(OFFSET_FOR_LEADER_EPOCH, versions=(0, 4))
def offset_for_leader_epoch(ctx: RequestContext, body: OffsetForLeaderEpochRequest) -> OffsetForLeaderEpochResponse:
    # the followers' API, which consumers use too (KIP-320): CLUSTER_ACTION, else DESCRIBE on each topic
    denied = ctx.denied(Operation.DESCRIBE, ResourceType.TOPIC, body.topics, TOPIC_NAME) \
        if not ctx.authorize(Operation.CLUSTER_ACTION, ResourceType.CLUSTER, log=False) else frozenset()
    topics = []
    for wanted in body.topics:
        if wanted.topic in denied:
            topics.append(R.OffsetForLeaderTopicResult(topic=wanted.topic, partitions=[R.EpochEndOffset(
                error_code=ErrorCode.TOPIC_AUTHORIZATION_FAILED, partition=p.partition) for p in wanted.partitions]))
            continue
        results = [_end_offset(ctx, wanted.topic, p) for p in wanted.partitions]
        topics.append(R.OffsetForLeaderTopicResult(topic=wanted.topic, partitions=results))
    return R(throttle_time_ms=0, topics=topics)


def _end_offset(ctx: RequestContext, topic: str, p) -> R.EpochEndOffset:
    log = ctx.broker.store.partition(topic, p.partition)
    if log is None:
        return R.EpochEndOffset(error_code=ctx.broker.missing_partition_error(topic), partition=p.partition)
    error = ctx.partition_error(topic, p.partition, p.current_leader_epoch)
    state = ctx.broker.cluster.partition(topic, p.partition)
    if error != ErrorCode.NONE or state is None:
        return R.EpochEndOffset(error_code=error, partition=p.partition)
    epoch, end_offset = state.end_offset_for(p.leader_epoch, log.high_watermark)
    return R.EpochEndOffset(error_code=0, partition=p.partition, leader_epoch=epoch, end_offset=end_offset)
