"""SyncGroup: the leader hands in the assignment; every member waits for its own share."""

from typing import Awaitable

from kafkette.broker.auth.acl import Operation, ResourceType
from kafkette.broker.cluster import GROUP
from kafkette.broker.context import RequestContext
from kafkette.broker.groups.state import SyncResult
from kafkette.broker.registry import handles
from kafkette.protocol.errors import ErrorCode
from kafkette.protocol.messages.sync_group import SYNC_GROUP, SyncGroupRequest, SyncGroupResponse

R = SyncGroupResponse


@handles(SYNC_GROUP, versions=(0, 5))
def sync_group(ctx: RequestContext, body: SyncGroupRequest) -> SyncGroupResponse | Awaitable[SyncGroupResponse]:
    version = ctx.version
    if not ctx.authorize(Operation.READ, ResourceType.GROUP, body.group_id):
        return response(SyncResult(ErrorCode.GROUP_AUTHORIZATION_FAILED))
    if refused := ctx.coordinator_error(GROUP, body.group_id):
        return response(SyncResult(refused))
    assignments = {a.member_id: bytes(a.assignment or b"") for a in body.assignments}
    result = ctx.broker.groups.classic.sync(
        body.group_id, body.member_id, body.group_instance_id if version >= 3 else None, body.generation_id,
        body.protocol_type if version >= 5 else None, body.protocol_name if version >= 5 else None,
        assignments, ctx.now_ms())
    if isinstance(result, SyncResult):
        return response(result)
    return _after_assignment(result)


async def _after_assignment(future: Awaitable[SyncResult]) -> R:
    return response(await future)


def response(result: SyncResult) -> R:
    return R(throttle_time_ms=0, error_code=result.error, protocol_type=result.protocol_type,
             protocol_name=result.protocol_name, assignment=result.assignment)
