"""The consumer protocol's subscription (JoinGroup metadata): which topics a classic group consumes."""

from __future__ import annotations

import struct

from protocol import codec
from protocol.messages.consumer_protocol import CONSUMER_PROTOCOL_SUBSCRIPTION as SUBSCRIPTION
from protocol.primitives import DecodeError

_VERSION = struct.Struct(">h")


def subscription_topics(metadata: bytes) -> set[str] | None:
    """The subscribed topic names, or None if the bytes are not a consumer subscription."""
    try:
        version = _VERSION.unpack_from(metadata, 0)[0]
        if version < 0:
            return None
        layout = min(version, SUBSCRIPTION.versions[1])
        subscription, _ = codec.read(SUBSCRIPTION.Record, layout, False, memoryview(metadata), _VERSION.size)
    except (struct.error, DecodeError):
        return None
    return set(subscription.topics)


def encode_subscription(topics: list[str], user_data: bytes = b"") -> bytes:
    """Version 0 subscription (what tests hand to JoinGroup)."""
    record = SUBSCRIPTION.Record(topics=list(topics), user_data=user_data)
    return _VERSION.pack(0) + codec.write(SUBSCRIPTION.Record, 0, False, record).getvalue()
