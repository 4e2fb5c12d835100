"""DescribeCluster (API key 60): versions 0-1, as in Kafka's DescribeClusterRequest/Response.json."""

from kafkette.protocol.schema import Api, f


DESCRIBE_CLUSTER = Api(
    key=60,
    name='DescribeCluster',
    versions=(0, 1),
    flexible=0,
    request=[
        f('include_cluster_authorized_operations', 'bool'),
        f('endpoint_type', 'int8', v='1+', default=1),
    ],
    response=[
        f('throttle_time_ms', 'int32'),
        f('error_code', 'int16'),
        f('error_message', 'string', null='0+', default=None),
        f('endpoint_type', 'int8', v='1+', default=1),
        f('cluster_id', 'string'),
        f('controller_id', 'int32', default=-1),
        f('brokers', '[]DescribeClusterBroker', fields=[
            f('broker_id', 'int32'),
            f('host', 'string'),
            f('port', 'int32'),
            f('rack', 'string', null='0+', default=None),
        ]),
        f('cluster_authorized_operations', 'int32', default=-2147483648),
    ],
)

DescribeClusterRequest = DESCRIBE_CLUSTER.Request
DescribeClusterResponse = DESCRIBE_CLUSTER.Response
