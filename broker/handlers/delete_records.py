"""DeleteRecords: move a partition's log start offset forward (offset -1: to the high watermark), on its leader.

Internal topics refuse it with INVALID_TOPIC_EXCEPTION, as Kafka's ReplicaManager.deleteRecordsOnLocalLog
does (before it looks for the leader): their records are the broker's own state (committed offsets, transactions).
"""

from __future__ import annotations

from kafkette.broker.auth.acl import Operation, ResourceType
from kafkette.broker.context import RequestContext
from kafkette.broker.internal_topic import INTERNAL_TOPICS
from kafkette.broker.registry import handles
from kafkette.protocol.errors import ErrorCode
from kafkette.protocol.messages.delete_records import DELETE_RECORDS, DeleteRecordsRequest, DeleteRecordsResponse

R = DeleteRecordsResponse


@handles(DELETE_RECORDS, versions=(0, 2))
def delete_records(ctx: RequestContext, body: DeleteRecordsRequest) -> DeleteRecordsResponse:
    denied = ctx.denied(Operation.DELETE, ResourceType.TOPIC, body.topics)
    return R(throttle_time_ms=0, topics=[
        R.DeleteRecordsTopicResult(name=t.name, partitions=[
            R.DeleteRecordsPartitionResult(partition_index=p.partition_index, low_watermark=-1,
                                           error_code=ErrorCode.TOPIC_AUTHORIZATION_FAILED)
            if t.name in denied else _delete(ctx, t.name, p) for p in t.partitions])
        for t in body.topics])


def _delete(ctx: RequestContext, topic: str, p) -> R.DeleteRecordsPartitionResult:
    log = ctx.broker.store.partition(topic, p.partition_index)
    if log is None:
        refused = ctx.broker.missing_partition_error(topic)
    elif topic in INTERNAL_TOPICS:
        refused = ErrorCode.INVALID_TOPIC_EXCEPTION
    else:
        refused = ctx.partition_error(topic, p.partition_index)
    if log is None or refused != ErrorCode.NONE:
        return R.DeleteRecordsPartitionResult(partition_index=p.partition_index, low_watermark=-1, error_code=refused)
    error = log.delete_records_before(p.offset)
    return R.DeleteRecordsPartitionResult(partition_index=p.partition_index, low_watermark=log.log_start_offset,
                                          error_code=error)
