"""The consumer group protocol's edge (KIP-848): ConsumerGroupHeartbeat and ConsumerGroupDescribe.

The state machine (`broker.groups.consumer_group.ConsumerGroup`) decides; this
hands it the topics it may assign and persists a new group epoch, the one part
of a consumer group that survives a restart.
"""

from __future__ import annotations

import structlog

from kafkette.broker.groups import records
from kafkette.broker.groups.consumer_group import (
    ConsumerGroup,
    HeartbeatRequest,
    HeartbeatResult,
    TopicMeta,
    TopicsImage,
    validate_request,
)
from kafkette.broker.groups.group_log import GroupLog
from kafkette.broker.groups.registry import CONSUMER, GroupRegistry, log_group_state
from kafkette.broker.internal_topic import INTERNAL_TOPICS
from kafkette.protocol.errors import ErrorCode as E
from kafkette.storage.engine import LogEngine

log = structlog.get_logger("kafkette.groups")


class ConsumerGroups:
    def __init__(self, registry: GroupRegistry, group_log: GroupLog, store: LogEngine) -> None:
        self.registry = registry
        self.log = group_log
        self.store = store

    def heartbeat(self, group_id: str, req: HeartbeatRequest, version: int, now: int) -> HeartbeatResult:
        """ConsumerGroupHeartbeat: join (epoch 0), heartbeat, or leave (-1, or -2 for a static member)."""
        invalid = validate_request(req, group_id, version)
        if invalid is not None:
            return invalid
        group = self.registry.consumer(group_id)
        classic = self.registry.classic(group_id)
        joining = req.member_epoch == 0
        if classic is not None:
            if joining and not classic.members and not classic.pending_members:
                group = self.registry.to_consumer(classic)  # Kafka's maybeDeleteEmptyClassicGroup
                log.info("group changes protocol", group=group_id, to=CONSUMER)
            elif joining:
                # Kafka with group.consumer.migration.policy=disabled: no online upgrade of a live classic group.
                return HeartbeatResult(E.GROUP_ID_NOT_FOUND, f"Cannot upgrade classic group {group_id} to "
                                                             "consumer group because online upgrade is disabled.")
            else:
                return HeartbeatResult(E.GROUP_ID_NOT_FOUND, f"Group {group_id} is not a consumer group.")
        elif group is None:
            if not joining:
                return HeartbeatResult(E.GROUP_ID_NOT_FOUND, f"Consumer group {group_id} not found.")
            group = self.registry.create_consumer(group_id)
        epoch = group.group_epoch
        result = group.heartbeat(req, self.topics_image(), now)
        self._epoch_changed(group, epoch, now)
        return result

    def describe(self, group_id: str) -> tuple[E, str | None, ConsumerGroup | None, TopicsImage]:
        """ConsumerGroupDescribe of one group: (error, message, group, topics to name the assignments)."""
        image = self.topics_image()
        if not group_id:
            return E.INVALID_GROUP_ID, "Group ID can't be empty.", None, image
        group = self.registry.consumer(group_id)
        if group is None:
            if self.registry.get(group_id) is not None:
                return E.GROUP_ID_NOT_FOUND, f"Group {group_id} is not a consumer group.", None, image
            return E.GROUP_ID_NOT_FOUND, f"Group {group_id} not found.", None, image
        return E.NONE, None, group, image

    def topics_image(self) -> TopicsImage:
        return TopicsImage.of([TopicMeta(t.name, t.topic_id, t.partition_count) for t in self.store.topics()
                               if t.name not in INTERNAL_TOPICS])

    def tick(self, group: ConsumerGroup, now: int) -> None:
        epoch = group.group_epoch
        gone = group.tick(now)
        if gone:
            log.info("group members removed: no heartbeat in time, or partitions not revoked in time",
                     group=group.group_id, member_ids=gone, generation=group.group_epoch)
        self._epoch_changed(group, epoch, now)

    def _epoch_changed(self, group: ConsumerGroup, epoch_before: int, now: int) -> None:
        """Log a new state or epoch; persist a new epoch."""
        log_group_state(group)
        if group.group_epoch != epoch_before:
            self.log.append([(records.consumer_group_key(group.group_id),
                              records.consumer_group_value(group.group_epoch))], now)
