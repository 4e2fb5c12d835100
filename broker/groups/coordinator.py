"""GroupCoordinator: the groups of this node, their futures, timers and `__consumer_offsets` I/O.

The state machine (`broker.groups.state.Group`) decides; this module is its edge:
it turns the waits the machine asks for into asyncio futures, writes the records
the machine asks to be stored, replays them on `load()`, and runs `tick()`.
Handlers call the public methods below; the transaction coordinator calls
`complete_transaction` after writing a COMMIT/ABORT marker into `__consumer_offsets`.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterable

import structlog

from kafkette.broker.groups import records
from kafkette.broker.groups.consumer_group import (
    ConsumerGroup,
    ConsumerGroupSettings,
    HeartbeatRequest,
    HeartbeatResult,
    TopicMeta,
    TopicsImage,
    validate_request,
)
from kafkette.broker.internal_topic import INTERNAL_TOPICS, OFFSETS_TOPIC, InternalTopic, InternalTopicError
from kafkette.broker.groups.offsets import OffsetAndMetadata, TopicPartition
from kafkette.broker.groups.state import (
    STORE,
    Effect,
    Group,
    GroupSettings,
    GroupState,
    JoinRequest,
    JoinResult,
    Reply,
    SyncResult,
)
from kafkette.protocol.errors import ErrorCode as E
from kafkette.protocol.records import COMMIT, NewRecord, control_type, iter_records

if TYPE_CHECKING:
    from kafkette.broker.state import Broker

log = structlog.get_logger("kafkette.groups")

MAX_METADATA_BYTES = 4096  # Kafka's offset.metadata.max.bytes
CLASSIC = "classic"
CONSUMER = "consumer"
# A failed write as Kafka's GroupMetadataManager reports it to the committer (others pass through,
# e.g. INVALID_PRODUCER_EPOCH for a fenced transactional producer).
STORE_ERRORS = {E.UNKNOWN_TOPIC_OR_PARTITION: E.COORDINATOR_NOT_AVAILABLE,
                E.NOT_ENOUGH_REPLICAS: E.COORDINATOR_NOT_AVAILABLE,
                E.NOT_ENOUGH_REPLICAS_AFTER_APPEND: E.COORDINATOR_NOT_AVAILABLE,
                E.NOT_LEADER_OR_FOLLOWER: E.NOT_COORDINATOR,
                E.KAFKA_STORAGE_ERROR: E.NOT_COORDINATOR,
                E.MESSAGE_TOO_LARGE: E.INVALID_COMMIT_OFFSET_SIZE,
                E.RECORD_LIST_TOO_LARGE: E.INVALID_COMMIT_OFFSET_SIZE,
                E.INVALID_FETCH_SIZE: E.INVALID_COMMIT_OFFSET_SIZE}


@dataclass
class OffsetToCommit:
    topic: str
    partition: int
    offset: int
    leader_epoch: int = -1
    metadata: str | None = ""


@dataclass
class MemberSummary:
    member_id: str
    group_instance_id: str | None
    client_id: str
    client_host: str
    metadata: bytes
    assignment: bytes


@dataclass
class GroupSummary:
    group_id: str
    state: str
    protocol_type: str
    protocol_name: str
    members: list[MemberSummary]


class GroupCoordinator:
    tick_interval_ms = 100

    def __init__(self, broker: Broker) -> None:
        self.broker = broker
        config = broker.config
        self.settings = GroupSettings(config.group_min_session_timeout_ms, config.group_max_session_timeout_ms,
                                      config.group_initial_rebalance_delay_ms)
        self.consumer_settings = ConsumerGroupSettings(config.group_consumer_heartbeat_interval_ms,
                                                       config.group_consumer_session_timeout_ms)
        self.groups: dict[str, Group | ConsumerGroup] = {}  # classic and consumer-protocol groups share ids
        self.txn_groups: dict[int, set[str]] = {}  # producer id -> groups holding its pending offsets
        self.sequences: dict[int, tuple[int, int]] = {}  # producer id -> (epoch, next sequence) in the topic
        self.topic = InternalTopic(broker, OFFSETS_TOPIC)
        self._seen: dict[str, tuple[GroupState, int]] = {}  # last (state, generation) logged per group

    # ------------------------------------------------------------------ life cycle

    def load(self) -> None:
        """Rebuild groups and offsets from `__consumer_offsets` (called once, before serving)."""
        if self.topic.log is None:
            return
        now = self.broker.now_ms()
        count = 0
        for header, batch in self.topic.replay():
            self._replay_batch(header, batch, now)
            count += 1
        for group in list(self.groups.values()):
            self._forget_if_idle(group)
        log.info("groups loaded", groups=len(self.groups), batches=count,
                 pending_txns=len(self.txn_groups))

    def tick(self, now: int) -> None:
        for group in list(self.groups.values()):
            if isinstance(group, ConsumerGroup):
                epoch = group.group_epoch
                for member_id in group.tick(now):
                    log.info("consumer group member fenced", group=group.group_id, member=member_id,
                             group_epoch=group.group_epoch)
                self._consumer_group_changed(group, epoch, now)
                continue
            self._apply(group, group.tick(now), now)
            self._forget_if_idle(group)

    def close(self) -> None:
        for group in self.groups.values():
            if isinstance(group, ConsumerGroup):
                continue
            for member in group.members.values():
                for token in (member.join_token, member.sync_token):
                    if isinstance(token, asyncio.Future) and not token.done():
                        token.cancel()

    # ------------------------------------------------------------------ membership

    def join_group(self, group_id: str, req: JoinRequest, now: int) -> JoinResult | asyncio.Future:
        """JoinGroup: the result, or a future of it when the member must wait for the rebalance."""
        if not group_id:
            return JoinResult(E.INVALID_GROUP_ID, req.member_id)
        s = self.settings
        if not s.min_session_timeout_ms <= req.session_timeout_ms <= s.max_session_timeout_ms:
            return JoinResult(E.INVALID_SESSION_TIMEOUT, req.member_id)
        group = self.groups.get(group_id)
        if isinstance(group, ConsumerGroup):
            if group.members:
                # Kafka 4 lets a classic member into a consumer group (KIP-848 migration); kafkette, like
                # Kafka 3.7, does not mix the protocols in one group.
                return JoinResult(E.INCONSISTENT_GROUP_PROTOCOL, req.member_id)
            group = self._replace(group, now)  # an empty consumer group becomes a classic one, offsets kept
        if group is None:
            if req.member_id:
                return JoinResult(E.UNKNOWN_MEMBER_ID, req.member_id)
            group = self._create(group_id, now)
        future = asyncio.get_running_loop().create_future()
        self._apply(group, group.join(req, future, now), now)
        self._forget_if_idle(group)
        return future.result() if future.done() else future

    def sync_group(self, group_id: str, member_id: str, instance_id: str | None, generation: int,
                   protocol_type: str | None, protocol_name: str | None, assignments: dict[str, bytes],
                   now: int) -> SyncResult | asyncio.Future:
        if not group_id:
            return SyncResult(E.INVALID_GROUP_ID)
        group = self.groups.get(group_id)
        if group is None or isinstance(group, ConsumerGroup):
            return SyncResult(E.UNKNOWN_MEMBER_ID)
        future = asyncio.get_running_loop().create_future()
        self._apply(group, group.sync(member_id, instance_id, generation, protocol_type, protocol_name,
                                      assignments, future, now), now)
        return future.result() if future.done() else future

    def heartbeat(self, group_id: str, member_id: str, instance_id: str | None, generation: int, now: int) -> E:
        if not group_id:
            return E.INVALID_GROUP_ID
        group = self.groups.get(group_id)
        if group is None or isinstance(group, ConsumerGroup):
            return E.UNKNOWN_MEMBER_ID
        return group.heartbeat(member_id, instance_id, generation, now)

    def leave_group(self, group_id: str, leaving: list[tuple[str, str | None]], now: int) -> tuple[E, list[E]]:
        """LeaveGroup: (group error, one error per leaving member)."""
        if not group_id:
            return E.INVALID_GROUP_ID, [E.INVALID_GROUP_ID] * len(leaving)
        group = self.groups.get(group_id)
        if group is None or isinstance(group, ConsumerGroup):
            return E.NONE, [E.UNKNOWN_MEMBER_ID] * len(leaving)
        errors, effects = group.leave(leaving, now)
        self._apply(group, effects, now)
        return E.NONE, errors

    # ------------------------------------------------------------------ consumer protocol (KIP-848)

    def consumer_group_heartbeat(self, group_id: str, req: HeartbeatRequest, version: int,
                                 now: int) -> HeartbeatResult:
        """ConsumerGroupHeartbeat: join (epoch 0), heartbeat, or leave (-1, or -2 for a static member)."""
        invalid = validate_request(req, group_id, version)
        if invalid is not None:
            return invalid
        group = self.groups.get(group_id)
        joining = req.member_epoch == 0
        if group is None:
            if not joining:
                return HeartbeatResult(E.GROUP_ID_NOT_FOUND, f"Consumer group {group_id} not found.")
            group = self.groups[group_id] = ConsumerGroup(group_id, self.consumer_settings)
        elif not isinstance(group, ConsumerGroup):
            if joining and not group.members and not group.pending_members:
                group = self._replace(group, now)  # Kafka's maybeDeleteEmptyClassicGroup
            elif joining:
                # Kafka with group.consumer.migration.policy=disabled: no online upgrade of a live classic group.
                return HeartbeatResult(E.GROUP_ID_NOT_FOUND, f"Cannot upgrade classic group {group_id} to "
                                                             "consumer group because online upgrade is disabled.")
            else:
                return HeartbeatResult(E.GROUP_ID_NOT_FOUND, f"Group {group_id} is not a consumer group.")
        epoch = group.group_epoch
        result = group.heartbeat(req, self.topics_image(), now)
        self._consumer_group_changed(group, epoch, now)
        return result

    def consumer_group_describe(self, group_id: str) -> tuple[E, str | None, ConsumerGroup | None, TopicsImage]:
        """ConsumerGroupDescribe of one group: (error, message, group, topics to name the assignments)."""
        image = self.topics_image()
        if not group_id:
            return E.INVALID_GROUP_ID, "Group ID can't be empty.", None, image
        group = self.groups.get(group_id)
        if group is None:
            return E.GROUP_ID_NOT_FOUND, f"Group {group_id} not found.", None, image
        if not isinstance(group, ConsumerGroup):
            return E.GROUP_ID_NOT_FOUND, f"Group {group_id} is not a consumer group.", None, image
        return E.NONE, None, group, image

    def topics_image(self) -> TopicsImage:
        return TopicsImage.of([TopicMeta(t.name, t.topic_id, len(t.partitions)) for t in self.broker.store.topics()
                               if t.name not in INTERNAL_TOPICS])

    def _consumer_group_changed(self, group: ConsumerGroup, epoch_before: int, now: int) -> None:
        """Log and persist a new group epoch (the one part of a consumer group that survives a restart)."""
        if group.group_epoch != epoch_before:
            log.info("consumer group epoch", group=group.group_id, group_epoch=group.group_epoch,
                     state=group.state.value, members=len(group.members))
            self._append([(records.consumer_group_key(group.group_id),
                           records.consumer_group_value(group.group_epoch))], now)

    def _replace(self, old: Group | ConsumerGroup, now: int) -> Group | ConsumerGroup:
        """An empty group of one protocol gives way to a group of the other; the committed offsets stay."""
        if isinstance(old, ConsumerGroup):
            new: Group | ConsumerGroup = Group(old.group_id, now, self.settings)
        else:
            new = ConsumerGroup(old.group_id, self.consumer_settings)
        new.offsets = old.offsets
        self.groups[old.group_id] = new
        self._seen.pop(old.group_id, None)
        # No tombstone for the old group's record (Kafka writes one): on replay the later record wins anyway,
        # and a tombstone replayed first would drop the offsets with the group.
        log.info("group changes protocol", group=old.group_id, to=CONSUMER if isinstance(new, ConsumerGroup)
                 else CLASSIC)
        return new

    # ------------------------------------------------------------------ offsets

    def commit_offsets(self, group_id: str, member_id: str, instance_id: str | None, generation: int,
                       offsets: list[OffsetToCommit], version: int, now: int) -> list[E]:
        """OffsetCommit: one error per offset, in order."""
        group = self.groups.get(group_id)
        if group is None:
            if generation >= 0:
                # OffsetCommit v9+ says the group is gone; older versions get ILLEGAL_GENERATION.
                return [E.GROUP_ID_NOT_FOUND if version >= 9 else E.ILLEGAL_GENERATION] * len(offsets)
            group = self._create(group_id, now)
        if isinstance(group, ConsumerGroup):
            error = group.validate_offset_commit(member_id, instance_id, generation, False, version)
        else:
            error = group.validate_offset_commit(member_id, instance_id, generation, False, now)
        errors = self._store_offsets(group, offsets, error, now) if offsets else []
        self._forget_if_idle(group)
        return errors

    def commit_txn_offsets(self, group_id: str, producer_id: int, producer_epoch: int, member_id: str,
                           instance_id: str | None, generation: int, offsets: list[OffsetToCommit],
                           now: int) -> list[E]:
        """TxnOffsetCommit: the offsets wait, pending, for the producer's COMMIT marker."""
        if not group_id:
            return [E.INVALID_GROUP_ID] * len(offsets)
        group = self.groups.get(group_id) or self._create(group_id, now)
        if isinstance(group, ConsumerGroup):
            error = group.validate_offset_commit(member_id, instance_id, generation, True, 3)
        else:
            error = group.validate_offset_commit(member_id, instance_id, generation, True, now)
        errors = self._store_offsets(group, offsets, error, now, producer_id, producer_epoch) if offsets else []
        self._forget_if_idle(group)
        return errors

    def complete_transaction(self, producer_id: int, producer_epoch: int, commit: bool) -> None:
        """Called by the transaction coordinator right after it wrote the marker into `__consumer_offsets`:
        on commit the producer's pending offsets become the committed ones, on abort they are dropped."""
        for group_id in self.txn_groups.pop(producer_id, ()):
            group = self.groups.get(group_id)
            if group is not None:
                group.offsets.complete(producer_id, commit)
        log.debug("transactional offsets completed", producer_id=producer_id, epoch=producer_epoch, commit=commit)

    def validate_offset_fetch(self, group_id: str, member_id: str | None, member_epoch: int) -> E:
        """OffsetFetch v9 names the member: a consumer-protocol group checks it (classic groups do not)."""
        group = self.groups.get(group_id)
        if isinstance(group, ConsumerGroup):
            return group.validate_offset_fetch(member_id, member_epoch)
        return E.NONE

    def fetch_offsets(self, group_id: str, wanted: list[tuple[str, list[int]]] | None, require_stable: bool
                      ) -> list[tuple[str, list[tuple[int, OffsetAndMetadata | None, E]]]]:
        """OffsetFetch of one group: per topic, (partition, committed offset or None, error)."""
        group = self.groups.get(group_id)
        offsets = group.offsets if group is not None else None
        if wanted is None:
            by_topic: dict[str, list] = {}
            for (topic, partition), value in sorted(offsets.committed.items() if offsets else ()):
                by_topic.setdefault(topic, []).append((partition, value, E.NONE))
            return list(by_topic.items())
        answer = []
        for topic, partitions in wanted:
            rows = []
            for partition in partitions:
                tp = (topic, partition)
                if offsets is not None and require_stable and offsets.is_unstable(tp):
                    rows.append((partition, None, E.UNSTABLE_OFFSET_COMMIT))
                else:
                    rows.append((partition, offsets.committed.get(tp) if offsets else None, E.NONE))
            answer.append((topic, rows))
        return answer

    def delete_offsets(self, group_id: str, tps: list[TopicPartition], now: int) -> tuple[E, list[E]]:
        """OffsetDelete: (group error, one error per partition)."""
        if not group_id:
            return E.INVALID_GROUP_ID, []
        group = self.groups.get(group_id)
        if isinstance(group, ConsumerGroup):
            subscribed: set[str] | None = set(group.subscription_metadata) if group.members else set()
        elif group is None or group.state is GroupState.DEAD:
            return E.GROUP_ID_NOT_FOUND, []
        elif group.state is not GroupState.EMPTY and group.protocol_type != "consumer":
            return E.NON_EMPTY_GROUP, []
        else:
            subscribed = group.subscribed_topics() if group.state is not GroupState.EMPTY else set()
        errors, deleted = [], []
        for tp in tps:
            if not self._partition_exists(*tp):
                errors.append(E.UNKNOWN_TOPIC_OR_PARTITION)
            elif subscribed is None or tp[0] in subscribed:
                errors.append(E.GROUP_SUBSCRIBED_TO_TOPIC)
            else:
                errors.append(E.NONE)
                deleted.append(tp)
        deleted = group.offsets.delete(deleted)
        if deleted:
            self._append([(records.offset_key(group_id, t, p), None) for t, p in deleted], now)
        return E.NONE, errors

    def topic_deleted(self, topic: str, now: int) -> None:
        """Forget every group's offsets of a deleted topic (Kafka does, so a re-created topic starts clean)."""
        for group in list(self.groups.values()):
            gone = group.offsets.delete([tp for tp in group.offsets.committed if tp[0] == topic])
            if gone:
                self._append([(records.offset_key(group.group_id, t, p), None) for t, p in gone], now)
            self._forget_if_idle(group)

    # ------------------------------------------------------------------ admin

    def describe(self, group_id: str) -> GroupSummary:
        group = self.groups.get(group_id)
        if group is None or isinstance(group, ConsumerGroup):
            # Kafka describes classic groups only: "Group ... is not a classic group." (Dead below v6)
            return GroupSummary(group_id, GroupState.DEAD.value, "", "", [])
        stable = group.state is GroupState.STABLE
        members = [MemberSummary(m.member_id, m.group_instance_id, m.client_id, m.client_host,
                                 m.metadata(group.protocol_name) if stable else b"",
                                 m.assignment if stable else b"")
                   for m in group.members.values()]
        return GroupSummary(group_id, group.state.value, group.protocol_type or "",
                            (group.protocol_name or "") if stable else "", members)

    def list_groups(self, states: Iterable[str] = (), types: Iterable[str] = ()) -> list[tuple[str, str, str, str]]:
        """(group id, protocol type, state, group type) of the groups matching the filters (empty: all)."""
        states = {s.lower() for s in states}
        types = {t.lower() for t in types}
        listed = []
        for g in self.groups.values():
            if isinstance(g, ConsumerGroup):
                row = (g.group_id, CONSUMER, g.state.value, CONSUMER)
            else:
                row = (g.group_id, g.protocol_type or "", g.state.value, CLASSIC)
            if (not states or row[2].lower() in states) and (not types or row[3] in types):
                listed.append(row)
        return listed

    def delete_groups(self, group_ids: list[str], now: int) -> list[E]:
        errors = []
        for group_id in group_ids:
            group = self.groups.get(group_id)
            error = E.GROUP_ID_NOT_FOUND if group is None else group.can_delete()
            if error == E.NONE:
                self._delete_group(group, now)
            errors.append(error)
        return errors

    # ------------------------------------------------------------------ internals

    def _create(self, group_id: str, now: int) -> Group:
        group = self.groups[group_id] = Group(group_id, now, self.settings)
        return group

    def _forget_if_idle(self, group: Group | ConsumerGroup) -> None:
        """A group that never got anywhere (no generation, members, or offsets) is not kept."""
        if isinstance(group, ConsumerGroup):
            if group.group_epoch == 0 and not group.members and not group.offsets:
                self.groups.pop(group.group_id, None)
            return
        if (group.state is GroupState.EMPTY and group.generation == 0 and not group.members
                and not group.pending_members and not group.offsets):
            self.groups.pop(group.group_id, None)
            self._seen.pop(group.group_id, None)

    def _apply(self, group: Group, effects: list[Effect], now: int) -> None:
        seen = (group.state, group.generation)
        if self._seen.get(group.group_id) != seen:
            self._seen[group.group_id] = seen
            log.info("group state", group=group.group_id, state=group.state.value, generation=group.generation,
                     members=len(group.members), protocol=group.protocol_name)
        if STORE in effects:
            self._append([(records.group_key(group.group_id), records.group_value(group))], now)
        for effect in effects:
            if isinstance(effect, Reply):
                token = effect.token
                if isinstance(token, asyncio.Future) and not token.done():
                    token.set_result(effect.result)

    def _delete_group(self, group: Group | ConsumerGroup, now: int) -> None:
        group.delete(now)
        del self.groups[group.group_id]
        self._seen.pop(group.group_id, None)
        log.info("group deleted", group=group.group_id, offsets=len(group.offsets.committed))
        for producer_id in list(group.offsets.pending):
            self.txn_groups.get(producer_id, set()).discard(group.group_id)
        tombstones = [(records.offset_key(group.group_id, t, p), None) for t, p in group.offsets.committed]
        tombstones.append((records.consumer_group_key(group.group_id) if isinstance(group, ConsumerGroup)
                           else records.group_key(group.group_id), None))
        self._append(tombstones, now)

    def _store_offsets(self, group: Group, offsets: list[OffsetToCommit], error: E, now: int,
                       producer_id: int = -1, producer_epoch: int = -1) -> list[E]:
        if error:
            return [error] * len(offsets)
        errors: list[E] = []
        valid: list[tuple[int, OffsetToCommit]] = []
        for i, o in enumerate(offsets):
            if not self._partition_exists(o.topic, o.partition):
                errors.append(E.UNKNOWN_TOPIC_OR_PARTITION)
            elif o.metadata is not None and len(o.metadata.encode()) > MAX_METADATA_BYTES:
                errors.append(E.OFFSET_METADATA_TOO_LARGE)
            else:
                errors.append(E.NONE)
                valid.append((i, o))
        if not valid:
            return errors
        values = [OffsetAndMetadata(o.offset, o.leader_epoch, o.metadata or "", now) for _, o in valid]
        error, base = self._append([(records.offset_key(group.group_id, o.topic, o.partition), records.offset_value(v))
                                    for (_, o), v in zip(valid, values)], now, producer_id, producer_epoch)
        for n, ((i, o), value) in enumerate(zip(valid, values)):
            if error:
                errors[i] = error
                continue
            value = OffsetAndMetadata(value.offset, value.leader_epoch, value.metadata, now, base + n)
            if producer_id >= 0:
                group.offsets.add_pending(producer_id, (o.topic, o.partition), value)
                self.txn_groups.setdefault(producer_id, set()).add(group.group_id)
            else:
                group.offsets.commit((o.topic, o.partition), value)
        return errors

    def _partition_exists(self, topic: str, partition: int) -> bool:
        return self.broker.store.partition(topic, partition) is not None

    def _append(self, pairs: list[tuple[bytes, bytes | None]], now: int, producer_id: int = -1,
                producer_epoch: int = -1) -> tuple[E, int]:
        """Write records as one batch (transactional when a producer id is given); (error, base offset).

        A transactional batch carries the producer's id, epoch and next sequence in this topic, so
        the log opens the transaction that the COMMIT/ABORT marker later closes.
        """
        if producer_id < 0:
            batch: dict = {}
        else:
            epoch, sequence = self.sequences.get(producer_id, (producer_epoch, 0))
            sequence = sequence if epoch == producer_epoch else 0
            batch = dict(producer_id=producer_id, producer_epoch=producer_epoch, base_sequence=sequence,
                         transactional=True)
        if self.topic.log is None:
            return E.COORDINATOR_NOT_AVAILABLE, -1
        try:
            base = self.topic.append([NewRecord(k, v) for k, v in pairs], now, **batch)
        except InternalTopicError as e:
            error = STORE_ERRORS.get(e.error, e.error)
            log.warning("writing to __consumer_offsets failed", error=e.error.name, answered=error.name,
                        records=len(pairs), producer_id=producer_id, producer_epoch=producer_epoch)
            return error, -1
        if producer_id >= 0:
            self.sequences[producer_id] = (producer_epoch, batch["base_sequence"] + len(pairs))
        return E.NONE, base

    # ------------------------------------------------------------------ replay

    def _replay_batch(self, header: Any, batch: bytes, now: int) -> None:
        if header.is_control:
            if header.is_transactional:
                self.complete_transaction(header.producer_id, header.producer_epoch, control_type(batch) == COMMIT)
            return
        producer_id = header.producer_id if header.is_transactional else -1
        if producer_id >= 0:
            self.sequences[producer_id] = (header.producer_epoch, header.base_sequence + header.record_count)
        for record in iter_records(batch):
            if record.key is None:
                continue
            decoded = records.decode(record.key, record.value, record.offset)
            if isinstance(decoded, records.OffsetRecord):
                self._replay_offset(decoded, producer_id, now)
            elif isinstance(decoded, records.GroupRecord):
                self._replay_group(decoded, now)
            elif isinstance(decoded, records.ConsumerGroupRecord):
                self._replay_consumer_group(decoded, now)

    def _replay_offset(self, rec: records.OffsetRecord, producer_id: int, now: int) -> None:
        group = self.groups.get(rec.group_id) or self._create(rec.group_id, now)
        tp = (rec.topic, rec.partition)
        if rec.value is None:
            group.offsets.delete([tp])
        elif producer_id >= 0:
            group.offsets.add_pending(producer_id, tp, rec.value)
            self.txn_groups.setdefault(producer_id, set()).add(rec.group_id)
        else:
            group.offsets.commit(tp, rec.value)

    def _replay_group(self, rec: records.GroupRecord, now: int) -> None:
        if rec.value is None:
            if not isinstance(self.groups.get(rec.group_id), ConsumerGroup):
                self._forget_on_replay(rec.group_id)
            return
        v = rec.value
        group = self.groups.get(rec.group_id) or self._create(rec.group_id, now)
        if isinstance(group, ConsumerGroup):
            group = self._replace_on_replay(group, now)
        group.restore(v.generation, v.protocol_type, v.protocol, v.leader, records.members_of(v),
                      v.current_state_timestamp, now)


    def _replay_consumer_group(self, rec: records.ConsumerGroupRecord, now: int) -> None:
        group = self.groups.get(rec.group_id)
        if rec.epoch is None:
            if isinstance(group, ConsumerGroup):
                self._forget_on_replay(rec.group_id)
            return
        if not isinstance(group, ConsumerGroup):
            fresh = ConsumerGroup(rec.group_id, self.consumer_settings)
            if group is not None:
                fresh.offsets = group.offsets
            group = self.groups[rec.group_id] = fresh
        # Members are not kept: after a restart they get UNKNOWN_MEMBER_ID and rejoin at epoch 0.
        group.group_epoch = group.assignment_epoch = rec.epoch

    def _forget_on_replay(self, group_id: str) -> None:
        """A deleted group (its offsets were tombstoned just before)."""
        group = self.groups.pop(group_id, None)
        if group is not None:
            for producer_id in group.offsets.pending:
                self.txn_groups.get(producer_id, set()).discard(group_id)

    def _replace_on_replay(self, old: Group | ConsumerGroup, now: int) -> Group:
        new = Group(old.group_id, now, self.settings)
        new.offsets = old.offsets
        self.groups[old.group_id] = new
        return new
