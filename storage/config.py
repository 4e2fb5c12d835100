"""Per-log settings, and how topic-level configs override them."""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass
from typing import Any

MAX_SEGMENT_BYTES = 2**31 - 1  # index positions are int32


class FsyncPolicy(enum.Enum):
    # Under every policy an append's bytes are written to the file (os.write, no user-space buffer)
    # before append returns, so a crash of the process alone never loses an acknowledged append.
    ALWAYS = "always"  # and fsynced before append returns
    INTERVAL = "interval"  # and fsynced when the broker calls flush() on its timer, and at roll
    NEVER = "never"  # and fsynced only at a clean close: the OS writes them back when it likes


@dataclass(frozen=True)
class LogConfig:
    segment_bytes: int = 1 << 30
    retention_ms: int = -1
    retention_bytes: int = -1
    index_interval_bytes: int = 4096
    cleanup_policy: str = "delete"
    fsync: FsyncPolicy = FsyncPolicy.INTERVAL
    log_append_time: bool = False  # message.timestamp.type=LogAppendTime: batches get the broker's clock

    def with_topic_configs(self, configs: dict[str, str]) -> LogConfig:
        """Apply the topic-level overrides we honour; other keys are kept by the store only."""
        changes: dict[str, Any] = {}
        for key, field, parse in _TOPIC_KEYS:
            if key in configs:
                changes[field] = parse(configs[key])
        if "segment_bytes" in changes:
            changes["segment_bytes"] = max(1024, min(changes["segment_bytes"], MAX_SEGMENT_BYTES))
        return dataclasses.replace(self, **changes)

    @property
    def deletes(self) -> bool:
        return "delete" in self.cleanup_policy


_TOPIC_KEYS = (
    ("retention.ms", "retention_ms", int),
    ("retention.bytes", "retention_bytes", int),
    ("segment.bytes", "segment_bytes", int),
    ("index.interval.bytes", "index_interval_bytes", int),
    ("cleanup.policy", "cleanup_policy", str),
    ("message.timestamp.type", "log_append_time", lambda value: value == "LogAppendTime"),
)
