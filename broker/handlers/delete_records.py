"""DeleteRecords: move a partition's log start offset forward (offset -1: to the high watermark)."""

from kafkette.broker.registry import handles
from kafkette.protocol.errors import ErrorCode
from kafkette.protocol.messages import DELETE_RECORDS

R = DELETE_RECORDS.Response


@handles(DELETE_RECORDS)
def delete_records(broker, request):
    return R(throttle_time_ms=0, topics=[
        R.DeleteRecordsTopicResult(name=t.name, partitions=[_delete(broker, t.name, p) for p in t.partitions])
        for t in request.body.topics])


def _delete(broker, topic: str, p) -> R.DeleteRecordsPartitionResult:
    log = broker.store.partition(topic, p.partition_index)
    if log is None:
        return R.DeleteRecordsPartitionResult(partition_index=p.partition_index, low_watermark=-1,
                                              error_code=ErrorCode.UNKNOWN_TOPIC_OR_PARTITION)
    error = log.delete_records_before(p.offset)
    return R.DeleteRecordsPartitionResult(partition_index=p.partition_index, low_watermark=log.log_start_offset,
                                          error_code=error)
