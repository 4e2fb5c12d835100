"""Topic configs: which exist, which values are valid, and what a topic reports (its own over the defaults)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Mapping

from kafkette.protocol.errors import ErrorCode
from kafkette.protocol.validation import TopicRules
from kafkette.storage.engine import LogEngine

CONFIG_SOURCE_TOPIC = 1
CONFIG_SOURCE_DYNAMIC_DEFAULT_BROKER = 3
CONFIG_SOURCE_STATIC_BROKER = 4
CONFIG_SOURCE_DEFAULT = 5
TOPIC_RESOURCE, BROKER_RESOURCE = 2, 4


BOOLEAN, STRING, INT, SHORT, LONG, DOUBLE, LIST = 1, 2, 3, 4, 5, 6, 7  # Kafka's ConfigType in DescribeConfigs
INT_RANGE, LONG_RANGE = (-(1 << 31), (1 << 31) - 1), (-(1 << 63), (1 << 63) - 1)
LONG_MAX = str(LONG_RANGE[1])
_NUMBER = re.compile(r"[+-]?[0-9]+")
_THROTTLED = re.compile(r"[0-9]+:[0-9]+")


def _number(text: str, low: int, high: int, kind: tuple[int, int]) -> bool:
    """Java's Integer/Long.parseLong of the trimmed text, then ConfigDef's Range.between."""
    text = text.strip()
    return bool(_NUMBER.fullmatch(text)) and kind[0] <= int(text) <= kind[1] and low <= int(text) <= high


def _boolean(text: str) -> bool:
    return text.strip().lower() in ("true", "false")


def _ratio(text: str) -> bool:
    try:
        value = float(text.strip())
    except ValueError:
        return False
    return 0.0 <= value <= 1.0


def _throttled(text: str) -> bool:
    entries = [e.strip() for e in text.split(",")]
    return text.strip() in ("", "*") or all(_THROTTLED.fullmatch(e) for e in entries)


@dataclass(frozen=True)
class TopicConfig:
    """One topic config as Kafka 4's LogConfig defines it: type, default, validation, broker synonym."""

    type: int
    default: str | None
    valid: Callable[[str], bool]
    synonym: str | None = None  # the broker config whose value is the default


def _int(default: int, low: int = INT_RANGE[0], high: int = INT_RANGE[1], synonym: str | None = None) -> TopicConfig:
    return TopicConfig(INT, str(default), lambda v: _number(v, low, high, INT_RANGE), synonym)


def _long(default: int | str, low: int = LONG_RANGE[0], synonym: str | None = None) -> TopicConfig:
    return TopicConfig(LONG, str(default), lambda v: _number(v, low, LONG_RANGE[1], LONG_RANGE), synonym)


def _bool(default: bool, synonym: str | None = None) -> TopicConfig:
    return TopicConfig(BOOLEAN, str(default).lower(), _boolean, synonym)


def _one_of(default: str, *choices: str, synonym: str | None = None) -> TopicConfig:
    return TopicConfig(STRING, default, lambda v: v.strip() in choices, synonym)


# Every topic config of Kafka 4.4 (its TopicConfig/LogConfig), with Kafka's defaults and validators. The ones
# kafkette acts on: cleanup.policy, max.message.bytes, message.timestamp.type, retention.*, segment.bytes;
# the rest are stored and described as Kafka does, with no effect on this single-node broker.
TOPIC_CONFIGS: dict[str, TopicConfig] = {
    "cleanup.policy": TopicConfig(LIST, "delete", lambda v: not v.strip() or all(
        e.strip() in ("delete", "compact") for e in v.split(",")), "log.cleanup.policy"),
    "compression.gzip.level": TopicConfig(INT, "-1", lambda v: _number(v, -1, 9, INT_RANGE) and v.strip() != "0",
                                          "compression.gzip.level"),
    "compression.lz4.level": _int(9, 1, 17, "compression.lz4.level"),
    "compression.type": _one_of("producer", "uncompressed", "zstd", "lz4", "snappy", "gzip", "producer",
                                synonym="compression.type"),
    "compression.zstd.level": _int(3, -131072, 22, "compression.zstd.level"),
    "delete.retention.ms": _long(86400000, 0, "log.cleaner.delete.retention.ms"),
    "errors.deadletterqueue.group.enable": _bool(False),
    "file.delete.delay.ms": _long(60000, 0, "log.segment.delete.delay.ms"),
    "flush.messages": _long(LONG_MAX, 1, "log.flush.interval.messages"),
    "flush.ms": _long(LONG_MAX, 0),
    "follower.replication.throttled.replicas": TopicConfig(LIST, "", _throttled),
    "index.interval.bytes": _int(4096, 0, synonym="log.index.interval.bytes"),
    "leader.replication.throttled.replicas": TopicConfig(LIST, "", _throttled),
    "local.retention.bytes": _long(-2, -2, "log.local.retention.bytes"),
    "local.retention.ms": _long(-2, -2, "log.local.retention.ms"),
    "max.compaction.lag.ms": _long(LONG_MAX, 1, "log.cleaner.max.compaction.lag.ms"),
    "max.decompressed.message.bytes": _int(2147483639, 1, 2147483639, synonym="max.decompressed.message.bytes"),
    "max.message.bytes": _int(1048588, 0, synonym="message.max.bytes"),
    "message.timestamp.after.max.ms": _long(3600000, 0, "log.message.timestamp.after.max.ms"),
    "message.timestamp.before.max.ms": _long(LONG_MAX, 0, "log.message.timestamp.before.max.ms"),
    "message.timestamp.type": _one_of("CreateTime", "CreateTime", "LogAppendTime",
                                      synonym="log.message.timestamp.type"),
    "min.cleanable.dirty.ratio": TopicConfig(DOUBLE, "0.5", _ratio, "log.cleaner.min.cleanable.ratio"),
    "min.compaction.lag.ms": _long(0, 0, "log.cleaner.min.compaction.lag.ms"),
    "min.insync.replicas": _int(1, 1, synonym="min.insync.replicas"),
    "preallocate": _bool(False, "log.preallocate"),
    "remote.copy.lag.bytes": _long(-1, -1, "log.remote.copy.lag.bytes"),
    "remote.copy.lag.ms": _long(0, -1, "log.remote.copy.lag.ms"),
    "remote.log.copy.disable": _bool(False),
    "remote.log.delete.on.disable": _bool(False),
    "remote.storage.enable": _bool(False),
    "retention.bytes": _long(-1, synonym="log.retention.bytes"),
    "retention.ms": _long(604800000, -1),
    "segment.bytes": _int(1073741824, 1024 * 1024, synonym="log.segment.bytes"),
    "segment.index.bytes": _int(10485760, 4, synonym="log.index.size.max.bytes"),
    "segment.jitter.ms": _long(0, 0),
    "segment.ms": _long(604800000, 1),
    "unclean.leader.election.enable": _bool(False, "unclean.leader.election.enable"),
}
DEFAULT_MAX_MESSAGE_BYTES = 1048588
# the topic configs of Kafka's type LIST, which APPEND and SUBTRACT apply to (to the default when unset)
LIST_CONFIGS = {"cleanup.policy": "delete"}
DELETE_OPERATION = 1  # IncrementalAlterConfigs' DELETE, the one operation that takes no value


def validate_topic_configs(configs: Mapping[str, str | None]) -> ErrorCode:
    """INVALID_CONFIG for an unknown name, an invalid value or values that contradict each other, as Kafka's
    LogConfig.validate answers CreateTopics, AlterConfigs and IncrementalAlterConfigs."""
    for name, value in configs.items():
        known = TOPIC_CONFIGS.get(name)
        if known is None or value is None or not known.valid(value):
            return ErrorCode.INVALID_CONFIG
    if (configs.get("remote.storage.enable") or "false").strip().lower() == "true":
        return ErrorCode.INVALID_CONFIG  # Kafka refuses it unless the broker has a remote log storage system
    lag = {name: int(configs.get(name) or TOPIC_CONFIGS[name].default or 0)
           for name in ("min.compaction.lag.ms", "max.compaction.lag.ms")}
    if lag["min.compaction.lag.ms"] > lag["max.compaction.lag.ms"]:
        return ErrorCode.INVALID_CONFIG
    return ErrorCode.NONE


def max_message_bytes(topic_configs: dict[str, str]) -> int:
    return int(topic_configs.get("max.message.bytes", DEFAULT_MAX_MESSAGE_BYTES))


def produce_rules(topic_configs: dict[str, str]) -> TopicRules:
    """What LogValidator checks on this topic: its own configs over Kafka's defaults."""
    if not topic_configs:
        return DEFAULT_RULES

    def value(name: str) -> str:
        return topic_configs.get(name) or TOPIC_CONFIGS[name].default or ""

    return TopicRules(
        max_message_bytes=int(value("max.message.bytes")),
        compacted="compact" in value("cleanup.policy"),
        log_append_time=value("message.timestamp.type").strip() == "LogAppendTime",
        timestamp_before_max_ms=int(value("message.timestamp.before.max.ms")),
        timestamp_after_max_ms=int(value("message.timestamp.after.max.ms")),
    )


# kafkette's own settings that are the defaults of topic configs, by the broker config Kafka names them with
BROKER_SETTINGS = {"retention.ms": ("log.retention.ms", "retention_ms"),
                   "retention.bytes": ("log.retention.bytes", "retention_bytes"),
                   "segment.bytes": ("log.segment.bytes", "segment_bytes")}


# A new Kafka 4 cluster (eligible leader replicas on) holds min.insync.replicas as a cluster-wide dynamic default.
CLUSTER_DEFAULTS = {"min.insync.replicas": "1"}


def topic_defaults(config) -> dict[str, tuple[str | None, int]]:
    """(value, source) of every topic config a topic has not set: Kafka's default, or kafkette's setting."""
    out = {name: (c.default, CONFIG_SOURCE_DEFAULT) for name, c in TOPIC_CONFIGS.items()}
    out.update((name, (value, CONFIG_SOURCE_DYNAMIC_DEFAULT_BROKER)) for name, value in CLUSTER_DEFAULTS.items())
    for name, (_, setting) in BROKER_SETTINGS.items():
        value = str(getattr(config, setting))
        if value != TOPIC_CONFIGS[name].default:
            out[name] = (value, CONFIG_SOURCE_STATIC_BROKER)
    return out


def synonyms(config, name: str, topic_configs: dict[str, str]) -> list[tuple[str, str | None, int]]:
    """(name, value, source) of where a topic config's value may come from, most specific first, as Kafka lists
    them for include_synonyms: the topic's own, kafkette's setting, the broker default (if it has a value)."""
    out: list[tuple[str, str | None, int]] = []
    if name in topic_configs:
        out.append((name, topic_configs[name], CONFIG_SOURCE_TOPIC))
    value, source = topic_defaults(config)[name]
    if source == CONFIG_SOURCE_STATIC_BROKER:
        out.append((BROKER_SETTINGS[name][0], value, source))
    elif source == CONFIG_SOURCE_DYNAMIC_DEFAULT_BROKER:
        out.append((name, value, source))
    known = TOPIC_CONFIGS[name]
    if known.synonym is not None:
        out.append((known.synonym, known.default, CONFIG_SOURCE_DEFAULT))
    return out


def broker_configs(config, node_id: int, advertised_listeners: list[str]) -> dict[str, str | None]:
    """Node `node_id`'s settings under Kafka's names; `advertised_listeners` as bound (`NAME://HOST:PORT`)."""
    index = config.node_ids().index(node_id)  # node i listens on each listener's port + i
    retention_default = str(config.retention_ms) == TOPIC_CONFIGS["retention.ms"].default
    return {
        "advertised.listeners": ",".join(advertised_listeners),
        "auto.create.topics.enable": str(config.auto_create_topics).lower(),
        "broker.id": str(node_id),
        "default.replication.factor": str(config.default_replication_factor),
        "group.initial.rebalance.delay.ms": str(config.group_initial_rebalance_delay_ms),
        "listeners": ",".join(f"{spec.name}://{spec.host}:{spec.port + index if spec.port else 0}"
                              for spec in config.listeners()),
        "log.dirs": str(config.data_dir),
        "log.retention.bytes": str(config.retention_bytes),
        # as Kafka: log.retention.ms unset, the default coming from log.retention.hours
        "log.retention.hours": "168",
        "log.retention.ms": None if retention_default else str(config.retention_ms),
        "log.segment.bytes": str(config.segment_bytes),
        "message.max.bytes": str(DEFAULT_MAX_MESSAGE_BYTES),
        "node.id": str(node_id),
        "num.partitions": str(config.default_partitions),
        "socket.request.max.bytes": str(config.max_request_bytes),
        "transaction.max.timeout.ms": str(config.transaction_max_timeout_ms),
    }


def effective_topic_configs(config, topic_configs: dict[str, str]) -> list[tuple[str, str | None, int]]:
    """(name, value, source) for every config of a topic, sorted by name."""
    merged = topic_defaults(config)
    for name, value in topic_configs.items():
        merged[name] = (value, CONFIG_SOURCE_TOPIC)
    return [(name, value, source) for name, (value, source) in sorted(merged.items())]


def alter_request_errors(resources, *, incremental: bool) -> list[tuple[int, str] | None]:
    """Kafka's ConfigAdminManager.preprocess for AlterConfigs and IncrementalAlterConfigs: per resource,
    (INVALID_REQUEST, message) when it names itself twice, repeats a config or gives a null value; else None."""
    seen: dict[tuple[int, str], int] = {}
    errors: list[tuple[int, str] | None] = [None] * len(resources)
    for i, res in enumerate(resources):
        first = seen.setdefault((res.resource_type, res.resource_name), i)
        if first != i:
            errors[first] = errors[i] = (ErrorCode.INVALID_REQUEST, "Each resource must appear at most once.")
    for i, res in enumerate(resources):
        if errors[i] is not None:
            continue
        names = [c.name for c in res.configs]
        nulls = [c.name for c in res.configs
                 if c.value is None and not (incremental and c.config_operation == DELETE_OPERATION)]
        if len(set(names)) != len(names):
            errors[i] = (ErrorCode.INVALID_REQUEST, "Error due to duplicate config keys")
        elif nulls:
            errors[i] = (ErrorCode.INVALID_REQUEST, "Null value not supported for : " + ", ".join(nulls))
    return errors


def alter_topic_configs(store: LogEngine, resource_type: int, name: str, configs: dict[str, str],
                        validate_only: bool) -> tuple[int, str | None]:
    """Replace a topic's configs (AlterConfigs and IncrementalAlterConfigs); (error code, message)."""
    if resource_type != TOPIC_RESOURCE:
        return ErrorCode.INVALID_REQUEST, "only topic configs can be altered; broker configs are flags"
    if store.topic(name) is None:
        return ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, f"topic {name} does not exist"
    error = validate_topic_configs(configs)
    if error:
        return error, "unknown config name or invalid value"
    if not validate_only:
        store.set_topic_config(name, configs)
    return ErrorCode.NONE, None


DEFAULT_RULES = produce_rules({"max.message.bytes": str(DEFAULT_MAX_MESSAGE_BYTES)})  # Kafka's defaults
