"""OffsetForLeaderEpoch: the leader epoch never changes on this single node (it is always 0)."""

from kafkette.broker.handlers.metadata import LEADER_EPOCH
from kafkette.broker.registry import handles
from kafkette.protocol.errors import ErrorCode
from kafkette.protocol.messages import OFFSET_FOR_LEADER_EPOCH

R = OFFSET_FOR_LEADER_EPOCH.Response


@handles(OFFSET_FOR_LEADER_EPOCH)
def offset_for_leader_epoch(broker, request):
    topics = []
    for wanted in request.body.topics:
        topic = broker.store.topic(wanted.topic)
        results = [_end_offset(topic, p) for p in wanted.partitions]
        topics.append(R.OffsetForLeaderTopicResult(topic=wanted.topic, partitions=results))
    return R(throttle_time_ms=0, topics=topics)


def _end_offset(topic, p) -> R.EpochEndOffset:
    if topic is None or not 0 <= p.partition < len(topic.partitions):
        return R.EpochEndOffset(error_code=ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, partition=p.partition)
    if p.current_leader_epoch > LEADER_EPOCH:
        return R.EpochEndOffset(error_code=ErrorCode.UNKNOWN_LEADER_EPOCH, partition=p.partition)
    if p.leader_epoch > LEADER_EPOCH:
        return R.EpochEndOffset(error_code=0, partition=p.partition, leader_epoch=-1, end_offset=-1)
    return R.EpochEndOffset(error_code=0, partition=p.partition, leader_epoch=LEADER_EPOCH,
                            end_offset=topic.partitions[p.partition].high_watermark)
