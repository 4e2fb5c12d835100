"""Writing COMMIT/ABORT markers: the coordinator and the WriteTxnMarkers API share this one path."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kafkette.broker.internal_topic import OFFSETS_TOPIC
from kafkette.protocol.errors import ErrorCode

if TYPE_CHECKING:
    from kafkette.broker.state import Broker


def write_marker(broker: Broker, topic: str, partition: int, producer_id: int, producer_epoch: int, commit: bool,
                 coordinator_epoch: int, now_ms: int) -> ErrorCode:
    log = broker.store.partition(topic, partition)
    if log is None:
        return ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
    result = log.append_control(producer_id, producer_epoch, commit, coordinator_epoch, now_ms)
    if result.error != ErrorCode.NONE:
        return ErrorCode(result.error)
    broker.appended(log)
    if topic == OFFSETS_TOPIC:
        broker.groups.complete_transaction(producer_id, producer_epoch, commit)
    return ErrorCode.NONE
