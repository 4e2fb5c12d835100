"""OffsetDelete: forget a group's offsets for partitions it does not consume."""

from kafkette.broker.registry import handles
from kafkette.broker.state import now_ms
from kafkette.protocol.messages import OFFSET_DELETE

R = OFFSET_DELETE.Response


@handles(OFFSET_DELETE)
def offset_delete(broker, request):
    body = request.body
    tps = [(t.name, p.partition_index) for t in body.topics for p in t.partitions]
    error, errors = broker.groups.delete_offsets(body.group_id, tps, now_ms())
    if error:
        return R(error_code=error, throttle_time_ms=0, topics=[])
    errors = iter(errors)
    return R(error_code=0, throttle_time_ms=0, topics=[
        R.OffsetDeleteResponseTopic(name=t.name, partitions=[
            R.OffsetDeleteResponsePartition(partition_index=p.partition_index, error_code=next(errors))
            for p in t.partitions])
        for t in body.topics])
