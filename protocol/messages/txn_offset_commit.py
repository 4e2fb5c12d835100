"""TxnOffsetCommit (API key 28): versions 0-3, as in Kafka's TxnOffsetCommitRequest/Response.json."""

from kafkette.protocol.schema import Api, f


TXN_OFFSET_COMMIT = Api(
    key=28,
    name='TxnOffsetCommit',
    versions=(0, 3),
    flexible=3,
    request=[
        f('transactional_id', 'string'),
        f('group_id', 'string'),
        f('producer_id', 'int64'),
        f('producer_epoch', 'int16'),
        f('generation_id', 'int32', v='3+', default=-1),
        f('member_id', 'string', v='3+'),
        f('group_instance_id', 'string', v='3+', null='3+', default=None),
        f('topics', '[]TxnOffsetCommitRequestTopic', fields=[
            f('name', 'string'),
            f('partitions', '[]TxnOffsetCommitRequestPartition', fields=[
                f('partition_index', 'int32'),
                f('committed_offset', 'int64'),
                f('committed_leader_epoch', 'int32', v='2+', default=-1),
                f('committed_metadata', 'string', null='0+'),
            ]),
        ]),
    ],
    response=[
        f('throttle_time_ms', 'int32'),
        f('topics', '[]TxnOffsetCommitResponseTopic', fields=[
            f('name', 'string'),
            f('partitions', '[]TxnOffsetCommitResponsePartition', fields=[
                f('partition_index', 'int32'),
                f('error_code', 'int16'),
            ]),
        ]),
    ],
)

TxnOffsetCommitRequest = TXN_OFFSET_COMMIT.Request
TxnOffsetCommitResponse = TXN_OFFSET_COMMIT.Response
