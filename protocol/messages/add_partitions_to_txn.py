"""AddPartitionsToTxn (API key 24): versions 0-3, as in Kafka's AddPartitionsToTxnRequest/Response.json."""

from kafkette.protocol.schema import Api, f


ADD_PARTITIONS_TO_TXN = Api(
    key=24,
    name='AddPartitionsToTxn',
    versions=(0, 3),
    flexible=3,
    request=[
        f('v3_and_below_transactional_id', 'string'),
        f('v3_and_below_producer_id', 'int64'),
        f('v3_and_below_producer_epoch', 'int16'),
        f('v3_and_below_topics', '[]AddPartitionsToTxnTopic', fields=[
            f('name', 'string'),
            f('partitions', '[]int32'),
        ]),
    ],
    response=[
        f('throttle_time_ms', 'int32'),
        f('results_by_topic_v3_and_below', '[]AddPartitionsToTxnTopicResult', fields=[
            f('name', 'string'),
            f('results_by_partition', '[]AddPartitionsToTxnPartitionResult', fields=[
                f('partition_index', 'int32'),
                f('partition_error_code', 'int16'),
            ]),
        ]),
    ],
)

AddPartitionsToTxnRequest = ADD_PARTITIONS_TO_TXN.Request
AddPartitionsToTxnResponse = ADD_PARTITIONS_TO_TXN.Response
