"""Reading the consumer protocol's subscription (JoinGroup metadata) for the topics a group consumes.

ConsumerProtocolSubscription (every version, never flexible): int16 version,
then topics as an int32 count of int16-length strings; later fields are not needed.
"""

from __future__ import annotations

import struct


def subscription_topics(metadata: bytes) -> set[str] | None:
    """The subscribed topic names, or None if the bytes are not a consumer subscription."""
    try:
        (version,) = struct.unpack_from(">h", metadata, 0)
        if version < 0:
            return None
        (count,) = struct.unpack_from(">i", metadata, 2)
        pos = 6
        topics = set()
        for _ in range(max(count, 0)):
            (size,) = struct.unpack_from(">h", metadata, pos)
            pos += 2
            if size < 0 or pos + size > len(metadata):
                return None
            topics.add(bytes(metadata[pos:pos + size]).decode())
            pos += size
        return topics
    except (struct.error, UnicodeDecodeError):
        return None


def encode_subscription(topics: list[str], user_data: bytes = b"") -> bytes:
    """Version 0 subscription (what tests hand to JoinGroup)."""
    out = [struct.pack(">hi", 0, len(topics))]
    for topic in topics:
        raw = topic.encode()
        out.append(struct.pack(">h", len(raw)) + raw)
    out.append(struct.pack(">i", len(user_data)) + user_data)
    return b"".join(out)
