"""Dynamic broker configs without sockets: what a broker describes, what it accepts and refuses, and what it keeps.

Every expected answer below is Apache Kafka 4.4's to the same request, recorded from the broker conformance/kafka.py
starts (tests/golden/kafka_4_4_broker_configs.json is its DescribeConfigs of broker 1); conformance/
test_broker_configs.py asks both brokers the same questions live.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kafkette.broker.broker_configs import BrokerConfigs, Prepared
from kafkette.broker.config import BrokerConfig
from kafkette.broker.config_def import java_double, java_set
from kafkette.broker.config_types import (
    DEFAULT_CONFIG,
    DYNAMIC_BROKER_CONFIG,
    DYNAMIC_DEFAULT_BROKER_CONFIG,
    DYNAMIC_TOPIC_CONFIG,
    STATIC_BROKER_CONFIG,
)
from kafkette.broker.internal_topic import BROKER_CONFIGS_TOPIC, HIDDEN_TOPICS, InternalTopic, ensure_internal_topics
from kafkette.broker.topic_configs import produce_rules, synonyms, topic_defaults
from kafkette.protocol.errors import ErrorCode
from kafkette.storage.config import LogConfig
from kafkette.storage.memory import MemoryStore

GOLDEN = Path(__file__).parent / "golden" / "kafka_4_4_broker_configs.json"
SET, DELETE, APPEND, SUBTRACT = range(4)
INVALID_REQUEST, INVALID_CONFIG = ErrorCode.INVALID_REQUEST, ErrorCode.INVALID_CONFIG
WRAPPED = "Invalid value org.apache.kafka.common.config.ConfigException: {} for configuration Invalid dynamic configuration"


def configs_over(store: MemoryStore, **settings) -> BrokerConfigs:
    configs = BrokerConfigs(BrokerConfig(**settings), InternalTopic(store, BROKER_CONFIGS_TOPIC))
    configs.load()
    return configs


@pytest.fixture
def store() -> MemoryStore:
    store = MemoryStore(LogConfig())
    ensure_internal_topics(store, HIDDEN_TOPICS)
    return store


@pytest.fixture
def configs(store) -> BrokerConfigs:
    return configs_over(store)


def alter(configs: BrokerConfigs, resource: str, changes, validate_only: bool = False, node: int = 1):
    prepared = configs.prepare(node, resource, changes)
    if not isinstance(prepared, Prepared):
        return prepared
    return configs.commit(prepared, 0, validate_only)


def described(configs: BrokerConfigs, node: int = 1, per_broker: bool = True) -> dict:
    return {e.name: e for e in configs.describe(node, per_broker)}


# ---------------------------------------------------------------------------------------------- DescribeConfigs


def test_a_broker_describes_every_config_kafka_describes_with_its_type_source_and_default():
    kafka = {row[0]: row[1:] for row in json.loads(GOLDEN.read_text())["configs"]}
    ours = described(configs_over(MemoryStore(LogConfig())))
    assert sorted(ours) == sorted(kafka)
    for name, (source, read_only, type_, hidden, value) in kafka.items():
        entry = ours[name]
        assert (entry.read_only, entry.type, entry.sensitive) == (read_only, type_, hidden), name
        if source == DEFAULT_CONFIG and entry.source == DEFAULT_CONFIG:
            assert entry.value == value, name
    statics = {n for n, e in ours.items() if e.source == STATIC_BROKER_CONFIG}
    assert {"listeners", "advertised.listeners", "log.dirs", "node.id", "broker.id"} <= statics
    assert ours["min.insync.replicas"].source == DYNAMIC_DEFAULT_BROKER_CONFIG  # as a new Kafka 4 cluster


def test_kafkette_settings_are_static_broker_configs_where_they_are_not_kafkas_default():
    ours = described(configs_over(MemoryStore(LogConfig()), default_partitions=3, retention_ms=3_600_000,
                                  group_initial_rebalance_delay_ms=3000))
    assert (ours["num.partitions"].value, ours["num.partitions"].source) == ("3", STATIC_BROKER_CONFIG)
    assert ours["log.retention.ms"].synonyms == [("log.retention.ms", "3600000", STATIC_BROKER_CONFIG),
                                                 ("log.retention.hours", "168", DEFAULT_CONFIG)]
    assert ours["group.initial.rebalance.delay.ms"].source == DEFAULT_CONFIG  # 3000 is Kafka's default
    assert ours["log.retention.hours"].synonyms == [("log.retention.hours", "168", DEFAULT_CONFIG)]


def test_dynamic_configs_take_precedence_per_broker_then_cluster_wide_as_kafka_describes_them(configs):
    assert alter(configs, "", [("log.retention.ms", SET, "3600000"), ("log.roll.ms", SET, "5000"),
                               ("max.connections", SET, "500"), ("no.such.config", SET, "5"),
                               ("listener.name.plaintext.max.connections", SET, "50")]) == (ErrorCode.NONE, None)
    assert alter(configs, "1", [("log.retention.ms", SET, "7200000"), ("max.connections", SET, "1000"),
                                ("listener.name.plaintext.max.connections", SET, "100"),
                                ("listener.name.plaintext.ssl.keystore.password", SET, "secret")]) == (ErrorCode.NONE, None)
    ours = described(configs)
    assert ours["log.retention.ms"][1:3] == ("7200000", DYNAMIC_BROKER_CONFIG)
    assert ours["log.retention.ms"].synonyms == [("log.retention.ms", "7200000", DYNAMIC_BROKER_CONFIG),
                                                 ("log.retention.ms", "3600000", DYNAMIC_DEFAULT_BROKER_CONFIG),
                                                 ("log.retention.hours", "168", DEFAULT_CONFIG)]
    assert ours["log.roll.ms"].synonyms == [("log.roll.ms", "5000", DYNAMIC_DEFAULT_BROKER_CONFIG),
                                            ("log.roll.hours", "168", DEFAULT_CONFIG)]
    assert ours["log.retention.minutes"][1:3] == (None, DEFAULT_CONFIG) and ours["log.retention.minutes"].synonyms == []
    listener = ours["listener.name.plaintext.max.connections"]  # a listener's override lists its base as synonym
    assert (listener.value, listener.read_only, listener.type) == ("100", True, 3)
    assert listener.synonyms == [("listener.name.plaintext.max.connections", "100", DYNAMIC_BROKER_CONFIG),
                                 ("max.connections", "1000", DYNAMIC_BROKER_CONFIG),
                                 ("listener.name.plaintext.max.connections", "50", DYNAMIC_DEFAULT_BROKER_CONFIG),
                                 ("max.connections", "500", DYNAMIC_DEFAULT_BROKER_CONFIG),
                                 ("max.connections", "2147483647", DEFAULT_CONFIG)]
    password, custom = ours["listener.name.plaintext.ssl.keystore.password"], ours["no.such.config"]
    assert (password.value, password.sensitive, password.type) == (None, True, 9)
    assert (custom.value, custom.sensitive, custom.type, custom.read_only) == (None, True, 0, True)
    default = described(configs, per_broker=False)
    assert sorted(default) == ["listener.name.plaintext.max.connections", "log.retention.ms", "log.roll.ms",
                               "max.connections", "min.insync.replicas", "no.such.config"]
    assert default["listener.name.plaintext.max.connections"].synonyms == [
        ("listener.name.plaintext.max.connections", "50", DYNAMIC_DEFAULT_BROKER_CONFIG),
        ("max.connections", "500", DYNAMIC_DEFAULT_BROKER_CONFIG)]


def test_values_are_described_as_kafka_writes_them_back(configs):
    assert alter(configs, "", [("log.cleanup.policy", SET, " compact , delete "), ("log.preallocate", SET, "TRUE"),
                               ("log.cleaner.io.max.bytes.per.second", SET, "1e3")]) == (ErrorCode.NONE, None)
    ours = described(configs)
    assert ours["log.cleanup.policy"].value == "compact,delete"
    assert ours["log.cleanup.policy"].synonyms[0] == ("log.cleanup.policy", " compact , delete ",
                                                      DYNAMIC_DEFAULT_BROKER_CONFIG)
    assert (ours["log.preallocate"].value, ours["log.cleaner.io.max.bytes.per.second"].value) == ("true", "1000.0")


# ---------------------------------------------------------------------------------------------- what is kept


def test_dynamic_configs_survive_a_restart_and_alterconfigs_replaces_a_whole_set(store):
    configs = configs_over(store)
    alter(configs, "", [("message.max.bytes", SET, "2000"), ("log.retention.ms", SET, "1000")])
    alter(configs, "1", [("log.retention.ms", SET, "2000"), ("other.custom", SET, "x")])
    assert alter(configs, "1", {"log.retention.ms": "3000"}) == (ErrorCode.NONE, None)  # AlterConfigs: the whole set
    again = configs_over(store)
    assert again.cluster_default == {"min.insync.replicas": "1", "message.max.bytes": "2000", "log.retention.ms": "1000"}
    assert again.per_broker == {1: {"log.retention.ms": "3000"}}
    assert [(e.name, e.value, e.source) for e in again.describe(1, False)] == [
        ("log.retention.ms", "1000", DYNAMIC_DEFAULT_BROKER_CONFIG), ("message.max.bytes", "2000", DYNAMIC_DEFAULT_BROKER_CONFIG),
        ("min.insync.replicas", "1", DYNAMIC_DEFAULT_BROKER_CONFIG)]


def test_validate_only_changes_nothing(configs):
    assert alter(configs, "", [("log.retention.ms", SET, "1000")], validate_only=True) == (ErrorCode.NONE, None)
    assert configs.cluster_default == {"min.insync.replicas": "1"}


def test_incremental_operations_start_from_the_resources_own_set_then_kafkas_default(configs):
    assert alter(configs, "1", [("log.cleanup.policy", APPEND, "compact")]) == (ErrorCode.NONE, None)
    assert configs.per_broker[1]["log.cleanup.policy"] == "delete,compact"
    assert alter(configs, "1", [("log.cleanup.policy", SUBTRACT, "delete")]) == (ErrorCode.NONE, None)
    assert configs.per_broker[1]["log.cleanup.policy"] == "compact"
    assert alter(configs, "1", [("sasl.enabled.mechanisms", APPEND, "PLAIN,PLAIN")]) == (  # GSSAPI,PLAIN,PLAIN
        INVALID_REQUEST, "Configuration 'sasl.enabled.mechanisms' values must not be duplicated.")
    assert alter(configs, "1", [("log.cleanup.policy", DELETE, None), ("num.partitions", DELETE, None)]) == (
        ErrorCode.NONE, None)
    assert configs.per_broker[1] == {}


# ---------------------------------------------------------------------------------------------- refusals


@pytest.mark.parametrize("resource, changes, expected", [
    ("2", [("log.retention.ms", SET, "1000")], (INVALID_REQUEST, "Unexpected broker id, expected 1, but received 2")),
    ("x", [("log.retention.ms", SET, "1000")], (INVALID_REQUEST, "Node id must be an integer, but it is: x")),
    (" 1", [("log.retention.ms", SET, "1000")], (INVALID_REQUEST, "Node id must be an integer, but it is:  1")),
    ("", [("num.partitions", SET, "3"), ("broker.id", SET, "3")],
     (INVALID_REQUEST, "Cannot update these configs dynamically: [num.partitions, broker.id]")),
    ("", [("num.partitions", SET, "2"), ("broker.id", SET, "2"), ("log.dirs", SET, "x"), ("node.id", SET, "3"),
          ("log.retention.hours", SET, "3")],
     (INVALID_REQUEST, "Cannot update these configs dynamically: [log.retention.hours, node.id, num.partitions, "
                       "broker.id, log.dirs]")),
    ("1", [("log.retention.ms", SET, "x")],
     (INVALID_REQUEST, "Invalid value x for configuration log.retention.ms: Not a number of type LONG")),
    ("1", [("log.retention.ms", SET, "")],
     (INVALID_REQUEST, "Invalid value  for configuration log.retention.ms: Not a number of type LONG")),
    ("1", [("max.connections", SET, "-5")],
     (INVALID_REQUEST, "Invalid value -5 for configuration max.connections: Value must be at least 0")),
    ("1", [("max.connections", SET, "2147483648")],
     (INVALID_REQUEST, "Invalid value 2147483648 for configuration max.connections: Not a number of type INT")),
    ("", [("log.retention.ms", SET, "abc"), ("message.max.bytes", SET, "x")],
     (INVALID_REQUEST, "Invalid value x for configuration message.max.bytes: Not a number of type INT")),
    ("1", [("log.cleanup.policy", SET, "bogus")],
     (INVALID_REQUEST, "Invalid value bogus for configuration log.cleanup.policy: String must be one of: compact, delete")),
    ("", [("log.cleanup.policy", SET, "compact,,delete")],
     (INVALID_REQUEST, "Configuration 'log.cleanup.policy' values must not be empty.")),
    ("1", [("sasl.enabled.mechanisms", SET, "PLAIN,PLAIN")],
     (INVALID_REQUEST, "Configuration 'sasl.enabled.mechanisms' values must not be duplicated.")),
    ("", [("compression.gzip.level", SET, "0")],
     (INVALID_REQUEST, "Invalid value 0 for configuration compression.gzip.level: Value must be between 1 and 9 or "
                       "equal to -1")),
    ("", [("log.cleaner.min.cleanable.ratio", SET, "1.5")],
     (INVALID_REQUEST, "Invalid value 1.5 for configuration log.cleaner.min.cleanable.ratio: Value must be no more than 1")),
    ("", [("unclean.leader.election.enable", SET, "yes")],
     (INVALID_REQUEST, "Invalid value yes for configuration unclean.leader.election.enable: Expected value to be either "
                       "true or false")),
    ("1", [("log.retention.ms", APPEND, "5")],
     (INVALID_CONFIG, "Config value append is not allowed for config key: log.retention.ms")),
    ("1", [("log.retention.ms", SUBTRACT, "5")],
     (INVALID_CONFIG, "Config value subtract is not allowed for config key: log.retention.ms")),
    ("1", [("no.such.config", APPEND, "5")], (INVALID_CONFIG, "Unknown config name: no.such.config")),
    ("1", [("log.retention.ms", 7, "5")], (INVALID_REQUEST, "Unknown operations type 7")),
    ("", [("listeners", SET, "PLAINTEXT://127.0.0.1:9092")],
     (INVALID_REQUEST, "Cannot update these configs at default cluster level, broker id must be specified: [listeners]")),
    ("1", [("ssl.keystore.type", SET, "PKCS12")],
     (INVALID_REQUEST, "These security configs can be dynamically updated only per-listener using the listener prefix: "
                       "[ssl.keystore.type]")),
    ("", [("listener.name.plaintext.ssl.keystore.type", SET, "PKCS12")],
     (INVALID_REQUEST, "Cannot update these configs at default cluster level, broker id must be specified: "
                       "[listener.name.plaintext.ssl.keystore.type]")),
    ("", [("listener.name.plaintext.max.connections", SET, "x")],
     (INVALID_REQUEST, "Invalid value x for configuration max.connections: Not a number of type INT")),
    ("", [("num.io.threads", SET, "17")], (INVALID_REQUEST, WRAPPED.format(
        "Dynamic thread count update validation failed for num.io.threads=17, value should not be greater than double "
        "the current value 8"))),
    ("", [("num.io.threads", SET, "3")], (INVALID_REQUEST, WRAPPED.format(
        "Dynamic thread count update validation failed for num.io.threads=3, value should be at least half the current "
        "value 8"))),
    ("", [("listener.name.plaintext.num.network.threads", SET, "7")], (INVALID_REQUEST, WRAPPED.format(
        "Dynamic thread count update validation failed for num.network.threads=7, value should not be greater than "
        "double the current value 3"))),
    ("", [("log.cleaner.threads", SET, "5")], (INVALID_REQUEST, WRAPPED.format(
        "Log cleaner threads cannot be increased to more than double the current value 1"))),
    ("", [("log.cleaner.threads", SET, "0")], (INVALID_REQUEST, "/ by zero")),
    ("", [("log.cleaner.dedupe.buffer.size", SET, "1")],
     (INVALID_REQUEST, "requirement failed: log.cleaner.dedupe.buffer.size must be at least 1MB per cleaner thread.")),
    ("", [("log.retention.ms", SET, "0")],
     (INVALID_REQUEST, "requirement failed: log.retention.ms must be unlimited (-1) or, greater than or equal to 1")),
    ("", [("log.roll.ms", SET, "0")],
     (INVALID_REQUEST, "requirement failed: log.roll.ms must be greater than or equal to 1")),
    ("", [("log.local.retention.ms", SET, "-1")], (INVALID_REQUEST, WRAPPED.format(
        "Invalid value -1 for configuration log.local.retention.ms: Value must not be -1 as log.retention.ms value is set "
        "as 604800000."))),
    ("", [("log.retention.bytes", SET, "10"), ("log.local.retention.bytes", SET, "50")], (INVALID_REQUEST, WRAPPED.format(
        "Invalid value 50 for configuration log.local.retention.bytes: Value must not be more than log.retention.bytes "
        "property value: 10"))),
    ("", [("max.connections.per.ip.overrides", SET, "x:y")], (INVALID_REQUEST, 'For input string: "y"')),
    ("", [("max.connections.per.ip.overrides", SET, "a")],
     (INVALID_REQUEST, "Error parsing configuration property 'max.connections.per.ip.overrides': begin 0, end -1, "
                       "length 1")),
    ("", [("metric.reporters", SET, "no.such.Class")], (INVALID_REQUEST, WRAPPED.format(
        "Validation of dynamic config update of Set(metric.reporters) failed with class class "
        "kafka.server.DynamicMetricsReporters"))),
    ("1", [("principal.builder.class", SET, "no.such.Class")],
     (INVALID_REQUEST, "Invalid value no.such.Class for configuration principal.builder.class: Class no.such.Class could "
                       "not be found.")),
    ("1", [("listeners", SET, "x")],
     (INVALID_REQUEST, "Error creating broker listeners from '[x]': Unable to parse x to a broker endpoint")),
    ("1", [("listeners", SET, "FOO://127.0.0.1:1234")],
     (INVALID_REQUEST, "Error creating broker listeners from '[FOO://127.0.0.1:1234]': No security protocol defined for "
                       "listener FOO")),
    ("1", [("cordoned.log.dirs", SET, "/x")],
     (INVALID_REQUEST, "requirement failed: All entries in cordoned.log.dirs must be present in log.dirs or log.dir. "
                       "Missing entries : /x")),
    ("", [("min.insync.replicas", DELETE, None)],
     (INVALID_CONFIG, "Cluster-level min.insync.replicas cannot be removed while ELR is enabled.")),
    ("1", [("min.insync.replicas", SET, "2")],
     (INVALID_CONFIG, "Broker-level min.insync.replicas cannot be altered while ELR is enabled.")),
    ("", {"log.retention.ms": "1000"},
     (INVALID_CONFIG, "Cluster-level min.insync.replicas cannot be removed while ELR is enabled.")),
])
def test_refused_as_kafka_refuses(configs, resource, changes, expected):
    assert alter(configs, resource, changes) == expected
    assert configs.cluster_default == {"min.insync.replicas": "1"} and configs.per_broker.get(1, {}) == {}


@pytest.mark.parametrize("resource, changes", [
    ("01", [("log.retention.ms", SET, "1000")]),
    ("+1", [("log.retention.ms", SET, "1000")]),
    ("1", [("log.retention.ms", SET, " 5 "), ("log.retention.hours", DELETE, None)]),
    ("1", [("no.such.config", SET, "5"), ("listener.name.plaintext.num.partitions", SET, "3")]),
    ("1", [("ssl.client.auth", SET, "required"), ("listener.name.plaintext.ssl.keystore.password", SET, "x")]),
    ("", [("num.io.threads", SET, "16"), ("log.cleaner.threads", SET, "2"), ("log.retention.ms", SET, "-2")]),
    ("", [("config.providers", SET, "a,a"), ("leader.replication.throttled.rate", SET, "1000")]),
    ("", [("min.insync.replicas", SET, "5"), ("log.cleanup.policy", SET, "")]),
    ("", {"min.insync.replicas": "1", "log.retention.ms": "1000"}),
])
def test_accepted_as_kafka_accepts(configs, resource, changes):
    assert alter(configs, resource, changes, validate_only=True) == (ErrorCode.NONE, None)


def test_another_nodes_configs_are_altered_on_that_node(store):
    configs = configs_over(store, brokers=3)
    assert alter(configs, "1", [("log.retention.ms", SET, "1000")], node=0) == (
        INVALID_REQUEST, "Unexpected broker id, expected 0, but received 1")
    assert alter(configs, "1", [("log.retention.ms", SET, "1000")], node=1) == (ErrorCode.NONE, None)
    assert described(configs, node=1)["log.retention.ms"].source == DYNAMIC_BROKER_CONFIG
    assert described(configs, node=2)["log.retention.ms"].source == DEFAULT_CONFIG


# ---------------------------------------------------------------------------------------------- topic defaults


def test_topics_take_the_dynamic_defaults_and_describe_them_as_kafka_does(configs):
    alter(configs, "", [("log.retention.ms", SET, "3600000"), ("message.max.bytes", SET, "2000000"),
                        ("log.cleanup.policy", APPEND, "compact"), ("log.roll.ms", SET, "5000")])
    alter(configs, "1", [("log.retention.ms", SET, "7200000")])
    defaults = topic_defaults(configs.layers(1))
    assert defaults.values["retention.ms"] == ("7200000", DYNAMIC_BROKER_CONFIG)
    assert defaults.values["max.message.bytes"] == ("2000000", DYNAMIC_DEFAULT_BROKER_CONFIG)
    assert defaults.values["segment.ms"] == ("5000", DYNAMIC_DEFAULT_BROKER_CONFIG)
    own = {"retention.ms": "1000"}
    assert synonyms(defaults, "retention.ms", own) == [
        ("retention.ms", "1000", DYNAMIC_TOPIC_CONFIG), ("log.retention.ms", "7200000", DYNAMIC_BROKER_CONFIG),
        ("log.retention.ms", "3600000", DYNAMIC_DEFAULT_BROKER_CONFIG), ("log.retention.hours", "168", DEFAULT_CONFIG)]
    assert synonyms(defaults, "cleanup.policy", own) == [
        ("log.cleanup.policy", "delete,compact", DYNAMIC_DEFAULT_BROKER_CONFIG), ("log.cleanup.policy", "delete", DEFAULT_CONFIG)]
    assert produce_rules({}, defaults).max_message_bytes == 2_000_000 and produce_rules({}, defaults).compacted
    assert produce_rules({"max.message.bytes": "100"}, defaults).max_message_bytes == 100
    assert topic_defaults(configs.layers(None)).values["retention.ms"] == ("3600000", DYNAMIC_DEFAULT_BROKER_CONFIG)


# ---------------------------------------------------------------------------------------------- Java's formatting


def test_java_formatting():
    assert [java_double(x) for x in (1000.0, 0.9, 1.7976931348623157e308, 1e-4, 0.001, 1e7, 9999999.0, float("nan"))] == [
        "1000.0", "0.9", "1.7976931348623157E308", "1.0E-4", "0.001", "1.0E7", "9999999.0", "NaN"]
    assert java_set(["ssl.truststore.type", "ssl.keystore.type"]) == "[ssl.keystore.type, ssl.truststore.type]"
