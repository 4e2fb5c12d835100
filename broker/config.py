"""Broker settings: one dataclass, filled from flags, then environment variables, then defaults.

Every setting `some_name` can be given as `--some-name` or `KAFKETTE_SOME_NAME`.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Mapping

from kafkette.broker.auth.mechanisms import DEFAULT_MECHANISMS, MECHANISMS
from kafkette.broker.auth.users import parse_user, read_users_file
from kafkette.broker.listeners import ListenerSpec, parse_listener, parse_listeners
from kafkette.storage.config import MAX_SEGMENT_BYTES

FSYNC_POLICIES = ("always", "interval", "never")
STORAGE_ENGINES = ("disk", "memory")
LOG_FORMATS = ("auto", "console", "json")
MAX_BROKERS = 64  # --brokers: each node is a set of listening sockets in this one process


@dataclass
class BrokerConfig:
    host: str = "127.0.0.1"
    port: int = 9092
    advertised_host: str = ""
    advertised_port: int = 0
    listener: tuple[str, ...] = ()
    advertised_listener: tuple[str, ...] = ()
    data_dir: Path = Path("./data")
    storage: str = "disk"
    node_id: int = 1
    brokers: int = 1
    default_replication_factor: int = 1
    cluster_id: str = "kafkette-cluster"
    default_partitions: int = 1
    segment_bytes: int = 1024 * 1024 * 1024
    retention_ms: int = 7 * 24 * 3600 * 1000
    retention_bytes: int = -1
    retention_check_interval_ms: int = 5 * 60 * 1000
    max_request_bytes: int = 100 * 1024 * 1024
    fetch_max_bytes: int = 55 * 1024 * 1024
    max_connections: int = 0
    connections_max_idle_ms: int = 10 * 60 * 1000
    max_partitions: int = 100_000
    auto_create_topics: bool = True
    fsync: str = "interval"
    fsync_interval_ms: int = 1000
    transaction_max_timeout_ms: int = 900_000
    transaction_abort_interval_ms: int = 1000
    group_initial_rebalance_delay_ms: int = 0
    group_min_session_timeout_ms: int = 6000
    group_max_session_timeout_ms: int = 1_800_000
    group_consumer_heartbeat_interval_ms: int = 5000
    group_consumer_session_timeout_ms: int = 45000
    log_level: str = "info"
    log_format: str = "auto"
    metrics_port: int = 0
    metrics_host: str = "127.0.0.1"
    admin_api: bool = False
    ssl_certfile: str = ""
    ssl_keyfile: str = ""
    ssl_cafile: str = ""
    ssl_client_auth: str = "none"
    sasl_enabled_mechanisms: tuple[str, ...] = DEFAULT_MECHANISMS
    sasl_user: tuple[str, ...] = ()
    sasl_users_file: str = ""
    connections_max_reauth_ms: int = 0
    authorizer: str = "none"
    super_user: tuple[str, ...] = ()
    allow_everyone_if_no_acl_found: bool = True

    @property
    def advertised(self) -> tuple[str, int]:
        """The address Metadata and FindCoordinator give to clients of the first listener."""
        return self.advertised_address(self.listeners()[0])

    def node_ids(self) -> list[int]:
        """The brokers served: --node-id alone, or with --brokers N the nodes 0 to N-1."""
        return [self.node_id] if self.brokers == 1 else list(range(self.brokers))

    def listeners(self) -> tuple[ListenerSpec, ...]:
        """The --listener settings, or one PLAINTEXT listener on --host/--port."""
        return parse_listeners(self.listener) or (ListenerSpec("PLAINTEXT", self.host, self.port),)

    def advertised_address(self, spec: ListenerSpec, index: int = 0) -> tuple[str, int]:
        """What clients are told of a listener of the index-th node: its --advertised-listener, else its own
        address; a port given is the first node's, node i has that port + i (0: the port it is bound to)."""
        host, port = spec.host, spec.port
        for text in self.advertised_listener:
            advertised = parse_listener(text)
            if advertised.name == spec.name:
                host, port = advertised.host, advertised.port
                break
        else:
            if not self.listener:  # the --host/--port listener
                host, port = self.advertised_host or self.host, self.advertised_port or self.port
        return host, port + index if port else 0


HELP = {
    "host": "address to listen on",
    "port": "port to listen on (0 picks a free one)",
    "advertised_host": "host told to clients in Metadata/FindCoordinator (default: --host)",
    "advertised_port": "port told to clients (default: --port)",
    "listener": "NAME://HOST:PORT to listen on, NAME one of PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL; repeat for "
                "several (replaces --host/--port)",
    "advertised_listener": "NAME://HOST:PORT told to clients that connect through listener NAME; repeatable",
    "data_dir": "directory holding the log, the transaction state and the group offsets",
    "storage": "disk: the segment log in --data-dir; memory: nothing written, everything gone at exit",
    "node_id": "this broker's node id (with --brokers above 1 the nodes are 0 to N-1)",
    "brokers": "brokers simulated by this one process over one store (README: Simulated cluster); node i listens "
               "on each listener's port + i, or with port 0 on N consecutive free ports",
    "default_replication_factor": "replication factor of auto-created topics and of CreateTopics with "
                                  "replication_factor -1 (Kafka's default.replication.factor)",
    "cluster_id": "cluster id reported in Metadata and DescribeCluster",
    "default_partitions": "partitions of an auto-created topic, or of CreateTopics with num_partitions=-1",
    "segment_bytes": "a log segment rolls when it reaches this size",
    "retention_ms": "delete segments older than this (-1: keep forever)",
    "retention_bytes": "delete old segments while a partition is larger than this (-1: no limit)",
    "retention_check_interval_ms": "how often retention runs",
    "max_request_bytes": "largest request frame accepted; larger ones close the connection",
    "fetch_max_bytes": "most record bytes one Fetch response carries, whatever the request asks "
                       "(Kafka's fetch.max.bytes; the first batch is always whole)",
    "max_connections": "client connections served at once; more wait to be accepted until one closes "
                       "(Kafka's max.connections; 0: a quarter of the open-file limit)",
    "connections_max_idle_ms": "close a connection that sent nothing this long (Kafka's connections.max.idle.ms)",
    "max_partitions": "partitions the broker holds in all; CreateTopics and CreatePartitions beyond it "
                      "are refused with POLICY_VIOLATION",
    "auto_create_topics": "create unknown topics on Metadata and Produce (Kafka's auto.create.topics.enable)",
    "fsync": "always: fsync before acknowledging; interval: fsync on a timer; never: leave it to the OS",
    "fsync_interval_ms": "with --fsync interval, how often to fsync",
    "transaction_max_timeout_ms": "largest transaction.timeout.ms a producer may ask for",
    "transaction_abort_interval_ms": "how often to look for and abort timed-out transactions",
    "group_initial_rebalance_delay_ms": "wait before the first rebalance of a new group (Kafka: 3000)",
    "group_min_session_timeout_ms": "smallest session.timeout.ms a consumer may ask for",
    "group_max_session_timeout_ms": "largest session.timeout.ms a consumer may ask for",
    "group_consumer_heartbeat_interval_ms": "heartbeat interval told to consumer-protocol (KIP-848) members "
                                            "(Kafka's group.consumer.heartbeat.interval.ms)",
    "group_consumer_session_timeout_ms": "a consumer-protocol member silent this long is removed "
                                         "(Kafka's group.consumer.session.timeout.ms)",
    "log_level": "debug (adds one line per request), info, warning or error",
    "log_format": "console: readable lines; json: one JSON object per line; auto: console on a terminal, "
                  "json otherwise",
    "metrics_port": "serve Prometheus metrics at /metrics and a readiness check at /ready on this port "
                    "(0: off)",
    "metrics_host": "address the metrics port listens on",
    "admin_api": "serve the HTTP admin API (fault rules, the request log, cluster control) under /admin on the "
                 "metrics port's server (on a free port of --metrics-host if --metrics-port is 0)",
    "ssl_certfile": "PEM certificate (chain) of SSL and SASL_SSL listeners (Kafka's ssl.keystore.*)",
    "ssl_keyfile": "its unencrypted PEM private key (default: in --ssl-certfile)",
    "ssl_cafile": "PEM CA certificates that sign client certificates (Kafka's ssl.truststore.*)",
    "ssl_client_auth": "none, requested or required: ask SSL listeners' clients for a certificate, which names "
                       "their principal (Kafka's ssl.client.auth)",
    "sasl_enabled_mechanisms": "SASL mechanisms of SASL listeners, of PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 and "
                               "OAUTHBEARER (unsecured tokens: for tests only); repeatable",
    "sasl_user": "NAME:PASSWORD of a SASL user (PLAIN and SCRAM); repeatable; a file keeps passwords out of ps",
    "sasl_users_file": "file of SASL users, one NAME:PASSWORD a line (# comments)",
    "connections_max_reauth_ms": "SASL sessions last this long; a client must re-authenticate (KIP-368) or is "
                                 "disconnected (0: forever; Kafka's connections.max.reauth.ms)",
    "authorizer": "acl: check every request against the ACLs (CreateAcls, `kafkette acls`), as Kafka's "
                  "StandardAuthorizer; none: allow everything, and the ACL APIs answer SECURITY_DISABLED "
                  "(Kafka's authorizer.class.name)",
    "super_user": "a principal the ACLs never refuse, e.g. User:admin; repeatable, or separated by ';' in the "
                  "variable (Kafka's super.users)",
    "allow_everyone_if_no_acl_found": "with --authorizer acl, allow what no ACL names (a resource with ACLs is "
                                      "refused to principals none of them allows); Kafka's "
                                      "allow.everyone.if.no.acl.found, whose default is false",
}


LOG_LEVELS = ("debug", "info", "warning", "error")


class ConfigError(ValueError):
    """A setting that cannot be used; the message names it, as given, and says what it must be."""


def env_name(name: str) -> str:
    return f"KAFKETTE_{name.upper()}"


def flag_name(name: str) -> str:
    return f"--{name.replace('_', '-')}"


def _parse_bool(text: str) -> bool:
    if text.lower() in ("1", "true", "yes", "on"):
        return True
    if text.lower() in ("0", "false", "no", "off"):
        return False
    raise ValueError("expected true or false")


def _parse_int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ValueError("expected an integer") from None


def _parse_list(text: str | list[str]) -> tuple[str, ...]:
    """A repeated flag's values, or an environment variable's comma-separated ones."""
    items = text if isinstance(text, list) else text.split(",")
    return tuple(item.strip() for item in items if item.strip())


def _principal_list(text: str | list[str]) -> tuple[str, ...]:
    """Principals: a repeated flag's values, or a variable's separated by ";" as in Kafka's super.users (a
    certificate's principal, User:CN=x,O=y, holds commas)."""
    items = text if isinstance(text, list) else text.split(";")
    return tuple(item.strip() for item in items if item.strip())


def _kind(default: object):
    """The parser for a setting, from the type of its default."""
    if isinstance(default, tuple):
        return _parse_list
    if isinstance(default, bool):
        return _parse_bool
    if isinstance(default, int):
        return _parse_int
    if isinstance(default, Path):
        return Path
    return str


def _between(low: int, high: int):
    return lambda value: None if low <= value <= high else f"must be between {low} and {high}"


def _at_least(low: int):
    return lambda value: None if value >= low else f"must be at least {low}"


def _one_of(*choices: str):
    return lambda value: None if value in choices else f"must be one of {', '.join(choices)}"


def _not_empty(value: str) -> str | None:
    return None if value else "must not be empty"


def _listeners(value: tuple[str, ...]) -> str | None:
    try:
        parse_listeners(value)
    except ValueError as e:
        return str(e)
    return None


def _mechanisms(value: tuple[str, ...]) -> str | None:
    unknown = [m for m in value if m not in MECHANISMS]
    if unknown or not value:
        return f"must be one or more of {', '.join(MECHANISMS)}"
    return None


def _principals(value: tuple[str, ...]) -> str | None:
    for item in value:
        kind, colon, name = item.partition(":")
        if not colon or not kind or not name:
            return f"expected TYPE:NAME such as User:admin, got {item!r}"
    return None


def _users(value: tuple[str, ...]) -> str | None:
    for item in value:
        try:
            parse_user(item)
        except ValueError as e:
            return str(e)
    return None


def _users_file(value: str) -> str | None:
    try:
        read_users_file(Path(value)) if value else None
    except OSError as e:
        return f"cannot read it ({e.strerror})"
    except ValueError as e:
        return str(e)
    return None


# setting -> a check returning what is wrong with a value, or None
RULES = {
    "port": _between(0, 65535),
    "advertised_port": _between(0, 65535),
    "listener": _listeners,
    "advertised_listener": _listeners,
    "node_id": _between(0, 2**31 - 1),
    "brokers": _between(1, MAX_BROKERS),
    "default_replication_factor": _between(1, MAX_BROKERS),
    "cluster_id": _not_empty,
    "default_partitions": _between(1, 2**31 - 1),
    "segment_bytes": _between(1024, MAX_SEGMENT_BYTES),
    "retention_ms": _at_least(-1),
    "retention_bytes": _at_least(-1),
    "retention_check_interval_ms": _at_least(1),
    "max_request_bytes": _between(1, 2**31 - 1),
    "fetch_max_bytes": _between(1024, 2**31 - 1),
    "max_connections": _between(0, 2**31 - 1),
    "connections_max_idle_ms": _at_least(1),
    "max_partitions": _between(1, 2**31 - 1),
    "fsync": _one_of(*FSYNC_POLICIES),
    "storage": _one_of(*STORAGE_ENGINES),
    "fsync_interval_ms": _at_least(1),
    "transaction_max_timeout_ms": _at_least(1),
    "transaction_abort_interval_ms": _at_least(1),
    "group_initial_rebalance_delay_ms": _at_least(0),
    "group_min_session_timeout_ms": _at_least(0),
    "group_max_session_timeout_ms": _at_least(0),
    "group_consumer_heartbeat_interval_ms": _at_least(1),
    "group_consumer_session_timeout_ms": _at_least(1),
    "log_level": _one_of(*LOG_LEVELS),
    "log_format": _one_of(*LOG_FORMATS),
    "metrics_port": _between(0, 65535),
    "metrics_host": _not_empty,
    "ssl_client_auth": _one_of("none", "requested", "required"),
    "sasl_enabled_mechanisms": _mechanisms,
    "sasl_user": _users,
    "sasl_users_file": _users_file,
    "connections_max_reauth_ms": _at_least(0),
    "authorizer": _one_of("none", "acl"),
    "super_user": _principals,
}

# settings not parsed by the type of their default
PARSERS = {"super_user": _principal_list}

# (smaller, larger): the first must be below (or with "<=", at most) the second, as Kafka requires
ORDERED = (
    ("default_replication_factor", "<=", "brokers"),
    ("group_min_session_timeout_ms", "<=", "group_max_session_timeout_ms"),
    ("group_consumer_heartbeat_interval_ms", "<", "group_consumer_session_timeout_ms"),
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """One flag per setting; values are parsed and checked by from_arguments, like the environment's."""
    defaults = BrokerConfig()
    for fd in fields(BrokerConfig):
        default = getattr(defaults, fd.name)
        parser.add_argument(flag_name(fd.name), dest=fd.name, default=None,
                            action="append" if isinstance(default, tuple) else "store",
                            help=f"{HELP[fd.name]} (env {env_name(fd.name)}; default {default or 'none'})")


def from_arguments(args: argparse.Namespace, environ: Mapping[str, str] | None = None) -> BrokerConfig:
    """The settings from flags, then KAFKETTE_* variables, then defaults. Raises ConfigError."""
    environ = os.environ if environ is None else environ
    config = BrokerConfig()
    given: dict[str, str] = {}  # setting -> how it was given, for messages
    for fd in fields(BrokerConfig):
        raw = getattr(args, fd.name, None)
        if raw is not None:
            shown = " ".join(raw) if isinstance(raw, list) else raw
            given[fd.name] = f"{flag_name(fd.name)} {shown}"
        elif env_name(fd.name) in environ:
            raw = environ[env_name(fd.name)]
            given[fd.name] = f"{env_name(fd.name)}={raw}"
        else:
            continue
        setattr(config, fd.name, _checked(fd.name, raw, getattr(config, fd.name), given[fd.name]))
    _check_order(config, given)
    _check_listeners(config, given)
    _check_tls(config, given)
    _check_authorizer(config, given)
    if config.brokers > 1 and "node_id" in given:
        raise ConfigError(f"invalid settings {given['node_id']} and {given['brokers']}: with several brokers the "
                          f"node ids are 0 to {config.brokers - 1}; leave out --node-id")
    return config


def _check_authorizer(config: BrokerConfig, given: dict[str, str]) -> None:
    """Super users and the no-ACL rule mean something only to an authorizer."""
    if config.authorizer == "none":
        for name in ("super_user", "allow_everyone_if_no_acl_found"):
            if name in given:
                raise ConfigError(f"invalid {given[name]}: it applies to ACLs, which are off; add --authorizer acl")


def _check_tls(config: BrokerConfig, given: dict[str, str]) -> None:
    """A TLS listener needs a certificate; checking clients' certificates needs the CA that signs them."""
    tls = [spec for spec in config.listeners() if spec.security_protocol in ("SSL", "SASL_SSL")]
    if tls and not config.ssl_certfile:
        raise ConfigError(f"listener {tls[0]} speaks TLS and needs a certificate: pass --ssl-certfile PATH and "
                          f"--ssl-keyfile PATH (`kafkette certs DIR` makes a set for localhost)")
    if config.ssl_client_auth != "none" and not config.ssl_cafile:
        raise ConfigError(f"invalid {given['ssl_client_auth']}: client certificates are checked against the CA of "
                          f"--ssl-cafile PATH; pass it")


def _check_listeners(config: BrokerConfig, given: dict[str, str]) -> None:
    """--listener replaces --host/--port; an --advertised-listener names a listener that exists."""
    if config.listener:
        clash = [given[name] for name in ("host", "port", "advertised_host", "advertised_port") if name in given]
        if clash:
            raise ConfigError(f"invalid settings {given['listener']} and {clash[0]}: --listener replaces "
                              f"--host, --port and their advertised forms; use one or the other")
    names = {spec.name for spec in config.listeners()}
    for text in config.advertised_listener:
        name = parse_listener(text).name
        if name not in names:
            raise ConfigError(f"invalid {given['advertised_listener']}: there is no listener {name} "
                              f"(listeners: {', '.join(sorted(names))})")


def _checked(name: str, raw: str | list[str], default: object, given: str) -> object:
    try:
        value = PARSERS.get(name, _kind(default))(raw)
    except ValueError as e:
        raise ConfigError(f"invalid {given}: {e}") from None
    problem = RULES.get(name, lambda _: None)(value)
    if problem:
        raise ConfigError(f"invalid {given}: {problem}")
    return value


def _check_order(config: BrokerConfig, given: dict[str, str]) -> None:
    for small, relation, large in ORDERED:
        a, b = getattr(config, small), getattr(config, large)
        if a > b or (relation == "<" and a == b):
            shown = [given.get(name, f"{flag_name(name)} {getattr(config, name)} (default)") for name in (small, large)]
            word = "below" if relation == "<" else "at most"
            raise ConfigError(f"invalid settings {shown[0]} and {shown[1]}: "
                              f"{flag_name(small)} must be {word} {flag_name(large)}")
