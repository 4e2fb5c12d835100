"""OffsetForLeaderEpoch (API key 23): versions 0-4, as in Kafka's OffsetForLeaderEpochRequest/Response.json."""

from kafkette.protocol.schema import Api, f


OFFSET_FOR_LEADER_EPOCH = Api(
    key=23,
    name='OffsetForLeaderEpoch',
    versions=(0, 4),
    flexible=4,
    request=[
        f('replica_id', 'int32', v='3+', default=-2),
        f('topics', '[]OffsetForLeaderTopic', fields=[
            f('topic', 'string'),
            f('partitions', '[]OffsetForLeaderPartition', fields=[
                f('partition', 'int32'),
                f('current_leader_epoch', 'int32', v='2+', default=-1),
                f('leader_epoch', 'int32'),
            ]),
        ]),
    ],
    response=[
        f('throttle_time_ms', 'int32', v='2+'),
        f('topics', '[]OffsetForLeaderTopicResult', fields=[
            f('topic', 'string'),
            f('partitions', '[]EpochEndOffset', fields=[
                f('error_code', 'int16'),
                f('partition', 'int32'),
                f('leader_epoch', 'int32', v='1+', default=-1),
                f('end_offset', 'int64', default=-1),
            ]),
        ]),
    ],
)

OffsetForLeaderEpochRequest = OFFSET_FOR_LEADER_EPOCH.Request
OffsetForLeaderEpochResponse = OFFSET_FOR_LEADER_EPOCH.Response
