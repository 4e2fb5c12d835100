"""The records groups write to `__consumer_offsets`, laid out exactly as Kafka lays them out.

Key: int16 version, then OffsetCommitKey (versions 0-1), GroupMetadataKey (version 2) or, for a
consumer-protocol (KIP-848) group, ConsumerGroupMetadataKey (version 3).
Value: int16 version, then OffsetCommitValue, GroupMetadataValue or ConsumerGroupMetadataValue;
a null value is a tombstone. Of a consumer-protocol group only its epoch is kept (members rejoin
after a restart), so the record types 4-8 Kafka also writes are not written here.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from kafkette.broker.groups.offsets import OffsetAndMetadata
from kafkette.broker.groups.state import Group, Member
from kafkette.protocol import codec
from kafkette.protocol.messages.consumer_group_records import CONSUMER_GROUP_METADATA_KEY, CONSUMER_GROUP_METADATA_VALUE
from kafkette.protocol.messages.internal import (
    GROUP_METADATA_KEY,
    GROUP_METADATA_VALUE,
    OFFSET_COMMIT_KEY,
    OFFSET_COMMIT_VALUE,
    GroupMetadataValue,
)
from kafkette.protocol.primitives import DecodeError

OFFSET_KEY_VERSION = 1
OFFSET_VALUE_VERSION = 3
GROUP_KEY_VERSION = 2
GROUP_VALUE_VERSION = 3
CONSUMER_GROUP_KEY_VERSION = 3
CONSUMER_GROUP_VALUE_VERSION = 0
_KEY_VERSION = struct.Struct(">h")  # the key's version says which record type it is


@dataclass
class OffsetRecord:
    group_id: str
    topic: str
    partition: int
    value: OffsetAndMetadata | None  # None: tombstone


@dataclass
class ConsumerGroupRecord:
    group_id: str
    epoch: int | None  # None: tombstone


@dataclass
class GroupRecord:
    group_id: str
    value: GroupMetadataValue | None  # None: tombstone


def offset_key(group_id: str, topic: str, partition: int) -> bytes:
    return codec.write_versioned(OFFSET_COMMIT_KEY, OFFSET_KEY_VERSION,
                   OFFSET_COMMIT_KEY.Record(group=group_id, topic=topic, partition=partition))


def offset_value(offset: OffsetAndMetadata) -> bytes:
    return codec.write_versioned(OFFSET_COMMIT_VALUE, OFFSET_VALUE_VERSION, OFFSET_COMMIT_VALUE.Record(
        offset=offset.offset, leader_epoch=offset.leader_epoch, metadata=offset.metadata,
        commit_timestamp=offset.commit_timestamp))


def group_key(group_id: str) -> bytes:
    return codec.write_versioned(GROUP_METADATA_KEY, GROUP_KEY_VERSION, GROUP_METADATA_KEY.Record(group=group_id))


def group_value(group: Group) -> bytes:
    V = GROUP_METADATA_VALUE.Record
    members = [V.MemberMetadata(member_id=m.member_id, group_instance_id=m.group_instance_id, client_id=m.client_id,
                                client_host=m.client_host, rebalance_timeout=m.rebalance_timeout_ms,
                                session_timeout=m.session_timeout_ms, subscription=m.metadata(group.protocol_name),
                                assignment=m.assignment)
               for m in group.members.values()]
    return codec.write_versioned(GROUP_METADATA_VALUE, GROUP_VALUE_VERSION, V(
        protocol_type=group.protocol_type or "", generation=group.generation, protocol=group.protocol_name,
        leader=group.leader_id, current_state_timestamp=group.state_timestamp, members=members))


def consumer_group_key(group_id: str) -> bytes:
    return codec.write_versioned(CONSUMER_GROUP_METADATA_KEY, CONSUMER_GROUP_KEY_VERSION,
                   CONSUMER_GROUP_METADATA_KEY.Record(group_id=group_id))


def consumer_group_value(epoch: int) -> bytes:
    return codec.write_versioned(CONSUMER_GROUP_METADATA_VALUE, CONSUMER_GROUP_VALUE_VERSION,
                   CONSUMER_GROUP_METADATA_VALUE.Record(epoch=epoch))


def decode(key: bytes, value: bytes | None, record_offset: int
           ) -> OffsetRecord | GroupRecord | ConsumerGroupRecord | None:
    """One `__consumer_offsets` record; None for a key this broker does not know."""
    try:
        (version,) = _KEY_VERSION.unpack_from(key, 0)
        if version in (0, 1):
            k = codec.read_versioned(OFFSET_COMMIT_KEY, key)
            offset = None
            if value is not None:
                v = codec.read_versioned(OFFSET_COMMIT_VALUE, value)
                offset = OffsetAndMetadata(v.offset, v.leader_epoch, v.metadata or "", v.commit_timestamp,
                                           record_offset)
            return OffsetRecord(k.group, k.topic, k.partition, offset)
        if version == 2:
            group_key = codec.read_versioned(GROUP_METADATA_KEY, key)
            return GroupRecord(group_key.group, None if value is None else codec.read_versioned(GROUP_METADATA_VALUE, value))
        if version == CONSUMER_GROUP_KEY_VERSION:
            consumer_key = codec.read_versioned(CONSUMER_GROUP_METADATA_KEY, key)
            return ConsumerGroupRecord(consumer_key.group_id, None if value is None
                                       else codec.read_versioned(CONSUMER_GROUP_METADATA_VALUE, value).epoch)
    except (DecodeError, struct.error):
        return None
    return None


def members_of(value) -> list[Member]:
    """The members a GroupMetadataValue holds, as state-machine members (one protocol: the chosen one)."""
    return [Member(m.member_id, m.group_instance_id, m.client_id, m.client_host, m.session_timeout,
                   m.rebalance_timeout if m.rebalance_timeout >= 0 else m.session_timeout, value.protocol_type,
                   [(value.protocol or "", m.subscription)], assignment=m.assignment, is_new=False)
            for m in value.members]
