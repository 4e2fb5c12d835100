"""AddOffsetsToTxn (API key 25): versions 0-3, as in Kafka's AddOffsetsToTxnRequest/Response.json."""

from kafkette.protocol.schema import Api, f


ADD_OFFSETS_TO_TXN = Api(
    key=25,
    name='AddOffsetsToTxn',
    versions=(0, 3),
    flexible=3,
    request=[
        f('transactional_id', 'string'),
        f('producer_id', 'int64'),
        f('producer_epoch', 'int16'),
        f('group_id', 'string'),
    ],
    response=[
        f('throttle_time_ms', 'int32'),
        f('error_code', 'int16'),
    ],
)

AddOffsetsToTxnRequest = ADD_OFFSETS_TO_TXN.Request
AddOffsetsToTxnResponse = ADD_OFFSETS_TO_TXN.Response
