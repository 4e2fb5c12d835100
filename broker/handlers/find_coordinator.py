"""FindCoordinator: this single node coordinates every group and every transactional id."""

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
    node = ctx.node_id
    error = ErrorCode.NONE if body.key_type in (GROUP, TRANSACTION) else ErrorCode.INVALID_REQUEST
    found = (node, host, port) if error == ErrorCode.NONE else (-1, "", -1)
    message = None if error == ErrorCode.NONE else f"unknown coordinator key type {body.key_type}: 0 is a group, 1 a transactional id"
    if ctx.version >= 4:
        return R(throttle_time_ms=0, coordinators=[
            R.Coordinator(key=key, node_id=found[0], host=found[1], port=found[2], error_code=error,
                          error_message=message) for key in body.coordinator_keys])
    return R(throttle_time_ms=0, error_code=error, error_message=message, node_id=found[0], host=found[1],
             port=found[2])
