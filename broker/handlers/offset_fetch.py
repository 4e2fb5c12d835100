"""OffsetFetch: a group's committed offsets; one group (v0-7) or several (v8+); require_stable (v7+)."""

from kafkette.broker.cluster import GROUP
from kafkette.broker.context import RequestContext
from kafkette.broker.registry import handles
from kafkette.protocol.messages.offset_fetch import OFFSET_FETCH, OffsetFetchRequest, OffsetFetchResponse

R = OffsetFetchResponse


@handles(OFFSET_FETCH, versions=(0, 9))
def offset_fetch(ctx: RequestContext, body: OffsetFetchRequest) -> OffsetFetchResponse:
    version = ctx.version
    stable = body.require_stable if version >= 7 else False
    if version < 8:
        if refused := ctx.coordinator_error(GROUP, body.group_id):
            return _refused(body, version, refused)
        wanted = None if body.topics is None else [(t.name, t.partition_indexes) for t in body.topics]
        found = ctx.broker.groups.offsets.fetch(body.group_id, wanted, stable)
        return R(throttle_time_ms=0, error_code=0, topics=[
            R.OffsetFetchResponseTopic(name=topic, partitions=[
                R.OffsetFetchResponsePartition(partition_index=p, error_code=e, **_offset(o)) for p, o, e in rows])
            for topic, rows in found])
    groups = []
    for g in body.groups:
        if refused := ctx.coordinator_error(GROUP, g.group_id):
            groups.append(R.OffsetFetchResponseGroup(group_id=g.group_id, error_code=refused, topics=[]))
            continue
        if version >= 9:  # a consumer-protocol member names itself; a stale or unknown one is refused
            error = ctx.broker.groups.offsets.validate_fetch(g.group_id, g.member_id, g.member_epoch)
            if error:
                groups.append(R.OffsetFetchResponseGroup(group_id=g.group_id, error_code=error, topics=[]))
                continue
        wanted = None if g.topics is None else [(t.name, t.partition_indexes) for t in g.topics]
        found = ctx.broker.groups.offsets.fetch(g.group_id, wanted, stable)
        groups.append(R.OffsetFetchResponseGroup(group_id=g.group_id, error_code=0, topics=[
            R.OffsetFetchResponseTopics(name=topic, partitions=[
                R.OffsetFetchResponsePartitions(partition_index=p, error_code=e, **_offset(o)) for p, o, e in rows])
            for topic, rows in found]))
    return R(throttle_time_ms=0, groups=groups)


def _refused(body: OffsetFetchRequest, version: int, error: int) -> OffsetFetchResponse:
    """A group's error before v8: in each partition asked for (v0-1, which have no group error code), else
    in the group error code (Kafka's OffsetFetchRequest.getErrorResponse)."""
    if version >= 2:
        return R(throttle_time_ms=0, error_code=error, topics=[])
    return R(throttle_time_ms=0, error_code=error, topics=[
        R.OffsetFetchResponseTopic(name=t.name, partitions=[
            R.OffsetFetchResponsePartition(partition_index=p, error_code=error, **_offset(None))
            for p in t.partition_indexes])
        for t in body.topics or []])


def _offset(committed) -> dict:
    if committed is None:
        return {"committed_offset": -1, "committed_leader_epoch": -1, "metadata": ""}
    return {"committed_offset": committed.offset, "committed_leader_epoch": committed.leader_epoch,
            "metadata": committed.metadata}
