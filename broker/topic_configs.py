"""Topic configs: which exist, which values are valid, and what a topic reports (its own over the defaults)."""

from __future__ import annotations

from kafkette.protocol.errors import ErrorCode
from kafkette.protocol.validation import DEFAULT_RULES, NO_LIMIT, TopicRules
from kafkette.storage.engine import LogEngine

CONFIG_SOURCE_TOPIC = 1
CONFIG_SOURCE_STATIC_BROKER = 4
CONFIG_SOURCE_DEFAULT = 5
TOPIC_RESOURCE, BROKER_RESOURCE = 2, 4


def _integer(low: int):
    def valid(value: str) -> bool:
        try:
            return int(value) >= low
        except ValueError:
            return False
    return valid


def _one_of(*choices: str):
    return lambda value: value in choices


def _list_of(*choices: str):
    return lambda value: bool(value) and all(v.strip() in choices for v in value.split(","))


# name -> whether a value is valid, as Kafka's LogConfig ConfigDef validates it
VALIDATORS = {
    "cleanup.policy": _list_of("delete", "compact"),
    "compression.type": _one_of("uncompressed", "zstd", "lz4", "snappy", "gzip", "producer"),
    "delete.retention.ms": _integer(0),
    "max.message.bytes": _integer(0),
    "message.timestamp.after.max.ms": _integer(0),
    "message.timestamp.before.max.ms": _integer(0),
    "message.timestamp.difference.max.ms": _integer(0),
    "message.timestamp.type": _one_of("CreateTime", "LogAppendTime"),
    "min.compaction.lag.ms": _integer(0),
    "min.insync.replicas": _integer(1),
    "retention.bytes": _integer(-(1 << 63)),
    "retention.ms": _integer(-1),
    "segment.bytes": _integer(14),
    "segment.ms": _integer(1),
    "unclean.leader.election.enable": _one_of("true", "false"),
}
DEFAULT_MAX_MESSAGE_BYTES = 1048588


def validate_topic_configs(configs: dict[str, str]) -> ErrorCode:
    """INVALID_CONFIG for an unknown name or an invalid value, as Kafka answers CreateTopics/AlterConfigs."""
    for name, value in configs.items():
        valid = VALIDATORS.get(name)
        if valid is None or value is None or not valid(value):
            return ErrorCode.INVALID_CONFIG
    return ErrorCode.NONE


def max_message_bytes(topic_configs: dict[str, str]) -> int:
    return int(topic_configs.get("max.message.bytes", DEFAULT_MAX_MESSAGE_BYTES))


def produce_rules(topic_configs: dict[str, str]) -> TopicRules:
    """What LogValidator checks on this topic; message.timestamp.difference.max.ms stands in for an unset bound."""
    if not topic_configs:
        return DEFAULT_RULES
    difference = int(topic_configs.get("message.timestamp.difference.max.ms", NO_LIMIT))
    return TopicRules(
        max_message_bytes=max_message_bytes(topic_configs),
        compacted="compact" in topic_configs.get("cleanup.policy", ""),
        log_append_time=topic_configs.get("message.timestamp.type") == "LogAppendTime",
        timestamp_before_max_ms=int(topic_configs.get("message.timestamp.before.max.ms", difference)),
        timestamp_after_max_ms=int(topic_configs.get("message.timestamp.after.max.ms", difference)),
    )


def topic_defaults(config) -> dict[str, str]:
    return {
        "cleanup.policy": "delete",
        "compression.type": "producer",
        "max.message.bytes": str(DEFAULT_MAX_MESSAGE_BYTES),
        "message.timestamp.type": "CreateTime",
        "min.insync.replicas": "1",
        "retention.bytes": str(config.retention_bytes),
        "retention.ms": str(config.retention_ms),
        "segment.bytes": str(config.segment_bytes),
    }


def broker_configs(config, advertised_listeners: list[str]) -> dict[str, str]:
    """The broker's settings under Kafka's names; `advertised_listeners` as bound (`NAME://HOST:PORT`)."""
    return {
        "advertised.listeners": ",".join(advertised_listeners),
        "auto.create.topics.enable": str(config.auto_create_topics).lower(),
        "broker.id": str(config.node_id),
        "group.initial.rebalance.delay.ms": str(config.group_initial_rebalance_delay_ms),
        "listeners": ",".join(str(spec) for spec in config.listeners()),
        "log.dirs": str(config.data_dir),
        "log.retention.bytes": str(config.retention_bytes),
        "log.retention.ms": str(config.retention_ms),
        "log.segment.bytes": str(config.segment_bytes),
        "message.max.bytes": str(DEFAULT_MAX_MESSAGE_BYTES),
        "num.partitions": str(config.default_partitions),
        "socket.request.max.bytes": str(config.max_request_bytes),
        "transaction.max.timeout.ms": str(config.transaction_max_timeout_ms),
    }


def effective_topic_configs(config, topic_configs: dict[str, str]) -> list[tuple[str, str, int]]:
    """(name, value, source) for every config of a topic, sorted by name."""
    merged = {name: (value, CONFIG_SOURCE_DEFAULT) for name, value in topic_defaults(config).items()}
    for name, value in topic_configs.items():
        merged[name] = (value, CONFIG_SOURCE_TOPIC)
    return [(name, value, source) for name, (value, source) in sorted(merged.items())]


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
