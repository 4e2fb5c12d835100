"""InitProducerId (API key 22): versions 0-4, as in Kafka's InitProducerIdRequest/Response.json."""

from kafkette.protocol.schema import Api, f


INIT_PRODUCER_ID = Api(
    key=22,
    name='InitProducerId',
    versions=(0, 4),
    flexible=2,
    request=[
        f('transactional_id', 'string', null='0+'),
        f('transaction_timeout_ms', 'int32'),
        f('producer_id', 'int64', v='3+', default=-1),
        f('producer_epoch', 'int16', v='3+', default=-1),
    ],
    response=[
        f('throttle_time_ms', 'int32'),
        f('error_code', 'int16'),
        f('producer_id', 'int64', default=-1),
        f('producer_epoch', 'int16'),
    ],
)

InitProducerIdRequest = INIT_PRODUCER_ID.Request
InitProducerIdResponse = INIT_PRODUCER_ID.Response
