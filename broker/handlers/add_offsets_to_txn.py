"""AddOffsetsToTxn: the group's offsets partition joins the transaction (for send_offsets_to_transaction)."""

from kafkette.broker.auth.acl import Operation, ResourceType
from kafkette.broker.cluster import TRANSACTION
from kafkette.broker.context import RequestContext
from kafkette.broker.registry import handles
from kafkette.protocol.errors import ErrorCode
from kafkette.protocol.messages.add_offsets_to_txn import (
    ADD_OFFSETS_TO_TXN,
    AddOffsetsToTxnRequest,
    AddOffsetsToTxnResponse,
)

R = AddOffsetsToTxnResponse


@handles(ADD_OFFSETS_TO_TXN, versions=(0, 3))
def add_offsets_to_txn(ctx: RequestContext, body: AddOffsetsToTxnRequest) -> AddOffsetsToTxnResponse:
    if not ctx.authorize(Operation.WRITE, ResourceType.TRANSACTIONAL_ID, body.transactional_id):
        return R(throttle_time_ms=0, error_code=ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED)
    if not ctx.authorize(Operation.READ, ResourceType.GROUP, body.group_id):
        return R(throttle_time_ms=0, error_code=ErrorCode.GROUP_AUTHORIZATION_FAILED)
    error = ctx.coordinator_error(TRANSACTION, body.transactional_id) or \
        ctx.broker.transactions.add_offsets(body.transactional_id, body.producer_id, body.producer_epoch)
    return R(throttle_time_ms=0, error_code=ctx.wire_error(error))
