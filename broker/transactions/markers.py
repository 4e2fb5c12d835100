"""Writing COMMIT/ABORT markers: the coordinator and the WriteTxnMarkers API share this one path."""

from __future__ import annotations

from typing import Callable

from kafkette.broker.internal_topic import OFFSETS_TOPIC
from kafkette.protocol.errors import ErrorCode
from kafkette.storage.engine import LogEngine

# Called after a marker lands in `__consumer_offsets`: (producer id, producer epoch, commit).
OffsetsMarkerListener = Callable[[int, int, bool], None]
LeaderEpoch = Callable[[str, int], int]  # (topic, partition) -> the leader epoch a marker is stamped with


class MarkerWriter:
    def __init__(self, store: LogEngine, offsets_marker_written: OffsetsMarkerListener,
                 leader_epoch: LeaderEpoch = lambda _topic, _partition: 0) -> None:
        self.store = store
        self.offsets_marker_written = offsets_marker_written
        self.leader_epoch = leader_epoch

    def write(self, topic: str, partition: int, producer_id: int, producer_epoch: int, commit: bool,
              coordinator_epoch: int, now_ms: int) -> ErrorCode:
        log = self.store.partition(topic, partition)
        if log is None:
            return ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
        result = log.append_control(producer_id, producer_epoch, commit, coordinator_epoch, now_ms,
                                    leader_epoch=self.leader_epoch(topic, partition))
        if result.error != ErrorCode.NONE:
            return ErrorCode(result.error)
        if topic == OFFSETS_TOPIC:  # the group side applies or drops the producer's pending offsets
            self.offsets_marker_written(producer_id, producer_epoch, commit)
        return ErrorCode.NONE
