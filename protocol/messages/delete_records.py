"""DeleteRecords (API key 21): versions 0-2, as in Kafka's DeleteRecordsRequest/Response.json."""

from kafkette.protocol.schema import Api, f


DELETE_RECORDS = Api(
    key=21,
    name='DeleteRecords',
    versions=(0, 2),
    flexible=2,
    request=[
        f('topics', '[]DeleteRecordsTopic', fields=[
            f('name', 'string'),
            f('partitions', '[]DeleteRecordsPartition', fields=[
                f('partition_index', 'int32'),
                f('offset', 'int64'),
            ]),
        ]),
        f('timeout_ms', 'int32'),
    ],
    response=[
        f('throttle_time_ms', 'int32'),
        f('topics', '[]DeleteRecordsTopicResult', fields=[
            f('name', 'string'),
            f('partitions', '[]DeleteRecordsPartitionResult', fields=[
                f('partition_index', 'int32'),
                f('low_watermark', 'int64'),
                f('error_code', 'int16'),
            ]),
        ]),
    ],
)

DeleteRecordsRequest = DELETE_RECORDS.Request
DeleteRecordsResponse = DELETE_RECORDS.Response
