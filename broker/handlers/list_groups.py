"""ListGroups: every group, filtered by state (v4+) and type (v5+)."""

from operator import itemgetter

from kafkette.broker.auth.acl import Operation, ResourceType
from kafkette.broker.cluster import GROUP
from kafkette.broker.context import RequestContext
from kafkette.broker.registry import handles
from kafkette.protocol.messages.list_groups import LIST_GROUPS, ListGroupsRequest, ListGroupsResponse

R = ListGroupsResponse


@handles(LIST_GROUPS, versions=(0, 5))
def list_groups(ctx: RequestContext, body: ListGroupsRequest) -> ListGroupsResponse:
    version = ctx.version
    states = body.states_filter if version >= 4 else ()
    types = body.types_filter if version >= 5 else ()
    ctx.broker.groups.expire(None, ctx.now_ms())
    listed = [g for g in ctx.broker.groups.list_groups(states, types)
              if not ctx.coordinator_error(GROUP, g[0])]  # each broker lists the groups it coordinates
    # DESCRIBE on the cluster lists every group; else only those the principal may describe
    hidden = ctx.denied(Operation.DESCRIBE, ResourceType.GROUP, listed, itemgetter(0), log=False) \
        if not ctx.authorize(Operation.DESCRIBE, ResourceType.CLUSTER, log=False) else frozenset()
    return R(throttle_time_ms=0, error_code=0, groups=[
        R.ListedGroup(group_id=g, protocol_type=ptype, group_state=state, group_type=gtype)
        for g, ptype, state, gtype in listed if g not in hidden])
