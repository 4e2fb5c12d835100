"""InitProducerId: a producer id for idempotence, or an epoch bump for a transactional id."""

from kafkette.broker.auth.acl import Operation, ResourceType
from kafkette.broker.cluster import TRANSACTION
from kafkette.broker.context import RequestContext
from kafkette.broker.registry import handles
from kafkette.protocol.errors import ErrorCode
from kafkette.protocol.messages.init_producer_id import INIT_PRODUCER_ID, InitProducerIdRequest, InitProducerIdResponse

R = InitProducerIdResponse


@handles(INIT_PRODUCER_ID, versions=(0, 4))
def init_producer_id(ctx: RequestContext, body: InitProducerIdRequest) -> InitProducerIdResponse:
    refused = _refusal(ctx, body.transactional_id)
    if not refused and body.transactional_id is not None:
        refused = ctx.coordinator_error(TRANSACTION, body.transactional_id)
    if refused:
        return R(throttle_time_ms=0, error_code=refused, producer_id=-1, producer_epoch=-1)
    result = ctx.broker.transactions.init_producer_id(body.transactional_id, body.transaction_timeout_ms,
                                                  body.producer_id, body.producer_epoch)
    return R(throttle_time_ms=0, error_code=ctx.wire_error(result.error),
             producer_id=result.producer_id, producer_epoch=result.producer_epoch)


def _refusal(ctx: RequestContext, transactional_id: str | None) -> ErrorCode:
    """A transactional producer needs WRITE on its transactional id; an idempotent one IDEMPOTENT_WRITE on the
    cluster or, since KIP-679, WRITE on any topic."""
    if transactional_id is not None:
        if not ctx.authorize(Operation.WRITE, ResourceType.TRANSACTIONAL_ID, transactional_id):
            return ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED
    elif not (ctx.authorize(Operation.IDEMPOTENT_WRITE, ResourceType.CLUSTER, log=False)
              or ctx.authorize_any(Operation.WRITE, ResourceType.TOPIC)):
        return ErrorCode.CLUSTER_AUTHORIZATION_FAILED
    return ErrorCode.NONE
