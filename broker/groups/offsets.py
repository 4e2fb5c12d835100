"""A group's committed offsets and the transactional ones waiting for their COMMIT marker (KIP-447)."""

from __future__ import annotations

from dataclasses import dataclass, field

from kafkette.protocol.types import TopicPartition


@dataclass(frozen=True)
class OffsetAndMetadata:
    offset: int
    leader_epoch: int = -1
    metadata: str = ""
    commit_timestamp: int = -1
    record_offset: int = -1  # position of its record in __consumer_offsets: the later write wins

    def older_than(self, other: OffsetAndMetadata) -> bool:
        return self.record_offset < other.record_offset


@dataclass
class GroupOffsets:
    committed: dict[TopicPartition, OffsetAndMetadata] = field(default_factory=dict)
    pending: dict[int, dict[TopicPartition, OffsetAndMetadata]] = field(default_factory=dict)  # producer id ->

    def commit(self, tp: TopicPartition, offset: OffsetAndMetadata) -> None:
        self.committed[tp] = offset

    def add_pending(self, producer_id: int, tp: TopicPartition, offset: OffsetAndMetadata) -> None:
        self.pending.setdefault(producer_id, {})[tp] = offset

    def complete(self, producer_id: int, commit: bool) -> bool:
        """Apply (commit) or drop (abort) a producer's pending offsets; False if it had none here."""
        offsets = self.pending.pop(producer_id, None)
        if offsets is None:
            return False
        if commit:
            for tp, offset in offsets.items():
                current = self.committed.get(tp)
                if current is None or current.older_than(offset):
                    self.committed[tp] = offset
        return True

    def is_unstable(self, tp: TopicPartition) -> bool:
        return any(tp in offsets for offsets in self.pending.values())

    def delete(self, tps: list[TopicPartition]) -> list[TopicPartition]:
        """Forget the committed offsets of `tps`; the ones that existed."""
        return [tp for tp in tps if self.committed.pop(tp, None) is not None]

    def __bool__(self) -> bool:
        return bool(self.committed or self.pending)
