"""Topic configs: which exist, which values are valid, and what a topic reports (its own over the defaults)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Mapping, NamedTuple

from kafkette.broker.broker_config_table import CONFIGS as BROKER_CONFIGS
from kafkette.broker.broker_config_table import TOPIC_SYNONYMS
from kafkette.broker.broker_configs import Layer, Synonym, config_synonyms
from kafkette.broker.config_def import broker_synonyms, parse, to_text
from kafkette.broker.config_types import BOOLEAN, DEFAULT_CONFIG, DOUBLE, DYNAMIC_TOPIC_CONFIG, INT, LIST, LONG, STRING
from kafkette.protocol.errors import ErrorCode
from kafkette.protocol.validation import TopicRules
from kafkette.storage.engine import LogEngine

TOPIC_RESOURCE, BROKER_RESOURCE = 2, 4
KAFKA_RESOURCE_TYPES = (2, 4, 8, 16, 32)  # TOPIC, BROKER, BROKER_LOGGER, CLIENT_METRICS, GROUP
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
    """One topic config as Kafka 4's LogConfig defines it: type, default, validation. The broker configs that are
    its defaults are Kafka's TOPIC_SYNONYMS (broker_config_table)."""

    type: int
    default: str | None
    valid: Callable[[str], bool]


def _int(default: int, low: int = INT_RANGE[0], high: int = INT_RANGE[1]) -> TopicConfig:
    return TopicConfig(INT, str(default), lambda v: _number(v, low, high, INT_RANGE))


def _long(default: int | str, low: int = LONG_RANGE[0]) -> TopicConfig:
    return TopicConfig(LONG, str(default), lambda v: _number(v, low, LONG_RANGE[1], LONG_RANGE))


def _bool(default: bool) -> TopicConfig:
    return TopicConfig(BOOLEAN, str(default).lower(), _boolean)


def _one_of(default: str, *choices: str) -> TopicConfig:
    return TopicConfig(STRING, default, lambda v: v.strip() in choices)


# Every topic config of Kafka 4.4 (its TopicConfig/LogConfig), with Kafka's defaults and validators. The ones
# kafkette acts on: cleanup.policy, max.message.bytes, message.timestamp.type, retention.*, segment.bytes;
# the rest are stored and described as Kafka does, with no effect on this single-node broker.
TOPIC_CONFIGS: dict[str, TopicConfig] = {
    "cleanup.policy": TopicConfig(LIST, "delete", lambda v: not v.strip() or all(
        e.strip() in ("delete", "compact") for e in v.split(","))),
    "compression.gzip.level": TopicConfig(INT, "-1", lambda v: _number(v, -1, 9, INT_RANGE) and v.strip() != "0"),
    "compression.lz4.level": _int(9, 1, 17),
    "compression.type": _one_of("producer", "uncompressed", "zstd", "lz4", "snappy", "gzip", "producer"),
    "compression.zstd.level": _int(3, -131072, 22),
    "delete.retention.ms": _long(86400000, 0),
    "errors.deadletterqueue.group.enable": _bool(False),
    "file.delete.delay.ms": _long(60000, 0),
    "flush.messages": _long(LONG_MAX, 1),
    "flush.ms": _long(LONG_MAX, 0),
    "follower.replication.throttled.replicas": TopicConfig(LIST, "", _throttled),
    "index.interval.bytes": _int(4096, 0),
    "leader.replication.throttled.replicas": TopicConfig(LIST, "", _throttled),
    "local.retention.bytes": _long(-2, -2),
    "local.retention.ms": _long(-2, -2),
    "max.compaction.lag.ms": _long(LONG_MAX, 1),
    "max.decompressed.message.bytes": _int(2147483639, 1, 2147483639),
    "max.message.bytes": _int(1048588, 0),
    "message.timestamp.after.max.ms": _long(3600000, 0),
    "message.timestamp.before.max.ms": _long(LONG_MAX, 0),
    "message.timestamp.type": _one_of("CreateTime", "CreateTime", "LogAppendTime"),
    "min.cleanable.dirty.ratio": TopicConfig(DOUBLE, "0.5", _ratio),
    "min.compaction.lag.ms": _long(0, 0),
    "min.insync.replicas": _int(1, 1),
    "preallocate": _bool(False),
    "remote.copy.lag.bytes": _long(-1, -1),
    "remote.copy.lag.ms": _long(0, -1),
    "remote.log.copy.disable": _bool(False),
    "remote.log.delete.on.disable": _bool(False),
    "remote.storage.enable": _bool(False),
    "retention.bytes": _long(-1),
    "retention.ms": _long(604800000, -1),
    "segment.bytes": _int(1073741824, 1024 * 1024),
    "segment.index.bytes": _int(10485760, 4),
    "segment.jitter.ms": _long(0, 0),
    "segment.ms": _long(604800000, 1),
    "unclean.leader.election.enable": _bool(False),
}
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


class TopicDefaults(NamedTuple):
    """What a topic gets of each config it has not set, from a broker's configs (Kafka's LogConfig defaults)."""

    values: dict[str, tuple[str | None, int]]  # every topic config's (value, config source)
    layers: list[Layer]  # the broker's layers, for the synonyms DescribeConfigs lists
    rules: TopicRules  # what Produce checks on a topic with no config of its own
    min_insync_replicas: int


def topic_defaults(layers: list[Layer]) -> TopicDefaults:
    """Each topic config's value from the first of its broker configs set in `layers` (most specific first),
    with the source of its first synonym; Kafka's default for the topic configs no broker config sets."""
    merged: dict[str, str] = {}
    for _, values in reversed(layers):
        merged.update(values)
    out = {}
    for name, known in TOPIC_CONFIGS.items():
        value, source = known.default, DEFAULT_CONFIG
        broker_names = TOPIC_SYNONYMS.get(name, ())
        if broker_names:
            value = next((_in_topic_terms(name, broker, factor, merged[broker]) for broker, factor in broker_names
                          if broker in merged), value)
            found = config_synonyms(layers, broker_names[0][0], broker_synonyms(broker_names[0][0]))
            source = found[0][2] if found else DEFAULT_CONFIG
        out[name] = (value, source)
    rules = _rules({}, out)
    return TopicDefaults(out, layers, rules, int(out["min.insync.replicas"][0] or 1))


def _in_topic_terms(topic_name: str, broker_name: str, factor: int, text: str) -> str:
    """A broker config's value as the topic config it is the default of (hours in milliseconds, say)."""
    value = parse(broker_name, BROKER_CONFIGS[broker_name][0], text)
    if factor != 1:
        value *= factor
    if topic_name == "retention.ms" and value < 0:
        value = -1  # KafkaConfig.logRetentionTimeMillis: any negative retention is "forever"
    return to_text(value)


def produce_rules(topic_configs: dict[str, str], defaults: TopicDefaults) -> TopicRules:
    """What LogValidator checks on this topic: its own configs over the broker's defaults."""
    return _rules(topic_configs, defaults.values) if topic_configs else defaults.rules


def _rules(topic_configs: dict[str, str], defaults: dict[str, tuple[str | None, int]]) -> TopicRules:
    def value(name: str) -> str:
        return topic_configs.get(name) or defaults[name][0] or ""

    return TopicRules(
        max_message_bytes=int(value("max.message.bytes")),
        compacted="compact" in value("cleanup.policy"),
        log_append_time=value("message.timestamp.type").strip() == "LogAppendTime",
        timestamp_before_max_ms=int(value("message.timestamp.before.max.ms")),
        timestamp_after_max_ms=int(value("message.timestamp.after.max.ms")),
    )


def min_insync_replicas(topic_configs: dict[str, str], defaults: TopicDefaults) -> int:
    own = topic_configs.get("min.insync.replicas")
    return int(own) if own is not None else defaults.min_insync_replicas


def synonyms(defaults: TopicDefaults, name: str, topic_configs: dict[str, str]) -> list[Synonym]:
    """Where a topic config's value may come from, most specific first, as Kafka lists them for include_synonyms:
    the topic's own, then every layer's value of the broker configs that are its default."""
    out: list[Synonym] = [(name, topic_configs[name], DYNAMIC_TOPIC_CONFIG)] if name in topic_configs else []
    broker_names = TOPIC_SYNONYMS.get(name)
    if broker_names:
        out += config_synonyms(defaults.layers, broker_names[0][0], broker_synonyms(broker_names[0][0]))
    return out


def effective_topic_configs(defaults: TopicDefaults, topic_configs: dict[str, str]) -> list[tuple[str, str | None, int]]:
    """(name, value, source) for every config of a topic, sorted by name."""
    merged = dict(defaults.values)
    for name, value in topic_configs.items():
        merged[name] = (value, DYNAMIC_TOPIC_CONFIG)
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
        if resource_type not in KAFKA_RESOURCE_TYPES:
            return ErrorCode.INVALID_REQUEST, f"Unknown resource type {resource_type}"
        return ErrorCode.INVALID_REQUEST, (f"kafkette alters topic (2) and broker (4) configs, not resource type "
                                           f"{resource_type}")
    if store.topic(name) is None:
        return ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, f"topic {name} does not exist"
    error = validate_topic_configs(configs)
    if error:
        return error, "unknown config name or invalid value"
    if not validate_only:
        store.set_topic_config(name, configs)
    return ErrorCode.NONE, None


