"""WriteTxnMarkers: served on the wire as a broker does; the coordinator uses the same marker path."""

from kafkette.broker.auth.acl import Operation, ResourceType
from kafkette.broker.context import RequestContext
from kafkette.broker.registry import handles
from kafkette.protocol.errors import ErrorCode
from kafkette.protocol.messages.write_txn_markers import (
    WRITE_TXN_MARKERS,
    WriteTxnMarkersRequest,
    WriteTxnMarkersResponse,
)

R = WriteTxnMarkersResponse


@handles(WRITE_TXN_MARKERS, versions=(0, 1))
def write_txn_markers(ctx: RequestContext, body: WriteTxnMarkersRequest) -> WriteTxnMarkersResponse:
    if not (ctx.authorize(Operation.ALTER, ResourceType.CLUSTER, log=False)
            or ctx.authorize(Operation.CLUSTER_ACTION, ResourceType.CLUSTER)):  # brokers' work: clients may not forge
        return R(markers=[R.WritableTxnMarkerResult(producer_id=m.producer_id, topics=[
            R.WritableTxnMarkerTopicResult(name=t.name, partitions=[R.WritableTxnMarkerPartitionResult(
                partition_index=p, error_code=ErrorCode.CLUSTER_AUTHORIZATION_FAILED) for p in t.partition_indexes])
            for t in m.topics]) for m in body.markers])
    now = ctx.now_ms()
    results = []
    for m in body.markers:
        topics = [R.WritableTxnMarkerTopicResult(name=t.name, partitions=[
            R.WritableTxnMarkerPartitionResult(partition_index=p, error_code=ctx.broker.markers.write(
                t.name, p, m.producer_id, m.producer_epoch, m.transaction_result, m.coordinator_epoch, now))
            for p in t.partition_indexes]) for t in m.topics]
        results.append(R.WritableTxnMarkerResult(producer_id=m.producer_id, topics=topics))
    return R(markers=results)
