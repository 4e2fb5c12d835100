"""The "consumer" protocol type's JoinGroup metadata and SyncGroup assignment, as Kafka declares them
(ConsumerProtocolSubscription.json, ConsumerProtocolAssignment.json).

Never flexible; a newer version is read with the latest layout known here, as Kafka's consumers do.
"""

from kafkette.protocol.schema import Data, f


CONSUMER_PROTOCOL_SUBSCRIPTION = Data(
    name='ConsumerProtocolSubscription',
    versions=(0, 3),
    flexible=None,
    fields=[
        f('topics', '[]string'),
        f('user_data', 'bytes', null='0+', default=None),
        f('owned_partitions', '[]TopicPartition', v='1+', fields=[
            f('topic', 'string', v='1+'),
            f('partitions', '[]int32', v='1+'),
        ]),
        f('generation_id', 'int32', v='2+', default=-1),
        f('rack_id', 'string', v='3+', null='3+', default=None),
    ],
)

ConsumerProtocolSubscription = CONSUMER_PROTOCOL_SUBSCRIPTION.Record

CONSUMER_PROTOCOL_ASSIGNMENT = Data(
    name='ConsumerProtocolAssignment',
    versions=(0, 3),
    flexible=None,
    fields=[
        f('assigned_partitions', '[]TopicPartition', fields=[
            f('topic', 'string'),
            f('partitions', '[]int32'),
        ]),
        f('user_data', 'bytes', null='0+', default=None),
    ],
)

ConsumerProtocolAssignment = CONSUMER_PROTOCOL_ASSIGNMENT.Record
