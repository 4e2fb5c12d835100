"""Small value types shared by every layer."""

from __future__ import annotations

import enum
from typing import NamedTuple


class TopicPartition(NamedTuple):
    """A partition by topic name (equal to, and hashed as, the plain tuple `(topic, partition)`)."""

    topic: str
    partition: int


class IsolationLevel(enum.IntEnum):
    """Fetch and ListOffsets: read up to the high watermark, or only up to the last stable offset."""

    READ_UNCOMMITTED = 0
    READ_COMMITTED = 1
