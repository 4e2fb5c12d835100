"""CreateAcls: add ACLs, stored before answering (Kafka's AclApis.handleCreateAcls and AclControlManager)."""

from kafkette.broker.auth.acl import AclBinding, Operation, ResourceType, unparsable
from kafkette.broker.context import RequestContext
from kafkette.broker.dispatch import CloseConnection
from kafkette.broker.registry import handles
from kafkette.protocol.errors import ErrorCode
from kafkette.protocol.messages.create_acls import CREATE_ACLS, CreateAclsRequest, CreateAclsResponse

R = CreateAclsResponse


@handles(CREATE_ACLS, versions=(1, 3))
def create_acls(ctx: RequestContext, body: CreateAclsRequest) -> R:
    creations = body.creations
    if any(unparsable(c.resource_type, c.resource_pattern_type, c.operation, c.permission_type) for c in creations):
        raise CloseConnection("CreateAcls with an UNKNOWN (0) code, which Kafka cannot parse")
    if not ctx.authorize(Operation.ALTER, ResourceType.CLUSTER):
        return _all(creations, ErrorCode.CLUSTER_AUTHORIZATION_FAILED, "Request CreateAcls needs ALTER permission.")
    if ctx.broker.authorizer is None:
        return _all(creations, ErrorCode.SECURITY_DISABLED, "No Authorizer is configured.")
    outcomes = ctx.broker.acls.create([AclBinding.of_codes(
        c.resource_type, c.resource_name, c.resource_pattern_type, c.principal, c.host, c.operation, c.permission_type)
        for c in creations], ctx.now_ms())
    return R(throttle_time_ms=0, results=[R.AclCreationResult(error_code=o.error, error_message=o.message)
                                          for o in outcomes])


def _all(creations: list, error: ErrorCode, message: str) -> R:
    return R(throttle_time_ms=0, results=[R.AclCreationResult(error_code=error, error_message=message)
                                          for _ in creations])
