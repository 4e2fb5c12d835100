"""The broker: its log store and coordinators wired together, its settings, and its periodic work."""

from __future__ import annotations

import asyncio
from functools import partial
from pathlib import Path
from typing import Any, Awaitable, Callable, Protocol

import structlog

from kafkette.broker.arrivals import Arrivals
from kafkette.broker.auth.users import Users, parse_user, read_users_file
from kafkette.broker.clock import now_ms
from kafkette.broker.cluster import Cluster
from kafkette.broker.config import BrokerConfig
from kafkette.broker.dispatch import Dispatcher
from kafkette.broker.groups import GroupCoordinator
from kafkette.broker.groups.consumer_group import ConsumerGroupSettings
from kafkette.broker.groups.state import GroupSettings
from kafkette.broker.internal_topic import (
    HIDDEN_DIR,
    HIDDEN_TOPICS,
    INTERNAL_TOPICS,
    OFFSETS_TOPIC,
    SCRAM_CREDENTIALS_TOPIC,
    TRANSACTIONS_TOPIC,
    InternalTopic,
    ensure_internal_topics,
)
from kafkette.broker.observers import RequestObserver
from kafkette.broker.topic_configs import validate_topic_configs
from kafkette.broker.transactions.coordinator import TransactionCoordinator, TransactionSettings
from kafkette.broker.transactions.markers import MarkerWriter
from kafkette.broker.transactions.producer_ids import ProducerIdAllocator
from kafkette.protocol.errors import ErrorCode
from kafkette.storage.config import FsyncPolicy, LogConfig
from kafkette.storage.engine import LogEngine, TopicError, valid_topic_name
from kafkette.storage.memory import MemoryStore
from kafkette.storage.store import LogStore

log = structlog.get_logger("kafkette.broker")


class Coordinator(Protocol):
    tick_interval_ms: int

    def load(self) -> None: ...

    def tick(self, now_ms: int) -> None: ...

    def close(self) -> None: ...


class Broker:
    def __init__(self, config: BrokerConfig) -> None:
        self.config = config
        self.arrivals = Arrivals()
        self.store = open_store(config, self.arrivals.notify)
        self.hidden_store = open_store(config, None, HIDDEN_DIR)  # topics no handler sees (broker.internal_topic)
        self.users = Users(static_users(config), InternalTopic(self.hidden_store, SCRAM_CREDENTIALS_TOPIC))
        self.dispatcher = Dispatcher()
        self.cluster = Cluster()
        self.connections: set[Any] = set()
        self.request_observers: list[RequestObserver] = []  # told of every request answered (broker.observers)
        self._tasks: list[asyncio.Task] = []
        self.groups = GroupCoordinator(
            InternalTopic(self.store, OFFSETS_TOPIC), self.store,
            GroupSettings(config.group_min_session_timeout_ms, config.group_max_session_timeout_ms,
                          config.group_initial_rebalance_delay_ms),
            ConsumerGroupSettings(config.group_consumer_heartbeat_interval_ms,
                                  config.group_consumer_session_timeout_ms),
            now_ms)
        self.markers = MarkerWriter(self.store, self.groups.offsets.complete_transaction)
        producer_ids = None if config.storage == "memory" else config.data_dir / "producer-ids.json"
        self.transactions = TransactionCoordinator(
            InternalTopic(self.store, TRANSACTIONS_TOPIC), self.markers, ProducerIdAllocator(producer_ids),
            TransactionSettings(config.transaction_max_timeout_ms, config.transaction_abort_interval_ms),
            now_ms)
        self.coordinators: list[Coordinator] = [self.transactions, self.groups]

    # ------------------------------------------------------------------ life cycle

    def open(self) -> None:
        """Open the log and rebuild the coordinators' state from their internal topics."""
        self.store.open()
        ensure_internal_topics(self.store)
        self.hidden_store.open()
        ensure_internal_topics(self.hidden_store, HIDDEN_TOPICS)
        self.users.load()
        for coordinator in self.coordinators:
            coordinator.load()

    def close(self) -> None:
        for coordinator in self.coordinators:
            coordinator.close()
        self.store.close()
        self.hidden_store.close()

    async def start(self) -> None:
        self.open()
        if self.config.fsync != "never":  # with "always" this moves the recovery point and snapshots on
            self.every(self.config.fsync_interval_ms, self.flush_partitions)
        self.every(self.config.retention_check_interval_ms, lambda: self.store.enforce_retention(now_ms()))
        for coordinator in self.coordinators:
            self.every(coordinator.tick_interval_ms, partial(_tick, coordinator))

    async def flush_partitions(self) -> None:
        """Flush one partition at a time, letting requests run in between, so no answer waits for them all."""
        for store in (self.store, self.hidden_store):
            for _ in store.flush():
                await asyncio.sleep(0)

    def every(self, interval_ms: int, fn: Callable[[], Any]) -> None:
        async def loop() -> None:
            while True:
                await asyncio.sleep(interval_ms / 1000)
                try:
                    result = fn()
                    if isinstance(result, Awaitable):
                        await result
                except Exception:
                    log.exception("periodic task failed", task=getattr(fn, "__qualname__", str(fn)))

        self._tasks.append(asyncio.get_running_loop().create_task(loop()))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self.close()

    # ------------------------------------------------------------------ topics

    def create_topic(self, name: str, partitions: int, configs: dict[str, str] | None = None) -> ErrorCode:
        """Create a topic as CreateTopics or auto-creation does; the error Kafka gives if it cannot."""
        if partitions == -1:
            partitions = self.config.default_partitions
        error = validate_topic_configs(configs or {})
        if error:
            return error
        try:
            self.store.create_topic(name, partitions, configs or {})
        except TopicError as e:  # the name, a duplicate, the partition count
            return e.error
        log.info("topic created", topic=name, partitions=partitions, configs=configs or {})
        return ErrorCode.NONE

    def unknown_topic_error(self, name: str) -> ErrorCode:
        return ErrorCode.UNKNOWN_TOPIC_OR_PARTITION if valid_topic_name(name) else ErrorCode.INVALID_TOPIC_EXCEPTION

    def auto_create(self, name: str) -> ErrorCode:
        """Create an unknown topic if auto-creation is on; INVALID_TOPIC_EXCEPTION or UNKNOWN_TOPIC_OR_PARTITION if not.

        Kafka answers LEADER_NOT_AVAILABLE until the new leader is elected; here the
        topic is usable at once, so the caller answers with it straight away.
        """
        if not self.config.auto_create_topics or name in INTERNAL_TOPICS + HIDDEN_TOPICS or not valid_topic_name(name):
            return self.unknown_topic_error(name)
        return self.create_topic(name, self.config.default_partitions)


def _tick(coordinator: Coordinator) -> None:
    coordinator.tick(now_ms())


def open_store(config: BrokerConfig, on_append: Callable[[Any], None] | None, subdir: str = "") -> LogEngine:
    """The storage engine `--storage` names: the segment log in --data-dir (or a directory in it), or memory."""
    log_config = LogConfig(segment_bytes=config.segment_bytes, retention_ms=config.retention_ms,
                           retention_bytes=config.retention_bytes, fsync=FsyncPolicy(config.fsync))
    if config.storage == "memory":
        return MemoryStore(log_config, on_append)
    return LogStore(config.data_dir / subdir if subdir else config.data_dir, log_config, on_append)


def static_users(config: BrokerConfig) -> list[tuple[str, str]]:
    """The users of --sasl-users-file, then --sasl-user (checked when the settings were read)."""
    from_file = read_users_file(Path(config.sasl_users_file)) if config.sasl_users_file else []
    return from_file + [parse_user(text) for text in config.sasl_user]
