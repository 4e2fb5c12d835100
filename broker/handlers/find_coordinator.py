"""FindCoordinator: the node coordinating a group or transactional id (broker.cluster), on the client's listener."""

from kafkette.broker.cluster import COORDINATOR_TOPICS, GROUP
from kafkette.broker.context import RequestContext
from kafkette.broker.registry import handles
from kafkette.protocol.errors import ErrorCode
from kafkette.protocol.messages.find_coordinator import (
    FIND_COORDINATOR,
    FindCoordinatorRequest,
    FindCoordinatorResponse,
)

R = FindCoordinatorResponse
NOT_AVAILABLE_MESSAGE = "The coordinator is not available."


@handles(FIND_COORDINATOR, versions=(0, 4))
def find_coordinator(ctx: RequestContext, body: FindCoordinatorRequest) -> FindCoordinatorResponse:
    key_type = body.key_type if ctx.version >= 1 else GROUP
    if ctx.version >= 4:
        return R(throttle_time_ms=0, coordinators=[R.Coordinator(key=key, **_find(ctx, key_type, key))
                                                    for key in body.coordinator_keys])
    return R(throttle_time_ms=0, **_find(ctx, key_type, body.key))


def _find(ctx: RequestContext, key_type: int, key: str) -> dict:
    """node_id, host, port, error_code and error_message of the coordinator of `key`."""
    if key_type not in COORDINATOR_TOPICS:
        return _not_found(ErrorCode.INVALID_REQUEST, f"Unknown coordinator type received: {key_type}")
    cluster = ctx.broker.cluster
    node = cluster.coordinator(key_type, key)
    listener = cluster.listener(node, ctx.listener.name)
    if listener is None:  # its partition has no leader: every in-sync replica is down
        return _not_found(ErrorCode.COORDINATOR_NOT_AVAILABLE, NOT_AVAILABLE_MESSAGE)
    host, port = listener.advertised
    return {"node_id": node, "host": host, "port": port, "error_code": 0, "error_message": None}


def _not_found(error: ErrorCode, message: str) -> dict:
    return {"node_id": -1, "host": "", "port": -1, "error_code": error, "error_message": message}
