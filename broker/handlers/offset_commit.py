"""OffsetCommit: store a group's consumed positions in `__consumer_offsets`."""

from kafkette.broker.cluster import GROUP
from kafkette.broker.context import RequestContext
from kafkette.broker.groups.offset_manager import OffsetToCommit
from kafkette.broker.registry import handles
from kafkette.protocol.messages.offset_commit import OFFSET_COMMIT, OffsetCommitRequest, OffsetCommitResponse

R = OffsetCommitResponse


@handles(OFFSET_COMMIT, versions=(0, 9))
def offset_commit(ctx: RequestContext, body: OffsetCommitRequest) -> OffsetCommitResponse:
    version = ctx.version
    if refused := ctx.coordinator_error(GROUP, body.group_id):
        return R(throttle_time_ms=0, topics=[
            R.OffsetCommitResponseTopic(name=t.name, partitions=[
                R.OffsetCommitResponsePartition(partition_index=p.partition_index, error_code=refused)
                for p in t.partitions])
            for t in body.topics])
    offsets = [OffsetToCommit(t.name, p.partition_index, p.committed_offset, p.committed_leader_epoch,
                              p.committed_metadata)
               for t in body.topics for p in t.partitions]
    errors = iter(ctx.broker.groups.offsets.commit(
        body.group_id, body.member_id, body.group_instance_id if version >= 7 else None,
        body.generation_id_or_member_epoch, offsets, version, ctx.now_ms()))
    return R(throttle_time_ms=0, topics=[
        R.OffsetCommitResponseTopic(name=t.name, partitions=[
            R.OffsetCommitResponsePartition(partition_index=p.partition_index, error_code=ctx.wire_error(next(errors)))
            for p in t.partitions])
        for t in body.topics])
