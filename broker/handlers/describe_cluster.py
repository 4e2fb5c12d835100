"""DescribeCluster: this single node."""

from kafkette.broker import authorized_operations as authorized
from kafkette.broker.context import RequestContext
from kafkette.broker.registry import handles
from kafkette.protocol.messages.describe_cluster import (
    DESCRIBE_CLUSTER,
    DescribeClusterRequest,
    DescribeClusterResponse,
)

R = DescribeClusterResponse


@handles(DESCRIBE_CLUSTER, versions=(0, 1))
def describe_cluster(ctx: RequestContext, body: DescribeClusterRequest) -> DescribeClusterResponse:
    host, port = ctx.listener.advertised
    node = ctx.node_id
    return R(throttle_time_ms=0, error_code=0, error_message=None, endpoint_type=1,
             cluster_id=ctx.broker.config.cluster_id, controller_id=node,
             brokers=[R.DescribeClusterBroker(broker_id=node, host=host, port=port, rack=None)],
             cluster_authorized_operations=authorized.when(body.include_cluster_authorized_operations,
                                                           authorized.CLUSTER))
