"""DeleteGroups: remove empty groups and their offsets."""

from kafkette.broker.auth.acl import Operation, ResourceType
from kafkette.broker.cluster import GROUP
from kafkette.broker.context import RequestContext
from kafkette.broker.registry import handles
from kafkette.protocol.errors import ErrorCode
from kafkette.protocol.messages.delete_groups import DELETE_GROUPS, DeleteGroupsRequest, DeleteGroupsResponse

R = DeleteGroupsResponse


@handles(DELETE_GROUPS, versions=(0, 2))
def delete_groups(ctx: RequestContext, body: DeleteGroupsRequest) -> DeleteGroupsResponse:
    denied = ctx.denied(Operation.DELETE, ResourceType.GROUP, body.groups_names, None)
    names = [g for g in body.groups_names if g not in denied]
    refused = {g: error for g in names if (error := ctx.coordinator_error(GROUP, g))}
    deleted = iter(ctx.broker.groups.delete_groups([g for g in names if g not in refused], ctx.now_ms()))
    return R(throttle_time_ms=0, results=[R.DeletableGroupResult(group_id=g, error_code=refused.get(g) or next(deleted))
                                          for g in names] +
             [R.DeletableGroupResult(group_id=g, error_code=ErrorCode.GROUP_AUTHORIZATION_FAILED)
              for g in body.groups_names if g in denied])
