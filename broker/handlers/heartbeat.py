"""Heartbeat: keeps a member's session alive and tells it when the group rebalances."""

from kafkette.broker.auth.acl import Operation, ResourceType
from kafkette.broker.cluster import GROUP
from kafkette.broker.context import RequestContext
from kafkette.broker.registry import handles
from kafkette.protocol.errors import ErrorCode
from kafkette.protocol.messages.heartbeat import HEARTBEAT, HeartbeatRequest, HeartbeatResponse

R = HeartbeatResponse


@handles(HEARTBEAT, versions=(0, 4))
def heartbeat(ctx: RequestContext, body: HeartbeatRequest) -> HeartbeatResponse:
    version = ctx.version
    if not ctx.authorize(Operation.READ, ResourceType.GROUP, body.group_id):
        return R(throttle_time_ms=0, error_code=ErrorCode.GROUP_AUTHORIZATION_FAILED)
    if refused := ctx.coordinator_error(GROUP, body.group_id):
        return R(throttle_time_ms=0, error_code=refused)
    error = ctx.broker.groups.classic.heartbeat(body.group_id, body.member_id, body.group_instance_id if version >= 3 else None,
                                    body.generation_id, ctx.now_ms())
    return R(throttle_time_ms=0, error_code=error)
