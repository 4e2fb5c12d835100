"""AddPartitionsToTxn, the client versions (0-3): partitions join the producer's transaction."""

from kafkette.broker.auth.acl import Operation, ResourceType
from kafkette.broker.cluster import TRANSACTION
from kafkette.broker.context import RequestContext
from kafkette.broker.internal_topic import INTERNAL_TOPICS
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
    if not ctx.authorize(Operation.WRITE, ResourceType.TRANSACTIONAL_ID, body.v3_and_below_transactional_id):
        return _answer(body, dict.fromkeys(wanted, ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED))
    # Kafka never authorizes a client to add an internal topic's partitions, authorizer or not
    refused = set(ctx.denied(Operation.WRITE, ResourceType.TOPIC, body.v3_and_below_topics)) | \
        {t.name for t in body.v3_and_below_topics if t.name in INTERNAL_TOPICS}
    unknown = {tp for tp in wanted if ctx.broker.store.partition(tp.topic, tp.partition) is None}
    if refused or unknown:
        errors = {tp: ErrorCode.TOPIC_AUTHORIZATION_FAILED if tp.topic in refused else
                  ErrorCode.UNKNOWN_TOPIC_OR_PARTITION if tp in unknown else ErrorCode.OPERATION_NOT_ATTEMPTED
                  for tp in wanted}
    else:
        error = ctx.coordinator_error(TRANSACTION, body.v3_and_below_transactional_id) or \
            ctx.broker.transactions.add_partitions(body.v3_and_below_transactional_id, body.v3_and_below_producer_id,
                                                   body.v3_and_below_producer_epoch, wanted)
        error = ctx.wire_error(error)
        errors = {tp: error for tp in wanted}
    return _answer(body, errors)


def _answer(body: AddPartitionsToTxnRequest, errors: dict[TopicPartition, ErrorCode]) -> R:
    return R(throttle_time_ms=0, results_by_topic_v3_and_below=[
        R.AddPartitionsToTxnTopicResult(name=t.name, results_by_partition=[
            R.AddPartitionsToTxnPartitionResult(partition_index=p, partition_error_code=errors[TopicPartition(t.name, p)])
            for p in t.partitions])
        for t in body.v3_and_below_topics])
