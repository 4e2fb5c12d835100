"""The broker: its log store and coordinators wired together, its settings, and its periodic work."""

from __future__ import annotations

import asyncio
import gc
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Awaitable, Callable, Protocol, TypeVar

import structlog

from kafkette.broker import collector
from kafkette.broker.arrivals import Arrivals
from kafkette.broker.auth.acl_store import AclStore
from kafkette.broker.auth.authorizer import Authorizer
from kafkette.broker.auth.users import Users, parse_user, read_users_file
from kafkette.broker.broker_configs import DEFAULTS, BrokerConfigs
from kafkette.broker.clock import now_ms
from kafkette.broker.cluster import STATE_FILE, TRANSACTION, Cluster, PlacementError
from kafkette.broker.config import BrokerConfig
from kafkette.broker.connections import ConnectionTable
from kafkette.broker.dispatch import Dispatcher
from kafkette.broker.groups import GroupCoordinator
from kafkette.broker.groups.consumer_group import ConsumerGroupSettings
from kafkette.broker.groups.state import GroupSettings
from kafkette.broker.internal_topic import (
    ACLS_TOPIC,
    BROKER_CONFIGS_TOPIC,
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
from kafkette.broker.topic_configs import TopicDefaults, topic_defaults, validate_topic_configs
from kafkette.broker.transactions.coordinator import TransactionCoordinator, TransactionSettings
from kafkette.broker.transactions.markers import MarkerWriter
from kafkette.broker.transactions.producer_ids import ProducerIdAllocator
from kafkette.protocol.errors import ErrorCode
from kafkette.storage.config import FsyncPolicy, LogConfig
from kafkette.storage.engine import LogEngine, Steps, TopicError, run_steps, valid_topic_name
from kafkette.storage.memory import MemoryStore
from kafkette.storage.store import LogStore

if TYPE_CHECKING:
    from kafkette.broker.faults import FaultInjector

log = structlog.get_logger("kafkette.broker")
REMOVE_DELETED_INTERVAL_MS = 1000
MANY_PARTITIONS = 512  # made by one request: kept out of the cyclic collector's sight
T = TypeVar("T")


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
        self.acls = AclStore(InternalTopic(self.hidden_store, ACLS_TOPIC),
                             Authorizer(config.super_user, config.allow_everyone_if_no_acl_found))
        # What every request is checked against (`RequestContext.authorize`); None with --authorizer none
        self.authorizer = self.acls.authorizer if config.authorizer == "acl" else None
        self.dispatcher = Dispatcher()
        self.cluster = Cluster(config.node_ids())
        self.connections = ConnectionTable()
        self.configs = BrokerConfigs(config, InternalTopic(self.hidden_store, BROKER_CONFIGS_TOPIC))
        self.configs.advertised = self.cluster.listener_strings
        self.configs.on_change.append(self.apply_broker_configs)
        self._topic_defaults: dict[int | None, TopicDefaults] = {}
        self.request_observers: list[RequestObserver] = []  # told of every request answered (broker.observers)
        self.faults: FaultInjector | None = None  # fault rules and the request log, with --admin-api
        self._tasks: list[asyncio.Task] = []
        self.groups = GroupCoordinator(
            InternalTopic(self.store, OFFSETS_TOPIC), self.store,
            GroupSettings(config.group_min_session_timeout_ms, config.group_max_session_timeout_ms,
                          config.group_initial_rebalance_delay_ms),
            ConsumerGroupSettings(config.group_consumer_heartbeat_interval_ms,
                                  config.group_consumer_session_timeout_ms),
            now_ms)
        self.markers = MarkerWriter(self.store, self.groups.offsets.complete_transaction, self.cluster.leader_epoch)
        producer_ids = None if config.storage == "memory" else config.data_dir / "producer-ids.json"
        self.transactions = TransactionCoordinator(
            InternalTopic(self.store, TRANSACTIONS_TOPIC), self.markers, ProducerIdAllocator(producer_ids),
            TransactionSettings(config.transaction_max_timeout_ms, config.transaction_abort_interval_ms),
            now_ms, coordinator_epoch=partial(self.cluster.coordinator_epoch, TRANSACTION))
        self.coordinators: list[Coordinator] = [self.transactions, self.groups]

    # ------------------------------------------------------------------ life cycle

    def open(self) -> None:
        """Open the log and the cluster's placement, and rebuild the coordinators' state from their internal topics."""
        with collector.paused():
            self.store.open()
            ensure_internal_topics(self.store)
            self.hidden_store.open()
            ensure_internal_topics(self.hidden_store, HIDDEN_TOPICS)
            counts = {t.name: t.partition_count for t in self.store.topics()}
            counts |= {t.name: t.partition_count for t in self.store.offline_topics()}  # placed, leaderless
            self.cluster.open(None if self.config.storage == "memory" else self.config.data_dir / STATE_FILE,
                              counts, self.log_end, self.config.default_replication_factor)
            self.users.load()
            self.acls.load()
            self.configs.load()
            for coordinator in self.coordinators:
                coordinator.load()
            gc.collect()  # what start-up left behind, before the rest is frozen
            collector.keep_long_lived()

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
        self.every(REMOVE_DELETED_INTERVAL_MS, self.remove_deleted)
        for coordinator in self.coordinators:
            self.every(coordinator.tick_interval_ms, partial(_tick, coordinator))

    async def flush_partitions(self) -> None:
        """Flush one partition at a time, letting requests run in between, so no answer waits for them all."""
        for store in (self.store, self.hidden_store):
            for _ in store.flush():
                await asyncio.sleep(0)

    async def remove_deleted(self) -> None:
        """Remove deleted topics' files a partition at a time, letting requests run in between."""
        for _ in self.store.remove_deleted():
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

    # ------------------------------------------------------------------ dynamic broker configs

    def topic_defaults(self, node: int | None) -> TopicDefaults:
        """What a topic gets of each config it has not set, as node `node` sees it (None: the cluster-wide view)."""
        defaults = self._topic_defaults.get(node)
        if defaults is None:
            defaults = self._topic_defaults[node] = topic_defaults(self.configs.layers(node))
        return defaults

    def apply_broker_configs(self) -> None:
        """Apply the broker configs kafkette has an equivalent of (broker_configs.APPLIED). Produce applies each
        node's own; the one log, and the connection limit of the one process, follow the only node's, or with
        --brokers N the cluster-wide default's."""
        self._topic_defaults.clear()
        node = self.config.node_ids()[0] if self.config.brokers == 1 else None
        values = self.topic_defaults(node).values

        def value(name: str) -> str:
            return values[name][0] or ""

        self.store.set_default_config(LogConfig(
            segment_bytes=int(value("segment.bytes")), retention_ms=int(value("retention.ms")),
            retention_bytes=int(value("retention.bytes")), index_interval_bytes=int(value("index.interval.bytes")),
            cleanup_policy=value("cleanup.policy"), fsync=FsyncPolicy(self.config.fsync),
            log_append_time=value("message.timestamp.type") == "LogAppendTime"))
        wanted = int(self.configs.value(node, "max.connections") or DEFAULTS["max.connections"])
        self.connections.set_limit(min(wanted, self.configs.connection_capacity or wanted))

    # ------------------------------------------------------------------ topics

    def create_topic(self, name: str, partitions: int, configs: dict[str, str] | None = None) -> ErrorCode:
        """Create a topic at once, as auto-creation does, with --default-replication-factor replicas each;
        the error Kafka gives if it cannot."""
        return run_steps(self.creating_topic(name, partitions, configs or {}))[0]

    def creating_topic(self, name: str, partitions: int, configs: dict[str, str],
                       replicas: list[list[int]] | None = None) -> Steps[tuple[ErrorCode, str | None]]:
        """Create a topic as CreateTopics does, in steps (see broker.slices); (error, message).

        `replicas`: each partition's, as `cluster.plan` gives them (default: --default-replication-factor
        replicas each, placed by the cluster)."""
        if partitions == -1:
            partitions = self.config.default_partitions
        error = validate_topic_configs(configs)
        if error:
            return error, error.name
        refused = self.partitions_refused(partitions)
        if refused:
            return refused
        if replicas is None:
            try:
                replicas = self.cluster.plan(name, partitions, self.config.default_replication_factor)
            except PlacementError as e:
                return e.error, str(e)
        try:
            yield from _long_lived(self.store.creating_topic(name, partitions, configs), partitions)
        except TopicError as e:  # the name, a duplicate, the partition count, a full disk
            return e.error, str(e)
        self.cluster.add_topic(name, replicas)
        log.info("topic created", topic=name, partitions=partitions, replication_factor=len(replicas[0]),
                 configs=configs)
        return ErrorCode.NONE, None

    def adding_partitions(self, name: str, new_total: int) -> Steps[tuple[ErrorCode, str | None]]:
        """Grow a topic as CreatePartitions does, in steps (see broker.slices); (error, message)."""
        topic = self.store.topic(name)
        added = new_total - (topic.partition_count if topic is not None else 0)
        try:
            yield from _long_lived(self.store.adding_partitions(name, new_total), added)
        except TopicError as e:  # deleted or grown meanwhile, a full disk
            return e.error, str(e)
        self.cluster.grow_topic(name, new_total)
        log.info("partitions added", topic=name, partitions=new_total)
        return ErrorCode.NONE, None

    def deleting_topic(self, name: str) -> Steps[None]:
        """Delete a topic (an offline one too) as DeleteTopics does, in steps; raises TopicError."""
        yield from self.store.deleting_topic(name)
        self.cluster.remove_topic(name)

    def partitions_refused(self, more: int) -> tuple[ErrorCode, str] | None:
        """POLICY_VIOLATION if `more` partitions would take the broker past --max-partitions."""
        held = self.store.partition_total()
        if held + more <= self.config.max_partitions:
            return None
        return ErrorCode.POLICY_VIOLATION, (f"the broker holds {held} partitions and at most "
                                            f"{self.config.max_partitions} (--max-partitions); {more} more cannot "
                                            f"be made: delete topics first")

    def missing_partition_error(self, topic: str) -> ErrorCode:
        """What a request for a partition the store cannot serve gets: KAFKA_STORAGE_ERROR if its topic is
        offline (Kafka's answer for a partition in an offline log directory), else UNKNOWN_TOPIC_OR_PARTITION."""
        offline = self.store.offline_topic(topic) is not None
        return ErrorCode.KAFKA_STORAGE_ERROR if offline else ErrorCode.UNKNOWN_TOPIC_OR_PARTITION

    def log_end(self, topic: str, partition: int) -> int:
        """A partition's log end offset (0 for a partition the store does not hold)."""
        log = self.store.partition(topic, partition)
        return log.next_offset if log is not None else 0

    def unknown_topic_error(self, name: str) -> ErrorCode:
        return ErrorCode.UNKNOWN_TOPIC_OR_PARTITION if valid_topic_name(name) else ErrorCode.INVALID_TOPIC_EXCEPTION

    def auto_create(self, name: str) -> ErrorCode:
        """Create an unknown topic if auto-creation is on; INVALID_TOPIC_EXCEPTION or UNKNOWN_TOPIC_OR_PARTITION if not.

        Kafka answers LEADER_NOT_AVAILABLE until the new leader is elected; here the topic is usable at
        once, so the caller answers with it straight away, unless the name is taken by a creation or a
        deletion still under way (or an offline topic): then LEADER_NOT_AVAILABLE, and the client retries.
        """
        if not self.config.auto_create_topics or name in INTERNAL_TOPICS + HIDDEN_TOPICS or not valid_topic_name(name):
            return self.unknown_topic_error(name)
        error = self.create_topic(name, self.config.default_partitions)
        return ErrorCode.LEADER_NOT_AVAILABLE if error == ErrorCode.TOPIC_ALREADY_EXISTS else error


def _long_lived(steps: Steps[T], partitions: int) -> Steps[T]:
    """Run steps making `partitions` partitions that live as long as the broker; many are made with
    collection paused and then kept out of the collector's sight (see broker.collector)."""
    if partitions < MANY_PARTITIONS:
        return (yield from steps)
    with collector.paused():
        result = yield from steps
        collector.keep_long_lived()  # before collection resumes, or its first pass scans them all
    return result


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
