"""OffsetDelete: forget a group's offsets for partitions it does not consume."""

from kafkette.broker.auth.acl import Operation, ResourceType
from kafkette.broker.cluster import GROUP
from kafkette.broker.context import RequestContext
from kafkette.broker.registry import handles
from kafkette.protocol.errors import ErrorCode
from kafkette.protocol.messages.offset_delete import OFFSET_DELETE, OffsetDeleteRequest, OffsetDeleteResponse
from kafkette.protocol.types import TopicPartition

R = OffsetDeleteResponse


@handles(OFFSET_DELETE, versions=(0, 0))
def offset_delete(ctx: RequestContext, body: OffsetDeleteRequest) -> OffsetDeleteResponse:
    if not ctx.authorize(Operation.DELETE, ResourceType.GROUP, body.group_id):
        return R(error_code=ErrorCode.GROUP_AUTHORIZATION_FAILED, throttle_time_ms=0, topics=[])
    denied = ctx.denied(Operation.READ, ResourceType.TOPIC, body.topics)
    if refused := ctx.coordinator_error(GROUP, body.group_id):  # Kafka's top-level error drops the topics' errors
        return R(error_code=refused, throttle_time_ms=0, topics=[])
    tps = [TopicPartition(t.name, p.partition_index) for t in body.topics if t.name not in denied for p in t.partitions]
    error, errors = ctx.broker.groups.offsets.delete(body.group_id, tps, ctx.now_ms())
    if error:
        return R(error_code=error, throttle_time_ms=0, topics=[])
    each = iter(errors)
    return R(error_code=0, throttle_time_ms=0, topics=[
        R.OffsetDeleteResponseTopic(name=t.name, partitions=[
            R.OffsetDeleteResponsePartition(partition_index=p.partition_index, error_code=(
                ErrorCode.TOPIC_AUTHORIZATION_FAILED if t.name in denied else next(each)))
            for p in t.partitions])
        for t in body.topics])
