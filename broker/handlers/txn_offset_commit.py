"""TxnOffsetCommit: offsets committed inside a transaction, visible once its COMMIT marker is written (KIP-447)."""

from kafkette.broker.auth.acl import Operation, ResourceType
from kafkette.broker.cluster import GROUP
from kafkette.broker.context import RequestContext
from kafkette.broker.groups.offset_manager import OffsetToCommit
from kafkette.broker.handlers.offset_commit import refused_topics
from kafkette.broker.registry import handles
from kafkette.protocol.errors import ErrorCode
from kafkette.protocol.messages.txn_offset_commit import (
    TXN_OFFSET_COMMIT,
    TxnOffsetCommitRequest,
    TxnOffsetCommitResponse,
)

R = TxnOffsetCommitResponse


@handles(TXN_OFFSET_COMMIT, versions=(0, 3))
def txn_offset_commit(ctx: RequestContext, body: TxnOffsetCommitRequest) -> TxnOffsetCommitResponse:
    version = ctx.version
    if ctx.authorize(Operation.WRITE, ResourceType.TRANSACTIONAL_ID, body.transactional_id):
        refused = refused_topics(ctx, body.group_id, body.topics)
    else:
        refused = {t.name: ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED for t in body.topics}
    if not_coordinator := ctx.coordinator_error(GROUP, body.group_id):  # what authorization let through
        return R(throttle_time_ms=0, topics=[
            R.TxnOffsetCommitResponseTopic(name=t.name, partitions=[
                R.TxnOffsetCommitResponsePartition(partition_index=p.partition_index,
                                                   error_code=refused.get(t.name, not_coordinator))
                for p in t.partitions])
            for t in body.topics])
    offsets = [OffsetToCommit(t.name, p.partition_index, p.committed_offset, p.committed_leader_epoch,
                              p.committed_metadata)
               for t in body.topics if t.name not in refused for p in t.partitions]
    errors = iter(ctx.broker.groups.offsets.commit_transactional(
        body.group_id, body.producer_id, body.producer_epoch, body.member_id if version >= 3 else "",
        body.group_instance_id if version >= 3 else None, body.generation_id if version >= 3 else -1,
        offsets, version, ctx.now_ms()) if offsets or not refused else ())
    return R(throttle_time_ms=0, topics=[
        R.TxnOffsetCommitResponseTopic(name=t.name, partitions=[
            R.TxnOffsetCommitResponsePartition(partition_index=p.partition_index,
                                               error_code=refused.get(t.name) or next(errors))
            for p in t.partitions])
        for t in body.topics])
