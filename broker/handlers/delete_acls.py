"""DeleteAcls: remove the ACLs each filter matches and answer them (Kafka's AclApis.handleDeleteAcls and
AclControlManager.deleteAcls)."""

from kafkette.broker.auth.acl import AclFilter, Operation, ResourceType, unparsable
from kafkette.broker.context import RequestContext
from kafkette.broker.dispatch import CloseConnection
from kafkette.broker.registry import handles
from kafkette.protocol.errors import ErrorCode
from kafkette.protocol.messages.delete_acls import DELETE_ACLS, DeleteAclsRequest, DeleteAclsResponse

R = DeleteAclsResponse


@handles(DELETE_ACLS, versions=(1, 3))
def delete_acls(ctx: RequestContext, body: DeleteAclsRequest) -> R:
    filters = body.filters
    if any(unparsable(f.resource_type_filter, f.pattern_type_filter, f.operation, f.permission_type) for f in filters):
        raise CloseConnection("DeleteAcls with an UNKNOWN (0) code, which Kafka cannot parse")
    if not ctx.authorize(Operation.ALTER, ResourceType.CLUSTER):
        return _all(filters, ErrorCode.CLUSTER_AUTHORIZATION_FAILED, "Request DeleteAcls needs ALTER permission.")
    if ctx.broker.authorizer is None:
        return _all(filters, ErrorCode.SECURITY_DISABLED, "No Authorizer is configured.")
    outcomes = ctx.broker.acls.delete([AclFilter.of_codes(
        f.resource_type_filter, f.resource_name_filter, f.pattern_type_filter, f.principal_filter, f.host_filter,
        f.operation, f.permission_type) for f in filters], ctx.now_ms())
    return R(throttle_time_ms=0, filter_results=[R.DeleteAclsFilterResult(
        error_code=o.error, error_message=o.message, matching_acls=[R.DeleteAclsMatchingAcl(
            error_code=0, error_message=None, resource_type=a.resource_type, resource_name=a.name,
            pattern_type=a.pattern_type, principal=a.principal, host=a.host, operation=a.operation,
            permission_type=a.permission) for a in o.matched]) for o in outcomes])


def _all(filters: list, error: ErrorCode, message: str) -> R:
    return R(throttle_time_ms=0, filter_results=[R.DeleteAclsFilterResult(error_code=error, error_message=message,
                                                                          matching_acls=[]) for _ in filters])
