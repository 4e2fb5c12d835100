"""How Kafka checks an alteration of broker configs, with its error codes and its messages word for word.

On the broker that gets the request (Kafka's ConfigAdminManager.preprocess and DynamicBrokerConfig.validate):
  1. a resource name other than "" is this node's id (INVALID_REQUEST);
  2. IncrementalAlterConfigs' operations, applied to the resource's dynamic configs: an unknown operation is
     INVALID_REQUEST, APPEND or SUBTRACT on a config not of type LIST INVALID_CONFIG;
  3. the resource's new set (`check_dynamic`): no read-only config, no listener-only security config without
     its listener.name.NAME. prefix, each value of its type and in its range, no per-broker config in the
     cluster-wide default (INVALID_REQUEST);
  4. the node's whole config with the new set in place (`check_reconfiguration`), as Kafka's KafkaConfig and its
     reconfigurable parts check it: the listeners, retention and roll times, the cleaner's buffer; then thread
     pools grown at most twofold and shrunk at most by half, local retention within retention, loadable metric
     reporters (INVALID_REQUEST, the last ones in Kafka's "Invalid dynamic configuration" wrapping).
On the controller (ConfigurationControlManager), eligible leader replicas being on as in a new Kafka 4 cluster:
  5. min.insync.replicas neither removed from the cluster-wide default nor set per broker (INVALID_CONFIG).
What Kafka checks by loading classes or key stores (an SSL listener's new key store) is not checked here.
"""

from __future__ import annotations

import re
from typing import Any, Mapping, Sequence

from kafkette.broker.broker_config_table import CONFIGS, LISTENER_ONLY, QUOTAS, TOPIC_SYNONYMS, VALIDATION_ORDER
from kafkette.broker.config_def import (
    KNOWN_CLASSES,
    ConfigException,
    base_name,
    check,
    java_integer,
    java_order,
    java_set,
    parse,
)
from kafkette.broker.config_types import LIST, PER_BROKER, READ_ONLY
from kafkette.broker.listeners import ListenerSpec
from kafkette.protocol.errors import ErrorCode

SET, DELETE, APPEND, SUBTRACT = range(4)
CONFIG_PROVIDERS = "config.providers"
CLUSTER_LEVEL_LISTENER_CONFIGS = ("max.connections", "max.connection.creation.rate", "num.network.threads")
BROKER_THREAD_POOLS = ("num.io.threads", "num.replica.fetchers", "num.recovery.threads.per.data.dir",
                       "background.threads")
REMOTE_THREAD_POOLS = ("remote.log.manager.copier.thread.pool.size", "remote.log.manager.expiration.thread.pool.size",
                       "remote.log.manager.follower.thread.pool.size", "remote.log.reader.threads")
LOG_CONFIGS = frozenset(name for synonyms in TOPIC_SYNONYMS.values() for name, _ in synonyms)
CLEANER_CONFIGS = frozenset(n for n in CONFIGS if n.startswith("log.cleaner.") and CONFIGS[n][2] != READ_ONLY)
_ENDPOINT = re.compile(r"(.*)://\[?([0-9a-zA-Z\-%._:]*)\]?:(-?[0-9]+)")
MIB = 1 << 20


class Refused(Exception):
    def __init__(self, error: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.error = error
        self.message = message


def check_node_name(resource_name: str, node: int) -> None:
    """A per-broker resource is altered on its own node (Kafka's validateResourceNameIsCurrentNodeId)."""
    number = java_integer(resource_name, 32)
    if number is None:
        raise Refused(ErrorCode.INVALID_REQUEST, f"Node id must be an integer, but it is: {resource_name}")
    if number != node:
        raise Refused(ErrorCode.INVALID_REQUEST, f"Unexpected broker id, expected {node}, but received {resource_name}")


def apply_operations(props: dict[str, str], changes: Sequence[tuple[str, int, str | None]]) -> dict[str, str]:
    """IncrementalAlterConfigs' operations applied to a resource's configs (Kafka's prepareIncrementalConfigs);
    APPEND and SUBTRACT start from Kafka's default when the resource has not set the config."""
    for _, operation, _ in changes:
        if operation not in (SET, DELETE, APPEND, SUBTRACT):
            raise Refused(ErrorCode.INVALID_REQUEST, f"Unknown operations type {operation}")
    for name, operation, value in changes:
        if operation == SET:
            props[name] = value or ""
        elif operation == DELETE:
            props.pop(name, None)
        else:
            verb = "append" if operation == APPEND else "subtract"
            known = CONFIGS.get(name) if name not in QUOTAS else None
            if known is None:
                raise Refused(ErrorCode.INVALID_CONFIG, f"Unknown config name: {name}")
            if known[0] != LIST:
                raise Refused(ErrorCode.INVALID_CONFIG, f"Config value {verb} is not allowed for config key: {name}")
            old = _java_split(props.get(name, known[1]) or "")
            if operation == APPEND:
                old = [v for v in old if v]
                props[name] = ",".join(old + [v for v in _java_split(value or "") if v not in old])
            else:
                for removed in _java_split(value or ""):
                    if removed in old:
                        old.remove(removed)
                props[name] = ",".join(old)
    return props


def check_dynamic(props: Mapping[str, str], per_broker: bool) -> None:
    """Kafka's DynamicBrokerConfig.validateConfigs of a resource's new set of dynamic configs (but config.providers,
    which Kafka takes out before it checks anything)."""
    props = {n: v for n, v in props.items() if not n.startswith(CONFIG_PROVIDERS)}
    read_only = [n for n in props if n in CONFIGS and CONFIGS[n][2] == READ_ONLY]
    if read_only:
        raise Refused(ErrorCode.INVALID_REQUEST,
                      f"Cannot update these configs dynamically: {java_set(reversed(read_only), len(props))}")
    unprefixed = [n for n in props if n in LISTENER_ONLY]
    if unprefixed:
        raise Refused(ErrorCode.INVALID_REQUEST, "These security configs can be dynamically updated only per-listener "
                                                 f"using the listener prefix: {java_set(unprefixed)}")
    # a listener's override is checked as its base config, unless the base (or another listener's) comes later
    bases = {base_name(n) or n: props[n] for n in java_order(props)}
    try:
        for name in VALIDATION_ORDER:
            if name in bases:
                type_, _, _, validator = CONFIGS[name]
                check(name, parse(name, type_, bases[name]), validator)
    except ConfigException as e:
        raise Refused(ErrorCode.INVALID_REQUEST, str(e)) from None
    if not per_broker:
        own = [n for n in props if _per_broker(n)]
        if own:
            raise Refused(ErrorCode.INVALID_REQUEST, "Cannot update these configs at default cluster level, broker "
                                                     f"id must be specified: {java_set(own)}")


def _per_broker(name: str) -> bool:
    """A config only a node's own set may hold: a per-broker one, or a listener's override of one."""
    base = base_name(name)
    if base is not None:
        return base not in CLUSTER_LEVEL_LISTENER_CONFIGS
    return name in CONFIGS and CONFIGS[name][2] == PER_BROKER


def check_reconfiguration(before: Mapping[str, str], after: Mapping[str, str], listeners: Sequence[ListenerSpec]) -> None:
    """A node's whole config going from `before` to `after` (the values set: static, cluster-wide, its own), as
    Kafka builds and checks its KafkaConfig, then asks each reconfigurable part whether it can take the change."""
    changed = {n for n in before.keys() | after.keys() if before.get(n) != after.get(n)}
    if not changed:
        return  # Kafka reconfigures nothing when nothing changes
    old, new = Values(before), Values(after)
    try:
        _kafka_config(new)
    except ConfigException as e:
        raise Refused(ErrorCode.INVALID_REQUEST, str(e)) from None
    try:
        _reconfigurable_parts(old, new, changed, [spec.name.lower() for spec in listeners])
    except ConfigException as e:
        raise Refused(ErrorCode.INVALID_REQUEST, f"Invalid value org.apache.kafka.common.config.ConfigException: {e} "
                                                 "for configuration Invalid dynamic configuration") from None


def check_eligible_leader_replicas(resource_name: str, props: Mapping[str, str], named: frozenset[str]
                                   ) -> Refused | None:
    """With eligible leader replicas on, min.insync.replicas lives in the cluster-wide default only."""
    if resource_name and "min.insync.replicas" in named:
        return Refused(ErrorCode.INVALID_CONFIG, "Broker-level min.insync.replicas cannot be altered while ELR is enabled.")
    if not resource_name and "min.insync.replicas" not in props:
        return Refused(ErrorCode.INVALID_CONFIG,
                       "Cluster-level min.insync.replicas cannot be removed while ELR is enabled.")
    return None


class Values:
    """A node's config values as Kafka's KafkaConfig reads them: parsed, Kafka's default where none is set."""

    def __init__(self, texts: Mapping[str, str]) -> None:
        self.texts = texts

    def __getitem__(self, name: str) -> Any:
        text = self.texts.get(name, CONFIGS[name][1])
        return None if text is None else parse(name, CONFIGS[name][0], text)

    def millis(self, *names_and_factors: tuple[str, int]) -> int:
        """The first of these set (ms, minutes, hours), in milliseconds."""
        for name, factor in names_and_factors:
            if self[name] is not None:
                return self[name] * factor
        return -1

    def retention_ms(self) -> int:
        millis = self.millis(*TOPIC_SYNONYMS["retention.ms"])
        return -1 if millis < 0 else millis

    def listener_value(self, listener: str, name: str) -> Any:
        """A value as listener `listener` (lower case) sees it: its listener.name override, else the base's."""
        override = self.texts.get(f"listener.name.{listener}.{name}")
        return parse(name, CONFIGS[name][0], override) if override is not None else self[name]


def _kafka_config(new: Values) -> None:
    """What building Kafka's KafkaConfig of the new values refuses: maps and listeners that do not parse, and the
    rules of KafkaConfig.validateValues that dynamic configs can break."""
    for entry, port in _csv_map("max.connections.per.ip.overrides", new["max.connections.per.ip.overrides"]).items():
        if java_integer(port, 32) is None:
            raise ConfigException(f'For input string: "{port}"')
    protocols = _csv_map("listener.security.protocol.map", new["listener.security.protocol.map"])
    _listeners(new["listeners"], {name.upper(): value for name, value in protocols.items()})
    if new.millis(*TOPIC_SYNONYMS["segment.ms"]) < 1:
        raise ConfigException("requirement failed: log.roll.ms must be greater than or equal to 1")
    if new.millis(*TOPIC_SYNONYMS["segment.jitter.ms"]) < 0:
        raise ConfigException("requirement failed: log.roll.jitter.ms must be greater than or equal to 0")
    if new.retention_ms() < 1 and new.retention_ms() != -1:
        raise ConfigException("requirement failed: log.retention.ms must be unlimited (-1) or, greater than or equal to 1")
    if new["log.cleaner.threads"] == 0:
        raise ConfigException("/ by zero")
    if new["log.cleaner.dedupe.buffer.size"] // new["log.cleaner.threads"] <= MIB:
        raise ConfigException("requirement failed: log.cleaner.dedupe.buffer.size must be at least 1MB per cleaner thread.")
    cordoned, dirs = new["cordoned.log.dirs"], new["log.dirs"] or new["log.dir"]
    if "*" in cordoned and len(cordoned) > 1:
        raise ConfigException("requirement failed: When cordoned.log.dirs is set to *, it must not contain other values")
    missing = [d for d in cordoned if d != "*" and d not in dirs]
    if missing:
        raise ConfigException("requirement failed: All entries in cordoned.log.dirs must be present in log.dirs or "
                              f"log.dir. Missing entries : {', '.join(missing)}")


def _reconfigurable_parts(old: Values, new: Values, changed: set[str], listeners: list[str]) -> None:
    """Kafka's reconfigurable parts' validateReconfiguration, each asked only when one of its configs changed."""
    if "metric.reporters" in changed:
        for reporter in new["metric.reporters"]:
            if reporter not in KNOWN_CLASSES:
                raise ConfigException(f"Validation of dynamic config update of Set({', '.join(sorted(changed))}) "
                                      "failed with class class kafka.server.DynamicMetricsReporters")
    for listener in listeners:
        _thread_count("num.network.threads", old.listener_value(listener, "num.network.threads"),
                      new.listener_value(listener, "num.network.threads"))
    for name in BROKER_THREAD_POOLS:
        _thread_count(name, old[name], new[name])
    if changed & LOG_CONFIGS:
        _local_retention("ms", "log.retention.ms", new.retention_ms(), new["log.local.retention.ms"])
        _local_retention("bytes", "log.retention.bytes", new["log.retention.bytes"], new["log.local.retention.bytes"])
    for name in REMOTE_THREAD_POOLS:
        _thread_count(name, old[name], new[name])
    if changed & CLEANER_CONFIGS:
        threads, current = new["log.cleaner.threads"], old["log.cleaner.threads"]
        if threads < current // 2:
            raise ConfigException(f"Log cleaner threads cannot be reduced to less than half the current value {current}")
        if threads > current * 2:
            raise ConfigException(f"Log cleaner threads cannot be increased to more than double the current value "
                                  f"{current}")


def _thread_count(name: str, current: int, wanted: int) -> None:
    """Kafka resizes a thread pool at most twofold, or by half, at a time."""
    if wanted == current:
        return
    failed = f"Dynamic thread count update validation failed for {name}={wanted}"
    if wanted <= 0:
        raise ConfigException(f"{failed}, value should be at least 1")
    if wanted < current // 2:
        raise ConfigException(f"{failed}, value should be at least half the current value {current}")
    if wanted > current * 2:
        raise ConfigException(f"{failed}, value should not be greater than double the current value {current}")


def _local_retention(unit: str, limit_name: str, limit: int, local: int) -> None:
    """log.local.retention.ms/bytes: -2 (as the whole log) or no more than the whole log's retention."""
    name = f"log.local.retention.{unit}"
    if limit <= -1 or local == -2:
        return
    if local == -1:
        raise ConfigException(f"Invalid value -1 for configuration {name}: Value must not be -1 as {limit_name} "
                              f"value is set as {limit}.")
    if local > limit:
        raise ConfigException(f"Invalid value {local} for configuration {name}: Value must not be more than "
                              f"{limit_name} property value: {limit}")


def _csv_map(name: str, text: str) -> dict[str, str]:
    """Kafka's getMap of a "key:value,key:value" config, with the message its parser's failure gives."""
    if not text:
        return {}
    out = {}
    for entry in _java_split(text, r"\s*,\s*"):
        colon = entry.rfind(":")
        if colon < 0:
            raise ConfigException(f"Error parsing configuration property '{name}': begin 0, end -1, length {len(entry)}")
        out[entry[:colon].strip()] = entry[colon + 1:].strip()
    return out


def _listeners(listeners: list[str], protocols: dict[str, str]) -> None:
    """Kafka's listenerListToEndPoints: NAME://HOST:PORT each, names unique and mapped to a security protocol."""
    shown = f"[{', '.join(listeners)}]"
    names = []
    for listener in listeners:
        match = _ENDPOINT.fullmatch(listener)
        if match is None:
            raise ConfigException(f"Error creating broker listeners from '{shown}': Unable to parse {listener} to a "
                                  "broker endpoint")
        names.append(match.group(1).upper())
        if names[-1] not in protocols:
            raise ConfigException(f"Error creating broker listeners from '{shown}': No security protocol defined for "
                                  f"listener {match.group(1)}")
    if len(set(names)) != len(names):
        raise ConfigException(f"Error creating broker listeners from '{shown}': Each listener must have a different "
                              f"name, listeners: {shown}")


def _java_split(text: str, separator: str = ",") -> list[str]:
    """Java's String.split: trailing empty strings dropped (but "" gives [""])."""
    if not text:
        return [text]
    parts = re.split(separator, text) if len(separator) > 1 else text.split(separator)
    while parts and not parts[-1]:
        parts.pop()
    return parts

