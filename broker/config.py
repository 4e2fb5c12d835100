"""Broker settings: one dataclass, filled from flags, then environment variables, then defaults.

Every setting `some_name` can be given as `--some-name` or `KAFKETTE_SOME_NAME`.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass, fields
from pathlib import Path

FSYNC_POLICIES = ("always", "interval", "never")
STORAGE_ENGINES = ("disk", "memory")


@dataclass
class BrokerConfig:
    host: str = "127.0.0.1"
    port: int = 9092
    advertised_host: str = ""
    advertised_port: int = 0
    data_dir: Path = Path("./data")
    storage: str = "disk"
    node_id: int = 1
    cluster_id: str = "kafkette-cluster"
    default_partitions: int = 1
    segment_bytes: int = 1024 * 1024 * 1024
    retention_ms: int = 7 * 24 * 3600 * 1000
    retention_bytes: int = -1
    retention_check_interval_ms: int = 5 * 60 * 1000
    max_request_bytes: int = 100 * 1024 * 1024
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

    @property
    def advertised(self) -> tuple[str, int]:
        """The address Metadata and FindCoordinator give to clients."""
        return (self.advertised_host or self.host, self.advertised_port or self.port)


HELP = {
    "host": "address to listen on",
    "port": "port to listen on (0 picks a free one)",
    "advertised_host": "host told to clients in Metadata/FindCoordinator (default: --host)",
    "advertised_port": "port told to clients (default: --port)",
    "data_dir": "directory holding the log, the transaction state and the group offsets",
    "storage": "disk: the segment log in --data-dir; memory: nothing written, everything gone at exit",
    "node_id": "this broker's node id",
    "cluster_id": "cluster id reported in Metadata and DescribeCluster",
    "default_partitions": "partitions of an auto-created topic, or of CreateTopics with num_partitions=-1",
    "segment_bytes": "a log segment rolls when it reaches this size",
    "retention_ms": "delete segments older than this (-1: keep forever)",
    "retention_bytes": "delete old segments while a partition is larger than this (-1: no limit)",
    "retention_check_interval_ms": "how often retention runs",
    "max_request_bytes": "largest request frame accepted; larger ones close the connection",
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
    "log_level": "debug, info, warning or error",
}


CHOICES = {"fsync": FSYNC_POLICIES, "storage": STORAGE_ENGINES}


def _parse_bool(text: str) -> bool:
    if text.lower() in ("1", "true", "yes", "on"):
        return True
    if text.lower() in ("0", "false", "no", "off"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")


def _kind(default: object):
    """The parser for a setting, from the type of its default."""
    if isinstance(default, bool):
        return _parse_bool
    if isinstance(default, int):
        return int
    if isinstance(default, Path):
        return Path
    return str


def add_arguments(parser: argparse.ArgumentParser) -> None:
    defaults = BrokerConfig()
    for fd in fields(BrokerConfig):
        default = getattr(defaults, fd.name)
        kind = _kind(default)
        env = f"KAFKETTE_{fd.name.upper()}"
        extra = {"choices": CHOICES[fd.name]} if fd.name in CHOICES else {}
        parser.add_argument(f"--{fd.name.replace('_', '-')}", dest=fd.name, type=kind, default=None,
                            help=f"{HELP[fd.name]} (env {env}; default {default})", **extra)


def from_arguments(args: argparse.Namespace, environ: dict[str, str] | None = None) -> BrokerConfig:
    environ = os.environ if environ is None else environ
    config = BrokerConfig()
    for fd in fields(BrokerConfig):
        value = getattr(args, fd.name, None)
        if value is None and f"KAFKETTE_{fd.name.upper()}" in environ:
            raw = environ[f"KAFKETTE_{fd.name.upper()}"]
            value = _kind(getattr(config, fd.name))(raw)
        if value is not None:
            setattr(config, fd.name, value)
    for name, choices in CHOICES.items():
        if getattr(config, name) not in choices:
            raise SystemExit(f"--{name} must be one of {', '.join(choices)}, got {getattr(config, name)!r}")
    return config
