"""FindCoordinator: this single node coordinates every group and every transactional id."""

from kafkette.broker.auth.acl import AUTHORIZATION_MESSAGES, Operation, ResourceType
from kafkette.broker.context import RequestContext
from kafkette.broker.registry import handles
from kafkette.protocol.errors import ErrorCode
from kafkette.protocol.messages.find_coordinator import (
    FIND_COORDINATOR,
    FindCoordinatorRequest,
    FindCoordinatorResponse,
)

R = FindCoordinatorResponse


GROUP, TRANSACTION = 0, 1  # Kafka also knows 2 (share groups), which kafkette does not serve


@handles(FIND_COORDINATOR, versions=(0, 4))
def find_coordinator(ctx: RequestContext, body: FindCoordinatorRequest) -> FindCoordinatorResponse:
    host, port = ctx.listener.advertised
    here = (ctx.node_id, host, port)
    if ctx.version >= 4:
        coordinators = []
        for key in body.coordinator_keys:
            error, message = _refusal(ctx, body.key_type, key)
            node, host, port = (-1, "", -1) if error else here
            coordinators.append(R.Coordinator(key=key, node_id=node, host=host, port=port, error_code=error,
                                              error_message=None if error in AUTHORIZATION_MESSAGES else message))
        return R(throttle_time_ms=0, coordinators=coordinators)
    error, message = _refusal(ctx, body.key_type, body.key)
    node, host, port = (-1, "", -1) if error else here
    return R(throttle_time_ms=0, error_code=error, error_message=message, node_id=node, host=host, port=port)


def _refusal(ctx: RequestContext, key_type: int, key: str) -> tuple[ErrorCode, str | None]:
    """Why the coordinator of `key` is not told, if it is not: an unknown key type, or no DESCRIBE on the group or
    transactional id."""
    if key_type not in (GROUP, TRANSACTION):
        return ErrorCode.INVALID_REQUEST, f"unknown coordinator key type {key_type}: 0 is a group, 1 a transactional id"
    if key_type == GROUP and not ctx.authorize(Operation.DESCRIBE, ResourceType.GROUP, key):
        error = ErrorCode.GROUP_AUTHORIZATION_FAILED
    elif key_type == TRANSACTION and not ctx.authorize(Operation.DESCRIBE, ResourceType.TRANSACTIONAL_ID, key):
        error = ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED
    else:
        return ErrorCode.NONE, None
    return error, AUTHORIZATION_MESSAGES[error]
