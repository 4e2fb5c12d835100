"""Kafka's ConfigDef in small, for broker configs: a config's type, its text parsed and checked as Kafka parses and
checks it (with Kafka's messages, word for word), and the parsed value written back as Kafka writes it.

Also the Java formatting those messages and answers show: a HashSet's order, Double.toString, Integer.parseInt.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal
from typing import Any, Iterable

from kafkette.broker.broker_config_table import CONFIGS
from kafkette.broker.config_types import BOOLEAN, CLASS, DOUBLE, INT, LIST, LONG, PASSWORD, SHORT, STRING, UNKNOWN

TYPE_NAMES = {BOOLEAN: "BOOLEAN", STRING: "STRING", INT: "INT", SHORT: "SHORT", LONG: "LONG", DOUBLE: "DOUBLE",
              LIST: "LIST", CLASS: "CLASS", PASSWORD: "PASSWORD"}
BITS = {SHORT: 16, INT: 32, LONG: 64}
LISTENER_CONFIG = re.compile(r"listener\.name\.[^.]*\.(.*)", re.DOTALL)
# listener.name.NAME.MECHANISM.CONFIG names these (Kafka's ListenerMechanismConfigs)
MECHANISM_CONFIGS = ("sasl.jaas.config", "sasl.login.callback.handler.class", "sasl.login.class",
                     "sasl.server.callback.handler.class", "connections.max.reauth.ms")
# the classes a CLASS config may name: the ones Kafka's defaults name (kafkette loads no others)
KNOWN_CLASSES = frozenset(default for type_, default, _, _ in CONFIGS.values() if type_ == CLASS and default) | {
    "org.apache.kafka.common.metrics.JmxReporter", "org.apache.kafka.common.security.ssl.DefaultSslEngineFactory"}
_INTEGER = re.compile(r"[+-]?[0-9]+")
_JAVA_DOUBLE = re.compile(r"[+-]?(NaN|Infinity|([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?[fFdD]?)")
_COMMA = re.compile(r"\s*,\s*")


class ConfigException(ValueError):
    """Kafka's ConfigException: the message is the one Kafka gives."""


def invalid(name: str, value: object, message: str) -> ConfigException:
    return ConfigException(f"Invalid value {value} for configuration {name}: {message}")


def config_type(name: str) -> int:
    """Kafka's KafkaConfig.configType: the config's own type, else its synonyms' (listener.name.NAME.CONFIG: its
    base's)."""
    for candidate in [name, *broker_synonyms(name)]:
        known = CONFIGS.get(candidate)
        if known is not None:
            return known[0]
    return UNKNOWN


def sensitive(name: str) -> bool:
    """Kafka hides the values of passwords and of configs it does not know."""
    return config_type(name) in (UNKNOWN, PASSWORD)


def base_name(name: str) -> str | None:
    """CONFIG of listener.name.NAME.CONFIG; None for another name."""
    match = LISTENER_CONFIG.fullmatch(name)
    return match.group(1) if match else None


def broker_synonyms(name: str, listener_override: bool = True) -> list[str]:
    """Kafka's DynamicBrokerConfig.brokerConfigSynonyms: the names that set the same thing, most specific first."""
    for group in (("log.roll.ms", "log.roll.hours"), ("log.roll.jitter.ms", "log.roll.jitter.hours"),
                  ("log.retention.ms", "log.retention.minutes", "log.retention.hours")):
        if name in group:
            return list(group)
    if name == "log.flush.interval.ms":
        return [name, "log.flush.scheduler.interval.ms"]
    base = base_name(name) if listener_override else None
    if base is not None:
        return [name, next((m for m in MECHANISM_CONFIGS if base.endswith(m)), base)]
    return [name]


def parse(name: str, type_: int, text: str) -> Any:
    """Kafka's ConfigDef.parseType; raises ConfigException."""
    trimmed = text.strip()
    if type_ == BOOLEAN:
        if trimmed.lower() not in ("true", "false"):
            raise invalid(name, text, "Expected value to be either true or false")
        return trimmed.lower() == "true"
    if type_ in BITS:
        number = java_integer(trimmed, BITS[type_])
        if number is None:
            raise invalid(name, text, f"Not a number of type {TYPE_NAMES[type_]}")
        return number
    if type_ == DOUBLE:
        if not _JAVA_DOUBLE.fullmatch(trimmed):
            raise invalid(name, text, "Not a number of type DOUBLE")
        return float(trimmed.rstrip("fFdD"))
    if type_ == LIST:
        return _COMMA.split(trimmed) if trimmed else []
    if type_ == CLASS and trimmed not in KNOWN_CLASSES:
        raise invalid(name, text, f"Class {trimmed} could not be found.")
    return text if type_ == PASSWORD else trimmed


def check(name: str, value: Any, validator: str | None) -> None:
    """The validator Kafka prints as `validator` (see broker_config_table), applied to a parsed value."""
    if validator is None:
        return
    if validator == "[1,...,9] or -1":  # compression.gzip.level
        if not (value == -1 or 1 <= value <= 9):
            raise invalid(name, value, "Value must be between 1 and 9 or equal to -1")
        return
    words = validator.strip("[]").split(", ") if validator else []
    if "..." in validator:
        low, _, *high = validator.strip("[]").split(",")
        if low and value < float(low):
            raise invalid(name, to_text(value), f"Value must be at least {low}")
        if high and value > float(high[0]):
            raise invalid(name, to_text(value), f"Value must be no more than {high[0]}")
    elif isinstance(value, list):  # Kafka's ValidList: no duplicates, no empty entries, each one of `words`
        if len(set(value)) != len(value):
            raise ConfigException(f"Configuration '{name}' values must not be duplicated.")
        for item in value:
            if not item:
                raise ConfigException(f"Configuration '{name}' values must not be empty.")
            if words and item not in words:
                raise invalid(name, item, f"String must be one of: {', '.join(words)}")
    elif value not in words:
        raise invalid(name, value, f"String must be one of: {', '.join(words)}")


def to_text(value: Any) -> str:
    """Kafka's ConfigDef.convertToString of a parsed value."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return java_double(value)
    if isinstance(value, list):
        return ",".join(value)
    return str(value)


def canonical(name: str, text: str) -> str:
    """How Kafka writes back a config it parsed (KafkaConfig's values): "true" for " TRUE", "a,b" for "a , b"."""
    type_ = config_type(name)
    return text if type_ == UNKNOWN else to_text(parse(name, type_, text))


def java_integer(text: str, bits: int) -> int | None:
    """Java's Integer/Long/Short.parse of `text` (already trimmed), or None where Java throws."""
    if not _INTEGER.fullmatch(text):
        return None
    number = int(text)
    return number if -(1 << (bits - 1)) <= number < 1 << (bits - 1) else None


def java_double(value: float) -> str:
    """Java's Double.toString: plain between 10^-3 and 10^7, else d.dddE<exponent>."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "-0.0" if math.copysign(1.0, value) < 0 else "0.0"
    sign, digits, exponent = Decimal(repr(value)).as_tuple()
    text = "".join(map(str, digits)).rstrip("0") or "0"
    point = len(digits) + int(exponent)  # digits before the decimal point
    prefix = "-" if sign else ""
    if 1e-3 <= abs(value) < 1e7:
        if point <= 0:
            return f"{prefix}0.{'0' * -point}{text}"
        whole, fraction = text[:point].ljust(point, "0"), text[point:]
        return f"{prefix}{whole}.{fraction or '0'}"
    return f"{prefix}{text[0]}.{text[1:] or '0'}E{point - 1}"


def java_set(names: Iterable[str], size_hint: int = 0) -> str:
    """How Java prints a HashSet of these names (see `java_order`)."""
    return "[" + ", ".join(java_order(names, size_hint)) + "]"


def java_order(names: Iterable[str], size_hint: int = 0) -> list[str]:
    """The order a Java HashMap of these names iterates them in: by bucket, and in a bucket as given.
    `size_hint`: the size of the collection the map was copied from (which sizes its table)."""
    items = list(dict.fromkeys(names))
    capacity = 16
    while capacity < max(int(size_hint / 0.75) + 1, 16) or len(items) > capacity * 3 // 4:
        capacity *= 2

    def bucket(name: str) -> int:
        h = _java_hash(name)
        return (h ^ (h >> 16)) & (capacity - 1)

    return sorted(items, key=bucket)


def _java_hash(text: str) -> int:
    """Java's String.hashCode, as an unsigned 32-bit number."""
    h = 0
    units = text.encode("utf-16-be")
    for i in range(0, len(units), 2):
        h = (31 * h + (units[i] << 8 | units[i + 1])) & 0xFFFFFFFF
    return h
