"""DescribeCluster: the live brokers and the controller (broker.cluster)."""

from kafkette.broker.auth.acl import ResourceType
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
    return R(throttle_time_ms=0, error_code=0, error_message=None, endpoint_type=1,
             cluster_id=ctx.broker.config.cluster_id, controller_id=ctx.broker.cluster.controller,
             brokers=[R.DescribeClusterBroker(broker_id=b.node_id, host=b.advertised[0], port=b.advertised[1], rack=None)
                      for b in ctx.broker.cluster.brokers(ctx.listener.name)],
             cluster_authorized_operations=ctx.authorized_operations(
                 ResourceType.CLUSTER, requested=body.include_cluster_authorized_operations))
