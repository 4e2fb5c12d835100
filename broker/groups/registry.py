"""The groups of this coordinator: classic and consumer-protocol groups share one id space."""

from __future__ import annotations

import structlog

from kafkette.broker.groups.consumer_group import ConsumerGroup, ConsumerGroupSettings
from kafkette.broker.groups.state import Group, GroupSettings

log = structlog.get_logger("kafkette.groups")

AnyGroup = Group | ConsumerGroup
CLASSIC = "classic"
CONSUMER = "consumer"


class GroupRegistry:
    def __init__(self, settings: GroupSettings, consumer_settings: ConsumerGroupSettings) -> None:
        self.settings = settings
        self.consumer_settings = consumer_settings
        self.groups: dict[str, AnyGroup] = {}

    def get(self, group_id: str) -> AnyGroup | None:
        return self.groups.get(group_id)

    def classic(self, group_id: str) -> Group | None:
        """The classic group of this id; None when there is none or it speaks the consumer protocol."""
        group = self.groups.get(group_id)
        return group if isinstance(group, Group) else None

    def consumer(self, group_id: str) -> ConsumerGroup | None:
        """The consumer-protocol group of this id; None when there is none or it is classic."""
        group = self.groups.get(group_id)
        return group if isinstance(group, ConsumerGroup) else None

    def create_classic(self, group_id: str, now: int) -> Group:
        group = self.groups[group_id] = Group(group_id, now, self.settings)
        return group

    def create_consumer(self, group_id: str) -> ConsumerGroup:
        group = self.groups[group_id] = ConsumerGroup(group_id, self.consumer_settings)
        return group

    def get_or_create(self, group_id: str, now: int) -> AnyGroup:
        """The group of this id; a new classic one when there is none (offsets alone make a classic group)."""
        return self.groups.get(group_id) or self.create_classic(group_id, now)

    # An empty group of one protocol gives way to a group of the other; the committed offsets stay.
    # No tombstone for the old group's record (Kafka writes one): on replay the later record wins anyway,
    # and a tombstone replayed first would drop the offsets with the group.

    def to_classic(self, old: ConsumerGroup, now: int) -> Group:
        new = self.create_classic(old.group_id, now)
        new.offsets = old.offsets
        return new

    def to_consumer(self, old: Group) -> ConsumerGroup:
        new = self.create_consumer(old.group_id)
        new.offsets = old.offsets
        return new

    def forget_if_idle(self, group: AnyGroup) -> None:
        if group.is_idle():
            self.remove(group.group_id)

    def remove(self, group_id: str) -> AnyGroup | None:
        return self.groups.pop(group_id, None)

    def all(self) -> list[AnyGroup]:
        return list(self.groups.values())


def group_type(group: AnyGroup) -> str:
    return CONSUMER if isinstance(group, ConsumerGroup) else CLASSIC


def log_group_state(group: AnyGroup) -> None:
    """Log, at info, a group whose state or generation changed since it was last logged: a rebalance step.

    The generation of a consumer-protocol group is its group epoch.
    """
    if isinstance(group, ConsumerGroup):
        seen = (group.state.value, group.group_epoch)
    else:
        seen = (group.state.value, group.generation)
    if group.last_logged == seen:
        return
    group.last_logged = seen
    protocol = group.preferred_assignor() if isinstance(group, ConsumerGroup) else group.protocol_name
    log.info("group state", group=group.group_id, type=group_type(group), state=seen[0], generation=seen[1],
             members=len(group.members), member_ids=sorted(group.members), protocol=protocol)
