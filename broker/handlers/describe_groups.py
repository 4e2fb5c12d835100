"""DescribeGroups: state, protocol and members (with metadata and assignment when Stable) of groups."""

from kafkette.broker.auth.acl import Operation, ResourceType
from kafkette.broker.cluster import GROUP
from kafkette.broker.context import RequestContext
from kafkette.broker.registry import handles
from kafkette.protocol.errors import ErrorCode
from kafkette.protocol.messages.describe_groups import DESCRIBE_GROUPS, DescribeGroupsRequest, DescribeGroupsResponse

R = DescribeGroupsResponse


@handles(DESCRIBE_GROUPS, versions=(0, 5))
def describe_groups(ctx: RequestContext, body: DescribeGroupsRequest) -> DescribeGroupsResponse:
    denied = ctx.denied(Operation.DESCRIBE, ResourceType.GROUP, body.groups, None)
    described = [R.DescribedGroup(error_code=ErrorCode.GROUP_AUTHORIZATION_FAILED, group_id=group_id, group_state="",
                                  protocol_type="", protocol_data="", members=[])
                 for group_id in body.groups if group_id in denied]  # Kafka lists the refused ones first
    ctx.broker.groups.expire(body.groups, ctx.now_ms())
    for group_id in body.groups:
        if group_id in denied:
            continue
        if refused := ctx.coordinator_error(GROUP, group_id):
            described.append(R.DescribedGroup(error_code=refused, group_id=group_id, group_state="", protocol_type="",
                                              protocol_data="", members=[]))
            continue
        operations = ctx.authorized_operations(ResourceType.GROUP, group_id, body.include_authorized_operations)
        s = ctx.broker.groups.classic.describe(group_id)
        described.append(R.DescribedGroup(
            error_code=0, group_id=group_id, group_state=s.state, protocol_type=s.protocol_type,
            protocol_data=s.protocol_name, members=[
                R.DescribedGroupMember(member_id=m.member_id, group_instance_id=m.group_instance_id,
                                       client_id=m.client_id, client_host=m.client_host,
                                       member_metadata=m.metadata, member_assignment=m.assignment)
                for m in s.members], authorized_operations=operations))
    return R(throttle_time_ms=0, groups=described)
