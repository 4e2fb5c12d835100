"""OffsetFetch: a group's committed offsets; one group (v0-7) or several (v8+); require_stable (v7+)."""

from operator import itemgetter

from kafkette.broker.auth.acl import Operation, ResourceType
from kafkette.broker.cluster import GROUP
from kafkette.broker.context import RequestContext
from kafkette.broker.groups.offset_manager import OffsetRow
from kafkette.broker.registry import handles
from kafkette.protocol.errors import ErrorCode
from kafkette.protocol.messages.offset_fetch import OFFSET_FETCH, OffsetFetchRequest, OffsetFetchResponse

R = OffsetFetchResponse


@handles(OFFSET_FETCH, versions=(0, 9))
def offset_fetch(ctx: RequestContext, body: OffsetFetchRequest) -> OffsetFetchResponse:
    version = ctx.version
    stable = body.require_stable if version >= 7 else False
    if version < 8:
        if not ctx.authorize(Operation.DESCRIBE, ResourceType.GROUP, body.group_id):
            return _refused(body, version, ErrorCode.GROUP_AUTHORIZATION_FAILED)
        if refused := ctx.coordinator_error(GROUP, body.group_id):
            return _refused(body, version, refused)
        wanted = None if body.topics is None else [(t.name, t.partition_indexes) for t in body.topics]
        found = _visible(ctx, body.group_id, wanted, stable)
        return R(throttle_time_ms=0, error_code=0, topics=[
            R.OffsetFetchResponseTopic(name=topic, partitions=[
                R.OffsetFetchResponsePartition(partition_index=p, error_code=e, **_offset(o)) for p, o, e in rows])
            for topic, rows in found])
    groups = []
    for g in body.groups:
        if not ctx.authorize(Operation.DESCRIBE, ResourceType.GROUP, g.group_id):
            groups.append(R.OffsetFetchResponseGroup(group_id=g.group_id,
                                                     error_code=ErrorCode.GROUP_AUTHORIZATION_FAILED, topics=[]))
            continue
        if refused := ctx.coordinator_error(GROUP, g.group_id):
            groups.append(R.OffsetFetchResponseGroup(group_id=g.group_id, error_code=refused, topics=[]))
            continue
        if version >= 9:  # a consumer-protocol member names itself; a stale or unknown one is refused
            error = ctx.broker.groups.offsets.validate_fetch(g.group_id, g.member_id, g.member_epoch)
            if error:
                groups.append(R.OffsetFetchResponseGroup(group_id=g.group_id, error_code=error, topics=[]))
                continue
        wanted = None if g.topics is None else [(t.name, t.partition_indexes) for t in g.topics]
        found = _visible(ctx, g.group_id, wanted, stable)
        groups.append(R.OffsetFetchResponseGroup(group_id=g.group_id, error_code=0, topics=[
            R.OffsetFetchResponseTopics(name=topic, partitions=[
                R.OffsetFetchResponsePartitions(partition_index=p, error_code=e, **_offset(o)) for p, o, e in rows])
            for topic, rows in found]))
    return R(throttle_time_ms=0, groups=groups)


def _visible(ctx: RequestContext, group_id: str, wanted: list[tuple[str, list[int]]] | None,
             stable: bool) -> list[tuple[str, list[OffsetRow]]]:
    """The group's offsets the principal may see (DESCRIBE on the topic): a topic asked for and refused is
    answered TOPIC_AUTHORIZATION_FAILED, one not asked for is left out (Kafka's handleOffsetFetchRequest)."""
    offsets = ctx.broker.groups.offsets
    if wanted is None:
        found = offsets.fetch(group_id, None, stable)
        hidden = ctx.denied(Operation.DESCRIBE, ResourceType.TOPIC, found, itemgetter(0))
        return [f for f in found if f[0] not in hidden]
    denied = ctx.denied(Operation.DESCRIBE, ResourceType.TOPIC, wanted, itemgetter(0))
    return offsets.fetch(group_id, [w for w in wanted if w[0] not in denied], stable) + [
        (topic, [(p, None, ErrorCode.TOPIC_AUTHORIZATION_FAILED) for p in partitions])
        for topic, partitions in wanted if topic in denied]


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
