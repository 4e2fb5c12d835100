"""Heartbeat: keeps a member's session alive and tells it when the group rebalances."""

from kafkette.broker.registry import handles
from kafkette.broker.state import now_ms
from kafkette.protocol.messages import HEARTBEAT

R = HEARTBEAT.Response


@handles(HEARTBEAT)
def heartbeat(broker, request):
    body, version = request.body, request.header.api_version
    error = broker.groups.heartbeat(body.group_id, body.member_id, body.group_instance_id if version >= 3 else None,
                                    body.generation_id, now_ms())
    return R(throttle_time_ms=0, error_code=error)
