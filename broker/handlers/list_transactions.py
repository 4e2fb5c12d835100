"""ListTransactions: transactional ids filtered by state, producer id and (v1) duration.

As Kafka's TransactionStateManager.listTransactionStates: the duration filter keeps the ids whose
current (or last) transaction started more than that many ms ago, in any state; an Empty id has no
start (-1), so it always passes.
"""

from operator import attrgetter

from kafkette.broker.auth.acl import Operation, ResourceType
from kafkette.broker.cluster import TRANSACTION
from kafkette.broker.context import RequestContext
from kafkette.broker.registry import handles
from kafkette.broker.transactions.states import TxnState
from kafkette.protocol.messages.list_transactions import (
    LIST_TRANSACTIONS,
    ListTransactionsRequest,
    ListTransactionsResponse,
)

R = ListTransactionsResponse
TRANSACTIONAL_ID = attrgetter("transactional_id")


@handles(LIST_TRANSACTIONS, versions=(0, 1))
def list_transactions(ctx: RequestContext, body: ListTransactionsRequest) -> ListTransactionsResponse:
    unknown = [name for name in body.state_filters if TxnState.from_wire_name(name) is None]
    states = {TxnState.from_wire_name(name) for name in body.state_filters} - {None}
    producers = set(body.producer_id_filters)
    now = ctx.now_ms()
    listed = [txn for txn in ctx.broker.transactions.all()
              if txn.state != TxnState.DEAD  # being removed (Kafka never lists it)
              and (not states or txn.state in states)
              and (not producers or txn.producer_id in producers)
              and (body.duration_filter < 0 or now - txn.start_ms > body.duration_filter)
              and not ctx.coordinator_error(TRANSACTION, txn.transactional_id)]  # each broker lists its own
    hidden = ctx.denied(Operation.DESCRIBE, ResourceType.TRANSACTIONAL_ID, listed, TRANSACTIONAL_ID)
    listed = [txn for txn in listed if txn.transactional_id not in hidden]
    return R(throttle_time_ms=0, error_code=0, unknown_state_filters=unknown, transaction_states=[
        R.TransactionState(transactional_id=t.transactional_id, producer_id=t.producer_id,
                           transaction_state=t.state.wire_name) for t in listed])
