"""OffsetCommit (API key 8): versions 0-9, as in Kafka's OffsetCommitRequest/Response.json."""

from kafkette.protocol.schema import Api, f


OFFSET_COMMIT = Api(
    key=8,
    name='OffsetCommit',
    versions=(0, 9),
    flexible=8,
    request=[
        f('group_id', 'string'),
        f('generation_id_or_member_epoch', 'int32', v='1+', default=-1),
        f('member_id', 'string', v='1+'),
        f('group_instance_id', 'string', v='7+', null='7+', default=None),
        f('retention_time_ms', 'int64', v='2-4', default=-1),
        f('topics', '[]OffsetCommitRequestTopic', fields=[
            f('name', 'string'),
            f('partitions', '[]OffsetCommitRequestPartition', fields=[
                f('partition_index', 'int32'),
                f('committed_offset', 'int64'),
                f('committed_leader_epoch', 'int32', v='6+', default=-1),
                f('commit_timestamp', 'int64', v='1', default=-1),
                f('committed_metadata', 'string', null='0+'),
            ]),
        ]),
    ],
    response=[
        f('throttle_time_ms', 'int32', v='3+'),
        f('topics', '[]OffsetCommitResponseTopic', fields=[
            f('name', 'string'),
            f('partitions', '[]OffsetCommitResponsePartition', fields=[
                f('partition_index', 'int32'),
                f('error_code', 'int16'),
            ]),
        ]),
    ],
)

OffsetCommitRequest = OFFSET_COMMIT.Request
OffsetCommitResponse = OFFSET_COMMIT.Response
