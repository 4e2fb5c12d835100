"""ListOffsets: earliest (-2), latest (-1: HWM, or LSO for read_committed), max timestamp (-3), by time."""

from kafkette.broker.handlers.metadata import LEADER_EPOCH
from kafkette.broker.registry import handles
from kafkette.protocol.errors import ErrorCode
from kafkette.protocol.messages import LIST_OFFSETS

R = LIST_OFFSETS.Response
LATEST, EARLIEST, MAX_TIMESTAMP = -1, -2, -3


@handles(LIST_OFFSETS)
def list_offsets(broker, request):
    body = request.body
    committed = body.isolation_level == 1
    topics = []
    for wanted in body.topics:
        topic = broker.store.topic(wanted.name)
        partitions = []
        for p in wanted.partitions:
            if topic is None or not 0 <= p.partition_index < len(topic.partitions):
                partitions.append(R.ListOffsetsPartitionResponse(
                    partition_index=p.partition_index, error_code=ErrorCode.UNKNOWN_TOPIC_OR_PARTITION))
                continue
            offset, timestamp = _lookup(topic.partitions[p.partition_index], p.timestamp, committed)
            partitions.append(R.ListOffsetsPartitionResponse(partition_index=p.partition_index, error_code=0,
                                                             timestamp=timestamp, offset=offset,
                                                             leader_epoch=LEADER_EPOCH))
        topics.append(R.ListOffsetsTopicResponse(name=wanted.name, partitions=partitions))
    return R(throttle_time_ms=0, topics=topics)


def _lookup(log, timestamp: int, committed: bool) -> tuple[int, int]:
    """(offset, timestamp) for one partition; (-1, -1) when no record qualifies."""
    if timestamp == LATEST:
        return (log.last_stable_offset if committed else log.high_watermark), -1
    if timestamp == EARLIEST:
        return log.log_start_offset, -1
    found = log.max_timestamp() if timestamp == MAX_TIMESTAMP else log.offset_for_timestamp(timestamp)
    if found is None:
        return -1, -1
    return found
