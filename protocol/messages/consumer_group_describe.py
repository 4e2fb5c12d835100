"""ConsumerGroupDescribe (API key 69): versions 0-0, as in Kafka's ConsumerGroupDescribeRequest/Response.json."""

from kafkette.protocol.schema import Api, f


CONSUMER_GROUP_DESCRIBE = Api(
    key=69,
    name='ConsumerGroupDescribe',
    versions=(0, 0),
    flexible=0,
    request=[
        f('group_ids', '[]string'),
        f('include_authorized_operations', 'bool'),
    ],
    response=[
        f('throttle_time_ms', 'int32'),
        f('groups', '[]DescribedGroup', fields=[
            f('error_code', 'int16'),
            f('error_message', 'string', null='0+', default=None),
            f('group_id', 'string'),
            f('group_state', 'string'),
            f('group_epoch', 'int32'),
            f('assignment_epoch', 'int32'),
            f('assignor_name', 'string'),
            f('members', '[]Member', fields=[
                f('member_id', 'string'),
                f('instance_id', 'string', null='0+', default=None),
                f('rack_id', 'string', null='0+', default=None),
                f('member_epoch', 'int32'),
                f('client_id', 'string'),
                f('client_host', 'string'),
                f('subscribed_topic_names', '[]string'),
                f('subscribed_topic_regex', 'string', null='0+', default=None),
                f('assignment', 'Assignment', fields=[
                    f('topic_partitions', '[]TopicPartitions', fields=[
                        f('topic_id', 'uuid'),
                        f('topic_name', 'string'),
                        f('partitions', '[]int32'),
                    ]),
                ]),
                f('target_assignment', 'Assignment', fields=[
                    f('topic_partitions', '[]TopicPartitions', fields=[
                        f('topic_id', 'uuid'),
                        f('topic_name', 'string'),
                        f('partitions', '[]int32'),
                    ]),
                ]),
            ]),
            f('authorized_operations', 'int32', default=-2147483648),
        ]),
    ],
)

ConsumerGroupDescribeRequest = CONSUMER_GROUP_DESCRIBE.Request
ConsumerGroupDescribeResponse = CONSUMER_GROUP_DESCRIBE.Response
