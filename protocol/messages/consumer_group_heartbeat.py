"""ConsumerGroupHeartbeat (API key 68): versions 0-1, as in Kafka's ConsumerGroupHeartbeatRequest/Response.json."""

from kafkette.protocol.schema import Api, f


CONSUMER_GROUP_HEARTBEAT = Api(
    key=68,
    name='ConsumerGroupHeartbeat',
    versions=(0, 1),
    flexible=0,
    request=[
        f('group_id', 'string'),
        f('member_id', 'string'),
        f('member_epoch', 'int32'),
        f('instance_id', 'string', null='0+', default=None),
        f('rack_id', 'string', null='0+', default=None),
        f('rebalance_timeout_ms', 'int32', default=-1),
        f('subscribed_topic_names', '[]string', null='0+', default=None),
        f('subscribed_topic_regex', 'string', v='1+', null='1+', default=None),
        f('server_assignor', 'string', null='0+', default=None),
        f('topic_partitions', '[]TopicPartitions', null='0+', fields=[
            f('topic_id', 'uuid'),
            f('partitions', '[]int32'),
        ]),
    ],
    response=[
        f('throttle_time_ms', 'int32'),
        f('error_code', 'int16'),
        f('error_message', 'string', null='0+', default=None),
        f('member_id', 'string', null='0+', default=None),
        f('member_epoch', 'int32'),
        f('heartbeat_interval_ms', 'int32'),
        f('assignment', 'Assignment', null='0+', fields=[
            f('topic_partitions', '[]TopicPartitions', fields=[
                f('topic_id', 'uuid'),
                f('partitions', '[]int32'),
            ]),
        ]),
    ],
)

ConsumerGroupHeartbeatRequest = CONSUMER_GROUP_HEARTBEAT.Request
ConsumerGroupHeartbeatResponse = CONSUMER_GROUP_HEARTBEAT.Response
