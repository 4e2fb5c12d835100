"""LeaveGroup: one member (v0-2) or a batch of members, dynamic or static (v3+), leave a group."""

from kafkette.broker.auth.acl import Operation, ResourceType
from kafkette.broker.cluster import GROUP
from kafkette.broker.context import RequestContext
from kafkette.broker.registry import handles
from kafkette.protocol.errors import ErrorCode
from kafkette.protocol.messages.leave_group import LEAVE_GROUP, LeaveGroupRequest, LeaveGroupResponse

R = LeaveGroupResponse


@handles(LEAVE_GROUP, versions=(0, 5))
def leave_group(ctx: RequestContext, body: LeaveGroupRequest) -> LeaveGroupResponse:
    version = ctx.version
    if not ctx.authorize(Operation.READ, ResourceType.GROUP, body.group_id):
        return R(throttle_time_ms=0, error_code=ErrorCode.GROUP_AUTHORIZATION_FAILED)
    if refused := ctx.coordinator_error(GROUP, body.group_id):
        return R(throttle_time_ms=0, error_code=refused, members=[])
    leaving: list[tuple[str, str | None]]
    if version < 3:
        leaving = [(body.member_id, None)]
    else:
        leaving = [(m.member_id, m.group_instance_id) for m in body.members]
    group_error, errors = ctx.broker.groups.classic.leave(body.group_id, leaving, ctx.now_ms())
    if version < 3:
        # One member: its error is the response's (Kafka's LeaveGroupResponse for v0-2).
        first = next((e for e in errors if e), 0)
        return R(throttle_time_ms=0, error_code=group_error or first)
    return R(throttle_time_ms=0, error_code=group_error,
             members=[R.MemberResponse(member_id=m, group_instance_id=i, error_code=e)
                      for (m, i), e in zip(leaving, errors)])
