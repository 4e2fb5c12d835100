"""The consumer group protocol (KIP-848, ConsumerGroupHeartbeat) state machine, without I/O.

The broker owns the assignment. Every heartbeat carries the member's epoch and
(when changed) its subscription and the partitions it still owns; the group
answers with the member's epoch and, when it changed, its assignment.

- The *group epoch* is bumped when membership, subscriptions or the metadata
  of subscribed topics change.
- A *target assignment* is computed by a server-side assignor for the group
  epoch (`assignment_epoch` says for which one).
- Each member reconciles towards its target as Kafka's CurrentAssignmentBuilder
  does: it first revokes what it must give up (state UNREVOKED_PARTITIONS, at
  its old epoch), then moves to the target epoch and gets the new partitions,
  but only those no other member still owns (UNRELEASED_PARTITIONS until they
  are released).

Callers hand in `TopicsImage` (name -> id, partitions) and `now` in ms; the
group never touches sockets, futures or the log. Names follow Kafka's
GroupMetadataManager, ConsumerGroup and ConsumerGroupMember.
"""

from __future__ import annotations

import base64
import copy
import enum
import re
import uuid
from dataclasses import dataclass, field
from typing import Callable

from kafkette.broker.groups.assignors import ASSIGNORS, DEFAULT_ASSIGNOR, Assignment, MemberSpec, TopicId
from kafkette.broker.groups.offsets import GroupOffsets
from kafkette.protocol.errors import ErrorCode as E

LEAVE_EPOCH = -1  # a member leaves the group
LEAVE_STATIC_EPOCH = -2  # a static member leaves for now; its instance id and partitions are kept


class ConsumerGroupState(enum.Enum):
    EMPTY = "Empty"
    ASSIGNING = "Assigning"
    RECONCILING = "Reconciling"
    STABLE = "Stable"
    DEAD = "Dead"


class MemberState(enum.Enum):
    STABLE = "stable"
    UNREVOKED_PARTITIONS = "unrevoked_partitions"
    UNRELEASED_PARTITIONS = "unreleased_partitions"


@dataclass(frozen=True)
class TopicMeta:
    name: str
    topic_id: TopicId
    partitions: int


@dataclass
class TopicsImage:
    """The topics the broker has now (what Kafka's MetadataImage gives the coordinator)."""
    by_name: dict[str, TopicMeta]

    @classmethod
    def of(cls, topics: list[TopicMeta]) -> TopicsImage:
        return cls({t.name: t for t in topics})

    def name_of(self, topic_id: TopicId) -> str | None:
        return next((t.name for t in self.by_name.values() if t.topic_id == topic_id), None)


@dataclass(frozen=True)
class ConsumerGroupSettings:
    heartbeat_interval_ms: int = 5000
    session_timeout_ms: int = 45000
    default_assignor: str = DEFAULT_ASSIGNOR


@dataclass
class HeartbeatRequest:
    member_id: str
    member_epoch: int
    instance_id: str | None = None
    rack_id: str | None = None
    rebalance_timeout_ms: int = -1
    subscribed_topic_names: list[str] | None = None
    subscribed_topic_regex: str | None = None
    server_assignor: str | None = None
    owned: list[tuple[TopicId, list[int]]] | None = None  # None: unchanged since the last heartbeat
    client_id: str = ""
    client_host: str = ""


@dataclass
class HeartbeatResult:
    error: E
    message: str | None = None
    member_id: str | None = None
    member_epoch: int = 0
    heartbeat_interval_ms: int = 0
    assignment: Assignment | None = None  # None: unchanged since the last answer to this member


class HeartbeatError(Exception):
    def __init__(self, error: E, message: str) -> None:
        super().__init__(message)
        self.error = error
        self.message = message


@dataclass
class ConsumerMember:
    member_id: str
    instance_id: str | None = None
    rack_id: str | None = None
    rebalance_timeout_ms: int = -1
    client_id: str = ""
    client_host: str = ""
    subscribed_topic_names: tuple[str, ...] = ()
    subscribed_topic_regex: str | None = None
    server_assignor: str | None = None
    member_epoch: int = 0
    previous_member_epoch: int = 0
    state: MemberState = MemberState.STABLE
    assigned: Assignment = field(default_factory=dict)
    pending_revocation: Assignment = field(default_factory=dict)
    session_deadline: int = 0
    rebalance_deadline: int | None = None  # set while it must revoke: past it, the member is fenced

    def update_epoch(self, epoch: int) -> None:
        self.previous_member_epoch, self.member_epoch = self.member_epoch, epoch

    def reconciled_to(self, epoch: int) -> bool:
        return self.state is MemberState.STABLE and self.member_epoch == epoch

    def same_subscription(self, other: ConsumerMember) -> bool:
        return (set(self.subscribed_topic_names) == set(other.subscribed_topic_names)
                and self.subscribed_topic_regex == other.subscribed_topic_regex)


def consumer_member_id() -> str:
    """Kafka's Uuid.randomUuid().toString(): url-safe base64 of 16 random bytes, unpadded."""
    return base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()


def compile_regex(regex: str) -> re.Pattern:
    """A subscription regex (Java syntax; Python's re agrees on the common cases)."""
    try:
        return re.compile(regex)
    except re.error as e:
        raise HeartbeatError(E.INVALID_REGULAR_EXPRESSION,
                             f"SubscribedTopicRegex `{regex}` is not a valid regular expression: {e}.") from e


def validate_request(req: HeartbeatRequest, group_id: str, version: int) -> HeartbeatResult | None:
    """Kafka's throwIfConsumerGroupHeartbeatRequestIsInvalid; None when the request is well formed."""
    def invalid(message: str, error: E = E.INVALID_REQUEST) -> HeartbeatResult:
        return HeartbeatResult(error, message)

    if (version >= 1 or req.member_epoch > 0 or req.member_epoch == LEAVE_EPOCH) and req.member_id == "":
        return invalid("MemberId can't be empty.")
    if group_id == "":
        return invalid("GroupId can't be empty.")
    if req.instance_id == "":
        return invalid("InstanceId can't be empty.")
    if req.rack_id == "":
        return invalid("RackId can't be empty.")
    if req.member_epoch == 0:
        if req.rebalance_timeout_ms == -1:
            return invalid("RebalanceTimeoutMs must be provided in first request.")
        if req.owned is None or req.owned:
            return invalid("TopicPartitions must be empty when (re-)joining.")
        if req.subscribed_topic_names is None and req.subscribed_topic_regex is None:
            return invalid("Either SubscribedTopicNames or SubscribedTopicRegex must be non-null when (re-)joining.")
    elif req.member_epoch == LEAVE_STATIC_EPOCH:
        if req.instance_id is None:
            return invalid("InstanceId can't be null.")
    elif req.member_epoch < LEAVE_STATIC_EPOCH:
        return invalid("MemberEpoch is invalid.")
    if req.server_assignor is not None and req.server_assignor not in ASSIGNORS:
        return invalid(f"ServerAssignor {req.server_assignor} is not supported. Supported assignors: "
                       f"{', '.join(ASSIGNORS)}.", E.UNSUPPORTED_ASSIGNOR)
    return None


def _owns_any(owned: list[tuple[TopicId, list[int]]] | None, partitions: Assignment) -> bool:
    """Does the member still report any of `partitions`? Unknown (None) counts as yes."""
    if owned is None:
        return True
    return any(p in partitions.get(topic_id, ()) for topic_id, ps in owned for p in ps)


def _is_subset(owned: list[tuple[TopicId, list[int]]] | None, assigned: Assignment) -> bool:
    if owned is None:
        return False
    return all(p in assigned.get(topic_id, ()) for topic_id, ps in owned for p in ps)


class ConsumerGroup:
    kind = "consumer"

    def __init__(self, group_id: str, settings: ConsumerGroupSettings = ConsumerGroupSettings(),
                 make_member_id: Callable[[], str] = consumer_member_id) -> None:
        self.group_id = group_id
        self.settings = settings
        self.make_member_id = make_member_id
        self.group_epoch = 0
        self.assignment_epoch = 0
        self.members: dict[str, ConsumerMember] = {}
        self.static_members: dict[str, str] = {}  # instance id -> member id
        self.target: dict[str, Assignment] = {}  # member id -> target assignment at assignment_epoch
        self.subscription_metadata: dict[str, tuple[TopicId, int]] = {}  # subscribed topic -> (id, partitions)
        self.partition_epochs: dict[tuple[TopicId, int], int] = {}  # owned partition -> its owner's epoch
        self.offsets = GroupOffsets()
        self.dead = False
        self.last_logged: tuple[str, int] | None = None  # (state, group epoch) last logged (registry.log_group_state)

    # ------------------------------------------------------------------ state

    @property
    def state(self) -> ConsumerGroupState:
        """Kafka's ConsumerGroup.maybeUpdateGroupState, computed."""
        if self.dead:
            return ConsumerGroupState.DEAD
        if not self.members:
            return ConsumerGroupState.EMPTY
        if self.group_epoch > self.assignment_epoch:
            return ConsumerGroupState.ASSIGNING
        if any(not m.reconciled_to(self.assignment_epoch) for m in self.members.values()):
            return ConsumerGroupState.RECONCILING
        return ConsumerGroupState.STABLE

    def preferred_assignor(self) -> str:
        """The server assignor most members ask for, else the default (Kafka's computePreferredServerAssignor)."""
        counts: dict[str, int] = {}
        for m in self.members.values():
            if m.server_assignor is not None:
                counts[m.server_assignor] = counts.get(m.server_assignor, 0) + 1
        if not counts:
            return self.settings.default_assignor
        return max(sorted(counts), key=lambda name: counts[name])

    def subscribed_topic_names(self, topics: TopicsImage) -> set[str]:
        """Every topic name some member subscribes to, by name or through its regex."""
        names: set[str] = set()
        regexes: set[str] = set()
        for m in self.members.values():
            names.update(m.subscribed_topic_names)
            if m.subscribed_topic_regex:
                regexes.add(m.subscribed_topic_regex)
        for regex in regexes:
            names |= self._resolve(regex, topics)
        return names

    def member_topic_ids(self, member: ConsumerMember, topics: TopicsImage) -> frozenset[TopicId]:
        names = set(member.subscribed_topic_names)
        if member.subscribed_topic_regex:
            names |= self._resolve(member.subscribed_topic_regex, topics)
        return frozenset(topics.by_name[n].topic_id for n in names if n in topics.by_name)

    @staticmethod
    def _resolve(regex: str, topics: TopicsImage) -> set[str]:
        try:
            pattern = re.compile(regex)
        except re.error:
            return set()
        return {name for name in topics.by_name if not name.startswith("__") and pattern.fullmatch(name)}

    def current_partition_epoch(self, topic_id: TopicId, partition: int) -> int:
        return self.partition_epochs.get((topic_id, partition), -1)

    # ------------------------------------------------------------------ ConsumerGroupHeartbeat

    def heartbeat(self, req: HeartbeatRequest, topics: TopicsImage, now: int) -> HeartbeatResult:
        """One ConsumerGroupHeartbeat (already validated by `validate_request`); nothing changes on an error."""
        try:
            if req.member_epoch in (LEAVE_EPOCH, LEAVE_STATIC_EPOCH):
                return self._leave(req, now)
            return self._heartbeat(req, topics, now)
        except HeartbeatError as e:
            return HeartbeatResult(e.error, e.message)

    def _heartbeat(self, req: HeartbeatRequest, topics: TopicsImage, now: int) -> HeartbeatResult:
        joining = req.member_epoch == 0
        member_id = req.member_id or self.make_member_id()
        replaced: ConsumerMember | None = None
        if req.instance_id is None:
            member = self._dynamic_member(member_id, req, joining)
        else:
            member, replaced = self._static_member(member_id, req, joining)
        updated = self._updated(member, req)
        if updated.subscribed_topic_regex and updated.subscribed_topic_regex != member.subscribed_topic_regex:
            compile_regex(updated.subscribed_topic_regex)
        # From here on nothing raises: the group changes.
        bump = self.group_epoch == 0 or not updated.same_subscription(member)
        if replaced is not None:
            self._replace_static(replaced, updated)
        self._put(updated)
        metadata = self._subscription_metadata(topics)
        if metadata != self.subscription_metadata:
            self.subscription_metadata = metadata
            bump = True
        if bump:
            self.group_epoch += 1
        if self.group_epoch > self.assignment_epoch:
            self._compute_target(topics)
        reconciled = self._reconcile(updated, req.owned, now)
        reconciled.session_deadline = now + self.settings.session_timeout_ms
        self._put(reconciled)
        full = joining or (req.rebalance_timeout_ms != -1 and req.subscribed_topic_names is not None
                           and req.owned is not None)
        changed = reconciled.assigned != member.assigned
        return HeartbeatResult(E.NONE, None, reconciled.member_id, reconciled.member_epoch,
                               self.settings.heartbeat_interval_ms,
                               dict(reconciled.assigned) if full or changed else None)

    def _dynamic_member(self, member_id: str, req: HeartbeatRequest, joining: bool) -> ConsumerMember:
        member = self.members.get(member_id)
        if member is None:
            if not joining:
                raise HeartbeatError(E.UNKNOWN_MEMBER_ID,
                                     f"Member {member_id} is not a member of group {self.group_id}.")
            return ConsumerMember(member_id)
        self._check_epoch(member, req.member_epoch, req.owned)
        return member

    def _static_member(self, member_id: str, req: HeartbeatRequest, joining: bool
                       ) -> tuple[ConsumerMember, ConsumerMember | None]:
        """(the member, the one it replaces or None): Kafka's getOrMaybeSubscribeStaticConsumerGroupMember."""
        instance = req.instance_id
        assert instance is not None
        existing_id = self.static_members.get(instance)
        existing = self.members.get(existing_id) if existing_id is not None else None
        if joining:
            if existing is None:
                return self.members.get(member_id) or ConsumerMember(member_id), None
            if existing.member_epoch != LEAVE_STATIC_EPOCH:
                raise HeartbeatError(E.UNRELEASED_INSTANCE_ID,
                                     f"Static member {member_id} with instance id {instance} cannot join the group "
                                     f"because the instance id is owned by {existing.member_id} member.")
            # The new member takes the old one's place: its assignment, at epoch 0.
            successor = copy.copy(existing)
            successor.member_id = member_id
            successor.member_epoch = successor.previous_member_epoch = 0
            return successor, existing
        if existing is None:
            raise HeartbeatError(E.UNKNOWN_MEMBER_ID, f"Instance id {instance} is unknown.")
        if existing.member_id != member_id:
            raise HeartbeatError(E.FENCED_INSTANCE_ID, f"Static member {member_id} with instance id {instance} "
                                                       f"was fenced by member {existing.member_id}.")
        self._check_epoch(existing, req.member_epoch, req.owned)
        return existing, None

    @staticmethod
    def _check_epoch(member: ConsumerMember, received: int, owned) -> None:
        """Kafka's throwIfConsumerGroupMemberEpochIsInvalid: a lost answer (previous epoch) is forgiven."""
        if received > member.member_epoch or (
                received < member.member_epoch
                and (received != member.previous_member_epoch or not _is_subset(owned, member.assigned))):
            which = "greater" if received > member.member_epoch else "smaller"
            raise HeartbeatError(E.FENCED_MEMBER_EPOCH,
                                 f"The consumer group member has a {which} "
                                 f"member epoch ({received}) than the one known by the group coordinator "
                                 f"({member.member_epoch}). The member must abandon all its partitions and rejoin.")

    @staticmethod
    def _updated(member: ConsumerMember, req: HeartbeatRequest) -> ConsumerMember:
        updated = copy.copy(member)
        if req.instance_id is not None:
            updated.instance_id = req.instance_id
        if req.rack_id is not None:
            updated.rack_id = req.rack_id
        if req.rebalance_timeout_ms != -1:
            updated.rebalance_timeout_ms = req.rebalance_timeout_ms
        if req.server_assignor is not None:
            updated.server_assignor = req.server_assignor
        if req.subscribed_topic_names is not None:
            updated.subscribed_topic_names = tuple(sorted(set(req.subscribed_topic_names)))
        if req.subscribed_topic_regex is not None:
            updated.subscribed_topic_regex = req.subscribed_topic_regex or None
        updated.client_id, updated.client_host = req.client_id, req.client_host
        return updated

    def _subscription_metadata(self, topics: TopicsImage) -> dict[str, tuple[TopicId, int]]:
        return {name: (topics.by_name[name].topic_id, topics.by_name[name].partitions)
                for name in sorted(self.subscribed_topic_names(topics)) if name in topics.by_name}

    def _compute_target(self, topics: TopicsImage) -> None:
        specs = {mid: MemberSpec(self.member_topic_ids(m, topics), self.target.get(mid, {}), m.instance_id)
                 for mid, m in self.members.items()}
        partitions = {topic_id: count for topic_id, count in self.subscription_metadata.values()}
        self.target = ASSIGNORS[self.preferred_assignor()](specs, partitions)
        self.assignment_epoch = self.group_epoch

    # ------------------------------------------------------------------ reconciliation

    def _reconcile(self, member: ConsumerMember, owned, now: int) -> ConsumerMember:
        """Kafka's maybeReconcile + CurrentAssignmentBuilder.build."""
        if member.reconciled_to(self.assignment_epoch):
            return member
        target = self.target.get(member.member_id, {})
        if member.state is MemberState.UNREVOKED_PARTITIONS and _owns_any(owned, member.pending_revocation):
            return member
        updated = self._next_assignment(member, target, owned)
        if updated.state is MemberState.UNREVOKED_PARTITIONS:
            if (member.state is not MemberState.UNREVOKED_PARTITIONS or updated.member_epoch != member.member_epoch
                    or updated.pending_revocation != member.pending_revocation):
                updated.rebalance_deadline = now + max(updated.rebalance_timeout_ms, 0)
        else:
            updated.rebalance_deadline = None
        return updated

    def _next_assignment(self, member: ConsumerMember, target: Assignment, owned) -> ConsumerMember:
        epoch = self.assignment_epoch
        assigned: dict[TopicId, frozenset[int]] = {}
        revoking: dict[TopicId, frozenset[int]] = {}
        adding: dict[TopicId, frozenset[int]] = {}
        unreleased = False
        for topic_id in set(target) | set(member.assigned):
            want = target.get(topic_id, frozenset())
            have = member.assigned.get(topic_id, frozenset())
            keep = have & want
            free = set()
            for p in want - keep:
                if (self.current_partition_epoch(topic_id, p) != -1
                        and p not in member.pending_revocation.get(topic_id, ())):
                    unreleased = True  # another member still owns it
                else:
                    free.add(p)
            if keep:
                assigned[topic_id] = keep
            if have - keep:
                revoking[topic_id] = have - keep
            if free:
                adding[topic_id] = frozenset(free)
        updated = copy.copy(member)
        if revoking and _owns_any(owned, revoking):
            updated.state = MemberState.UNREVOKED_PARTITIONS
            updated.update_epoch(member.member_epoch)
            updated.assigned, updated.pending_revocation = assigned, revoking
            return updated
        for topic_id, ps in adding.items():
            assigned[topic_id] = assigned.get(topic_id, frozenset()) | ps
        updated.state = MemberState.UNRELEASED_PARTITIONS if unreleased else MemberState.STABLE
        updated.update_epoch(epoch)
        updated.assigned, updated.pending_revocation = assigned, {}
        return updated

    # ------------------------------------------------------------------ membership changes

    def _put(self, member: ConsumerMember) -> None:
        old = self.members.get(member.member_id)
        if old is not None:
            self._drop_partition_epochs(old)
        self.members[member.member_id] = member
        if member.instance_id is not None:
            self.static_members[member.instance_id] = member.member_id
        for assignment in (member.assigned, member.pending_revocation):
            for topic_id, ps in assignment.items():
                for p in ps:
                    self.partition_epochs[(topic_id, p)] = member.member_epoch

    def _drop_partition_epochs(self, member: ConsumerMember) -> None:
        for assignment in (member.assigned, member.pending_revocation):
            for topic_id, ps in assignment.items():
                for p in ps:
                    if self.partition_epochs.get((topic_id, p)) == member.member_epoch:
                        del self.partition_epochs[(topic_id, p)]

    def _replace_static(self, old: ConsumerMember, new: ConsumerMember) -> None:
        """A static member came back under a new member id: it inherits the old one's target assignment."""
        self.members.pop(old.member_id, None)
        self._drop_partition_epochs(old)
        target = self.target.pop(old.member_id, None)
        if target is not None:
            self.target[new.member_id] = target

    def remove_member(self, member_id: str) -> None:
        """Fence a member (leave, session or rebalance timeout): its partitions are free, the group epoch bumps."""
        member = self.members.pop(member_id)
        self._drop_partition_epochs(member)
        if member.instance_id is not None and self.static_members.get(member.instance_id) == member_id:
            del self.static_members[member.instance_id]
        self.target.pop(member_id, None)
        self.group_epoch += 1

    def _leave(self, req: HeartbeatRequest, now: int) -> HeartbeatResult:
        """Kafka's consumerGroupLeave: -1 leaves; -2 (static) keeps the place and partitions until the session ends."""
        if req.instance_id is None:
            if req.member_id not in self.members:
                raise HeartbeatError(E.UNKNOWN_MEMBER_ID,
                                     f"Member {req.member_id} is not a member of group {self.group_id}.")
            self.remove_member(req.member_id)
        else:
            existing_id = self.static_members.get(req.instance_id)
            if existing_id is None or existing_id not in self.members:
                raise HeartbeatError(E.UNKNOWN_MEMBER_ID, f"Instance id {req.instance_id} is unknown.")
            if existing_id != req.member_id:
                raise HeartbeatError(E.FENCED_INSTANCE_ID, f"Static member {req.member_id} with instance id "
                                                           f"{req.instance_id} was fenced by member {existing_id}.")
            if req.member_epoch == LEAVE_STATIC_EPOCH:
                member = copy.copy(self.members[existing_id])
                member.update_epoch(LEAVE_STATIC_EPOCH)
                member.rebalance_deadline = None
                self._put(member)
            else:
                self.remove_member(existing_id)
        return HeartbeatResult(E.NONE, None, req.member_id, req.member_epoch, 0)

    # ------------------------------------------------------------------ timers, offsets, deletion

    def tick(self, now: int) -> list[str]:
        """Fence members whose session expired or who did not revoke within the rebalance timeout; their ids."""
        fenced = []
        for member in list(self.members.values()):
            late = (member.rebalance_deadline is not None and now >= member.rebalance_deadline
                    and member.state is MemberState.UNREVOKED_PARTITIONS)
            if now >= member.session_deadline or late:
                self.remove_member(member.member_id)
                fenced.append(member.member_id)
        return fenced

    def validate_offset_commit(self, member_id: str, instance_id: str | None, member_epoch: int,
                               transactional: bool, *, version: int, now: int) -> E:
        """Kafka's ConsumerGroup.validateOffsetCommit (OffsetCommit and TxnOffsetCommit)."""
        if self.dead:
            return E.COORDINATOR_NOT_AVAILABLE
        if member_epoch < 0 and not self.members:
            return E.NONE  # the admin client or an assign-mode consumer
        member = self.members.get(member_id)
        if member is None:
            return E.UNKNOWN_MEMBER_ID
        if not transactional and version < 9:
            return E.UNSUPPORTED_VERSION
        if member_epoch != member.member_epoch:
            return E.ILLEGAL_GENERATION if transactional else E.STALE_MEMBER_EPOCH
        return E.NONE

    def validate_offset_fetch(self, member_id: str | None, member_epoch: int) -> E:
        """Kafka's ConsumerGroup.validateOffsetFetch (OffsetFetch v9 names the member)."""
        if member_id is None and member_epoch < 0:
            return E.NONE
        member = self.members.get(member_id or "")
        if member is None:
            return E.UNKNOWN_MEMBER_ID
        return E.NONE if member_epoch == member.member_epoch else E.STALE_MEMBER_EPOCH

    def offset_delete_check(self) -> tuple[E, set[str] | None]:
        """OffsetDelete: (error, the topics whose offsets may not go)."""
        return E.NONE, set(self.subscription_metadata) if self.members else set()

    def is_idle(self) -> bool:
        """Never got anywhere: no epoch, members or offsets (such a group is not kept)."""
        return self.group_epoch == 0 and not self.members and not self.offsets

    def can_delete(self) -> E:
        if self.dead:
            return E.GROUP_ID_NOT_FOUND
        return E.NONE if not self.members else E.NON_EMPTY_GROUP

    def delete(self, now: int) -> list:
        self.dead = True
        return []
