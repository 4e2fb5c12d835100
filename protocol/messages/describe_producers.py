"""DescribeProducers (API key 61): versions 0-0, as in Kafka's DescribeProducersRequest/Response.json."""

from kafkette.protocol.schema import Api, f


DESCRIBE_PRODUCERS = Api(
    key=61,
    name='DescribeProducers',
    versions=(0, 0),
    flexible=0,
    request=[
        f('topics', '[]TopicRequest', fields=[
            f('name', 'string'),
            f('partition_indexes', '[]int32'),
        ]),
    ],
    response=[
        f('throttle_time_ms', 'int32'),
        f('topics', '[]TopicResponse', fields=[
            f('name', 'string'),
            f('partitions', '[]PartitionResponse', fields=[
                f('partition_index', 'int32'),
                f('error_code', 'int16'),
                f('error_message', 'string', null='0+', default=None),
                f('active_producers', '[]ProducerState', fields=[
                    f('producer_id', 'int64'),
                    f('producer_epoch', 'int32'),
                    f('last_sequence', 'int32', default=-1),
                    f('last_timestamp', 'int64', default=-1),
                    f('coordinator_epoch', 'int32'),
                    f('current_txn_start_offset', 'int64', default=-1),
                ]),
            ]),
        ]),
    ],
)

DescribeProducersRequest = DESCRIBE_PRODUCERS.Request
DescribeProducersResponse = DESCRIBE_PRODUCERS.Response
