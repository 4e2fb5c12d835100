"""JoinGroup: join or rejoin a classic group; a long poll while the group rebalances."""

from typing import Awaitable

from kafkette.broker.auth.acl import Operation, ResourceType
from kafkette.broker.cluster import GROUP
from kafkette.broker.context import RequestContext
from kafkette.broker.groups.state import JoinRequest, JoinResult
from kafkette.broker.registry import handles
from kafkette.protocol.errors import ErrorCode
from kafkette.protocol.messages.join_group import JOIN_GROUP, JoinGroupRequest, JoinGroupResponse

R = JoinGroupResponse


@handles(JOIN_GROUP, versions=(0, 9))
def join_group(ctx: RequestContext, body: JoinGroupRequest) -> JoinGroupResponse | Awaitable[JoinGroupResponse]:
    version = ctx.version
    if not ctx.authorize(Operation.READ, ResourceType.GROUP, body.group_id):
        return response(JoinResult(ErrorCode.GROUP_AUTHORIZATION_FAILED, member_id=""), version)
    if refused := ctx.coordinator_error(GROUP, body.group_id):
        return response(JoinResult(refused, body.member_id), version)
    req = JoinRequest(
        member_id=body.member_id,
        group_instance_id=body.group_instance_id if version >= 5 else None,
        client_id=ctx.client_id or "",
        client_host=ctx.client_host,
        session_timeout_ms=body.session_timeout_ms,
        rebalance_timeout_ms=body.rebalance_timeout_ms if version >= 1 else body.session_timeout_ms,
        protocol_type=body.protocol_type,
        protocols=[(p.name, bytes(p.metadata or b"")) for p in body.protocols],
        require_known_member_id=version >= 4,
    )
    result = ctx.broker.groups.classic.join(body.group_id, req, ctx.now_ms())
    if isinstance(result, JoinResult):
        return response(result, version)
    return _after_rebalance(result, version)


async def _after_rebalance(future: Awaitable[JoinResult], version: int) -> R:
    return response(await future, version)


def response(result: JoinResult, version: int) -> R:
    return R(
        throttle_time_ms=0,
        error_code=result.error,
        generation_id=result.generation_id,
        protocol_type=result.protocol_type,
        protocol_name=result.protocol_name if version >= 7 else (result.protocol_name or ""),
        leader=result.leader,
        skip_assignment=result.skip_assignment,
        member_id=result.member_id,
        members=[R.JoinGroupResponseMember(member_id=m, group_instance_id=i, metadata=data)
                 for m, i, data in result.members],
    )
