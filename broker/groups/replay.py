"""Rebuilding groups and offsets from `__consumer_offsets` at start: the later record always wins."""

from __future__ import annotations

from kafkette.broker.groups import records
from kafkette.broker.groups.group_log import GroupLog
from kafkette.broker.groups.offset_manager import OffsetManager
from kafkette.broker.groups.registry import GroupRegistry
from kafkette.protocol.records import COMMIT, BatchHeader, control_type, iter_records
from kafkette.protocol.types import TopicPartition


class GroupReplay:
    def __init__(self, registry: GroupRegistry, offsets: OffsetManager, group_log: GroupLog) -> None:
        self.registry = registry
        self.offsets = offsets
        self.log = group_log

    def run(self, now: int) -> int:
        """Replay the whole topic; returns how many batches were read."""
        count = 0
        for header, batch in self.log.topic.replay():
            self._batch(header, batch, now)
            count += 1
        for group in self.registry.all():
            self.registry.forget_if_idle(group)
        return count

    def _batch(self, header: BatchHeader, batch: memoryview, now: int) -> None:
        if header.is_control:
            if header.is_transactional:
                self.offsets.complete_transaction(header.producer_id, header.producer_epoch,
                                                  control_type(batch) == COMMIT)
            return
        producer_id = header.producer_id if header.is_transactional else -1
        if producer_id >= 0:
            self.log.replayed(header)
        for record in iter_records(batch):
            if record.key is None:
                continue
            decoded = records.decode(record.key, record.value, record.offset)
            if isinstance(decoded, records.OffsetRecord):
                self._offset(decoded, producer_id, now)
            elif isinstance(decoded, records.GroupRecord):
                self._group(decoded, now)
            elif isinstance(decoded, records.ConsumerGroupRecord):
                self._consumer_group(decoded)

    def _offset(self, rec: records.OffsetRecord, producer_id: int, now: int) -> None:
        group = self.registry.get_or_create(rec.group_id, now)
        tp = TopicPartition(rec.topic, rec.partition)
        if rec.value is None:
            group.offsets.delete([tp])
        elif producer_id >= 0:
            self.offsets.add_pending(group, producer_id, tp, rec.value)
        else:
            group.offsets.commit(tp, rec.value)

    def _group(self, rec: records.GroupRecord, now: int) -> None:
        if rec.value is None:
            if self.registry.consumer(rec.group_id) is None:
                self._forget(rec.group_id)
            return
        v = rec.value
        consumer = self.registry.consumer(rec.group_id)
        group = (self.registry.to_classic(consumer, now) if consumer is not None
                 else self.registry.classic(rec.group_id) or self.registry.create_classic(rec.group_id, now))
        group.restore(v.generation, v.protocol_type, v.protocol, v.leader, records.members_of(v),
                      v.current_state_timestamp, now)

    def _consumer_group(self, rec: records.ConsumerGroupRecord) -> None:
        if rec.epoch is None:
            if self.registry.consumer(rec.group_id) is not None:
                self._forget(rec.group_id)
            return
        group = self.registry.consumer(rec.group_id)
        if group is None:
            classic = self.registry.classic(rec.group_id)
            group = (self.registry.to_consumer(classic) if classic is not None
                     else self.registry.create_consumer(rec.group_id))
        # Members are not kept: after a restart they get UNKNOWN_MEMBER_ID and rejoin at epoch 0.
        group.group_epoch = group.assignment_epoch = rec.epoch

    def _forget(self, group_id: str) -> None:
        """A deleted group (its offsets were tombstoned just before)."""
        group = self.registry.remove(group_id)
        if group is not None:
            self.offsets.forget_pending(group)
