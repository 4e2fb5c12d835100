"""The classic group protocol's edge: JoinGroup, SyncGroup, Heartbeat, LeaveGroup, DescribeGroups.

The state machine (`broker.groups.state.Group`) decides; this turns the waits it
asks for into asyncio futures and writes the group records it asks to store.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import structlog

from kafkette.broker.groups import records
from kafkette.broker.groups.group_log import GroupLog
from kafkette.broker.groups.registry import CLASSIC, GroupRegistry, log_group_state
from kafkette.broker.groups.state import STORE, Effect, Group, GroupState, JoinRequest, JoinResult, Reply, SyncResult
from kafkette.protocol.errors import ErrorCode as E

log = structlog.get_logger("kafkette.groups")


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


class ClassicGroups:
    def __init__(self, registry: GroupRegistry, group_log: GroupLog) -> None:
        self.registry = registry
        self.log = group_log

    def join(self, group_id: str, req: JoinRequest, now: int) -> JoinResult | asyncio.Future[JoinResult]:
        """JoinGroup: the result, or a future of it when the member must wait for the rebalance."""
        if not group_id:
            return JoinResult(E.INVALID_GROUP_ID, req.member_id)
        s = self.registry.settings
        if not s.min_session_timeout_ms <= req.session_timeout_ms <= s.max_session_timeout_ms:
            return JoinResult(E.INVALID_SESSION_TIMEOUT, req.member_id)
        group = self.registry.classic(group_id)
        other = self.registry.consumer(group_id)
        if other is not None:
            if other.members:
                # Kafka 4 lets a classic member into a consumer group (KIP-848 migration); kafkette, like
                # Kafka 3.7, does not mix the protocols in one group.
                return JoinResult(E.INCONSISTENT_GROUP_PROTOCOL, req.member_id)
            group = self.registry.to_classic(other, now)
            log.info("group changes protocol", group=group_id, to=CLASSIC)
        if group is None:
            if req.member_id:
                return JoinResult(E.UNKNOWN_MEMBER_ID, req.member_id)
            group = self.registry.create_classic(group_id, now)
        future: asyncio.Future[JoinResult] = asyncio.get_running_loop().create_future()
        self.apply(group, group.join(req, future, now), now)
        self.registry.forget_if_idle(group)
        return future.result() if future.done() else future

    def sync(self, group_id: str, member_id: str, instance_id: str | None, generation: int,
             protocol_type: str | None, protocol_name: str | None, assignments: dict[str, bytes],
             now: int) -> SyncResult | asyncio.Future[SyncResult]:
        if not group_id:
            return SyncResult(E.INVALID_GROUP_ID)
        group = self.registry.classic(group_id)
        if group is None:
            return SyncResult(E.UNKNOWN_MEMBER_ID)
        future: asyncio.Future[SyncResult] = asyncio.get_running_loop().create_future()
        self.apply(group, group.sync(member_id, instance_id, generation, protocol_type, protocol_name,
                                     assignments, future, now), now)
        return future.result() if future.done() else future

    def heartbeat(self, group_id: str, member_id: str, instance_id: str | None, generation: int, now: int) -> E:
        if not group_id:
            return E.INVALID_GROUP_ID
        group = self.registry.classic(group_id)
        if group is None:
            return E.UNKNOWN_MEMBER_ID
        return group.heartbeat(member_id, instance_id, generation, now)

    def leave(self, group_id: str, leaving: list[tuple[str, str | None]], now: int) -> tuple[E, list[E]]:
        """LeaveGroup: (group error, one error per leaving member)."""
        if not group_id:
            return E.INVALID_GROUP_ID, [E.INVALID_GROUP_ID] * len(leaving)
        group = self.registry.classic(group_id)
        if group is None:
            return E.NONE, [E.UNKNOWN_MEMBER_ID] * len(leaving)
        errors, effects = group.leave(leaving, now)
        self.apply(group, effects, now)
        return E.NONE, errors

    def describe(self, group_id: str) -> GroupSummary:
        group = self.registry.classic(group_id)
        if group is None:
            # Kafka describes classic groups only: "Group ... is not a classic group." (Dead below v6)
            return GroupSummary(group_id, GroupState.DEAD.value, "", "", [])
        stable = group.state is GroupState.STABLE
        members = [MemberSummary(m.member_id, m.group_instance_id, m.client_id, m.client_host,
                                 m.metadata(group.protocol_name) if stable else b"",
                                 m.assignment if stable else b"")
                   for m in group.members.values()]
        return GroupSummary(group_id, group.state.value, group.protocol_type or "",
                            (group.protocol_name or "") if stable else "", members)

    # ------------------------------------------------------------------ timers, life cycle

    def tick(self, group: Group, now: int) -> None:
        members = list(group.members)
        effects = group.tick(now)
        gone = [member_id for member_id in members if member_id not in group.members]
        if gone:
            log.info("group members removed: no heartbeat, join or sync in time", group=group.group_id,
                     member_ids=gone, generation=group.generation)
        self.apply(group, effects, now)
        self.registry.forget_if_idle(group)

    def close(self) -> None:
        """Answer no more: cancel the joins and syncs waiting for a rebalance."""
        for group in self.registry.all():
            if isinstance(group, Group):
                for member in group.members.values():
                    for token in (member.join_token, member.sync_token):
                        if isinstance(token, asyncio.Future) and not token.done():
                            token.cancel()

    def apply(self, group: Group, effects: list[Effect], now: int) -> None:
        """Log a new state, store the group record when asked, answer the waiting requests."""
        log_group_state(group)
        if STORE in effects:
            self.log.append([(records.group_key(group.group_id), records.group_value(group))], now)
        for effect in effects:
            if isinstance(effect, Reply):
                token = effect.token
                if isinstance(token, asyncio.Future) and not token.done():
                    token.set_result(effect.result)
