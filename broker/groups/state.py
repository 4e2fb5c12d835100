"""The classic group membership state machine (JoinGroup/SyncGroup/Heartbeat/LeaveGroup), without I/O.

A `Group` is driven by method calls carrying the request fields and `now` (ms);
it never touches a socket, a future or the log. A request that must wait (a
JoinGroup during a rebalance, a follower's SyncGroup) hands in an opaque
`token`; the group answers it later with a `Reply(token, result)` effect. The
other effect, `STORE`, asks the caller to write the group's metadata record.
The caller (`broker.groups.coordinator`) maps tokens to asyncio futures.

The rules follow Kafka's GroupCoordinator / ClassicGroup: states and their
allowed transitions, MEMBER_ID_REQUIRED for JoinGroup v4+, static membership
(group.instance.id) with FENCED_INSTANCE_ID, rebalance and session timeouts.
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable

from kafkette.broker.errors import IllegalTransition
from kafkette.broker.groups.consumer_protocol import subscription_topics
from kafkette.broker.groups.offsets import GroupOffsets
from kafkette.protocol.errors import ErrorCode as E


class GroupState(enum.Enum):
    EMPTY = "Empty"
    PREPARING_REBALANCE = "PreparingRebalance"
    COMPLETING_REBALANCE = "CompletingRebalance"
    STABLE = "Stable"
    DEAD = "Dead"


S = GroupState

# Which state may follow which (Kafka's validPreviousStates, turned around).
TRANSITIONS: dict[GroupState, frozenset[GroupState]] = {
    S.EMPTY: frozenset({S.PREPARING_REBALANCE, S.DEAD}),
    S.PREPARING_REBALANCE: frozenset({S.COMPLETING_REBALANCE, S.EMPTY, S.DEAD}),
    S.COMPLETING_REBALANCE: frozenset({S.PREPARING_REBALANCE, S.STABLE, S.DEAD}),
    S.STABLE: frozenset({S.PREPARING_REBALANCE, S.DEAD}),
    S.DEAD: frozenset({S.DEAD}),
}

# What a valid member's Heartbeat is answered with, per state.
HEARTBEAT_ANSWER: dict[GroupState, E] = {
    S.EMPTY: E.UNKNOWN_MEMBER_ID,
    S.PREPARING_REBALANCE: E.REBALANCE_IN_PROGRESS,
    S.COMPLETING_REBALANCE: E.NONE,
    S.STABLE: E.NONE,
}

# What a valid member's SyncGroup is answered with, per state (None: handled by the rebalance).
SYNC_ANSWER: dict[GroupState, E | None] = {
    S.EMPTY: E.UNKNOWN_MEMBER_ID,
    S.PREPARING_REBALANCE: E.REBALANCE_IN_PROGRESS,
    S.COMPLETING_REBALANCE: None,
    S.STABLE: None,
}

NEW_MEMBER_JOIN_TIMEOUT_MS = 5 * 60 * 1000  # Kafka's GroupCoordinator.NewMemberJoinTimeoutMs


@dataclass(frozen=True)
class GroupSettings:
    min_session_timeout_ms: int = 6000
    max_session_timeout_ms: int = 1_800_000
    initial_rebalance_delay_ms: int = 0


@dataclass
class JoinRequest:
    member_id: str
    group_instance_id: str | None
    client_id: str
    client_host: str
    session_timeout_ms: int
    rebalance_timeout_ms: int
    protocol_type: str
    protocols: list[tuple[str, bytes]]
    require_known_member_id: bool  # JoinGroup v4+: a new member first gets MEMBER_ID_REQUIRED


@dataclass
class JoinResult:
    error: E
    member_id: str
    generation_id: int = -1
    protocol_type: str | None = None
    protocol_name: str | None = None
    leader: str = ""
    skip_assignment: bool = False
    members: list[tuple[str, str | None, bytes]] = field(default_factory=list)  # (id, instance id, metadata)


@dataclass
class SyncResult:
    error: E
    protocol_type: str | None = None
    protocol_name: str | None = None
    assignment: bytes = b""


@dataclass(frozen=True)
class Reply:
    token: Any
    result: JoinResult | SyncResult


STORE = "store"  # effect: write the group's metadata record
Effect = Reply | str


@dataclass
class Member:
    member_id: str
    group_instance_id: str | None
    client_id: str
    client_host: str
    session_timeout_ms: int
    rebalance_timeout_ms: int
    protocol_type: str
    protocols: list[tuple[str, bytes]]
    assignment: bytes = b""
    join_token: Any = None  # the JoinGroup waiting for the rebalance to complete
    sync_token: Any = None  # the SyncGroup waiting for the leader's assignment
    heartbeat_deadline: int = 0
    is_new: bool = True

    @property
    def awaiting_join(self) -> bool:
        return self.join_token is not None

    @property
    def awaiting_sync(self) -> bool:
        return self.sync_token is not None

    def metadata(self, protocol: str | None) -> bytes:
        for name, data in self.protocols:
            if name == protocol:
                return data
        return b""

    def vote(self, candidates: set[str]) -> str:
        return next(name for name, _ in self.protocols if name in candidates)

    def expired(self, now: int) -> bool:
        """Kafka's hasSatisfiedHeartbeat, negated: members in a rebalance are kept alive unless new."""
        if not self.is_new and (self.awaiting_join or self.awaiting_sync):
            return False
        return now >= self.heartbeat_deadline


def classic_member_id(client_id: str) -> str:
    """Kafka's classic member id: the client id, a dash, a random UUID."""
    return f"{client_id}-{uuid.uuid4()}"


class Group:
    def __init__(self, group_id: str, now: int, settings: GroupSettings = GroupSettings(),
                 make_member_id: Callable[[str], str] = classic_member_id) -> None:
        self.group_id = group_id
        self.settings = settings
        self.make_member_id = make_member_id
        self.state = S.EMPTY
        self.state_timestamp = now
        self.generation = 0
        self.protocol_type: str | None = None
        self.protocol_name: str | None = None
        self.leader_id: str | None = None
        self.members: dict[str, Member] = {}
        self.static_members: dict[str, str] = {}  # group.instance.id -> member id
        self.pending_members: dict[str, int] = {}  # got MEMBER_ID_REQUIRED; member id -> deadline
        self.pending_sync: set[str] = set()  # joined this generation but not yet synced
        self.join_deadline = 0
        self.sync_deadline = 0
        self.initial_delay = False  # the first rebalance of an empty group waits for more members
        self.new_member_added = False
        self.offsets = GroupOffsets()  # committed and pending transactional offsets
        self.last_logged: tuple[str, int] | None = None  # (state, generation) last logged (registry.log_group_state)
        self._effects: list[Effect] = []

    # ------------------------------------------------------------------ state

    def transition(self, target: GroupState, now: int) -> None:
        if target not in TRANSITIONS[self.state]:
            raise IllegalTransition(f"group {self.group_id}: {self.state.value} -> {target.value}")
        self.state = target
        self.state_timestamp = now

    def _drain(self) -> list[Effect]:
        effects, self._effects = self._effects, []
        return effects

    def _reply(self, token: Any, result: JoinResult | SyncResult) -> None:
        if token is not None:
            self._effects.append(Reply(token, result))

    def is_static_fenced(self, member_id: str, instance_id: str | None) -> bool:
        """The instance id is known and belongs to another member id."""
        if instance_id is None:
            return False
        known = self.static_members.get(instance_id)
        return known is not None and known != member_id

    def validate_member(self, member_id: str, instance_id: str | None) -> E:
        """Kafka's ClassicGroup.validateMember."""
        if instance_id is not None:
            known = self.static_members.get(instance_id)
            if known is None:
                return E.UNKNOWN_MEMBER_ID
            return E.FENCED_INSTANCE_ID if known != member_id else E.NONE
        return E.NONE if member_id in self.members else E.UNKNOWN_MEMBER_ID

    def supports(self, protocol_type: str, protocols: list[tuple[str, bytes]]) -> bool:
        if self.state is S.EMPTY:
            return bool(protocol_type) and bool(protocols)
        if protocol_type != self.protocol_type:
            return False
        counts: dict[str, int] = {}
        for member in self.members.values():
            for name, _ in member.protocols:
                counts[name] = counts.get(name, 0) + 1
        return any(counts.get(name, 0) == len(self.members) for name, _ in protocols)

    def select_protocol(self) -> str:
        members = list(self.members.values())
        candidates = set.intersection(*({name for name, _ in m.protocols} for m in members))
        votes: dict[str, int] = {}
        for member in members:
            choice = member.vote(candidates)
            votes[choice] = votes.get(choice, 0) + 1
        leader = self.members.get(self.leader_id or "", members[0])
        order = [name for name, _ in leader.protocols if name in votes]
        return max(order, key=lambda name: votes[name])  # ties: the leader's preference

    def subscribed_topics(self) -> set[str] | None:
        """Topics the members subscribe to (consumer protocol); None if unknown."""
        if self.protocol_type != "consumer" or self.protocol_name is None:
            return None
        topics: set[str] = set()
        for member in self.members.values():
            found = subscription_topics(member.metadata(self.protocol_name))
            if found is None:
                return None
            topics |= found
        return topics

    def max_rebalance_timeout(self) -> int:
        return max((m.rebalance_timeout_ms for m in self.members.values()), default=0)

    def all_joined(self) -> bool:
        return not self.pending_members and all(m.awaiting_join for m in self.members.values())

    def is_leader(self, member_id: str) -> bool:
        return self.leader_id == member_id

    # ------------------------------------------------------------------ JoinGroup

    def join(self, req: JoinRequest, token: Any, now: int) -> list[Effect]:
        """JoinGroup; the answer to `token` is among the effects now or after a later call."""
        if self.state is S.DEAD:
            self._reply(token, JoinResult(E.COORDINATOR_NOT_AVAILABLE, req.member_id))
        elif not self.supports(req.protocol_type, req.protocols):
            self._reply(token, JoinResult(E.INCONSISTENT_GROUP_PROTOCOL, req.member_id))
        elif req.member_id == "":
            self._join_new(req, token, now)
        else:
            self._join_known(req, token, now)
        return self._drain()

    def _join_new(self, req: JoinRequest, token: Any, now: int) -> None:
        member_id = self.make_member_id(req.client_id)
        instance = req.group_instance_id
        if instance is not None and instance in self.static_members:
            self._replace_static_member(instance, member_id, req, token, now)
        elif instance is None and req.require_known_member_id:
            self.pending_members[member_id] = now + req.session_timeout_ms
            self._reply(token, JoinResult(E.MEMBER_ID_REQUIRED, member_id))
        else:
            self._add_member(member_id, req, token, now)

    def _join_known(self, req: JoinRequest, token: Any, now: int) -> None:
        member_id = req.member_id
        if member_id in self.pending_members:
            self._add_member(member_id, req, token, now)
            return
        instance = req.group_instance_id
        if self.is_static_fenced(member_id, instance):
            self._reply(token, JoinResult(E.FENCED_INSTANCE_ID, member_id))
            return
        if member_id not in self.members or (instance is not None and instance not in self.static_members):
            self._reply(token, JoinResult(E.UNKNOWN_MEMBER_ID, member_id))
            return
        member = self.members[member_id]
        same = member.protocols == req.protocols
        if self.state is S.COMPLETING_REBALANCE and same:
            # The member lost the JoinGroup response: give it the current generation again.
            self._reply(token, self._join_result(member_id, leader_view=self.is_leader(member_id)))
        elif self.state is S.STABLE and same and not self.is_leader(member_id):
            self._reply(token, self._join_result(member_id, leader_view=False))
        else:
            # A leader rejoining a stable group forces a rebalance (its topic metadata may have changed).
            self._update_member(member, req, token, now)
            self._maybe_prepare_rebalance(now)
            self._try_complete_join(now)

    def _add_member(self, member_id: str, req: JoinRequest, token: Any, now: int) -> None:
        member = Member(member_id, req.group_instance_id, req.client_id, req.client_host, req.session_timeout_ms,
                        req.rebalance_timeout_ms, req.protocol_type, list(req.protocols), join_token=token,
                        heartbeat_deadline=now + NEW_MEMBER_JOIN_TIMEOUT_MS)
        if self.state is S.PREPARING_REBALANCE and self.generation == 0:
            self.new_member_added = True
        if not self.members:
            self.protocol_type = req.protocol_type
        self.members[member_id] = member
        if member.group_instance_id is not None:
            self.static_members[member.group_instance_id] = member_id
        if self.leader_id is None:
            self.leader_id = member_id
        self.pending_members.pop(member_id, None)
        self._maybe_prepare_rebalance(now)
        self._try_complete_join(now)

    def _update_member(self, member: Member, req: JoinRequest, token: Any, now: int) -> None:
        if member.join_token is not None and member.join_token is not token:
            # Kafka drops the superseded request; answering it keeps the connection's queue moving.
            self._reply(member.join_token, JoinResult(E.REBALANCE_IN_PROGRESS, member.member_id))
        member.protocols = list(req.protocols)
        member.session_timeout_ms = req.session_timeout_ms
        member.rebalance_timeout_ms = req.rebalance_timeout_ms
        member.client_id, member.client_host = req.client_id, req.client_host
        member.join_token = token

    def _replace_static_member(self, instance: str, new_id: str, req: JoinRequest, token: Any, now: int) -> None:
        """A static member came back with a new member id: the old id is fenced, its place kept."""
        old_id = self.static_members[instance]
        member = self.members.pop(old_id)
        if member.join_token is not None:
            self._reply(member.join_token, JoinResult(E.FENCED_INSTANCE_ID, old_id))
            member.join_token = None
        if member.sync_token is not None:
            self._reply(member.sync_token, SyncResult(E.FENCED_INSTANCE_ID))
            member.sync_token = None
        if old_id in self.pending_sync:
            self.pending_sync.discard(old_id)
            self.pending_sync.add(new_id)
        member.member_id = new_id
        self.members[new_id] = member
        self.static_members[instance] = new_id
        if self.leader_id == old_id:
            self.leader_id = new_id
        if self.state is S.STABLE:
            member.protocols = list(req.protocols)
            if self.select_protocol() != self.protocol_name:
                self._update_member(member, req, token, now)
                self._maybe_prepare_rebalance(now)
                self._try_complete_join(now)
                return
            member.heartbeat_deadline = now + member.session_timeout_ms
            self._effects.append(STORE)
            leader = self.is_leader(new_id)
            result = self._join_result(new_id, leader_view=leader)
            result.skip_assignment = leader
            self._reply(token, result)
        else:
            self._update_member(member, req, token, now)
            self._maybe_prepare_rebalance(now)
            self._try_complete_join(now)

    def _join_result(self, member_id: str, *, leader_view: bool) -> JoinResult:
        members = []
        if leader_view:
            members = [(m.member_id, m.group_instance_id, m.metadata(self.protocol_name))
                       for m in self.members.values()]
        return JoinResult(E.NONE, member_id, self.generation, self.protocol_type, self.protocol_name,
                          self.leader_id or "", False, members)

    # ------------------------------------------------------------------ rebalance

    def _maybe_prepare_rebalance(self, now: int) -> None:
        if self.state in (S.STABLE, S.COMPLETING_REBALANCE, S.EMPTY):
            self._prepare_rebalance(now)

    def _prepare_rebalance(self, now: int) -> None:
        if self.state is S.COMPLETING_REBALANCE:
            self._reset_assignments(E.REBALANCE_IN_PROGRESS)
        self.pending_sync.clear()
        delay = self.settings.initial_rebalance_delay_ms
        if self.state is S.EMPTY and delay > 0:
            self.initial_delay = True
            self.new_member_added = False
            self.join_deadline = now + delay
        else:
            self.initial_delay = False
            self.join_deadline = now + self.max_rebalance_timeout()
        self.transition(S.PREPARING_REBALANCE, now)

    def _reset_assignments(self, error: E) -> None:
        for member in self.members.values():
            if member.sync_token is not None:
                self._reply(member.sync_token, SyncResult(error))
                member.sync_token = None
            member.assignment = b""

    def _try_complete_join(self, now: int) -> None:
        if self.state is S.PREPARING_REBALANCE and not self.initial_delay and self.all_joined():
            self._complete_join(now)

    def _complete_join(self, now: int) -> None:
        for member in [m for m in self.members.values() if not m.awaiting_join and m.group_instance_id is None]:
            self._remove(member)
        self.generation += 1
        if not self.members:
            self.protocol_name = None
            self.leader_id = None
            self.transition(S.EMPTY, now)
            self._effects.append(STORE)
            return
        if self.leader_id not in self.members or not self.members[self.leader_id].awaiting_join:
            joined = [m.member_id for m in self.members.values() if m.awaiting_join]
            self.leader_id = joined[0] if joined else next(iter(self.members))
        self.protocol_name = self.select_protocol()
        self.transition(S.COMPLETING_REBALANCE, now)
        self.pending_sync = set(self.members)
        self.sync_deadline = now + self.max_rebalance_timeout()
        for member in self.members.values():
            token, member.join_token = member.join_token, None
            member.is_new = False
            member.heartbeat_deadline = now + member.session_timeout_ms
            self._reply(token, self._join_result(member.member_id, leader_view=self.is_leader(member.member_id)))

    # ------------------------------------------------------------------ SyncGroup

    def sync(self, member_id: str, instance_id: str | None, generation: int, protocol_type: str | None,
             protocol_name: str | None, assignments: dict[str, bytes], token: Any, now: int) -> list[Effect]:
        error = self._validate_sync(member_id, instance_id, generation, protocol_type, protocol_name)
        if error:
            self._reply(token, SyncResult(error))
            return self._drain()
        answer = SYNC_ANSWER[self.state]
        member = self.members[member_id]
        if answer is not None:
            self._reply(token, SyncResult(answer))
        elif self.state is S.STABLE:
            self.pending_sync.discard(member_id)
            member.heartbeat_deadline = now + member.session_timeout_ms
            self._reply(token, SyncResult(E.NONE, self.protocol_type, self.protocol_name, member.assignment))
        else:
            if member.sync_token is not None and member.sync_token is not token:
                self._reply(member.sync_token, SyncResult(E.REBALANCE_IN_PROGRESS))
            member.sync_token = token
            member.heartbeat_deadline = now + member.session_timeout_ms
            self.pending_sync.discard(member_id)
            if self.is_leader(member_id):
                for m in self.members.values():
                    m.assignment = assignments.get(m.member_id, b"")
                self._effects.append(STORE)
                self._propagate_assignments(now)
        return self._drain()

    def _validate_sync(self, member_id: str, instance_id: str | None, generation: int,
                       protocol_type: str | None, protocol_name: str | None) -> E:
        if self.state is S.DEAD:
            return E.COORDINATOR_NOT_AVAILABLE
        error = self.validate_member(member_id, instance_id)
        if error:
            return error
        if generation != self.generation:
            return E.ILLEGAL_GENERATION
        if protocol_type is not None and protocol_type != self.protocol_type:
            return E.INCONSISTENT_GROUP_PROTOCOL
        if protocol_name is not None and protocol_name != self.protocol_name:
            return E.INCONSISTENT_GROUP_PROTOCOL
        return E.NONE

    def _propagate_assignments(self, now: int) -> None:
        self.transition(S.STABLE, now)
        for member in self.members.values():
            if member.sync_token is not None:
                token, member.sync_token = member.sync_token, None
                self._reply(token, SyncResult(E.NONE, self.protocol_type, self.protocol_name, member.assignment))

    # ------------------------------------------------------------------ Heartbeat, LeaveGroup

    def heartbeat(self, member_id: str, instance_id: str | None, generation: int, now: int) -> E:
        if self.state is S.DEAD:
            return E.COORDINATOR_NOT_AVAILABLE
        error = self.validate_member(member_id, instance_id)
        if error:
            return error
        if generation != self.generation:
            return E.ILLEGAL_GENERATION
        member = self.members[member_id]
        member.heartbeat_deadline = now + member.session_timeout_ms
        return HEARTBEAT_ANSWER[self.state]

    def leave(self, leaving: list[tuple[str, str | None]], now: int) -> tuple[list[E], list[Effect]]:
        """LeaveGroup for (member id, instance id) pairs; one error per pair."""
        if self.state is S.DEAD:
            return [E.COORDINATOR_NOT_AVAILABLE] * len(leaving), []
        errors = [self._leave_one(member_id, instance_id, now) for member_id, instance_id in leaving]
        return errors, self._drain()

    def _leave_one(self, member_id: str, instance_id: str | None, now: int) -> E:
        if member_id == "":
            known = self.static_members.get(instance_id) if instance_id is not None else None
            if known is None:
                return E.UNKNOWN_MEMBER_ID
            member_id = known
        elif member_id in self.pending_members:
            del self.pending_members[member_id]
            self._try_complete_join(now)
            return E.NONE
        elif self.is_static_fenced(member_id, instance_id):
            return E.FENCED_INSTANCE_ID
        if member_id not in self.members:
            return E.UNKNOWN_MEMBER_ID
        self.remove_member(member_id, now)
        return E.NONE

    def remove_member(self, member_id: str, now: int) -> None:
        """A member leaves or its session expired: the others rebalance without it."""
        self._remove(self.members[member_id])
        if self.state in (S.STABLE, S.COMPLETING_REBALANCE):
            self._maybe_prepare_rebalance(now)
        self._try_complete_join(now)

    def _remove(self, member: Member) -> None:
        if member.join_token is not None:
            self._reply(member.join_token, JoinResult(E.UNKNOWN_MEMBER_ID, member.member_id))
        if member.sync_token is not None:
            self._reply(member.sync_token, SyncResult(E.UNKNOWN_MEMBER_ID))
        del self.members[member.member_id]
        if member.group_instance_id is not None:
            self.static_members.pop(member.group_instance_id, None)
        self.pending_sync.discard(member.member_id)
        if self.leader_id == member.member_id:
            joined = [m.member_id for m in self.members.values() if m.awaiting_join]
            self.leader_id = joined[0] if joined else next(iter(self.members), None)

    # ------------------------------------------------------------------ offsets, timers, deletion

    def validate_offset_commit(self, member_id: str, instance_id: str | None, generation: int,
                               transactional: bool, *, version: int, now: int) -> E:
        """Kafka's ClassicGroup.validateOffsetCommit (OffsetCommit and TxnOffsetCommit)."""
        if self.state is S.DEAD:
            return E.COORDINATOR_NOT_AVAILABLE
        if generation < 0 and self.state is S.EMPTY:
            return E.NONE  # a simple (assign-mode) consumer or the admin client
        if generation >= 0 or member_id or instance_id is not None:
            error = self.validate_member(member_id, instance_id)
            if error:
                return error
            if generation != self.generation:
                return E.ILLEGAL_GENERATION
        elif not transactional and self.state is not S.EMPTY:
            return E.UNKNOWN_MEMBER_ID
        if not transactional and self.state is S.COMPLETING_REBALANCE:
            return E.REBALANCE_IN_PROGRESS
        member = self.members.get(member_id)
        if member is not None and not transactional:
            member.heartbeat_deadline = now + member.session_timeout_ms
        return E.NONE

    def tick(self, now: int) -> list[Effect]:
        """Expire pending and silent members; finish rebalances whose timeout passed."""
        for member_id, deadline in list(self.pending_members.items()):
            if now >= deadline:
                del self.pending_members[member_id]
                self._try_complete_join(now)
        for member in list(self.members.values()):
            if member.member_id in self.members and member.expired(now):
                self.remove_member(member.member_id, now)
        if self.state is S.PREPARING_REBALANCE and now >= self.join_deadline:
            self._join_deadline_passed(now)
        if self.pending_sync and self.state in (S.COMPLETING_REBALANCE, S.STABLE) and now >= self.sync_deadline:
            for member_id in list(self.pending_sync):
                if member_id in self.members:
                    self._remove(self.members[member_id])
            self.pending_sync.clear()
            self._maybe_prepare_rebalance(now)
            self._try_complete_join(now)
        return self._drain()

    def _join_deadline_passed(self, now: int) -> None:
        if self.initial_delay:
            remaining = self.join_deadline_limit(now)
            if self.new_member_added and remaining > 0:
                # Kafka's InitialDelayedJoin: more members came; wait once more, within the rebalance timeout.
                self.new_member_added = False
                self.join_deadline = now + min(self.settings.initial_rebalance_delay_ms, remaining)
                return
            self.initial_delay = False
            if not self.all_joined():
                self.join_deadline = now + remaining
                return
        self._complete_join(now)

    def join_deadline_limit(self, now: int) -> int:
        return max(self.max_rebalance_timeout() - (now - self.state_timestamp), 0)

    def offset_delete_check(self) -> tuple[E, set[str] | None]:
        """OffsetDelete: (error, the topics whose offsets may not go; None: every topic's)."""
        if self.state is S.DEAD:
            return E.GROUP_ID_NOT_FOUND, None
        if self.state is S.EMPTY:
            return E.NONE, set()
        if self.protocol_type != "consumer":
            return E.NON_EMPTY_GROUP, None
        return E.NONE, self.subscribed_topics()

    def is_idle(self) -> bool:
        """Never got anywhere: no generation, members or offsets (such a group is not kept)."""
        return (self.state is S.EMPTY and self.generation == 0 and not self.members and not self.pending_members
                and not self.offsets)

    def can_delete(self) -> E:
        """DeleteGroups: only an empty group may go."""
        if self.state is S.DEAD:
            return E.GROUP_ID_NOT_FOUND
        return E.NONE if self.state is S.EMPTY else E.NON_EMPTY_GROUP

    def delete(self, now: int) -> list[Effect]:
        self.transition(S.DEAD, now)
        return self._drain()

    # ------------------------------------------------------------------ loading

    def restore(self, generation: int, protocol_type: str | None, protocol_name: str | None, leader: str | None,
                members: list[Member], timestamp: int, now: int) -> None:
        """Take the state of a GroupMetadata record: Stable with its members, or Empty."""
        self.generation = generation
        self.protocol_type = protocol_type or None
        self.protocol_name = protocol_name
        self.leader_id = leader
        self.members = {}
        self.static_members = {}
        for member in members:
            member.is_new = False
            member.heartbeat_deadline = now + member.session_timeout_ms
            self.members[member.member_id] = member
            if member.group_instance_id is not None:
                self.static_members[member.group_instance_id] = member.member_id
        self.state = S.STABLE if members else S.EMPTY
        self.state_timestamp = timestamp if timestamp >= 0 else now
