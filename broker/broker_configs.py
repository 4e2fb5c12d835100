"""Kafka's broker configs: kafkette's settings under Kafka's names, and the dynamic ones AlterConfigs sets.

A broker config's value comes from the first of these layers that holds it (Kafka's DynamicBrokerConfig):

    DYNAMIC_BROKER_CONFIG          one node's own, set with the resource name "<node id>"
    DYNAMIC_DEFAULT_BROKER_CONFIG  the cluster-wide default, set with the resource name ""
    STATIC_BROKER_CONFIG           kafkette's settings (`static_configs`), where they are not Kafka's default
    DEFAULT_CONFIG                 Kafka's default (broker_config_table)

Alterations are checked as Kafka checks them (broker_config_checks), appended to the hidden
`__kafkette_broker_configs` topic (key: resource and config name; value: the text, null once removed) before
they are answered, and replayed at start. `on_change` callbacks then apply those kafkette has an equivalent of
(`APPLIED`, see Broker.apply_broker_configs); the others are kept and described as Kafka does, nothing more.
As a new Kafka 4 cluster, the cluster-wide default holds min.insync.replicas=1 from the start.
"""

from __future__ import annotations

from itertools import dropwhile
from typing import Callable, Iterable, Mapping, NamedTuple

import structlog

from kafkette.broker import broker_config_checks as checks
from kafkette.broker.broker_config_table import CONFIGS, QUOTAS, UNLISTED
from kafkette.broker.config import BrokerConfig
from kafkette.broker.config_def import broker_synonyms, canonical, config_type, sensitive
from kafkette.broker.config_types import (
    DEFAULT_CONFIG,
    DYNAMIC_BROKER_CONFIG,
    DYNAMIC_DEFAULT_BROKER_CONFIG,
    READ_ONLY,
    STATIC_BROKER_CONFIG,
)
from kafkette.broker.internal_topic import InternalTopic, InternalTopicError
from kafkette.protocol import codec
from kafkette.protocol.errors import ErrorCode
from kafkette.protocol.messages.internal import (
    BROKER_CONFIG_KEY,
    BROKER_CONFIG_VALUE,
    BrokerConfigKey,
    BrokerConfigValue,
)
from kafkette.protocol.records import NewRecord, iter_records

log = structlog.get_logger("kafkette.broker_configs")
Layer = tuple[int, Mapping[str, str]]  # (config source, the values it holds)
Synonym = tuple[str, str | None, int]  # (name, value, config source)
# Kafka's KafkaConfig defaults (the broker quotas are no KafkaConfig: they have none)
DEFAULTS = {name: default for name, (_, default, _, _) in CONFIGS.items() if default is not None and name not in QUOTAS}
# The dynamic configs kafkette acts on (with --brokers N, the cluster-wide ones: see Broker.apply_broker_configs)
APPLIED = ("log.retention.ms", "log.retention.bytes", "log.segment.bytes", "log.cleanup.policy", "log.index.interval.bytes",
           "log.message.timestamp.type", "log.message.timestamp.before.max.ms", "log.message.timestamp.after.max.ms",
           "message.max.bytes", "min.insync.replicas", "max.connections")
CLUSTER_DEFAULTS = {"min.insync.replicas": "1"}  # what a Kafka 4 cluster is formatted with (eligible leader replicas)
WEEK_MS = 7 * 24 * 3600 * 1000  # Kafka's retention when log.retention.ms is unset (log.retention.hours=168)
STANDARD_AUTHORIZER = "org.apache.kafka.metadata.authorizer.StandardAuthorizer"


class Entry(NamedTuple):
    """One config as DescribeConfigs answers it."""

    name: str
    value: str | None
    source: int
    read_only: bool
    sensitive: bool
    type: int
    synonyms: list[Synonym]


class Prepared(NamedTuple):
    """An alteration that passed the broker's checks (Kafka's ConfigAdminManager.preprocess)."""

    resource_name: str
    props: dict[str, str]  # the resource's whole new set of dynamic configs
    named: frozenset[str]  # the configs the request named


def static_configs(config: BrokerConfig, node: int, advertised: list[str], connection_capacity: int | None) -> dict[str, str]:
    """kafkette's settings of node `node` under Kafka's names, those that are not Kafka's default."""
    index = config.node_ids().index(node)  # node i listens on each listener's port + i
    acl = config.authorizer == "acl"
    settings = {
        "advertised.listeners": ",".join(advertised),
        "allow.everyone.if.no.acl.found": str(config.allow_everyone_if_no_acl_found).lower() if acl else None,
        "authorizer.class.name": STANDARD_AUTHORIZER if acl else "",
        "auto.create.topics.enable": str(config.auto_create_topics).lower(),
        "broker.id": str(node),
        "connections.max.idle.ms": str(config.connections_max_idle_ms),
        "connections.max.reauth.ms": str(config.connections_max_reauth_ms),
        "default.replication.factor": str(config.default_replication_factor),
        "fetch.max.bytes": str(config.fetch_max_bytes),
        "group.consumer.heartbeat.interval.ms": str(config.group_consumer_heartbeat_interval_ms),
        "group.consumer.session.timeout.ms": str(config.group_consumer_session_timeout_ms),
        "group.initial.rebalance.delay.ms": str(config.group_initial_rebalance_delay_ms),
        "group.max.session.timeout.ms": str(config.group_max_session_timeout_ms),
        "group.min.session.timeout.ms": str(config.group_min_session_timeout_ms),
        "listeners": ",".join(f"{spec.name}://{spec.host}:{spec.port + index if spec.port else 0}"
                              for spec in config.listeners()),
        "log.dirs": str(config.data_dir),
        "log.retention.bytes": str(config.retention_bytes),
        "log.retention.check.interval.ms": str(config.retention_check_interval_ms),
        "log.retention.ms": str(config.retention_ms) if config.retention_ms != WEEK_MS else None,
        "log.segment.bytes": str(config.segment_bytes),
        "max.connections": str(connection_capacity) if connection_capacity is not None else None,
        "node.id": str(node),
        "num.partitions": str(config.default_partitions),
        "sasl.enabled.mechanisms": ",".join(config.sasl_enabled_mechanisms),
        "socket.request.max.bytes": str(config.max_request_bytes),
        "ssl.client.auth": config.ssl_client_auth,
        "super.users": ";".join(config.super_user) if acl and config.super_user else None,
        "transaction.abort.timed.out.transaction.cleanup.interval.ms": str(config.transaction_abort_interval_ms),
        "transaction.max.timeout.ms": str(config.transaction_max_timeout_ms),
    }
    return {name: value for name, value in settings.items() if value is not None and value != DEFAULTS.get(name)}


def config_synonyms(layers: Iterable[Layer], name: str, names: list[str]) -> list[Synonym]:
    """Kafka's ConfigHelper.configSynonyms: every layer's value of each of `names`, most specific first, from
    the first entry of `name` itself on (a listener's override is no synonym of its base config)."""
    hidden = sensitive(name)
    found = [(n, None if hidden else values[n], source) for source, values in layers for n in names if n in values]
    return list(dropwhile(lambda synonym: synonym[0] != name, found))


class BrokerConfigs:
    def __init__(self, config: BrokerConfig, topic: InternalTopic) -> None:
        self.config = config
        self.topic = topic
        self.cluster_default: dict[str, str] = dict(CLUSTER_DEFAULTS)
        self.per_broker: dict[int, dict[str, str]] = {}
        self.advertised: Callable[[int], list[str]] = lambda node: []  # a node's listeners as clients reach them
        self.connection_capacity: int | None = None  # connections the open-file limit allows (broker.limits)
        self.on_change: list[Callable[[], None]] = []

    # ------------------------------------------------------------------ layers

    def load(self) -> None:
        """Replay the broker configs topic."""
        self.cluster_default = dict(CLUSTER_DEFAULTS)
        self.per_broker = {}
        for _, batch in self.topic.replay():
            for record in iter_records(batch):
                key = codec.read_versioned(BROKER_CONFIG_KEY, record.key or b"")
                values = self.resource(key.resource_name)
                if record.value is None:
                    values.pop(key.name, None)
                else:
                    values[key.name] = codec.read_versioned(BROKER_CONFIG_VALUE, record.value).value
        log.info("broker configs loaded", cluster_default=len(self.cluster_default),
                 per_broker={node: len(values) for node, values in self.per_broker.items()})
        self._changed()

    def resource(self, resource_name: str) -> dict[str, str]:
        """The dynamic configs set on a resource: "" the cluster-wide default, else a node id's."""
        if not resource_name:
            return self.cluster_default
        return self.per_broker.setdefault(int(resource_name), {})

    def static(self, node: int) -> dict[str, str]:
        return static_configs(self.config, node, self.advertised(node), self.connection_capacity)

    def layers(self, node: int | None) -> list[Layer]:
        """Node `node`'s layers, most specific first; None: the cluster-wide ones (no node's own)."""
        own = self.per_broker.get(node, {}) if node is not None else {}
        static = self.static(node if node is not None else self.config.node_ids()[0])
        return [(DYNAMIC_BROKER_CONFIG, own), (DYNAMIC_DEFAULT_BROKER_CONFIG, self.cluster_default),
                (STATIC_BROKER_CONFIG, static), (DEFAULT_CONFIG, DEFAULTS)]

    def value(self, node: int | None, name: str) -> str | None:
        """A config's value for a node, as set (None: neither set nor defaulted)."""
        return next((values[name] for _, values in self.layers(node) if name in values), None)

    def merged(self, node: int | None, **replaced: dict[str, str]) -> dict[str, str]:
        """The values set for a node (Kafka's originals): static, then the cluster-wide default, then its own;
        `own=` or `cluster_default=` stands in for the one stored."""
        own = self.per_broker.get(node, {}) if node is not None else {}
        static = self.static(node if node is not None else self.config.node_ids()[0])
        return {**static, **replaced.get("cluster_default", self.cluster_default), **replaced.get("own", own)}

    # ------------------------------------------------------------------ DescribeConfigs

    def describe(self, node: int, per_broker: bool) -> list[Entry]:
        """Node `node`'s configs (per_broker), or the cluster-wide default's, sorted by name."""
        layers = self.layers(node)
        if per_broker:
            merged = self.merged(node)
            names = set(CONFIGS) - UNLISTED | set(merged)
            values = {n: self._value(n, merged) for n in names}
        else:
            names, values = set(self.cluster_default), dict(self.cluster_default)
        entries = []
        for name in sorted(names):
            synonyms = config_synonyms(layers, name, broker_synonyms(name))
            if not per_broker:
                synonyms = [s for s in synonyms if s[2] == DYNAMIC_DEFAULT_BROKER_CONFIG]
            hidden = sensitive(name)
            entries.append(Entry(name, None if hidden else values[name], synonyms[0][2] if synonyms else DEFAULT_CONFIG,
                                 CONFIGS.get(name, (0, None, READ_ONLY, None))[2] == READ_ONLY, hidden,
                                 config_type(name), synonyms))
        return entries

    @staticmethod
    def _value(name: str, merged: Mapping[str, str]) -> str | None:
        """Kafka's value of a config: parsed and written back if it is one of KafkaConfig's, else as set."""
        text = merged.get(name, DEFAULTS.get(name))
        if text is None or name not in CONFIGS or name in UNLISTED:
            return text
        return canonical(name, text)

    # ------------------------------------------------------------------ AlterConfigs, IncrementalAlterConfigs

    def prepare(self, node: int, resource_name: str, changes: list[tuple[str, int, str | None]] | dict[str, str]
                ) -> Prepared | tuple[ErrorCode, str]:
        """Kafka's broker-side checks of a BROKER resource's alteration, asked of node `node`: `changes` are
        IncrementalAlterConfigs' (name, operation, value), or AlterConfigs' whole new set."""
        per_broker = bool(resource_name)
        try:
            if per_broker:
                checks.check_node_name(resource_name, node)
                resource_name = str(node)  # "01" names node 1 too
            if isinstance(changes, dict):
                props, named = dict(changes), frozenset(changes)
            else:
                stored = self.per_broker.get(node, {}) if per_broker else self.cluster_default
                props = checks.apply_operations(dict(stored), changes)
                named = frozenset(name for name, _, _ in changes)
            checks.check_dynamic(props, per_broker)
            replaced = {"own": props} if per_broker else {"cluster_default": props}
            checks.check_reconfiguration(self.merged(node), self.merged(node, **replaced),
                                         self.config.listeners())
        except checks.Refused as refused:
            return refused.error, refused.message
        return Prepared(resource_name, props, named)

    def commit(self, prepared: Prepared, now_ms: int, validate_only: bool) -> tuple[ErrorCode, str | None]:
        """The controller's checks, then the change stored and applied (unless `validate_only`)."""
        resource_name, props, named = prepared
        refused = checks.check_eligible_leader_replicas(resource_name, props, named)
        if refused is not None:
            return refused.error, refused.message
        if validate_only:
            return ErrorCode.NONE, None
        current = self.resource(resource_name)
        records = [NewRecord(_key(resource_name, name), None) for name in current if name not in props]
        records += [NewRecord(_key(resource_name, name), _value(value))
                    for name, value in props.items() if current.get(name) != value]
        if records:
            try:
                self.topic.append(records, now_ms)
            except InternalTopicError as e:
                log.error("broker config change not stored", resource=resource_name, error=str(e))
                return ErrorCode.UNKNOWN_SERVER_ERROR, f"the change could not be stored: {e}"
        current.clear()
        current.update(props)
        log.info("broker configs altered", resource=resource_name or "<cluster default>",
                 configs={n: "[hidden]" if sensitive(n) else v for n, v in props.items()})
        self._changed()
        return ErrorCode.NONE, None

    def _changed(self) -> None:
        for callback in self.on_change:
            callback()


def _key(resource_name: str, name: str) -> bytes:
    return codec.write_versioned(BROKER_CONFIG_KEY, 0, BrokerConfigKey(resource_name=resource_name, name=name))


def _value(value: str) -> bytes:
    return codec.write_versioned(BROKER_CONFIG_VALUE, 0, BrokerConfigValue(value=value))
