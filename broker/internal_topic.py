"""The broker's own state in its own topics (`__transaction_state`, `__consumer_offsets`, and hidden ones).

Coordinators append key/value records here before acknowledging a change and
replay the topic at start, so one recovery path (the log's) restores everything.

Hidden topics (`HIDDEN_TOPICS`: the SCRAM credentials, the ACLs, the dynamic broker configs) live in a store
of their own, `Broker.hidden_store` (on disk under `<data_dir>/__hidden/`), which no handler is given: no client
API can list, read, write, delete or reconfigure them, whatever name a request carries, and no client may create
a topic of their names. Name a new internal topic here; make it hidden if clients must not see it.
"""

from __future__ import annotations

from typing import Iterable, Iterator

from kafkette.protocol.errors import ErrorCode
from kafkette.protocol.records import NO_PRODUCER_ID, NO_SEQUENCE, BatchHeader, NewRecord, build_batch, split_batches
from kafkette.storage.engine import LogEngine, PartitionEngine

OFFSETS_TOPIC = "__consumer_offsets"
TRANSACTIONS_TOPIC = "__transaction_state"
INTERNAL_TOPICS = (OFFSETS_TOPIC, TRANSACTIONS_TOPIC)
SCRAM_CREDENTIALS_TOPIC = "__kafkette_scram_credentials"
ACLS_TOPIC = "__kafkette_acls"
BROKER_CONFIGS_TOPIC = "__kafkette_broker_configs"
HIDDEN_TOPICS = (SCRAM_CREDENTIALS_TOPIC, ACLS_TOPIC, BROKER_CONFIGS_TOPIC)
HIDDEN_DIR = "__hidden"
REPLAY_CHUNK_BYTES = 1024 * 1024


def ensure_internal_topics(store: LogEngine, names: tuple[str, ...] = INTERNAL_TOPICS) -> None:
    """Create the broker's own topics in a store that lacks them (one partition each, as here); one whose
    metadata file was damaged gets a new one, so the committed offsets and transactions in it come back."""
    for name in names:
        offline = store.offline_topic(name)
        if offline is not None:
            store.restore_topic_metadata(name, offline.partition_count, {"cleanup.policy": "compact"})
        elif store.topic(name) is None:
            store.create_topic(name, 1, {"cleanup.policy": "compact"})


class InternalTopicError(RuntimeError):
    """An append to an internal topic failed; the state change it carried did not happen."""

    def __init__(self, topic: str, error: ErrorCode) -> None:
        super().__init__(f"append to {topic} failed with {error.name}")
        self.error = error


class InternalTopic:
    """Partition 0 of one internal topic: the coordinators' only way to write and replay their state."""

    def __init__(self, store: LogEngine, name: str) -> None:
        self.store = store
        self.name = name

    @property
    def log(self) -> PartitionEngine | None:
        return self.store.partition(self.name, 0)

    def append(self, records: Iterable[NewRecord], now_ms: int, *, producer_id: int = NO_PRODUCER_ID,
               producer_epoch: int = -1, base_sequence: int = NO_SEQUENCE) -> int:
        """Append one batch of records (transactional when a producer id is given); returns its base offset.

        Raises InternalTopicError.
        """
        log = self.log
        if log is None:
            raise InternalTopicError(self.name, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION)
        batch = build_batch(list(records), timestamp_ms=now_ms, producer_id=producer_id, producer_epoch=producer_epoch,
                            base_sequence=base_sequence, transactional=producer_id != NO_PRODUCER_ID)
        result = log.append(batch, now_ms=now_ms)
        if result.error != ErrorCode.NONE:
            raise InternalTopicError(self.name, ErrorCode(result.error))
        return result.base_offset

    def replay(self) -> Iterator[tuple[BatchHeader, memoryview]]:
        """Every batch in the topic, oldest first (data and control batches)."""
        log = self.log
        if log is None:
            return
        offset = log.log_start_offset
        while offset < log.high_watermark:
            result = log.read(offset, REPLAY_CHUNK_BYTES, isolation_committed=False, min_one=True)
            if result.error != ErrorCode.NONE or not result.chunks:
                return
            batches = split_batches(b"".join(result.chunks))
            for header, batch in batches:
                if header.next_offset > offset:
                    yield header, batch
            offset = batches[-1][0].next_offset
