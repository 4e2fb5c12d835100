"""The consumer protocol's subscription (JoinGroup metadata): which topics a classic group consumes."""

from __future__ import annotations

from kafkette.protocol import codec
from kafkette.protocol.messages.consumer_protocol import CONSUMER_PROTOCOL_SUBSCRIPTION as SUBSCRIPTION
from kafkette.protocol.primitives import DecodeError


def subscription_topics(metadata: bytes) -> set[str] | None:
    """The subscribed topic names, or None if the bytes are not a consumer subscription."""
    if len(metadata) < 2 or metadata[0] & 0x80:  # too short, or a negative version
        return None
    try:
        return set(codec.read_versioned(SUBSCRIPTION, metadata).topics)
    except DecodeError:
        return None


def encode_subscription(topics: list[str], user_data: bytes = b"") -> bytes:
    """Version 0 subscription (what tests hand to JoinGroup)."""
    return codec.write_versioned(SUBSCRIPTION, 0, SUBSCRIPTION.Record(topics=list(topics), user_data=user_data))
