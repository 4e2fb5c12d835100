"""EndTxn (API key 26): versions 0-3, as in Kafka's EndTxnRequest/Response.json."""

from kafkette.protocol.schema import Api, f


END_TXN = Api(
    key=26,
    name='EndTxn',
    versions=(0, 3),
    flexible=3,
    request=[
        f('transactional_id', 'string'),
        f('producer_id', 'int64'),
        f('producer_epoch', 'int16'),
        f('committed', 'bool'),
    ],
    response=[
        f('throttle_time_ms', 'int32'),
        f('error_code', 'int16'),
    ],
)

EndTxnRequest = END_TXN.Request
EndTxnResponse = END_TXN.Response
