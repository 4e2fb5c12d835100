"""FindCoordinator: this single node coordinates every group and every transactional id."""

from kafkette.broker.registry import handles
from kafkette.protocol.messages import FIND_COORDINATOR

R = FIND_COORDINATOR.Response


@handles(FIND_COORDINATOR)
def find_coordinator(broker, request):
    host, port = broker.config.advertised
    node = broker.config.node_id
    if request.header.api_version >= 4:
        return R(throttle_time_ms=0, coordinators=[
            R.Coordinator(key=key, node_id=node, host=host, port=port, error_code=0, error_message=None)
            for key in request.body.coordinator_keys])
    return R(throttle_time_ms=0, error_code=0, error_message=None, node_id=node, host=host, port=port)
