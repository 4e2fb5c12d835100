"""EndTxn: commit or abort; the markers are written before the answer."""

from kafkette.broker.transactions.fencing import fencing_error
from kafkette.broker.registry import handles
from kafkette.protocol.messages import END_TXN

R = END_TXN.Response


@handles(END_TXN)
def end_txn(broker, request):
    body = request.body
    error = broker.transactions.end_txn(body.transactional_id, body.producer_id, body.producer_epoch,
                                        body.committed)
    return R(throttle_time_ms=0, error_code=fencing_error(error, request.header.api_version, 2))
