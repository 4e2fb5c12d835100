"""OffsetDelete (API key 47): versions 0-0, as in Kafka's OffsetDeleteRequest/Response.json."""

from kafkette.protocol.schema import Api, f


OFFSET_DELETE = Api(
    key=47,
    name='OffsetDelete',
    versions=(0, 0),
    flexible=None,
    request=[
        f('group_id', 'string'),
        f('topics', '[]OffsetDeleteRequestTopic', fields=[
            f('name', 'string'),
            f('partitions', '[]OffsetDeleteRequestPartition', fields=[
                f('partition_index', 'int32'),
            ]),
        ]),
    ],
    response=[
        f('error_code', 'int16'),
        f('throttle_time_ms', 'int32'),
        f('topics', '[]OffsetDeleteResponseTopic', fields=[
            f('name', 'string'),
            f('partitions', '[]OffsetDeleteResponsePartition', fields=[
                f('partition_index', 'int32'),
                f('error_code', 'int16'),
            ]),
        ]),
    ],
)

OffsetDeleteRequest = OFFSET_DELETE.Request
OffsetDeleteResponse = OFFSET_DELETE.Response
