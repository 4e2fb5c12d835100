"""ConsumerGroupHeartbeat: join, stay in and leave a consumer-protocol (KIP-848) group; the broker assigns."""

from kafkette.broker.auth.acl import Operation, ResourceType
from kafkette.broker.cluster import GROUP, NOT_COORDINATOR_MESSAGE
from kafkette.broker.context import RequestContext
from kafkette.broker.groups.consumer_group import HeartbeatRequest
from kafkette.broker.registry import handles
from kafkette.protocol.errors import ErrorCode
from kafkette.protocol.messages.consumer_group_heartbeat import (
    CONSUMER_GROUP_HEARTBEAT,
    ConsumerGroupHeartbeatRequest,
    ConsumerGroupHeartbeatResponse,
)

R = ConsumerGroupHeartbeatResponse


@handles(CONSUMER_GROUP_HEARTBEAT, versions=(0, 1))
def consumer_group_heartbeat(ctx: RequestContext, body: ConsumerGroupHeartbeatRequest) -> ConsumerGroupHeartbeatResponse:
    version = ctx.version
    if not ctx.authorize(Operation.READ, ResourceType.GROUP, body.group_id):
        return R(throttle_time_ms=0, error_code=ErrorCode.GROUP_AUTHORIZATION_FAILED)
    if body.subscribed_topic_names and ctx.denied(Operation.DESCRIBE, ResourceType.TOPIC, body.subscribed_topic_names,
                                                  None):
        return R(throttle_time_ms=0, error_code=ErrorCode.TOPIC_AUTHORIZATION_FAILED)
    if refused := ctx.coordinator_error(GROUP, body.group_id):
        return R(throttle_time_ms=0, error_code=refused, error_message=NOT_COORDINATOR_MESSAGE, member_id=None,
                 member_epoch=0, heartbeat_interval_ms=0, assignment=None)
    owned = None if body.topic_partitions is None else [(t.topic_id, list(t.partitions))
                                                         for t in body.topic_partitions]
    req = HeartbeatRequest(
        member_id=body.member_id, member_epoch=body.member_epoch, instance_id=body.instance_id,
        rack_id=body.rack_id, rebalance_timeout_ms=body.rebalance_timeout_ms,
        subscribed_topic_names=body.subscribed_topic_names,
        subscribed_topic_regex=body.subscribed_topic_regex if version >= 1 else None,
        server_assignor=body.server_assignor, owned=owned,
        client_id=ctx.client_id or "", client_host=ctx.client_host)
    result = ctx.broker.groups.consumer.heartbeat(body.group_id, req, version, ctx.now_ms())
    assignment = None
    if result.assignment is not None:
        assignment = R.Assignment(topic_partitions=[
            R.Assignment.TopicPartitions(topic_id=topic_id, partitions=sorted(partitions))
            for topic_id, partitions in sorted(result.assignment.items())])
    return R(throttle_time_ms=0, error_code=result.error, error_message=result.message,
             member_id=result.member_id, member_epoch=result.member_epoch,
             heartbeat_interval_ms=result.heartbeat_interval_ms, assignment=assignment)
