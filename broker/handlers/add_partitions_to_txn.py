"""AddPartitionsToTxn, the client versions (0-3): partitions join the producer's transaction."""

from kafkette.broker.cluster import TRANSACTION
from kafkette.broker.context import RequestContext
from kafkette.broker.registry import handles
from kafkette.protocol.errors import ErrorCode
from kafkette.protocol.messages.add_partitions_to_txn import (
    ADD_PARTITIONS_TO_TXN,
    AddPartitionsToTxnRequest,
    AddPartitionsToTxnResponse,
)
from kafkette.protocol.types import TopicPartition

R = AddPartitionsToTxnResponse


@handles(ADD_PARTITIONS_TO_TXN, versions=(0, 3))
def add_partitions_to_txn(ctx: RequestContext, body: AddPartitionsToTxnRequest) -> AddPartitionsToTxnResponse:
    wanted = [TopicPartition(t.name, p) for t in body.v3_and_below_topics for p in t.partitions]
    unknown = {tp for tp in wanted if ctx.broker.store.partition(tp.topic, tp.partition) is None}
    if unknown:
        errors = {tp: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION if tp in unknown else ErrorCode.OPERATION_NOT_ATTEMPTED
                  for tp in wanted}
    else:
        error = ctx.coordinator_error(TRANSACTION, body.v3_and_below_transactional_id) or \
            ctx.broker.transactions.add_partitions(body.v3_and_below_transactional_id, body.v3_and_below_producer_id,
                                                   body.v3_and_below_producer_epoch, wanted)
        error = ctx.wire_error(error)
        errors = {tp: error for tp in wanted}
    return R(throttle_time_ms=0, results_by_topic_v3_and_below=[
        R.AddPartitionsToTxnTopicResult(name=t.name, results_by_partition=[
            R.AddPartitionsToTxnPartitionResult(partition_index=p, partition_error_code=errors[TopicPartition(t.name, p)])
            for p in t.partitions])
        for t in body.v3_and_below_topics])
