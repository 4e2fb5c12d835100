"""GroupCoordinator: the groups of this node, split by job, and what spans them.

- `classic`: JoinGroup, SyncGroup, Heartbeat, LeaveGroup, DescribeGroups;
- `consumer`: the KIP-848 consumer protocol (ConsumerGroupHeartbeat, ConsumerGroupDescribe);
- `offsets`: OffsetCommit, TxnOffsetCommit, OffsetFetch, OffsetDelete, and the transactional
  offsets the transaction coordinator completes through `offsets.complete_transaction`.
This class adds what spans them: ListGroups, DeleteGroups, loading at start, the timer.
"""

from __future__ import annotations

from typing import Iterable

import structlog

from kafkette.broker.clock import Clock
from kafkette.broker.groups import records
from kafkette.broker.groups.classic import ClassicGroups
from kafkette.broker.groups.consumer import ConsumerGroups
from kafkette.broker.groups.consumer_group import ConsumerGroup, ConsumerGroupSettings
from kafkette.broker.groups.group_log import GroupLog
from kafkette.broker.groups.offset_manager import OffsetManager
from kafkette.broker.groups.registry import CLASSIC, CONSUMER, AnyGroup, GroupRegistry
from kafkette.broker.groups.replay import GroupReplay
from kafkette.broker.groups.state import GroupSettings
from kafkette.broker.internal_topic import InternalTopic
from kafkette.protocol.errors import ErrorCode as E
from kafkette.storage.engine import LogEngine

log = structlog.get_logger("kafkette.groups")


class GroupCoordinator:
    tick_interval_ms = 100

    def __init__(self, offsets_topic: InternalTopic, store: LogEngine, settings: GroupSettings,
                 consumer_settings: ConsumerGroupSettings, clock: Clock) -> None:
        """`offsets_topic` is `__consumer_offsets`; `store` answers which topics and partitions exist."""
        self.now_ms = clock
        self.registry = GroupRegistry(settings, consumer_settings)
        self.log = GroupLog(offsets_topic)
        self.classic = ClassicGroups(self.registry, self.log)
        self.consumer = ConsumerGroups(self.registry, self.log, store)
        self.offsets = OffsetManager(self.registry, self.log, store)

    # ------------------------------------------------------------------ life cycle

    def load(self) -> None:
        """Rebuild groups and offsets from `__consumer_offsets` (called once, before serving)."""
        batches = GroupReplay(self.registry, self.offsets, self.log).run(self.now_ms())
        log.info("groups loaded", groups=len(self.registry.groups), batches=batches,
                 pending_txns=len(self.offsets.txn_groups))

    def tick(self, now: int) -> None:
        for group in self.registry.all():
            self._tick(group, now)

    def _tick(self, group: AnyGroup, now: int) -> None:
        if isinstance(group, ConsumerGroup):
            self.consumer.tick(group, now)
        else:
            self.classic.tick(group, now)

    def expire(self, group_ids: Iterable[str] | None, now: int) -> None:
        """Run the named groups' (all with None) timers up to `now` before a request looks at them: Kafka's
        timers fire at the deadline, kafkette's tick only every 100 ms, so a DeleteGroups or describe that
        arrives just after a session ended must not still see the member."""
        groups = self.registry.all() if group_ids is None else [self.registry.get(g) for g in group_ids]
        for group in list(groups):
            if group is not None:
                self._tick(group, now)

    def close(self) -> None:
        self.classic.close()

    def forget_everything(self) -> None:
        """`__consumer_offsets` was deleted (Kafka allows it): every group and committed offset is gone."""
        self.classic.close()  # joins and syncs waiting for a rebalance are answered no more
        self.registry.groups.clear()
        self.offsets.txn_groups.clear()
        self.log.sequences.clear()
        log.warning("__consumer_offsets deleted: every group and its committed offsets are forgotten")

    # ------------------------------------------------------------------ admin

    def list_groups(self, states: Iterable[str] = (), types: Iterable[str] = ()) -> list[tuple[str, str, str, str]]:
        """(group id, protocol type, state, group type) of the groups matching the filters (empty: all)."""
        states = {s.lower() for s in states}
        types = {t.lower() for t in types}
        listed = []
        for g in self.registry.all():
            if isinstance(g, ConsumerGroup):
                row = (g.group_id, CONSUMER, g.state.value, CONSUMER)
            else:
                row = (g.group_id, g.protocol_type or "", g.state.value, CLASSIC)
            if (not states or row[2].lower() in states) and (not types or row[3] in types):
                listed.append(row)
        return listed

    def delete_groups(self, group_ids: list[str], now: int) -> list[E]:
        self.expire(group_ids, now)
        errors = []
        for group_id in group_ids:
            group = self.registry.get(group_id)
            error = E.GROUP_ID_NOT_FOUND if group is None else group.can_delete()
            if group is not None and error == E.NONE:
                self._delete(group, now)
            errors.append(error)
        return errors

    def _delete(self, group: AnyGroup, now: int) -> None:
        group.delete(now)
        self.registry.remove(group.group_id)
        log.info("group deleted", group=group.group_id, offsets=len(group.offsets.committed))
        self.offsets.forget_pending(group)
        tombstones: list[tuple[bytes, bytes | None]] = [(records.offset_key(group.group_id, t, p), None)
                                                        for t, p in group.offsets.committed]
        tombstones.append((records.consumer_group_key(group.group_id) if isinstance(group, ConsumerGroup)
                           else records.group_key(group.group_id), None))
        self.log.append(tombstones, now)
