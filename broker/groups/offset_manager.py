"""Committed offsets of every group: OffsetCommit, TxnOffsetCommit, OffsetFetch, OffsetDelete.

Offsets go to `__consumer_offsets` before they count; transactional ones wait,
pending, until the transaction coordinator reports the producer's marker.
"""

from __future__ import annotations

from dataclasses import dataclass

import structlog

from kafkette.broker.groups import records
from kafkette.broker.groups.group_log import GroupLog
from kafkette.broker.groups.offsets import OffsetAndMetadata
from kafkette.broker.groups.registry import AnyGroup, GroupRegistry
from kafkette.protocol.errors import ErrorCode as E
from kafkette.protocol.types import TopicPartition
from kafkette.storage.engine import LogEngine

log = structlog.get_logger("kafkette.groups")

MAX_METADATA_BYTES = 4096  # Kafka's offset.metadata.max.bytes


@dataclass
class OffsetToCommit:
    topic: str
    partition: int
    offset: int
    leader_epoch: int = -1
    metadata: str | None = ""


OffsetRow = tuple[int, OffsetAndMetadata | None, E]  # (partition, committed offset or None, error)


class OffsetManager:
    def __init__(self, registry: GroupRegistry, group_log: GroupLog, store: LogEngine) -> None:
        self.registry = registry
        self.log = group_log
        self.store = store
        self.txn_groups: dict[int, set[str]] = {}  # producer id -> groups holding its pending offsets

    # ------------------------------------------------------------------ commits

    def commit(self, group_id: str, member_id: str, instance_id: str | None, generation: int,
               offsets: list[OffsetToCommit], version: int, now: int) -> list[E]:
        """OffsetCommit: one error per offset, in order."""
        group = self.registry.get(group_id)
        if group is None:
            if generation >= 0:
                return [E.GROUP_ID_NOT_FOUND] * len(offsets)  # older versions: ILLEGAL_GENERATION (wire_error)
            group = self.registry.create_classic(group_id, now)
        error = group.validate_offset_commit(member_id, instance_id, generation, False, version=version, now=now)
        errors = self._store(group, offsets, error, now) if offsets else []
        self.registry.forget_if_idle(group)
        return errors

    def commit_transactional(self, group_id: str, producer_id: int, producer_epoch: int, member_id: str,
                             instance_id: str | None, generation: int, offsets: list[OffsetToCommit],
                             version: int, now: int) -> list[E]:
        """TxnOffsetCommit: the offsets wait, pending, for the producer's COMMIT marker."""
        if not group_id:
            return [E.INVALID_GROUP_ID] * len(offsets)
        group = self.registry.get_or_create(group_id, now)
        error = group.validate_offset_commit(member_id, instance_id, generation, True, version=version, now=now)
        errors = self._store(group, offsets, error, now, producer_id, producer_epoch) if offsets else []
        self.registry.forget_if_idle(group)
        return errors

    def complete_transaction(self, producer_id: int, producer_epoch: int, commit: bool) -> None:
        """The producer's marker is in `__consumer_offsets`: its pending offsets count (commit) or go (abort)."""
        for group_id in self.txn_groups.pop(producer_id, ()):
            group = self.registry.get(group_id)
            if group is not None:
                group.offsets.complete(producer_id, commit)
        log.debug("transactional offsets completed", producer_id=producer_id, epoch=producer_epoch, commit=commit)

    def add_pending(self, group: AnyGroup, producer_id: int, tp: TopicPartition, value: OffsetAndMetadata) -> None:
        group.offsets.add_pending(producer_id, tp, value)
        self.txn_groups.setdefault(producer_id, set()).add(group.group_id)

    def forget_pending(self, group: AnyGroup) -> None:
        """A group is gone: its pending offsets no longer wait for markers."""
        for producer_id in group.offsets.pending:
            self.txn_groups.get(producer_id, set()).discard(group.group_id)

    # ------------------------------------------------------------------ fetches

    def validate_fetch(self, group_id: str, member_id: str | None, member_epoch: int) -> E:
        """OffsetFetch v9 names the member: a consumer-protocol group checks it (classic groups do not)."""
        group = self.registry.consumer(group_id)
        return group.validate_offset_fetch(member_id, member_epoch) if group is not None else E.NONE

    def fetch(self, group_id: str, wanted: list[tuple[str, list[int]]] | None, require_stable: bool
              ) -> list[tuple[str, list[OffsetRow]]]:
        """OffsetFetch of one group: per topic, (partition, committed offset or None, error)."""
        group = self.registry.get(group_id)
        offsets = group.offsets if group is not None else None
        if wanted is None:
            by_topic: dict[str, list[OffsetRow]] = {}
            for (topic, partition), value in sorted(offsets.committed.items() if offsets else ()):
                by_topic.setdefault(topic, []).append((partition, value, E.NONE))
            return list(by_topic.items())
        answer = []
        for topic, partitions in wanted:
            rows: list[OffsetRow] = []
            for partition in partitions:
                tp = TopicPartition(topic, partition)
                if offsets is not None and require_stable and offsets.is_unstable(tp):
                    rows.append((partition, None, E.UNSTABLE_OFFSET_COMMIT))
                else:
                    rows.append((partition, offsets.committed.get(tp) if offsets else None, E.NONE))
            answer.append((topic, rows))
        return answer

    # ------------------------------------------------------------------ deletes

    def delete(self, group_id: str, tps: list[TopicPartition], now: int) -> tuple[E, list[E]]:
        """OffsetDelete: (group error, one error per partition)."""
        if not group_id:
            return E.INVALID_GROUP_ID, []
        group = self.registry.get(group_id)
        if group is None:
            return E.GROUP_ID_NOT_FOUND, []
        error, subscribed = group.offset_delete_check()
        if error:
            return error, []
        errors, deleted = [], []
        for tp in tps:
            if not self._partition_exists(tp):
                errors.append(E.UNKNOWN_TOPIC_OR_PARTITION)
            elif subscribed is None or tp[0] in subscribed:
                errors.append(E.GROUP_SUBSCRIBED_TO_TOPIC)
            else:
                errors.append(E.NONE)
                deleted.append(tp)
        gone = group.offsets.delete(deleted)
        if gone:
            self.log.append([(records.offset_key(group_id, t, p), None) for t, p in gone], now)
        return E.NONE, errors

    def topic_deleted(self, topic: str, now: int) -> None:
        """Forget every group's offsets of a deleted topic (Kafka does, so a re-created topic starts clean)."""
        for group in self.registry.all():
            gone = group.offsets.delete([tp for tp in group.offsets.committed if tp[0] == topic])
            if gone:
                self.log.append([(records.offset_key(group.group_id, t, p), None) for t, p in gone], now)
            self.registry.forget_if_idle(group)

    # ------------------------------------------------------------------ internals

    def _store(self, group: AnyGroup, offsets: list[OffsetToCommit], error: E, now: int,
               producer_id: int = -1, producer_epoch: int = -1) -> list[E]:
        if error:
            return [error] * len(offsets)
        errors: list[E] = []
        valid: list[tuple[int, OffsetToCommit]] = []
        for i, o in enumerate(offsets):
            if not self._partition_exists(TopicPartition(o.topic, o.partition)):
                errors.append(E.UNKNOWN_TOPIC_OR_PARTITION)
            elif o.metadata is not None and len(o.metadata.encode()) > MAX_METADATA_BYTES:
                errors.append(E.OFFSET_METADATA_TOO_LARGE)
            else:
                errors.append(E.NONE)
                valid.append((i, o))
        if not valid:
            return errors
        values = [OffsetAndMetadata(o.offset, o.leader_epoch, o.metadata or "", now) for _, o in valid]
        error, base = self.log.append([(records.offset_key(group.group_id, o.topic, o.partition),
                                        records.offset_value(v)) for (_, o), v in zip(valid, values)],
                                      now, producer_id, producer_epoch)
        for n, ((i, o), value) in enumerate(zip(valid, values)):
            if error:
                errors[i] = error
                continue
            value = OffsetAndMetadata(value.offset, value.leader_epoch, value.metadata, now, base + n)
            tp = TopicPartition(o.topic, o.partition)
            if producer_id >= 0:
                self.add_pending(group, producer_id, tp, value)
            else:
                group.offsets.commit(tp, value)
        return errors

    def _partition_exists(self, tp: TopicPartition) -> bool:
        topic, partition = tp
        return self.store.partition(topic, partition) is not None
