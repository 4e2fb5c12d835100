"""Byte-exact fixtures written by hand from Kafka's message schemas.

Nothing here uses protocol.primitives to build the expected bytes: integers are
`struct.pack`-ed and varints are spelled out, so an error shared by the codec's
writer and reader cannot hide.
"""

from __future__ import annotations

import struct

import pytest

from kafkette.protocol import codec
from kafkette.protocol import primitives as p
from kafkette.protocol.framing import (
    RequestHeader,
    decode_request,
    decode_response,
    encode_request,
    encode_response,
    unsupported_api_versions,
)
from kafkette.protocol.messages.api_versions import API_VERSIONS
from kafkette.protocol.messages.create_topics import CREATE_TOPICS
from kafkette.protocol.messages.fetch import FETCH
from kafkette.protocol.messages.internal import (
    GROUP_METADATA_KEY,
    GROUP_METADATA_VALUE,
    OFFSET_COMMIT_KEY,
    OFFSET_COMMIT_VALUE,
    TRANSACTION_LOG_KEY,
    TRANSACTION_LOG_VALUE,
)
from kafkette.protocol.messages.join_group import JOIN_GROUP
from kafkette.protocol.messages.metadata import METADATA
from kafkette.protocol.messages.produce import PRODUCE


# ---------------------------------------------------------------------------------------------- spelled-out encodings


def i8(v: int) -> bytes:
    return struct.pack(">b", v)


def i16(v: int) -> bytes:
    return struct.pack(">h", v)


def i32(v: int) -> bytes:
    return struct.pack(">i", v)


def i64(v: int) -> bytes:
    return struct.pack(">q", v)


def s16(v: str | None) -> bytes:
    """STRING / NULLABLE_STRING: int16 length (-1 for null) then UTF-8."""
    if v is None:
        return b"\xff\xff"
    data = v.encode("utf-8")
    return i16(len(data)) + data


def cs(v: str | None) -> bytes:
    """COMPACT_(NULLABLE_)STRING: length + 1 as an unsigned varint (0 for null); short strings only."""
    if v is None:
        return b"\x00"
    data = v.encode("utf-8")
    assert len(data) + 1 < 0x80
    return bytes([len(data) + 1]) + data


def b32(v: bytes | None) -> bytes:
    return b"\xff\xff\xff\xff" if v is None else i32(len(v)) + v


def cb(v: bytes | None) -> bytes:
    if v is None:
        return b"\x00"
    assert len(v) + 1 < 0x80
    return bytes([len(v) + 1]) + v


def arr(n: int | None) -> bytes:
    return b"\xff\xff\xff\xff" if n is None else i32(n)


def carr(n: int | None) -> bytes:
    if n is None:
        return b"\x00"
    assert n + 1 < 0x80
    return bytes([n + 1])


NO_TAGS = b"\x00"


def frame(body: bytes) -> bytes:
    return i32(len(body)) + body


def joined(chunks) -> bytes:
    return b"".join(bytes(c) for c in chunks)


def enc(cls, version: int, flexible: bool, msg) -> bytes:
    return codec.write(cls, version, flexible, msg).getvalue()


def dec(cls, version: int, flexible: bool, data: bytes):
    msg, end = codec.read(cls, version, flexible, data, 0)
    assert end == len(data)
    return msg


# ---------------------------------------------------------------------------------------------- ApiVersions


def test_api_versions_request_v3_with_header_v2() -> None:
    """Header v2: api key, version, correlation id, ClientId as an int16 string (never compact), tag buffer."""
    R = API_VERSIONS.Request
    header = RequestHeader(api_key=18, api_version=3, correlation_id=7, client_id="rdkafka")
    body = R(client_software_name="librdkafka", client_software_version="2.16.0")
    expected = frame(
        i16(18) + i16(3) + i32(7) + s16("rdkafka") + NO_TAGS
        + cs("librdkafka") + cs("2.16.0") + NO_TAGS
    )
    assert encode_request(header, body) == expected
    req = decode_request(expected[4:])
    assert req.header == header
    assert req.api is API_VERSIONS
    assert req.body == body


def test_api_versions_request_v3_null_client_id_and_header_tags_skipped() -> None:
    """A null ClientId is int16 -1; unknown header tagged fields are skipped."""
    raw = (i16(18) + i16(3) + i32(-5) + s16(None)
           + b"\x01" + b"\x09\x02\xab\xcd"  # one unknown header tag (9) of two bytes
           + cs("x") + cs("y") + NO_TAGS)
    req = decode_request(raw)
    assert req.header == RequestHeader(18, 3, -5, None)
    assert req.body == API_VERSIONS.Request(client_software_name="x", client_software_version="y")
    assert encode_request(RequestHeader(18, 3, -5, None), req.body) == frame(
        i16(18) + i16(3) + i32(-5) + s16(None) + NO_TAGS + cs("x") + cs("y") + NO_TAGS)


def test_api_versions_request_v0_to_v2_have_empty_bodies() -> None:
    for version in (0, 1, 2):
        raw = i16(18) + i16(version) + i32(1) + s16("c")  # header v1, no body at all
        assert encode_request(RequestHeader(18, version, 1, "c"), API_VERSIONS.Request()) == frame(raw)
        assert decode_request(raw).body == API_VERSIONS.Request()


def _api_versions_body():
    R = API_VERSIONS.Response
    return R(error_code=0, throttle_time_ms=0, api_keys=[
        R.ApiVersion(api_key=0, min_version=3, max_version=10),
        R.ApiVersion(api_key=18, min_version=0, max_version=3),
    ])


def test_api_versions_response_v0() -> None:
    expected = frame(i32(99) + i16(0) + arr(2)
                     + i16(0) + i16(3) + i16(10)
                     + i16(18) + i16(0) + i16(3))
    assert joined(encode_response(99, API_VERSIONS, 0, _api_versions_body())) == expected
    corr, body = decode_response(expected[4:], API_VERSIONS, 0)
    assert corr == 99
    assert body.api_keys == _api_versions_body().api_keys
    assert body.throttle_time_ms == 0


def test_api_versions_response_v1_adds_throttle_time() -> None:
    body = _api_versions_body()
    body.throttle_time_ms = 250
    expected = frame(i32(1) + i16(0) + arr(2) + i16(0) + i16(3) + i16(10) + i16(18) + i16(0) + i16(3) + i32(250))
    assert joined(encode_response(1, API_VERSIONS, 1, body)) == expected


def test_api_versions_response_v3_header_v0_and_no_tags() -> None:
    """ApiVersions v3 is flexible, but its response header is always v0 (no tag buffer, KIP-511)."""
    expected = frame(i32(42)  # header v0: correlation id only
                     + i16(0) + carr(2)
                     + i16(0) + i16(3) + i16(10) + NO_TAGS
                     + i16(18) + i16(0) + i16(3) + NO_TAGS
                     + i32(0) + NO_TAGS)
    assert joined(encode_response(42, API_VERSIONS, 3, _api_versions_body())) == expected
    corr, body = decode_response(expected[4:], API_VERSIONS, 3)
    assert corr == 42 and body == _api_versions_body()


def _features_tags() -> bytes:
    supported = carr(1) + cs("metadata.version") + i16(1) + i16(20) + NO_TAGS
    finalized = carr(1) + cs("metadata.version") + i16(20) + i16(1) + NO_TAGS  # max_version_level first
    return (b"\x04"
            + b"\x00" + bytes([len(supported)]) + supported
            + b"\x01" + b"\x08" + i64(17)
            + b"\x02" + bytes([len(finalized)]) + finalized
            + b"\x03" + b"\x01" + b"\x01")


def _features_body():
    R = API_VERSIONS.Response
    body = _api_versions_body()
    body.supported_features = [R.SupportedFeatureKey(name="metadata.version", min_version=1, max_version=20)]
    body.finalized_features_epoch = 17
    body.finalized_features = [R.FinalizedFeatureKey(name="metadata.version", max_version_level=20,
                                                     min_version_level=1)]
    body.zk_migration_ready = True
    return body


_API_VERSIONS_V3_PREFIX = (i16(0) + carr(2) + i16(0) + i16(3) + i16(10) + NO_TAGS
                           + i16(18) + i16(0) + i16(3) + NO_TAGS + i32(0))


def test_api_versions_response_v3_with_feature_tags() -> None:
    """SupportedFeatures (tag 0), FinalizedFeaturesEpoch (1), FinalizedFeatures (2), ZkMigrationReady (3)."""
    R = API_VERSIONS.Response
    expected = _API_VERSIONS_V3_PREFIX + _features_tags()
    assert enc(R, 3, True, _features_body()) == expected
    assert dec(R, 3, True, expected) == _features_body()


def test_unknown_tagged_fields_are_skipped_at_every_level() -> None:
    """Tags the declaration does not know (top level, before/between/after known ones, inside nested
    structs) are skipped by their size, and the known ones are still read."""
    R = API_VERSIONS.Response
    supported = carr(1) + cs("metadata.version") + i16(1) + i16(20) + b"\x01" + b"\x3f\x01\xee"
    finalized = carr(1) + cs("metadata.version") + i16(20) + i16(1) + NO_TAGS
    tags = (b"\x07"
            + b"\x00" + bytes([len(supported)]) + supported
            + b"\x01" + b"\x08" + i64(17)
            + b"\x02" + bytes([len(finalized)]) + finalized
            + b"\x03" + b"\x01" + b"\x01"
            + b"\x05" + b"\x00"  # unknown, empty
            + b"\x06" + b"\x03" + b"\xff\xff\xff"  # unknown, 3 bytes that look like nothing valid
            + b"\xc8\x01" + b"\x81\x01" + b"\x00" * 129)  # unknown tag 200, 129-byte body (two-byte varints)
    body = (i16(0) + carr(2)
            + i16(0) + i16(3) + i16(10) + b"\x01" + b"\x00\x02\x01\x02"  # unknown tag 0 in an ApiVersion
            + i16(18) + i16(0) + i16(3) + NO_TAGS + i32(0))
    assert dec(R, 3, True, body + tags) == _features_body()


def test_tagged_field_running_past_the_end_is_a_decode_error() -> None:
    R = API_VERSIONS.Response
    data = _API_VERSIONS_V3_PREFIX + b"\x01" + b"\x09" + b"\x05" + b"\x00\x00"
    with pytest.raises(p.DecodeError):
        codec.read(R, 3, True, data, 0)


def test_unsupported_api_versions_answer() -> None:
    """An unknown ApiVersions version gets the v0 layout: error 35 and only the ApiVersions entry."""
    expected = frame(i32(1234) + i16(35) + arr(1) + i16(18) + i16(0) + i16(3))
    assert joined(unsupported_api_versions(1234, (0, 3))) == expected
    corr, body = decode_response(expected[4:], API_VERSIONS, 0)
    assert corr == 1234 and body.error_code == 35
    assert [(k.api_key, k.min_version, k.max_version) for k in body.api_keys] == [(18, 0, 3)]


# ---------------------------------------------------------------------------------------------- Metadata

_MR = METADATA.Request


def _metadata_topics(version: int):
    return [_MR.MetadataRequestTopic(name="orders"), _MR.MetadataRequestTopic(name="é")]


def test_metadata_request_v0() -> None:
    msg = _MR(topics=_metadata_topics(0))
    expected = arr(2) + s16("orders") + s16("é")
    assert enc(_MR, 0, False, msg) == expected
    assert dec(_MR, 0, False, expected) == msg
    # v0 has no null (all topics) encoding, an empty array means all topics.
    assert enc(_MR, 0, False, _MR(topics=[])) == arr(0)


def test_metadata_request_v1_null_topics() -> None:
    assert enc(_MR, 1, False, _MR(topics=None)) == arr(None)
    assert dec(_MR, 1, False, arr(None)).topics is None


def test_metadata_request_v4() -> None:
    msg = _MR(topics=_metadata_topics(4), allow_auto_topic_creation=False)
    expected = arr(2) + s16("orders") + s16("é") + b"\x00"
    assert enc(_MR, 4, False, msg) == expected
    assert dec(_MR, 4, False, expected) == msg
    assert enc(_MR, 4, False, _MR(topics=None)) == arr(None) + b"\x01"  # allow_auto_topic_creation defaults true


def test_metadata_request_v9_compact() -> None:
    msg = _MR(topics=_metadata_topics(9), allow_auto_topic_creation=True,
              include_cluster_authorized_operations=True, include_topic_authorized_operations=False)
    expected = (carr(2) + cs("orders") + NO_TAGS + cs("é") + NO_TAGS
                + b"\x01" + b"\x01" + b"\x00" + NO_TAGS)
    assert enc(_MR, 9, True, msg) == expected
    assert dec(_MR, 9, True, expected) == msg
    assert enc(_MR, 9, True, _MR(topics=None)) == carr(None) + b"\x01\x00\x00" + NO_TAGS


def test_metadata_request_v12_topic_ids_and_null_names() -> None:
    """v10+: topic id (uuid) before a nullable name; v11+: no cluster authorized operations flag."""
    tid = bytes(range(1, 17))
    msg = _MR(topics=[_MR.MetadataRequestTopic(topic_id=tid, name=None),
                      _MR.MetadataRequestTopic(name="orders")],
              allow_auto_topic_creation=False, include_topic_authorized_operations=True)
    expected = (carr(2) + tid + cs(None) + NO_TAGS + bytes(16) + cs("orders") + NO_TAGS
                + b"\x00" + b"\x01" + NO_TAGS)
    assert enc(_MR, 12, True, msg) == expected
    assert dec(_MR, 12, True, expected) == msg


def test_metadata_response_v12_layout() -> None:
    R = METADATA.Response
    tid = bytes(range(16, 32))
    msg = R(throttle_time_ms=5,
            brokers=[R.MetadataResponseBroker(node_id=1, host="h", port=9092, rack=None)],
            cluster_id="c", controller_id=1,
            topics=[R.MetadataResponseTopic(error_code=0, name="t", topic_id=tid, is_internal=False, partitions=[
                R.MetadataResponsePartition(error_code=0, partition_index=0, leader_id=1, leader_epoch=3,
                                            replica_nodes=[1], isr_nodes=[1], offline_replicas=[])],
                topic_authorized_operations=-2147483648)])
    expected = (i32(5)
                + carr(1) + i32(1) + cs("h") + i32(9092) + cs(None) + NO_TAGS
                + cs("c") + i32(1)
                + carr(1) + i16(0) + cs("t") + tid + b"\x00"
                + carr(1) + i16(0) + i32(0) + i32(1) + i32(3) + carr(1) + i32(1) + carr(1) + i32(1) + carr(0) + NO_TAGS
                + i32(-2147483648) + NO_TAGS
                + NO_TAGS)
    assert enc(R, 12, True, msg) == expected
    assert dec(R, 12, True, expected) == msg
    # Header v1 for a flexible response: correlation id then an empty tag buffer.
    assert joined(encode_response(77, METADATA, 12, msg)) == frame(i32(77) + NO_TAGS + expected)


# ---------------------------------------------------------------------------------------------- Produce

_PR = PRODUCE.Request
_BATCH = bytes.fromhex("0000000000000000" "0000003b" "00000000" "02") + bytes(range(50))


def _produce(transactional_id):
    return _PR(transactional_id=transactional_id, acks=-1, timeout_ms=30000, topic_data=[
        _PR.TopicProduceData(name="orders", partition_data=[
            _PR.PartitionProduceData(index=0, records=_BATCH),
            _PR.PartitionProduceData(index=1, records=None),
        ])])


def test_produce_request_v3() -> None:
    expected = (s16(None) + i16(-1) + i32(30000)
                + arr(1) + s16("orders")
                + arr(2) + i32(0) + b32(_BATCH) + i32(1) + b32(None))
    msg = _produce(None)
    assert enc(_PR, 3, False, msg) == expected
    back = dec(_PR, 3, False, expected)
    assert back.transactional_id is None
    assert bytes(back.topic_data[0].partition_data[0].records) == _BATCH
    assert back.topic_data[0].partition_data[1].records is None
    # As a whole frame with request header v1.
    header = RequestHeader(0, 3, 11, "producer-1")
    assert encode_request(header, msg) == frame(i16(0) + i16(3) + i32(11) + s16("producer-1") + expected)


def test_produce_request_v9_compact() -> None:
    expected = (cs("txn") + i16(-1) + i32(30000)
                + carr(1) + cs("orders")
                + carr(2) + i32(0) + bytes([len(_BATCH) + 1]) + _BATCH + NO_TAGS
                + i32(1) + cb(None) + NO_TAGS
                + NO_TAGS
                + NO_TAGS)
    msg = _produce("txn")
    assert enc(_PR, 9, True, msg) == expected
    header = RequestHeader(0, 9, 12, "producer-1")
    raw = i16(0) + i16(9) + i32(12) + s16("producer-1") + NO_TAGS + expected
    assert encode_request(header, msg) == frame(raw)
    req = decode_request(raw)
    assert req.header == header
    assert req.body.transactional_id == "txn"
    assert bytes(req.body.topic_data[0].partition_data[0].records) == _BATCH


def test_produce_request_compact_records_longer_than_127_bytes() -> None:
    batch = b"\x5a" * 300  # length + 1 = 301 = 0b10_0101101 -> varint 0xad 0x02
    msg = _PR(acks=1, timeout_ms=1, topic_data=[_PR.TopicProduceData(name="t", partition_data=[
        _PR.PartitionProduceData(index=0, records=batch)])])
    expected = cs(None) + i16(1) + i32(1) + carr(1) + cs("t") + carr(1) + i32(0) + b"\xad\x02" + batch + b"\x00\x00\x00"
    assert enc(_PR, 9, True, msg) == expected
    assert bytes(dec(_PR, 9, True, expected).topic_data[0].partition_data[0].records) == batch


def test_produce_response_v10_current_leader_and_node_endpoints_tags() -> None:
    R = PRODUCE.Response
    msg = R(throttle_time_ms=0, responses=[R.TopicProduceResponse(name="t", partition_responses=[
        R.PartitionProduceResponse(index=0, error_code=6, base_offset=-1, log_append_time_ms=-1,
                                   log_start_offset=-1, record_errors=[], error_message=None,
                                   current_leader=R.LeaderIdAndEpoch(leader_id=2, leader_epoch=9))])],
            node_endpoints=[R.NodeEndpoint(node_id=2, host="b2", port=9093, rack=None)])
    leader = i32(2) + i32(9) + NO_TAGS
    endpoints = carr(1) + i32(2) + cs("b2") + i32(9093) + cs(None) + NO_TAGS
    expected = (carr(1) + cs("t") + carr(1)
                + i32(0) + i16(6) + i64(-1) + i64(-1) + i64(-1) + carr(0) + cs(None)
                + b"\x01" + b"\x00" + bytes([len(leader)]) + leader
                + NO_TAGS
                + i32(0)
                + b"\x01" + b"\x00" + bytes([len(endpoints)]) + endpoints)
    assert enc(R, 10, True, msg) == expected
    assert dec(R, 10, True, expected) == msg


# ---------------------------------------------------------------------------------------------- Fetch

_FR = FETCH.Response


def _fetch_response(version: int):
    return _FR(throttle_time_ms=3, error_code=0, session_id=0, responses=[
        _FR.FetchableTopicResponse(topic="orders", partitions=[
            _FR.PartitionData(partition_index=0, error_code=0, high_watermark=100, last_stable_offset=90,
                              log_start_offset=0, preferred_read_replica=-1,
                              aborted_transactions=[_FR.AbortedTransaction(producer_id=4000, first_offset=42),
                                                    _FR.AbortedTransaction(producer_id=4001, first_offset=77)],
                              records=_BATCH),
            _FR.PartitionData(partition_index=1, error_code=1, high_watermark=-1, last_stable_offset=-1,
                              log_start_offset=-1, aborted_transactions=None, records=None),
        ])])


def test_fetch_response_v4() -> None:
    """v4: no log start offset (5+), no top-level error/session (7+), no preferred replica (11+)."""
    expected = (i32(3)
                + arr(1) + s16("orders") + arr(2)
                + i32(0) + i16(0) + i64(100) + i64(90)
                + arr(2) + i64(4000) + i64(42) + i64(4001) + i64(77)
                + b32(_BATCH)
                + i32(1) + i16(1) + i64(-1) + i64(-1) + arr(None) + b32(None))
    msg = _fetch_response(4)
    assert enc(_FR, 4, False, msg) == expected
    back = dec(_FR, 4, False, expected)
    part = back.responses[0].partitions[0]
    assert [(a.producer_id, a.first_offset) for a in part.aborted_transactions] == [(4000, 42), (4001, 77)]
    assert bytes(part.records) == _BATCH
    assert back.responses[0].partitions[1].aborted_transactions is None
    assert joined(encode_response(5, FETCH, 4, msg)) == frame(i32(5) + expected)


def test_fetch_response_v12() -> None:
    expected = (i32(3) + i16(0) + i32(0)
                + carr(1) + cs("orders") + carr(2)
                + i32(0) + i16(0) + i64(100) + i64(90) + i64(0)
                + carr(2) + i64(4000) + i64(42) + NO_TAGS + i64(4001) + i64(77) + NO_TAGS
                + i32(-1) + bytes([len(_BATCH) + 1]) + _BATCH + NO_TAGS
                + i32(1) + i16(1) + i64(-1) + i64(-1) + i64(-1) + carr(None) + i32(-1) + cb(None) + NO_TAGS
                + NO_TAGS
                + NO_TAGS)
    msg = _fetch_response(12)
    assert enc(_FR, 12, True, msg) == expected
    back = dec(_FR, 12, True, expected)
    assert back.responses[0].partitions[0].aborted_transactions == msg.responses[0].partitions[0].aborted_transactions
    assert back.responses[0].partitions[1].diverging_epoch is None
    assert joined(encode_response(6, FETCH, 12, msg)) == frame(i32(6) + NO_TAGS + expected)
    corr, body = decode_response(frame(i32(6) + NO_TAGS + expected)[4:], FETCH, 12)
    assert corr == 6 and bytes(body.responses[0].partitions[0].records) == _BATCH


def test_fetch_response_v12_partition_tags() -> None:
    """DivergingEpoch (tag 0) and CurrentLeader (tag 1) are written in tag order after the records."""
    msg = _fetch_response(12)
    part = msg.responses[0].partitions[1]
    part.current_leader = _FR.LeaderIdAndEpoch(leader_id=3, leader_epoch=8)
    part.diverging_epoch = _FR.EpochEndOffset(epoch=7, end_offset=1000)
    diverging = i32(7) + i64(1000) + NO_TAGS
    leader = i32(3) + i32(8) + NO_TAGS
    expected_partition = (i32(1) + i16(1) + i64(-1) + i64(-1) + i64(-1) + carr(None) + i32(-1) + cb(None)
                          + b"\x02" + b"\x00" + bytes([len(diverging)]) + diverging
                          + b"\x01" + bytes([len(leader)]) + leader)
    data = enc(_FR, 12, True, msg)
    assert data.endswith(expected_partition + NO_TAGS + NO_TAGS)
    back = dec(_FR, 12, True, data)
    assert back.responses[0].partitions[1].current_leader == part.current_leader
    assert back.responses[0].partitions[1].diverging_epoch == part.diverging_epoch
    assert back.responses[0].partitions[1].snapshot_id is None


def _fetch_request_v12_bytes(tags: bytes) -> bytes:
    return (i32(-1) + i32(500) + i32(1) + i32(52428800) + i8(1) + i32(0) + i32(-1)
            + carr(1) + cs("orders") + carr(1)
            + i32(0) + i32(5) + i64(1234) + i32(4) + i64(-1) + i32(1048576) + NO_TAGS
            + NO_TAGS
            + carr(1) + cs("old") + carr(2) + i32(3) + i32(4) + NO_TAGS
            + cs("rack-a")
            + tags)


def _fetch_request_v12(cluster_id):
    R = FETCH.Request
    return R(cluster_id=cluster_id, replica_id=-1, max_wait_ms=500, min_bytes=1, max_bytes=52428800,
             isolation_level=1, session_id=0, session_epoch=-1,
             topics=[R.FetchTopic(topic="orders", partitions=[
                 R.FetchPartition(partition=0, current_leader_epoch=5, fetch_offset=1234, last_fetched_epoch=4,
                                  log_start_offset=-1, partition_max_bytes=1048576)])],
             forgotten_topics_data=[R.ForgottenTopic(topic="old", partitions=[3, 4])],
             rack_id="rack-a")


def test_fetch_request_v12_cluster_id_tag() -> None:
    R = FETCH.Request
    with_tag = _fetch_request_v12_bytes(b"\x01" + b"\x00" + b"\x04" + cs("clu"))
    assert enc(R, 12, True, _fetch_request_v12("clu")) == with_tag
    assert dec(R, 12, True, with_tag) == _fetch_request_v12("clu")
    # ClusterId defaults to null: not written, and read back as None.
    without = _fetch_request_v12_bytes(NO_TAGS)
    assert enc(R, 12, True, _fetch_request_v12(None)) == without
    assert dec(R, 12, True, without).cluster_id is None


def test_fetch_request_v12_unknown_tag_is_skipped() -> None:
    """ReplicaState (tag 1, v15+) is unknown at v12 and must be skipped, as must any other tag."""
    R = FETCH.Request
    replica_state = i32(1) + i64(2) + NO_TAGS
    tags = (b"\x03" + b"\x00" + b"\x04" + cs("clu")
            + b"\x01" + bytes([len(replica_state)]) + replica_state
            + b"\x7f" + b"\x00")
    assert dec(R, 12, True, _fetch_request_v12_bytes(tags)) == _fetch_request_v12("clu")


def test_fetch_request_v4_layout() -> None:
    R = FETCH.Request
    msg = R(replica_id=-1, max_wait_ms=100, min_bytes=1, max_bytes=1000, isolation_level=0,
            topics=[R.FetchTopic(topic="t", partitions=[R.FetchPartition(partition=2, fetch_offset=7,
                                                                         partition_max_bytes=500)])])
    expected = (i32(-1) + i32(100) + i32(1) + i32(1000) + i8(0)
                + arr(1) + s16("t") + arr(1) + i32(2) + i64(7) + i32(500))
    assert enc(R, 4, False, msg) == expected
    assert dec(R, 4, False, expected) == msg


# ---------------------------------------------------------------------------------------------- null and empty encodings


@pytest.mark.parametrize("value, legacy, compact", [
    (None, b"\xff\xff", b"\x00"),
    ("", b"\x00\x00", b"\x01"),
    ("ab", b"\x00\x02ab", b"\x03ab"),
])
def test_nullable_string_encodings(value, legacy, compact) -> None:
    R = JOIN_GROUP.Response  # protocol_name is nullable from v7 (the first flexible version)
    assert p.string(value) == legacy and p.compact_string(value) == compact
    assert p.read_string(legacy, 0) == (value, len(legacy))
    assert p.read_compact_string(compact, 0) == (value, len(compact))
    msg = R(error_code=0, generation_id=1, protocol_type="consumer", protocol_name=value, leader="l",
            member_id="m")
    expected = i32(0) + i16(0) + i32(1) + cs("consumer") + compact + cs("l") + b"\x00" + cs("m") + carr(0) + NO_TAGS
    assert enc(R, 9, True, msg) == expected
    assert dec(R, 9, True, expected).protocol_name == value


@pytest.mark.parametrize("value, legacy, compact", [
    (None, b"\xff\xff\xff\xff", b"\x00"),
    (b"", b"\x00\x00\x00\x00", b"\x01"),
    (b"\x00\xff", b"\x00\x00\x00\x02\x00\xff", b"\x03\x00\xff"),
])
def test_nullable_bytes_encodings(value, legacy, compact) -> None:
    assert p.bytes_field(value) == legacy and p.compact_bytes(value) == compact
    assert p.read_bytes(legacy, 0) == (value, len(legacy))
    assert p.read_compact_bytes(compact, 0) == (value, len(compact))
    # Records fields share the bytes encoding.
    R = FETCH.Response
    msg = R(responses=[R.FetchableTopicResponse(topic="t", partitions=[R.PartitionData(records=value)])])
    assert enc(R, 4, False, msg).endswith(legacy)
    assert enc(R, 12, True, msg).endswith(compact + NO_TAGS + NO_TAGS + NO_TAGS)


@pytest.mark.parametrize("value, legacy, compact", [
    (None, b"\xff\xff\xff\xff", b"\x00"),
    ([], b"\x00\x00\x00\x00", b"\x01"),
])
def test_nullable_array_encodings(value, legacy, compact) -> None:
    assert p.array_length(value) == legacy and p.compact_array_length(value) == compact
    assert p.read_array_length(legacy, 0) == (-1 if value is None else 0, 4)
    assert p.read_compact_array_length(compact, 0) == (-1 if value is None else 0, 1)
    R = METADATA.Request
    assert enc(R, 1, False, R(topics=value)) == legacy
    assert enc(R, 9, True, R(topics=value)) == compact + b"\x01\x00\x00" + NO_TAGS
    assert dec(R, 1, False, legacy).topics == value
    assert dec(R, 9, True, compact + b"\x01\x00\x00" + NO_TAGS).topics == value


def test_nullable_string_array_elements_in_describe_configs() -> None:
    """[]string nullable from v0 (ConfigurationKeys): -1 means all keys."""
    from kafkette.protocol.messages.describe_configs import DESCRIBE_CONFIGS

    R = DESCRIBE_CONFIGS.Request
    msg = R(resources=[R.DescribeConfigsResource(resource_type=2, resource_name="t", configuration_keys=None),
                       R.DescribeConfigsResource(resource_type=4, resource_name="1", configuration_keys=["a"])],
            include_synonyms=True)
    expected = arr(2) + i8(2) + s16("t") + arr(None) + i8(4) + s16("1") + arr(1) + s16("a") + b"\x01"
    assert enc(R, 1, False, msg) == expected
    assert dec(R, 1, False, expected) == msg


# ---------------------------------------------------------------------------------------------- CreateTopics tag


def test_create_topics_response_v5_topic_config_error_code_tag() -> None:
    R = CREATE_TOPICS.Response
    topic = R.CreatableTopicResult(name="t", error_code=0, error_message=None, topic_config_error_code=29,
                                   num_partitions=3, replication_factor=1, configs=None)
    expected = (i32(0) + carr(1) + cs("t") + i16(0) + cs(None) + i32(3) + i16(1) + carr(None)
                + b"\x01" + b"\x00" + b"\x02" + i16(29)
                + NO_TAGS)
    assert enc(R, 5, True, R(topics=[topic])) == expected
    assert dec(R, 5, True, expected) == R(topics=[topic])


# ---------------------------------------------------------------------------------------------- internal records


def test_transaction_log_key_and_value_v0() -> None:
    cls = TRANSACTION_LOG_KEY.Record
    assert enc(cls, 0, False, cls(transactional_id="tx")) == s16("tx")
    V = TRANSACTION_LOG_VALUE.Record
    msg = V(producer_id=1000, producer_epoch=2, transaction_timeout_ms=60000, transaction_status=1,
            transaction_partitions=[V.PartitionsSchema(topic="t", partition_ids=[0, 3])],
            transaction_last_update_timestamp_ms=1700000000000, transaction_start_timestamp_ms=1699999999000)
    expected = (i64(1000) + i16(2) + i32(60000) + i8(1) + arr(1) + s16("t") + arr(2) + i32(0) + i32(3)
                + i64(1700000000000) + i64(1699999999000))
    assert enc(V, 0, False, msg) == expected
    assert dec(V, 0, False, expected) == msg
    msg.transaction_partitions = None
    assert enc(V, 0, False, msg) == i64(1000) + i16(2) + i32(60000) + i8(1) + arr(None) + expected[-16:]


def test_transaction_log_value_v1_tags() -> None:
    """v1 is flexible: PreviousProducerId (0), NextProducerId (1), ClientTransactionVersion (2) are tagged."""
    V = TRANSACTION_LOG_VALUE.Record
    msg = V(producer_id=1000, previous_producer_id=999, next_producer_id=-1, producer_epoch=0,
            transaction_timeout_ms=1, transaction_status=0, transaction_partitions=[],
            transaction_last_update_timestamp_ms=5, transaction_start_timestamp_ms=-1,
            client_transaction_version=2)
    expected = (i64(1000) + i16(0) + i32(1) + i8(0) + carr(0) + i64(5) + i64(-1)
                + b"\x02" + b"\x00\x08" + i64(999) + b"\x02\x02" + i16(2))
    assert enc(V, 1, True, msg) == expected
    assert dec(V, 1, True, expected) == msg


def test_offset_commit_key_and_value() -> None:
    K = OFFSET_COMMIT_KEY.Record
    assert enc(K, 1, False, K(group="g", topic="t", partition=4)) == s16("g") + s16("t") + i32(4)
    V = OFFSET_COMMIT_VALUE.Record
    msg = V(offset=10, leader_epoch=2, metadata="", commit_timestamp=7, expire_timestamp=9)
    assert enc(V, 1, False, msg) == i64(10) + s16("") + i64(7) + i64(9)
    assert enc(V, 3, False, msg) == i64(10) + i32(2) + s16("") + i64(7)
    assert enc(V, 4, True, msg) == i64(10) + i32(2) + cs("") + i64(7) + NO_TAGS
    back = dec(V, 3, False, i64(10) + i32(2) + s16("") + i64(7))
    assert back.expire_timestamp == -1 and back.leader_epoch == 2


def test_group_metadata_key_and_value_v3() -> None:
    K = GROUP_METADATA_KEY.Record
    assert enc(K, 2, False, K(group="grp")) == s16("grp")
    V = GROUP_METADATA_VALUE.Record
    msg = V(protocol_type="consumer", generation=3, protocol="range", leader=None, current_state_timestamp=8,
            members=[V.MemberMetadata(member_id="m", group_instance_id=None, client_id="c", client_host="/h",
                                      rebalance_timeout=300000, session_timeout=45000, subscription=b"\x00\x01",
                                      assignment=b"")])
    expected = (s16("consumer") + i32(3) + s16("range") + s16(None) + i64(8)
                + arr(1) + s16("m") + s16(None) + s16("c") + s16("/h") + i32(300000) + i32(45000)
                + b32(b"\x00\x01") + b32(b""))
    assert enc(V, 3, False, msg) == expected
    assert dec(V, 3, False, expected) == msg


# ---------------------------------------------------------------------------------------------- null where not nullable


def _null_cases():
    from kafkette.protocol.messages.join_group import JOIN_GROUP as JG

    yield pytest.param(METADATA.Request, 0, False, arr(None), id="Metadata-v0-topics-array")
    yield pytest.param(METADATA.Request, 9, True, carr(1) + cs(None) + NO_TAGS + b"\x01\x00\x00" + NO_TAGS,
                       id="Metadata-v9-topic-name-compact-string")
    yield pytest.param(PRODUCE.Request, 3, False, s16(None) + i16(1) + i32(1) + arr(1) + s16(None) + arr(0),
                       id="Produce-v3-topic-name-string")
    yield pytest.param(FETCH.Request, 12, True,
                       i32(-1) + i32(0) + i32(0) + i32(0) + i8(0) + i32(0) + i32(-1) + carr(None) + carr(0)
                       + cs("") + NO_TAGS, id="Fetch-v12-topics-compact-array")
    yield pytest.param(JG.Request, 0, False, s16("g") + i32(1) + s16("m") + s16("consumer") + arr(1) + s16("range")
                       + b32(None), id="JoinGroup-v0-protocol-metadata-bytes")
    yield pytest.param(API_VERSIONS.Request, 3, True, cs(None) + cs("1") + NO_TAGS,
                       id="ApiVersions-v3-client-software-name")
    from kafkette.protocol.messages.describe_configs import DESCRIBE_CONFIGS as DC

    yield pytest.param(DC.Request, 1, False, arr(1) + i8(2) + s16("t") + arr(1) + s16(None) + b"\x00",
                       id="DescribeConfigs-v1-configuration-key-element")
    yield pytest.param(DC.Request, 4, True, carr(1) + i8(2) + cs("t") + carr(2) + cs("a") + cs(None) + NO_TAGS
                       + b"\x00\x00" + NO_TAGS, id="DescribeConfigs-v4-configuration-key-element-compact")


@pytest.mark.parametrize("cls, version, flexible, data", list(_null_cases()))
def test_null_in_a_non_nullable_field_is_a_decode_error(cls, version: int, flexible: bool, data: bytes) -> None:
    """Kafka's generated readers reject -1 / compact 0 for a field whose nullableVersions exclude the
    version ("non-nullable field X was serialized as null"); a handler must never see None there."""
    with pytest.raises(p.DecodeError):
        codec.read(cls, version, flexible, data, 0)


# ---------------------------------------------------------------------------------------------- versions kio lacks
# kio 0.6.5 follows Kafka 4, which dropped these versions; clients (aiokafka, kafkajs) still send some of them.


def test_offset_commit_request_v0_v1_v2() -> None:
    from kafkette.protocol.messages.offset_commit import OFFSET_COMMIT

    R = OFFSET_COMMIT.Request
    msg = R(group_id="g", generation_id_or_member_epoch=4, member_id="m", retention_time_ms=86400000,
            topics=[R.OffsetCommitRequestTopic(name="t", partitions=[R.OffsetCommitRequestPartition(
                partition_index=2, committed_offset=99, commit_timestamp=1700000000000, committed_metadata=None)])])
    assert enc(R, 0, False, msg) == s16("g") + arr(1) + s16("t") + arr(1) + i32(2) + i64(99) + s16(None)
    v1 = (s16("g") + i32(4) + s16("m") + arr(1) + s16("t") + arr(1) + i32(2) + i64(99) + i64(1700000000000)
          + s16(None))
    assert enc(R, 1, False, msg) == v1
    assert dec(R, 1, False, v1).topics[0].partitions[0].commit_timestamp == 1700000000000
    v2 = s16("g") + i32(4) + s16("m") + i64(86400000) + arr(1) + s16("t") + arr(1) + i32(2) + i64(99) + s16(None)
    assert enc(R, 2, False, msg) == v2
    back = dec(R, 2, False, v2)
    assert back.retention_time_ms == 86400000 and back.topics[0].partitions[0].commit_timestamp == -1


def test_offset_commit_response_v0() -> None:
    from kafkette.protocol.messages.offset_commit import OFFSET_COMMIT

    R = OFFSET_COMMIT.Response
    msg = R(topics=[R.OffsetCommitResponseTopic(name="t", partitions=[
        R.OffsetCommitResponsePartition(partition_index=0, error_code=25)])])
    expected = arr(1) + s16("t") + arr(1) + i32(0) + i16(25)
    assert enc(R, 0, False, msg) == expected and dec(R, 0, False, expected) == msg


def test_offset_fetch_v0() -> None:
    from kafkette.protocol.messages.offset_fetch import OFFSET_FETCH

    R = OFFSET_FETCH.Request
    msg = R(group_id="g", topics=[R.OffsetFetchRequestTopic(name="t", partition_indexes=[0, 1])])
    expected = s16("g") + arr(1) + s16("t") + arr(2) + i32(0) + i32(1)
    assert enc(R, 0, False, msg) == expected and dec(R, 0, False, expected) == msg
    S = OFFSET_FETCH.Response
    resp = S(topics=[S.OffsetFetchResponseTopic(name="t", partitions=[S.OffsetFetchResponsePartition(
        partition_index=0, committed_offset=-1, metadata="", error_code=0)])])
    expected = arr(1) + s16("t") + arr(1) + i32(0) + i64(-1) + s16("") + i16(0)
    assert enc(S, 0, False, resp) == expected and dec(S, 0, False, expected) == resp


def test_create_topics_v0_v1() -> None:
    R = CREATE_TOPICS.Request
    msg = R(topics=[R.CreatableTopic(name="t", num_partitions=-1, replication_factor=-1, assignments=[
        R.CreatableReplicaAssignment(partition_index=0, broker_ids=[1, 2])],
        configs=[R.CreatableTopicConfig(name="cleanup.policy", value="compact")])], timeout_ms=30000,
        validate_only=True)
    body = (arr(1) + s16("t") + i32(-1) + i16(-1) + arr(1) + i32(0) + arr(2) + i32(1) + i32(2)
            + arr(1) + s16("cleanup.policy") + s16("compact") + i32(30000))
    assert enc(R, 0, False, msg) == body
    assert enc(R, 1, False, msg) == body + b"\x01"
    S = CREATE_TOPICS.Response
    resp = S(topics=[S.CreatableTopicResult(name="t", error_code=36, error_message="exists")])
    assert enc(S, 0, False, resp) == arr(1) + s16("t") + i16(36)
    assert enc(S, 1, False, resp) == arr(1) + s16("t") + i16(36) + s16("exists")


def test_delete_topics_v0() -> None:
    from kafkette.protocol.messages.delete_topics import DELETE_TOPICS

    R = DELETE_TOPICS.Request
    msg = R(topic_names=["a", "b"], timeout_ms=5000)
    expected = arr(2) + s16("a") + s16("b") + i32(5000)
    assert enc(R, 0, False, msg) == expected and dec(R, 0, False, expected) == msg


def test_offset_for_leader_epoch_v0_v1() -> None:
    from kafkette.protocol.messages.offset_for_leader_epoch import OFFSET_FOR_LEADER_EPOCH as OLE

    R = OLE.Request
    msg = R(topics=[R.OffsetForLeaderTopic(topic="t", partitions=[R.OffsetForLeaderPartition(partition=1,
                                                                                         leader_epoch=5)])])
    expected = arr(1) + s16("t") + arr(1) + i32(1) + i32(5)
    assert enc(R, 0, False, msg) == expected and enc(R, 1, False, msg) == expected
    S = OLE.Response
    resp = S(topics=[S.OffsetForLeaderTopicResult(topic="t", partitions=[S.EpochEndOffset(
        error_code=0, partition=1, leader_epoch=5, end_offset=1000)])])
    assert enc(S, 0, False, resp) == arr(1) + s16("t") + arr(1) + i16(0) + i32(1) + i64(1000)
    assert enc(S, 1, False, resp) == arr(1) + s16("t") + arr(1) + i16(0) + i32(1) + i32(5) + i64(1000)


def test_write_txn_markers_v0() -> None:
    from kafkette.protocol.messages.write_txn_markers import WRITE_TXN_MARKERS as WTM

    R = WTM.Request
    msg = R(markers=[R.WritableTxnMarker(producer_id=7, producer_epoch=1, transaction_result=True, topics=[
        R.WritableTxnMarkerTopic(name="t", partition_indexes=[0])], coordinator_epoch=3)])
    expected = arr(1) + i64(7) + i16(1) + b"\x01" + arr(1) + s16("t") + arr(1) + i32(0) + i32(3)
    assert enc(R, 0, False, msg) == expected and dec(R, 0, False, expected) == msg


def test_describe_configs_response_v0_is_default() -> None:
    """v0 has IsDefault (v0 only) where v1+ has ConfigSource and synonyms."""
    from kafkette.protocol.messages.describe_configs import DESCRIBE_CONFIGS

    R = DESCRIBE_CONFIGS.Response
    msg = R(throttle_time_ms=0, results=[R.DescribeConfigsResult(error_code=0, error_message=None, resource_type=2,
                                                                   resource_name="t", configs=[
        R.DescribeConfigsResourceResult(name="retention.ms", value="1000", read_only=False, is_default=True,
                                        config_source=5, is_sensitive=False)])])
    v0 = (i32(0) + arr(1) + i16(0) + s16(None) + i8(2) + s16("t")
          + arr(1) + s16("retention.ms") + s16("1000") + b"\x00" + b"\x01" + b"\x00")
    assert enc(R, 0, False, msg) == v0
    assert dec(R, 0, False, v0).results[0].configs[0].is_default is True
    v1 = (i32(0) + arr(1) + i16(0) + s16(None) + i8(2) + s16("t")
          + arr(1) + s16("retention.ms") + s16("1000") + b"\x00" + i8(5) + b"\x00" + arr(0))
    assert enc(R, 1, False, msg) == v1
    assert dec(R, 1, False, v1).results[0].configs[0].is_default is False
