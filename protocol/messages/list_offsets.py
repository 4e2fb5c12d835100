"""ListOffsets (API key 2): versions 1-7, as in Kafka's ListOffsetsRequest/Response.json."""

from kafkette.protocol.schema import Api, f


LIST_OFFSETS = Api(
    key=2,
    name='ListOffsets',
    versions=(1, 7),
    flexible=6,
    request=[
        f('replica_id', 'int32'),
        f('isolation_level', 'int8', v='2+'),
        f('topics', '[]ListOffsetsTopic', fields=[
            f('name', 'string'),
            f('partitions', '[]ListOffsetsPartition', fields=[
                f('partition_index', 'int32'),
                f('current_leader_epoch', 'int32', v='4+', default=-1),
                f('timestamp', 'int64'),
            ]),
        ]),
    ],
    response=[
        f('throttle_time_ms', 'int32', v='2+'),
        f('topics', '[]ListOffsetsTopicResponse', fields=[
            f('name', 'string'),
            f('partitions', '[]ListOffsetsPartitionResponse', fields=[
                f('partition_index', 'int32'),
                f('error_code', 'int16'),
                f('timestamp', 'int64', default=-1),
                f('offset', 'int64', default=-1),
                f('leader_epoch', 'int32', v='4+', default=-1),
            ]),
        ]),
    ],
)

ListOffsetsRequest = LIST_OFFSETS.Request
ListOffsetsResponse = LIST_OFFSETS.Response
