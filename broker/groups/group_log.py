"""`__consumer_offsets` as the group coordinator writes it: one batch per change, transactional for
TxnOffsetCommit, with the errors a failed write answers as Kafka's GroupMetadataManager does."""

from __future__ import annotations

import structlog

from kafkette.broker.internal_topic import InternalTopic, InternalTopicError
from kafkette.protocol.errors import ErrorCode as E
from kafkette.protocol.records import NO_SEQUENCE, BatchHeader, NewRecord

log = structlog.get_logger("kafkette.groups")

# A failed write as the committer sees it (others pass through, e.g. INVALID_PRODUCER_EPOCH for a fenced
# transactional producer).
STORE_ERRORS = {E.UNKNOWN_TOPIC_OR_PARTITION: E.COORDINATOR_NOT_AVAILABLE,
                E.NOT_ENOUGH_REPLICAS: E.COORDINATOR_NOT_AVAILABLE,
                E.NOT_ENOUGH_REPLICAS_AFTER_APPEND: E.COORDINATOR_NOT_AVAILABLE,
                E.NOT_LEADER_OR_FOLLOWER: E.NOT_COORDINATOR,
                E.KAFKA_STORAGE_ERROR: E.NOT_COORDINATOR,
                E.MESSAGE_TOO_LARGE: E.INVALID_COMMIT_OFFSET_SIZE,
                E.RECORD_LIST_TOO_LARGE: E.INVALID_COMMIT_OFFSET_SIZE,
                E.INVALID_FETCH_SIZE: E.INVALID_COMMIT_OFFSET_SIZE}

Pair = tuple[bytes, bytes | None]  # a record's key and value (None: a tombstone)


class GroupLog:
    def __init__(self, topic: InternalTopic) -> None:
        self.topic = topic
        self.sequences: dict[int, tuple[int, int]] = {}  # producer id -> (epoch, next sequence) in the topic

    def append(self, pairs: list[Pair], now: int, producer_id: int = -1, producer_epoch: int = -1) -> tuple[E, int]:
        """Write records as one batch (transactional when a producer id is given); (error, base offset).

        A transactional batch carries the producer's id, epoch and next sequence in this topic, so
        the log opens the transaction that the COMMIT/ABORT marker later closes.
        """
        sequence = NO_SEQUENCE
        if producer_id >= 0:
            epoch, sequence = self.sequences.get(producer_id, (producer_epoch, 0))
            sequence = sequence if epoch == producer_epoch else 0
        try:
            base = self.topic.append([NewRecord(k, v) for k, v in pairs], now, producer_id=producer_id,
                                     producer_epoch=producer_epoch, base_sequence=sequence)
        except InternalTopicError as e:
            error = STORE_ERRORS.get(e.error, e.error)
            log.warning("writing to __consumer_offsets failed", error=e.error.name, answered=error.name,
                        records=len(pairs), producer_id=producer_id, producer_epoch=producer_epoch)
            return error, -1
        if producer_id >= 0:
            self.sequences[producer_id] = (producer_epoch, sequence + len(pairs))
        return E.NONE, base

    def replayed(self, header: BatchHeader) -> None:
        """Follow a transactional batch read back at start, so the next one continues its sequence."""
        self.sequences[header.producer_id] = (header.producer_epoch, header.base_sequence + header.record_count)
