"""TxnOffsetCommit: offsets committed inside a transaction, visible once its COMMIT marker is written (KIP-447)."""

from kafkette.broker.groups.coordinator import OffsetToCommit
from kafkette.broker.registry import handles
from kafkette.broker.state import now_ms
from kafkette.protocol.messages import TXN_OFFSET_COMMIT

R = TXN_OFFSET_COMMIT.Response


@handles(TXN_OFFSET_COMMIT)
def txn_offset_commit(broker, request):
    body, version = request.body, request.header.api_version
    offsets = [OffsetToCommit(t.name, p.partition_index, p.committed_offset, p.committed_leader_epoch,
                              p.committed_metadata)
               for t in body.topics for p in t.partitions]
    errors = iter(broker.groups.commit_txn_offsets(
        body.group_id, body.producer_id, body.producer_epoch, body.member_id if version >= 3 else "",
        body.group_instance_id if version >= 3 else None, body.generation_id if version >= 3 else -1,
        offsets, now_ms()))
    return R(throttle_time_ms=0, topics=[
        R.TxnOffsetCommitResponseTopic(name=t.name, partitions=[
            R.TxnOffsetCommitResponsePartition(partition_index=p.partition_index, error_code=next(errors))
            for p in t.partitions])
        for t in body.topics])
