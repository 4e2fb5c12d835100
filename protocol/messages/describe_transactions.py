"""DescribeTransactions (API key 65): versions 0-0, as in Kafka's DescribeTransactionsRequest/Response.json."""

from kafkette.protocol.schema import Api, f


DESCRIBE_TRANSACTIONS = Api(
    key=65,
    name='DescribeTransactions',
    versions=(0, 0),
    flexible=0,
    request=[
        f('transactional_ids', '[]string'),
    ],
    response=[
        f('throttle_time_ms', 'int32'),
        f('transaction_states', '[]TransactionState', fields=[
            f('error_code', 'int16'),
            f('transactional_id', 'string'),
            f('transaction_state', 'string'),
            f('transaction_timeout_ms', 'int32'),
            f('transaction_start_time_ms', 'int64'),
            f('producer_id', 'int64'),
            f('producer_epoch', 'int16'),
            f('topics', '[]TopicData', fields=[
                f('topic', 'string'),
                f('partitions', '[]int32'),
            ]),
        ]),
    ],
)

DescribeTransactionsRequest = DESCRIBE_TRANSACTIONS.Request
DescribeTransactionsResponse = DESCRIBE_TRANSACTIONS.Response
