"""Metadata (API key 3): versions 0-12, as in Kafka's MetadataRequest/Response.json."""

from kafkette.protocol.schema import Api, f


METADATA = Api(
    key=3,
    name='Metadata',
    versions=(0, 12),
    flexible=9,
    request=[
        f('topics', '[]MetadataRequestTopic', null='1+', fields=[
            f('topic_id', 'uuid', v='10+'),
            f('name', 'string', null='10+'),
        ]),
        f('allow_auto_topic_creation', 'bool', v='4+', default=True),
        f('include_cluster_authorized_operations', 'bool', v='8-10'),
        f('include_topic_authorized_operations', 'bool', v='8+'),
    ],
    response=[
        f('throttle_time_ms', 'int32', v='3+'),
        f('brokers', '[]MetadataResponseBroker', fields=[
            f('node_id', 'int32'),
            f('host', 'string'),
            f('port', 'int32'),
            f('rack', 'string', v='1+', null='1+', default=None),
        ]),
        f('cluster_id', 'string', v='2+', null='2+', default=None),
        f('controller_id', 'int32', v='1+', default=-1),
        f('topics', '[]MetadataResponseTopic', fields=[
            f('error_code', 'int16'),
            f('name', 'string', null='12+'),
            f('topic_id', 'uuid', v='10+'),
            f('is_internal', 'bool', v='1+'),
            f('partitions', '[]MetadataResponsePartition', fields=[
                f('error_code', 'int16'),
                f('partition_index', 'int32'),
                f('leader_id', 'int32'),
                f('leader_epoch', 'int32', v='7+', default=-1),
                f('replica_nodes', '[]int32'),
                f('isr_nodes', '[]int32'),
                f('offline_replicas', '[]int32', v='5+'),
            ]),
            f('topic_authorized_operations', 'int32', v='8+', default=-2147483648),
        ]),
        f('cluster_authorized_operations', 'int32', v='8-10', default=-2147483648),
    ],
)

MetadataRequest = METADATA.Request
MetadataResponse = METADATA.Response
