"""Fetch (API key 1): versions 4-12, as in Kafka's FetchRequest/Response.json."""

from kafkette.protocol.schema import Api, f


FETCH = Api(
    key=1,
    name='Fetch',
    versions=(4, 12),
    flexible=12,
    request=[
        f('cluster_id', 'string', v='12+', null='12+', tag=0, default=None),
        f('replica_id', 'int32', default=-1),
        f('max_wait_ms', 'int32'),
        f('min_bytes', 'int32'),
        f('max_bytes', 'int32', default=2147483647),
        f('isolation_level', 'int8'),
        f('session_id', 'int32', v='7+'),
        f('session_epoch', 'int32', v='7+', default=-1),
        f('topics', '[]FetchTopic', fields=[
            f('topic', 'string'),
            f('partitions', '[]FetchPartition', fields=[
                f('partition', 'int32'),
                f('current_leader_epoch', 'int32', v='9+', default=-1),
                f('fetch_offset', 'int64'),
                f('last_fetched_epoch', 'int32', v='12+', default=-1),
                f('log_start_offset', 'int64', v='5+', default=-1),
                f('partition_max_bytes', 'int32'),
            ]),
        ]),
        f('forgotten_topics_data', '[]ForgottenTopic', v='7+', fields=[
            f('topic', 'string', v='7+'),
            f('partitions', '[]int32', v='7+'),
        ]),
        f('rack_id', 'string', v='11+'),
    ],
    response=[
        f('throttle_time_ms', 'int32'),
        f('error_code', 'int16', v='7+'),
        f('session_id', 'int32', v='7+'),
        f('responses', '[]FetchableTopicResponse', fields=[
            f('topic', 'string'),
            f('partitions', '[]PartitionData', fields=[
                f('partition_index', 'int32'),
                f('error_code', 'int16'),
                f('high_watermark', 'int64'),
                f('last_stable_offset', 'int64', default=-1),
                f('log_start_offset', 'int64', v='5+', default=-1),
                f('diverging_epoch', 'EpochEndOffset', v='12+', tag=0, fields=[
                    f('epoch', 'int32', v='12+', default=-1),
                    f('end_offset', 'int64', v='12+', default=-1),
                ]),
                f('current_leader', 'LeaderIdAndEpoch', v='12+', tag=1, fields=[
                    f('leader_id', 'int32', v='12+', default=-1),
                    f('leader_epoch', 'int32', v='12+', default=-1),
                ]),
                f('snapshot_id', 'SnapshotId', v='12+', tag=2, fields=[
                    f('end_offset', 'int64', default=-1),
                    f('epoch', 'int32', default=-1),
                ]),
                f('aborted_transactions', '[]AbortedTransaction', null='4+', fields=[
                    f('producer_id', 'int64'),
                    f('first_offset', 'int64'),
                ]),
                f('preferred_read_replica', 'int32', v='11+', default=-1),
                f('records', 'records', null='4+'),
            ]),
        ]),
    ],
)

FetchRequest = FETCH.Request
FetchResponse = FETCH.Response
