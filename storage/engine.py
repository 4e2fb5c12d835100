"""What the broker needs of a log store: the interface every storage engine implements.

Two engines implement it: `LogStore` (segment files in a data directory, the
default) and `MemoryStore` (nothing on disk: unit tests and `--storage memory`).
An engine calls its `on_append` callback itself after every successful append,
data or marker, so no append path can forget to wake long-polling fetches.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Generic, Iterator, Protocol, TypeVar

from kafkette.protocol.errors import ErrorCode
from kafkette.storage.appending import AppendResult, ReadResult
from kafkette.storage.config import LogConfig
from kafkette.storage.producer_state import ProducerInfo

MAX_TOPIC_NAME_LENGTH = 249
_LEGAL_NAME = re.compile(r"[a-zA-Z0-9._-]+")


def valid_topic_name(name: str) -> bool:
    return (
        0 < len(name) <= MAX_TOPIC_NAME_LENGTH
        and name not in (".", "..")
        and _LEGAL_NAME.fullmatch(name) is not None
    )


class TopicError(Exception):
    """A topic operation refused, with the Kafka error code to answer."""

    def __init__(self, error: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.error = error


def check_new_topic(name: str, partitions: int, exists: bool) -> None:
    """The rules every engine applies before creating a topic; raises TopicError."""
    if not valid_topic_name(name):
        raise TopicError(ErrorCode.INVALID_TOPIC_EXCEPTION, f"illegal topic name {name!r}")
    if exists:
        raise TopicError(ErrorCode.TOPIC_ALREADY_EXISTS, f"topic {name!r} already exists")
    if partitions < 1:
        raise TopicError(ErrorCode.INVALID_PARTITIONS, "a topic needs at least one partition")


def topic_log_config(default: LogConfig, configs: dict[str, str]) -> LogConfig:
    """The log settings of a topic with these configs; raises TopicError(INVALID_CONFIG)."""
    try:
        return default.with_topic_configs(configs)
    except ValueError as err:
        raise TopicError(ErrorCode.INVALID_CONFIG, str(err)) from err


class PartitionEngine(Protocol):
    """One partition's log."""

    @property
    def next_offset(self) -> int: ...

    @property
    def high_watermark(self) -> int: ...

    @property
    def last_stable_offset(self) -> int: ...

    @property
    def log_start_offset(self) -> int: ...

    def append(self, records: bytes | memoryview, *, now_ms: int, leader_epoch: int = 0) -> AppendResult:
        """A Produce partition's batches, all or nothing, with the producer rules applied."""

    def append_control(self, producer_id: int, producer_epoch: int, commit: bool, coordinator_epoch: int,
                       now_ms: int, *, leader_epoch: int = 0) -> AppendResult:
        """A COMMIT/ABORT marker closing the producer's transaction here."""

    def read(self, offset: int, max_bytes: int, *, isolation_committed: bool, min_one: bool = True) -> ReadResult:
        """Whole batches from the one holding `offset`, up to the HWM (or the LSO when committed)."""

    def offset_for_timestamp(self, timestamp: int) -> tuple[int, int] | None:
        """(offset, timestamp) of the first record at or after `timestamp`."""

    def max_timestamp(self) -> tuple[int, int] | None:
        """(offset, timestamp) of the record with the largest timestamp."""

    def producers_info(self) -> list[ProducerInfo]: ...

    def delete_records_before(self, offset: int) -> ErrorCode:
        """Advance the log start offset (-1: to the high watermark)."""


P = TypeVar("P")


@dataclass
class TopicInfo(Generic[P]):
    name: str
    topic_id: bytes
    partitions: list[P]  # the engine's own partition objects; the broker reaches them through partition()
    configs: dict[str, str]

    @property
    def partition_count(self) -> int:
        return len(self.partitions)


class TopicTable(Generic[P]):
    """The topic lookups both engines share: by name, by id, and a partition of a topic."""

    def __init__(self) -> None:
        self._topics: dict[str, TopicInfo[P]] = {}

    def topic(self, name: str) -> TopicInfo[P] | None:
        return self._topics.get(name)

    def topics(self) -> list[TopicInfo[P]]:
        return list(self._topics.values())

    def topic_by_id(self, topic_id: bytes) -> TopicInfo[P] | None:
        return next((t for t in self._topics.values() if t.topic_id == topic_id), None)

    def partition(self, name: str, index: int) -> P | None:
        topic = self._topics.get(name)
        if topic is None or not 0 <= index < len(topic.partitions):
            return None
        return topic.partitions[index]

    def _existing(self, name: str) -> TopicInfo[P]:
        topic = self._topics.get(name)
        if topic is None:
            raise TopicError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, f"no topic {name!r}")
        return topic

    def _growing(self, name: str, new_total: int) -> TopicInfo[P]:
        """The topic CreatePartitions may grow to `new_total` partitions; raises TopicError."""
        topic = self._existing(name)
        if new_total <= len(topic.partitions):
            raise TopicError(ErrorCode.INVALID_PARTITIONS,
                             f"topic has {len(topic.partitions)} partitions; can only grow")
        return topic


class LogEngine(Protocol):
    """The topics of one broker and their partition logs."""

    def open(self) -> None:
        """Load (and recover) what the engine holds; called once before serving."""

    def close(self) -> None: ...

    def topic(self, name: str) -> TopicInfo | None: ...

    def topics(self) -> list[TopicInfo]: ...

    def topic_by_id(self, topic_id: bytes) -> TopicInfo | None: ...

    def partition(self, name: str, index: int) -> PartitionEngine | None: ...

    def create_topic(self, name: str, partitions: int, configs: dict[str, str],
                     topic_id: bytes | None = None) -> TopicInfo:
        """Raises TopicError with the Kafka error code when the topic can't be created."""

    def delete_topic(self, name: str) -> None: ...

    def add_partitions(self, name: str, new_total: int) -> None: ...

    def set_topic_config(self, name: str, configs: dict[str, str]) -> None: ...

    def enforce_retention(self, now_ms: int) -> int:
        """Delete what retention allows; how many segments (or batches) went."""

    def flush(self) -> Iterator[None]:
        """Make every append durable; yields between partitions so requests can run."""
