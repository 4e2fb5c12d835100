"""OffsetFetch (API key 9): versions 0-9, as in Kafka's OffsetFetchRequest/Response.json."""

from kafkette.protocol.schema import Api, f


OFFSET_FETCH = Api(
    key=9,
    name='OffsetFetch',
    versions=(0, 9),
    flexible=6,
    request=[
        f('group_id', 'string', v='0-7'),
        f('topics', '[]OffsetFetchRequestTopic', v='0-7', null='2-7', fields=[
            f('name', 'string', v='0-7'),
            f('partition_indexes', '[]int32', v='0-7'),
        ]),
        f('groups', '[]OffsetFetchRequestGroup', v='8+', fields=[
            f('group_id', 'string', v='8+'),
            f('member_id', 'string', v='9+', null='9+', default=None),
            f('member_epoch', 'int32', v='9+', default=-1),
            f('topics', '[]OffsetFetchRequestTopics', v='8+', null='8+', fields=[
                f('name', 'string', v='8+'),
                f('partition_indexes', '[]int32', v='8+'),
            ]),
        ]),
        f('require_stable', 'bool', v='7+'),
    ],
    response=[
        f('throttle_time_ms', 'int32', v='3+'),
        f('topics', '[]OffsetFetchResponseTopic', v='0-7', fields=[
            f('name', 'string', v='0-7'),
            f('partitions', '[]OffsetFetchResponsePartition', v='0-7', fields=[
                f('partition_index', 'int32', v='0-7'),
                f('committed_offset', 'int64', v='0-7'),
                f('committed_leader_epoch', 'int32', v='5-7', default=-1),
                f('metadata', 'string', v='0-7', null='0-7'),
                f('error_code', 'int16', v='0-7'),
            ]),
        ]),
        f('error_code', 'int16', v='2-7'),
        f('groups', '[]OffsetFetchResponseGroup', v='8+', fields=[
            f('group_id', 'string', v='8+'),
            f('topics', '[]OffsetFetchResponseTopics', v='8+', fields=[
                f('name', 'string', v='8+'),
                f('partitions', '[]OffsetFetchResponsePartitions', v='8+', fields=[
                    f('partition_index', 'int32', v='8+'),
                    f('committed_offset', 'int64', v='8+'),
                    f('committed_leader_epoch', 'int32', v='8+', default=-1),
                    f('metadata', 'string', v='8+', null='8+'),
                    f('error_code', 'int16', v='8+'),
                ]),
            ]),
            f('error_code', 'int16', v='8+'),
        ]),
    ],
)

OffsetFetchRequest = OFFSET_FETCH.Request
OffsetFetchResponse = OFFSET_FETCH.Response
