"""EndTxn: commit or abort; the markers are written before the answer."""

from kafkette.broker.auth.acl import Operation, ResourceType
from kafkette.broker.cluster import TRANSACTION
from kafkette.broker.context import RequestContext
from kafkette.broker.registry import handles
from kafkette.protocol.errors import ErrorCode
from kafkette.protocol.messages.end_txn import END_TXN, EndTxnRequest, EndTxnResponse

R = EndTxnResponse


@handles(END_TXN, versions=(0, 3))
def end_txn(ctx: RequestContext, body: EndTxnRequest) -> EndTxnResponse:
    if not ctx.authorize(Operation.WRITE, ResourceType.TRANSACTIONAL_ID, body.transactional_id):
        return R(throttle_time_ms=0, error_code=ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED)
    error = ctx.coordinator_error(TRANSACTION, body.transactional_id) or \
        ctx.broker.transactions.end_txn(body.transactional_id, body.producer_id, body.producer_epoch, body.committed)
    return R(throttle_time_ms=0, error_code=ctx.wire_error(error))
