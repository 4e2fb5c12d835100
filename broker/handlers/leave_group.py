"""LeaveGroup: one member (v0-2) or a batch of members, dynamic or static (v3+), leave a group."""

from kafkette.broker.registry import handles
from kafkette.broker.state import now_ms
from kafkette.protocol.messages import LEAVE_GROUP

R = LEAVE_GROUP.Response


@handles(LEAVE_GROUP)
def leave_group(broker, request):
    body, version = request.body, request.header.api_version
    if version < 3:
        leaving = [(body.member_id, None)]
    else:
        leaving = [(m.member_id, m.group_instance_id) for m in body.members]
    group_error, errors = broker.groups.leave_group(body.group_id, leaving, now_ms())
    if version < 3:
        # One member: its error is the response's (Kafka's LeaveGroupResponse for v0-2).
        first = next((e for e in errors if e), 0)
        return R(throttle_time_ms=0, error_code=group_error or first)
    return R(throttle_time_ms=0, error_code=group_error,
             members=[R.MemberResponse(member_id=m, group_instance_id=i, error_code=e)
                      for (m, i), e in zip(leaving, errors)])
