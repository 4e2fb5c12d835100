"""What the broker needs of a log store: the interface every storage engine implements.

Two engines implement it: `LogStore` (segment files in a data directory, the
default) and `MemoryStore` (nothing on disk: unit tests and `--storage memory`).
An engine calls its `on_append` callback itself after every successful append,
data or marker, so no append path can forget to wake long-polling fetches.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Callable, Generator, Generic, Iterator, Protocol, TypeVar

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


STEP = 512  # partitions made or moved aside between two yields of a topic's creation or deletion
CREATING, DELETING = "creating", "deleting"

T = TypeVar("T")
Steps = Generator[None, None, T]  # work done in steps: yields between them, returns the result


def run_steps(steps: Steps[T]) -> T:
    """Do all the steps at once; their result."""
    while True:
        try:
            next(steps)
        except StopIteration as done:
            return done.value


def check_new_topic(name: str, partitions: int, exists: bool, reserved: str | None = None) -> None:
    """The rules every engine applies before creating a topic; raises TopicError."""
    if not valid_topic_name(name):
        raise TopicError(ErrorCode.INVALID_TOPIC_EXCEPTION, f"illegal topic name {name!r}")
    if exists or reserved:  # a creation or deletion under way too, as ZooKeeper-era Kafka answered
        raise TopicError(ErrorCode.TOPIC_ALREADY_EXISTS, f"Topic '{name}' already exists.")
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


class _Configured(Protocol):
    config: LogConfig


P = TypeVar("P", bound=_Configured)  # an engine's partition class


@dataclass
class TopicInfo(Generic[P]):
    name: str
    topic_id: bytes
    partitions: list[P]  # the engine's own partition objects; the broker reaches them through partition()
    configs: dict[str, str]

    @property
    def partition_count(self) -> int:
        return len(self.partitions)


@dataclass(frozen=True)
class OfflineTopic:
    """A topic the engine knows exists but cannot serve (its metadata is damaged): Kafka's offline partitions."""

    name: str
    reason: str
    partition_count: int  # as far as its partition directories tell


class TopicTable(Generic[P]):
    """The topic lookups both engines share: by name, by id, and a partition of a topic; the names
    taken by offline topics and by topics whose deletion is still under way."""

    default_config: LogConfig

    def __init__(self) -> None:
        self._topics: dict[str, TopicInfo[P]] = {}
        self._offline: dict[str, OfflineTopic] = {}
        self._reserved: dict[str, str] = {}  # name -> CREATING or DELETING, while that is under way

    def offline_topic(self, name: str) -> OfflineTopic | None:
        return self._offline.get(name)

    def offline_topics(self) -> list[OfflineTopic]:
        return list(self._offline.values())

    def partition_total(self) -> int:
        """Partitions of every topic, offline ones included."""
        return sum(len(t.partitions) for t in self._topics.values()) + \
            sum(t.partition_count for t in self._offline.values())

    def create_topic(self, name: str, partitions: int, configs: dict[str, str],
                     topic_id: bytes | None = None) -> TopicInfo[P]:
        return run_steps(self.creating_topic(name, partitions, configs, topic_id))

    def creating_topic(self, name: str, partitions: int, configs: dict[str, str],
                       topic_id: bytes | None = None) -> Steps[TopicInfo[P]]:
        """Create a topic in steps: the partitions (a step per STEP of them), then the topic appears whole."""
        self._check_new(name, partitions)
        make = self._partition_maker(name, configs)
        self._reserved[name] = CREATING
        try:
            made: list[P] = []
            for index in range(partitions):
                made.append(make(index))
                if index % STEP == STEP - 1:
                    yield
            topic = TopicInfo(name, topic_id or os.urandom(16), made, dict(configs))
            self._persist(topic.name, topic.topic_id, partitions, topic.configs)
        finally:
            del self._reserved[name]
        self._topics[name] = topic
        return topic

    def add_partitions(self, name: str, new_total: int) -> None:
        run_steps(self.adding_partitions(name, new_total))

    def adding_partitions(self, name: str, new_total: int) -> Steps[None]:
        """Grow a topic in steps; the new partitions appear together at the last."""
        topic = self._growing(name, new_total)
        old = len(topic.partitions)
        make = self._partition_maker(name, topic.configs)
        made: list[P] = []
        for index in range(old, new_total):
            made.append(make(index))
            if index % STEP == STEP - 1:
                yield
        if self._topics.get(name) is not topic:
            raise TopicError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, f"topic {name!r} was deleted meanwhile")
        self._growing(name, new_total)  # it may have grown meanwhile
        self._persist(name, topic.topic_id, new_total, topic.configs)
        topic.partitions.extend(made[len(topic.partitions) - old:])

    def delete_topic(self, name: str) -> None:
        run_steps(self.deleting_topic(name))

    def deleting_topic(self, name: str) -> Steps[None]:
        raise NotImplementedError

    def _partition_maker(self, name: str, configs: dict[str, str]) -> Callable[[int], P]:
        """What makes partition i of a new topic with these configs; raises TopicError(INVALID_CONFIG)."""
        raise NotImplementedError

    def _persist(self, name: str, topic_id: bytes, partitions: int, configs: dict[str, str]) -> None:
        """Make a topic's new shape durable before memory changes; raises TopicError."""

    def set_default_config(self, config: LogConfig) -> None:
        self.default_config = config
        for topic in self._topics.values():
            topic_config = config.with_topic_configs(topic.configs)
            for partition in topic.partitions:
                partition.config = topic_config

    def _check_new(self, name: str, partitions: int) -> None:
        check_new_topic(name, partitions, name in self._topics or name in self._offline, self._reserved.get(name))

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

    def creating_topic(self, name: str, partitions: int, configs: dict[str, str],
                       topic_id: bytes | None = None) -> Steps[TopicInfo]:
        """create_topic in steps, yielding between them so requests can run; the topic appears at the last.
        Raises TopicError (nothing created) at any step."""

    def delete_topic(self, name: str) -> None: ...

    def deleting_topic(self, name: str) -> Steps[None]:
        """Delete a topic (an offline one too) in steps, yielding between them so requests can run.

        It is gone for every reader once the first step is done; raises TopicError before it if it cannot
        be deleted (nothing changed then). A new topic of the same name is refused until the last step.
        """

    def remove_deleted(self) -> Iterator[None]:
        """Remove the files of deleted topics, yielding between partitions."""

    def offline_topic(self, name: str) -> OfflineTopic | None: ...

    def offline_topics(self) -> list[OfflineTopic]: ...

    def partition_total(self) -> int: ...

    def restore_topic_metadata(self, name: str, partitions: int, configs: dict[str, str]) -> None:
        """Bring an offline topic back with new metadata (the broker's own topics, whose shape it knows)."""

    def add_partitions(self, name: str, new_total: int) -> None: ...

    def adding_partitions(self, name: str, new_total: int) -> Steps[None]:
        """add_partitions in steps; raises TopicError (nothing added) at any step."""

    def set_topic_config(self, name: str, configs: dict[str, str]) -> None: ...

    def set_default_config(self, config: LogConfig) -> None:
        """New log settings for what topics have not set themselves (Kafka's dynamic broker configs)."""

    def enforce_retention(self, now_ms: int) -> int:
        """Delete what retention allows; how many segments (or batches) went."""

    def flush(self) -> Iterator[None]:
        """Make every append durable; yields between partitions so requests can run."""
