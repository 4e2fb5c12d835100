"""ListTransactions (API key 66): versions 0-1, as in Kafka's ListTransactionsRequest/Response.json."""

from kafkette.protocol.schema import Api, f


LIST_TRANSACTIONS = Api(
    key=66,
    name='ListTransactions',
    versions=(0, 1),
    flexible=0,
    request=[
        f('state_filters', '[]string'),
        f('producer_id_filters', '[]int64'),
        f('duration_filter', 'int64', v='1+', default=-1),
    ],
    response=[
        f('throttle_time_ms', 'int32'),
        f('error_code', 'int16'),
        f('unknown_state_filters', '[]string'),
        f('transaction_states', '[]TransactionState', fields=[
            f('transactional_id', 'string'),
            f('producer_id', 'int64'),
            f('transaction_state', 'string'),
        ]),
    ],
)

ListTransactionsRequest = LIST_TRANSACTIONS.Request
ListTransactionsResponse = LIST_TRANSACTIONS.Response
