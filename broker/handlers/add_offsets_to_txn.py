"""AddOffsetsToTxn: the group's offsets partition joins the transaction (for send_offsets_to_transaction)."""

from kafkette.broker.transactions.fencing import fencing_error
from kafkette.broker.registry import handles
from kafkette.protocol.messages import ADD_OFFSETS_TO_TXN

R = ADD_OFFSETS_TO_TXN.Response


@handles(ADD_OFFSETS_TO_TXN)
def add_offsets_to_txn(broker, request):
    body = request.body
    error = broker.transactions.add_offsets(body.transactional_id, body.producer_id, body.producer_epoch)
    return R(throttle_time_ms=0, error_code=fencing_error(error, request.header.api_version, 2))
