"""The broker's shared state: the log store, the coordinators, the settings; and its periodic work."""

from __future__ import annotations

import asyncio
import time
from typing import Any, Awaitable, Callable

import structlog

from kafkette.broker.arrivals import Arrivals
from kafkette.broker.config import BrokerConfig
from kafkette.broker.groups import GroupCoordinator
from kafkette.broker.internal_topic import INTERNAL_TOPICS, ensure_internal_topics
from kafkette.broker.topic_configs import validate_topic_configs
from kafkette.broker.transactions.coordinator import TransactionCoordinator
from kafkette.protocol.errors import ErrorCode
from kafkette.storage.config import FsyncPolicy, LogConfig
from kafkette.storage.store import LogStore, TopicError, valid_topic_name

log = structlog.get_logger("kafkette.broker")


def now_ms() -> int:
    return int(time.time() * 1000)


class Broker:
    def __init__(self, config: BrokerConfig) -> None:
        self.config = config
        self.store = LogStore(config.data_dir, self.log_config())
        self.arrivals = Arrivals()
        self.connections: set[Any] = set()
        self._tasks: list[asyncio.Task] = []
        self.coordinators: list[Any] = []  # objects with load(), tick(now_ms), tick_interval_ms, close()
        self.transactions = TransactionCoordinator(self)
        self.groups = GroupCoordinator(self)
        self.coordinators += [self.transactions, self.groups]

    def log_config(self) -> LogConfig:
        c = self.config
        return LogConfig(segment_bytes=c.segment_bytes, retention_ms=c.retention_ms,
                         retention_bytes=c.retention_bytes, fsync=FsyncPolicy(c.fsync))

    # ------------------------------------------------------------------ life cycle

    def open(self) -> None:
        """Open the log and rebuild the coordinators' state from their internal topics."""
        self.store.open()
        ensure_internal_topics(self.store)
        for coordinator in self.coordinators:
            coordinator.load()

    def close(self) -> None:
        for coordinator in self.coordinators:
            coordinator.close()
        self.store.close()

    async def start(self) -> None:
        self.open()
        if self.config.fsync != "never":  # with "always" this moves the recovery point and snapshots on
            self.every(self.config.fsync_interval_ms, self.flush_partitions)
        self.every(self.config.retention_check_interval_ms, lambda: self.store.enforce_retention(now_ms()))
        for coordinator in self.coordinators:
            self.every(coordinator.tick_interval_ms, lambda c=coordinator: c.tick(now_ms()))

    async def flush_partitions(self) -> None:
        """Flush one partition at a time, letting requests run in between, so no answer waits for them all."""
        for topic in self.store.topics():
            for partition in topic.partitions:
                if self.store.topic(topic.name) is not topic:
                    break  # deleted while we yielded
                wrote = partition.dirty
                partition.flush()
                if wrote:
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

    def topic_by_id(self, topic_id: bytes):
        return next((t for t in self.store.topics() if t.topic_id == topic_id), None)

    def unknown_topic_error(self, name: str) -> ErrorCode:
        return ErrorCode.UNKNOWN_TOPIC_OR_PARTITION if valid_topic_name(name) else ErrorCode.INVALID_TOPIC_EXCEPTION

    def auto_create(self, name: str) -> ErrorCode:
        """Create an unknown topic if auto-creation is on; INVALID_TOPIC_EXCEPTION or UNKNOWN_TOPIC_OR_PARTITION if not.

        Kafka answers LEADER_NOT_AVAILABLE until the new leader is elected; here the
        topic is usable at once, so the caller answers with it straight away.
        """
        if not self.config.auto_create_topics or name in INTERNAL_TOPICS or not valid_topic_name(name):
            return self.unknown_topic_error(name)
        return self.create_topic(name, self.config.default_partitions)

    # ------------------------------------------------------------------ hooks used by the handlers

    def appended(self, log: Any) -> None:
        """Wake long polls waiting on a partition that just got data or a marker."""
        self.arrivals.notify(log)

    def now_ms(self) -> int:
        return now_ms()
