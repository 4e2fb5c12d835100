"""InitProducerId: a producer id for idempotence, or an epoch bump for a transactional id."""

from kafkette.broker.cluster import TRANSACTION
from kafkette.broker.context import RequestContext
from kafkette.broker.registry import handles
from kafkette.protocol.messages.init_producer_id import INIT_PRODUCER_ID, InitProducerIdRequest, InitProducerIdResponse

R = InitProducerIdResponse


@handles(INIT_PRODUCER_ID, versions=(0, 4))
def init_producer_id(ctx: RequestContext, body: InitProducerIdRequest) -> InitProducerIdResponse:
    if body.transactional_id is not None and (refused := ctx.coordinator_error(TRANSACTION, body.transactional_id)):
        return R(throttle_time_ms=0, error_code=refused, producer_id=-1, producer_epoch=-1)
    result = ctx.broker.transactions.init_producer_id(body.transactional_id, body.transaction_timeout_ms,
                                                  body.producer_id, body.producer_epoch)
    return R(throttle_time_ms=0, error_code=ctx.wire_error(result.error),
             producer_id=result.producer_id, producer_epoch=result.producer_epoch)
