"""OffsetCommit: store a group's consumed positions in `__consumer_offsets`."""

from kafkette.broker.auth.acl import Operation, ResourceType
from kafkette.broker.cluster import GROUP
from kafkette.broker.context import RequestContext
from kafkette.broker.groups.offset_manager import OffsetToCommit
from kafkette.broker.registry import handles
from kafkette.protocol.errors import ErrorCode
from kafkette.protocol.messages.offset_commit import OFFSET_COMMIT, OffsetCommitRequest, OffsetCommitResponse

R = OffsetCommitResponse


@handles(OFFSET_COMMIT, versions=(0, 9))
def offset_commit(ctx: RequestContext, body: OffsetCommitRequest) -> OffsetCommitResponse:
    version = ctx.version
    refused = refused_topics(ctx, body.group_id, body.topics)
    if not_coordinator := ctx.coordinator_error(GROUP, body.group_id):  # what authorization let through
        return R(throttle_time_ms=0, topics=[
            R.OffsetCommitResponseTopic(name=t.name, partitions=[
                R.OffsetCommitResponsePartition(partition_index=p.partition_index,
                                                error_code=refused.get(t.name, not_coordinator))
                for p in t.partitions])
            for t in body.topics])
    offsets = [OffsetToCommit(t.name, p.partition_index, p.committed_offset, p.committed_leader_epoch,
                              p.committed_metadata)
               for t in body.topics if t.name not in refused for p in t.partitions]
    errors = iter(ctx.broker.groups.offsets.commit(
        body.group_id, body.member_id, body.group_instance_id if version >= 7 else None,
        body.generation_id_or_member_epoch, offsets, version, ctx.now_ms()) if offsets or not refused else ())
    return R(throttle_time_ms=0, topics=[
        R.OffsetCommitResponseTopic(name=t.name, partitions=[
            R.OffsetCommitResponsePartition(partition_index=p.partition_index,
                                            error_code=refused.get(t.name) or ctx.wire_error(next(errors)))
            for p in t.partitions])
        for t in body.topics])


def refused_topics(ctx: RequestContext, group_id: str, topics: list) -> dict[str, ErrorCode]:
    """Kafka's authorization of an offset commit: READ on the group, else every partition is refused; then READ
    on each topic. The topics refused, with their error; the coordinator sees none of them."""
    if not ctx.authorize(Operation.READ, ResourceType.GROUP, group_id):
        return {t.name: ErrorCode.GROUP_AUTHORIZATION_FAILED for t in topics}
    return dict.fromkeys(ctx.denied(Operation.READ, ResourceType.TOPIC, topics), ErrorCode.TOPIC_AUTHORIZATION_FAILED)
