"""DescribeAcls: the ACLs a filter matches, grouped by resource pattern (Kafka's AclApis.handleDescribeAcls)."""

from itertools import groupby

from kafkette.broker.auth.acl import AclFilter, Operation, ResourceType, unparsable
from kafkette.broker.context import RequestContext
from kafkette.broker.dispatch import CloseConnection
from kafkette.broker.registry import handles
from kafkette.protocol.errors import ErrorCode
from kafkette.protocol.messages.describe_acls import DESCRIBE_ACLS, DescribeAclsRequest, DescribeAclsResponse

R = DescribeAclsResponse


@handles(DESCRIBE_ACLS, versions=(1, 3))
def describe_acls(ctx: RequestContext, body: DescribeAclsRequest) -> R:
    if unparsable(body.resource_type_filter, body.pattern_type_filter, body.operation, body.permission_type):
        raise CloseConnection("DescribeAcls with an UNKNOWN (0) code, which Kafka cannot parse")
    if not ctx.authorize(Operation.DESCRIBE, ResourceType.CLUSTER):
        return R(throttle_time_ms=0, error_code=ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
                 error_message="Request DescribeAcls needs DESCRIBE permission.", resources=[])
    if ctx.broker.authorizer is None:
        return R(throttle_time_ms=0, error_code=ErrorCode.SECURITY_DISABLED,
                 error_message="No Authorizer is configured on the broker", resources=[])
    acl_filter = AclFilter.of_codes(body.resource_type_filter, body.resource_name_filter, body.pattern_type_filter,
                                    body.principal_filter, body.host_filter, body.operation, body.permission_type)
    acls = ctx.broker.acls.describe(acl_filter)  # sorted: each resource pattern's ACLs are together
    return R(throttle_time_ms=0, error_code=0, error_message=None, resources=[
        R.DescribeAclsResource(resource_type=resource_type, resource_name=name, pattern_type=pattern_type, acls=[
            R.AclDescription(principal=a.principal, host=a.host, operation=a.operation, permission_type=a.permission)
            for a in same])
        for (resource_type, name, pattern_type), same in groupby(acls, key=lambda a: a[:3])])
