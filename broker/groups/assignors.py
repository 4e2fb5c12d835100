"""Server-side assignors of the consumer group protocol (KIP-848): "uniform" (the default) and "range".

An assignor maps every member to the partitions it should own (its target
assignment), given what each member subscribes to (topic ids), the partition
count of every subscribed topic, and the previous target assignment, which the
uniform assignor keeps wherever balance allows (stickiness). Pure functions,
no I/O; topic ids are the 16 raw bytes of Kafka's Uuid.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

TopicId = bytes
Assignment = dict[TopicId, frozenset[int]]  # topic id -> partitions
TopicIdPartition = tuple[TopicId, int]


@dataclass(frozen=True)
class MemberSpec:
    subscribed: frozenset[TopicId]
    previous: Assignment = field(default_factory=dict)  # the member's last target assignment
    instance_id: str | None = None


def to_assignment(partitions: set[TopicIdPartition]) -> Assignment:
    out: dict[TopicId, set[int]] = {}
    for topic_id, partition in partitions:
        out.setdefault(topic_id, set()).add(partition)
    return {t: frozenset(ps) for t, ps in out.items()}


def partitions_of(assignment: Assignment) -> set[TopicIdPartition]:
    return {(t, p) for t, ps in assignment.items() for p in ps}


def uniform(members: dict[str, MemberSpec], topics: dict[TopicId, int]) -> dict[str, Assignment]:
    """Every subscribed partition to exactly one subscriber, counts balanced (max - min <= 1 where
    subscriptions allow), keeping previous owners when that does not unbalance (Kafka's UniformAssignor)."""
    order = sorted(members)
    owned: dict[str, set[TopicIdPartition]] = {m: set() for m in order}
    owner: dict[TopicIdPartition, str] = {}
    candidates: dict[TopicIdPartition, list[str]] = {}
    for topic_id, count in sorted(topics.items()):
        subscribers = [m for m in order if topic_id in members[m].subscribed]
        for p in range(count):
            if subscribers:
                candidates[(topic_id, p)] = subscribers
    # Stickiness: a member keeps what it had, up to its fair share of what it can take.
    quota = _quotas(members, candidates)
    for m in order:
        for tp in sorted(partitions_of(members[m].previous)):
            if tp in candidates and tp not in owner and m in candidates[tp] and len(owned[m]) < quota[m]:
                owner[tp] = m
                owned[m].add(tp)
    # The rest go, the most constrained first, to the least loaded member that can take them.
    for tp in sorted((tp for tp in candidates if tp not in owner), key=lambda tp: (len(candidates[tp]), tp)):
        m = min(candidates[tp], key=lambda c: (len(owned[c]), c))
        owner[tp] = m
        owned[m].add(tp)
    _balance(owned, owner, candidates)
    return {m: to_assignment(owned[m]) for m in order}


def _quotas(members: dict[str, MemberSpec], candidates: dict[TopicIdPartition, list[str]]) -> dict[str, int]:
    """Upper bound each member may keep: ceil(partitions it could take / members sharing them)."""
    quota = {}
    for m in members:
        mine = [tp for tp, cs in candidates.items() if m in cs]
        sharing = {c for tp in mine for c in candidates[tp]} or {m}
        quota[m] = -(-len(mine) // len(sharing))
    return quota


def _balance(owned: dict[str, set[TopicIdPartition]], owner: dict[TopicIdPartition, str],
             candidates: dict[TopicIdPartition, list[str]]) -> None:
    """Move partitions from the most to the least loaded eligible member while that narrows the gap."""
    for _ in range(len(owner) + 1):
        moved = False
        for heavy in sorted(owned, key=lambda m: (-len(owned[m]), m)):
            movable = sorted(tp for tp in owned[heavy]
                             if any(len(owned[c]) + 1 < len(owned[heavy]) for c in candidates[tp]))
            if movable:
                tp = movable[-1]
                light = min((c for c in candidates[tp] if len(owned[c]) + 1 < len(owned[heavy])),
                            key=lambda c: (len(owned[c]), c))
                owned[heavy].discard(tp)
                owned[light].add(tp)
                owner[tp] = light
                moved = True
                break
        if not moved:
            return


def range_(members: dict[str, MemberSpec], topics: dict[TopicId, int]) -> dict[str, Assignment]:
    """Per topic, contiguous ranges to its subscribers in member order; the first ones get one more
    when the count does not divide (Kafka's RangeAssignor, so co-partitioned topics line up)."""
    out: dict[str, set[TopicIdPartition]] = {m: set() for m in members}
    for topic_id, count in sorted(topics.items()):
        subscribers = sorted((m for m in members if topic_id in members[m].subscribed),
                             key=lambda m: (members[m].instance_id is None, members[m].instance_id or "", m))
        if not subscribers:
            continue
        base, extra = divmod(count, len(subscribers))
        start = 0
        for i, m in enumerate(subscribers):
            size = base + (1 if i < extra else 0)
            out[m].update((topic_id, p) for p in range(start, start + size))
            start += size
    return {m: to_assignment(tps) for m, tps in out.items()}


ASSIGNORS: dict[str, Callable[[dict[str, MemberSpec], dict[TopicId, int]], dict[str, Assignment]]] = {
    "uniform": uniform,
    "range": range_,
}
DEFAULT_ASSIGNOR = "uniform"  # Kafka's group.consumer.assignors default order: uniform, range
