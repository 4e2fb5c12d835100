"""FindCoordinator: this single node coordinates every group and every transactional id."""

from kafkette.broker.context import RequestContext
from kafkette.broker.registry import handles
from kafkette.protocol.messages.find_coordinator import (
    FIND_COORDINATOR,
    FindCoordinatorRequest,
    FindCoordinatorResponse,
)

R = FindCoordinatorResponse


@handles(FIND_COORDINATOR, versions=(0, 4))
def find_coordinator(ctx: RequestContext, body: FindCoordinatorRequest) -> FindCoordinatorResponse:
    host, port = ctx.listener.advertised
    node = ctx.node_id
    if ctx.version >= 4:
        return R(throttle_time_ms=0, coordinators=[
            R.Coordinator(key=key, node_id=node, host=host, port=port, error_code=0, error_message=None)
            for key in body.coordinator_keys])
    return R(throttle_time_ms=0, error_code=0, error_message=None, node_id=node, host=host, port=port)
