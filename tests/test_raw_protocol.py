"""The wire itself: what the broker does with bad, unusual or pipelined requests on a raw socket.

These are the requests no client library sends on purpose (corrupt batches,
unknown versions, oversized frames, garbage), plus the framing guarantees every
client relies on (responses in request order, ApiVersions telling the truth).
"""

from __future__ import annotations

import os
import struct
import zlib

import pytest

from kafkette.local_broker import LocalBroker
from kafkette.protocol import primitives as p
from kafkette.protocol.framing import APIS
from kafkette.protocol.messages import (
    API_VERSIONS, DESCRIBE_CONFIGS, FETCH, FIND_COORDINATOR, INIT_PRODUCER_ID, LIST_OFFSETS, METADATA, PRODUCE,
)
from kafkette.protocol.records import build_batch
from tests.clients import ConnectionClosed, RawClient, create_topic, produce_request
from tests.conftest import unique

TS = 1_700_000_000_000


def raw_header(api_key: int, version: int, correlation_id: int, client_id: str = "raw") -> bytes:
    """A v1 request header (no tag buffer): enough for the broker to decide on key and version."""
    return struct.pack(">hhi", api_key, version, correlation_id) + p.string(client_id)


def framed(payload: bytes) -> bytes:
    return struct.pack(">i", len(payload)) + payload


def produce_error(response) -> tuple[int, int]:
    part = response.responses[0].partition_responses[0]
    return part.error_code, part.base_offset


def list_offsets_request(topic: str, timestamp: int, partition: int = 0):
    R = LIST_OFFSETS.Request
    return R(replica_id=-1, isolation_level=0, topics=[R.ListOffsetsTopic(name=topic, partitions=[
        R.ListOffsetsPartition(partition_index=partition, timestamp=timestamp)])])


def log_end(bootstrap: str, topic: str) -> int:
    with RawClient(bootstrap) as raw:
        response = raw.request(LIST_OFFSETS, 7, list_offsets_request(topic, -1))
    part = response.topics[0].partitions[0]
    assert part.error_code == 0
    return part.offset


def fetch_request(topic: str, offset: int, max_wait_ms: int = 0, min_bytes: int = 1):
    R = FETCH.Request
    return R(max_wait_ms=max_wait_ms, min_bytes=min_bytes, max_bytes=1 << 20, isolation_level=0, session_id=0,
             session_epoch=-1, topics=[R.FetchTopic(topic=topic, partitions=[R.FetchPartition(
                 partition=0, fetch_offset=offset, partition_max_bytes=1 << 20)])],
             forgotten_topics_data=[], rack_id="")


def assert_broker_serves(bootstrap: str) -> None:
    """A new connection gets a full ApiVersions answer."""
    with RawClient(bootstrap) as raw:
        response = raw.request(API_VERSIONS, 3, API_VERSIONS.Request(client_software_name="kafkette-tests",
                                                                    client_software_version="1"))
    assert response.error_code == 0
    assert {k.api_key for k in response.api_keys} >= {0, 1, 3, 18}


def advertised(bootstrap: str) -> dict[int, tuple[int, int]]:
    with RawClient(bootstrap) as raw:
        response = raw.request(API_VERSIONS, 3, API_VERSIONS.Request(client_software_name="kafkette-tests",
                                                                    client_software_version="1"))
    assert response.error_code == 0
    return {k.api_key: (k.min_version, k.max_version) for k in response.api_keys}


# ---------------------------------------------------------------------------------------------- bad records


def test_corrupt_batch_is_refused_and_nothing_moves(broker):
    topic = create_topic(broker.bootstrap_servers, unique("raw-crc"), 1)
    good = build_batch([(b"k", b"good")], timestamp_ms=TS)
    with RawClient(broker.bootstrap_servers) as raw:
        assert produce_error(raw.request(PRODUCE, 9, produce_request(topic, good))) == (0, 0)
    assert log_end(broker.bootstrap_servers, topic) == 1

    bad = bytearray(build_batch([(b"k", b"corrupted value")], timestamp_ms=TS))
    bad[-3] ^= 0xFF  # a record byte: covered by the CRC
    with RawClient(broker.bootstrap_servers) as raw:
        error, base_offset = produce_error(raw.request(PRODUCE, 9, produce_request(topic, bytes(bad))))
        assert error == 2  # CORRUPT_MESSAGE
        assert base_offset == -1
        # Kafka keeps the connection open after a per-partition error.
        assert raw.request(LIST_OFFSETS, 7, list_offsets_request(topic, -1)).topics[0].partitions[0].offset == 1

    # A new connection is served, and the partition did not move.
    assert log_end(broker.bootstrap_servers, topic) == 1
    with RawClient(broker.bootstrap_servers) as raw:
        after = raw.request(PRODUCE, 9, produce_request(topic, build_batch([(None, b"next")], timestamp_ms=TS)))
        fetched = raw.request(FETCH, 12, fetch_request(topic, 0))
    assert produce_error(after) == (0, 1)
    data = fetched.responses[0].partitions[0]
    assert data.high_watermark == 2
    assert b"corrupted" not in bytes(data.records)


def test_truncated_batch_is_invalid_record(broker):
    """Kafka finds no whole batch in the partition's records: INVALID_RECORD, as for two batches or none."""
    topic = create_topic(broker.bootstrap_servers, unique("raw-trunc"), 1)
    batch = build_batch([(None, b"x" * 100)], timestamp_ms=TS)
    with RawClient(broker.bootstrap_servers) as raw:
        error, _ = produce_error(raw.request(PRODUCE, 9, produce_request(topic, batch[:-10])))
        assert error == 87  # INVALID_RECORD
        error, _ = produce_error(raw.request(PRODUCE, 9, produce_request(topic, batch + batch)))
        assert error == 87
    assert log_end(broker.bootstrap_servers, topic) == 0


def legacy_message_set(value: bytes, magic: int = 1) -> bytes:
    """One message in the pre-0.11 format (magic 0 or 1), with its CRC32."""
    body = struct.pack(">bb", magic, 0)
    if magic == 1:
        body += struct.pack(">q", TS)
    body += struct.pack(">i", -1) + struct.pack(">i", len(value)) + value
    message = struct.pack(">I", zlib.crc32(body)) + body
    return struct.pack(">qi", 0, len(message)) + message


@pytest.mark.parametrize("magic", [0, 1])
def test_legacy_message_format_is_refused(broker, magic):
    """Kafka (ProduceRequest.validateRecords): Produce v3+ must carry magic 2 batches, else INVALID_RECORD (87)."""
    topic = create_topic(broker.bootstrap_servers, unique(f"raw-magic{magic}"), 1)
    with RawClient(broker.bootstrap_servers) as raw:
        error, base_offset = produce_error(raw.request(PRODUCE, 9, produce_request(
            topic, legacy_message_set(b"old format" * 10, magic))))
    assert (error, base_offset) == (87, -1)
    assert log_end(broker.bootstrap_servers, topic) == 0


@pytest.mark.parametrize("acks", [2, -2, 5])
def test_invalid_required_acks(broker, acks):
    """Kafka (ReplicaManager.appendRecords) answers INVALID_REQUIRED_ACKS (21) per partition and appends nothing."""
    topic = create_topic(broker.bootstrap_servers, unique("raw-acks"), 1)
    with RawClient(broker.bootstrap_servers) as raw:
        response = raw.request(PRODUCE, 9, produce_request(topic, build_batch([(None, b"v")], timestamp_ms=TS),
                                                           acks=acks))
    assert produce_error(response)[0] == 21
    assert log_end(broker.bootstrap_servers, topic) == 0


def test_invalid_acks_is_answered_after_the_partition_is_found_and_its_records_framed(broker):
    """KafkaApis answers an unknown partition and unframed records first; ReplicaManager.appendRecords then
    answers INVALID_REQUIRED_ACKS for the rest."""
    topic = create_topic(broker.bootstrap_servers, unique("raw-acks-order"), 2)
    body = produce_request(topic, build_batch([(None, b"v")], timestamp_ms=TS), acks=2)
    partitions = body.topic_data[0].partition_data
    partitions.append(PRODUCE.Request.PartitionProduceData(index=7, records=partitions[0].records))
    partitions.append(PRODUCE.Request.PartitionProduceData(index=1, records=b"\x00" * 8))
    with RawClient(broker.bootstrap_servers) as raw:
        response = raw.request(PRODUCE, 9, body)
    assert [p.error_code for p in response.responses[0].partition_responses] == [21, 3, 87]


# ---------------------------------------------------------------------------------------------- versions and keys


def test_unknown_api_versions_version_gets_the_v0_answer(broker):
    with RawClient(broker.bootstrap_servers) as raw:
        # ApiVersions v99 as librdkafka would send a future version: header v2, flexible body.
        payload = raw_header(18, 99, 7, "future-client") + b"\x00" + p.compact_string("x") + \
            p.compact_string("1") + b"\x00"
        raw.send_bytes(framed(payload))
        cid, body = raw.recv(API_VERSIONS, 0)
        assert cid == 7
        assert body.error_code == 35  # UNSUPPORTED_VERSION
        served = advertised(broker.bootstrap_servers)[18]
        assert [(k.api_key, k.min_version, k.max_version) for k in body.api_keys] == [(18, *served)]

        # The client then retries on the same connection, at the highest version both know.
        retry = raw.request(API_VERSIONS, min(served[1], API_VERSIONS.versions[1]), API_VERSIONS.Request(client_software_name="x",
                                                                          client_software_version="1"))
        assert retry.error_code == 0 and len(retry.api_keys) > 5


@pytest.mark.parametrize("api_key,version", [(1000, 0), (57, 0), (3, 99), (0, 2), (1, 99)],
                         ids=["unknown-key-1000", "undeclared-key-57", "metadata-v99", "produce-v2", "fetch-v99"])
def test_unsupported_request_closes_the_connection(broker, api_key, version):
    with RawClient(broker.bootstrap_servers) as raw:
        raw.send_bytes(framed(raw_header(api_key, version, 1) + b"\x00" * 16))
        assert raw.is_closed_by_peer(timeout=5), "Kafka closes the connection on an unsupported request"
    assert_broker_serves(broker.bootstrap_servers)


def test_advertised_versions_are_served_and_nothing_beyond(broker):
    """Every advertised version is answered (those this project's codec declares: a newer Kafka advertises more),
    except Produce v0-v2: Kafka 4 advertises them only because librdkafka before 2.10 compresses nothing
    unless Produce v0 is listed (KAFKA-18659), and closes the connection on them."""
    served = advertised(broker.bootstrap_servers)
    assert served, "ApiVersions advertised nothing"
    assert served[PRODUCE.key][0] == 0
    for version in range(3):
        with RawClient(broker.bootstrap_servers) as raw:
            raw.send(PRODUCE, version, minimal_request(PRODUCE, version))
            assert raw.is_closed_by_peer(timeout=5), f"Produce v{version} was answered"
    for key, (low, high) in sorted(served.items()):
        assert 0 <= low <= high
        api = APIS.get(key)
        if api is None:
            continue
        low = 3 if api is PRODUCE else low
        for version in sorted({low, min(high, api.versions[1])}):
            body = minimal_request(api, version)
            with RawClient(broker.bootstrap_servers) as raw:
                try:
                    raw.request(api, version, body)
                except ConnectionClosed as e:
                    pytest.fail(f"{api.name} v{version} is advertised but the connection closed: {e}")
        if key == API_VERSIONS.key:
            continue
        # One past the advertised maximum is not served: the connection is closed.
        with RawClient(broker.bootstrap_servers) as raw:
            raw.send_bytes(framed(raw_header(key, high + 1, 1) + b"\x00" * 16))
            assert raw.is_closed_by_peer(timeout=5), f"{api.name} v{high + 1} is not advertised but was answered"
    assert_broker_serves(broker.bootstrap_servers)


def minimal_request(api, version: int):
    """The smallest sensible request of an API: empty lists, no ids, nothing that changes state."""
    body = api.Request()
    overrides = {"transactional_id": None, "topics": [], "acks": 1, "timeout_ms": 1000, "max_wait_ms": 0,
                 "resources": [], "transactional_ids": [], "client_software_name": "kafkette-tests",
                 "client_software_version": "1", "key": "kafkette-tests-minimal", "coordinator_keys": ["k"],
                 # DescribeAcls: ANY (1) of each, as code 0 (UNKNOWN) is a request Kafka cannot parse
                 "resource_type_filter": 1, "pattern_type_filter": 1, "operation": 1, "permission_type": 1}
    for fd in api.Request.FIELDS:
        if fd.name in overrides and fd.present(version):
            value = overrides[fd.name]
            if value is None and not fd.is_nullable(version):
                value = ""
            setattr(body, fd.name, value)
    return body


# ---------------------------------------------------------------------------------------------- frames


@pytest.fixture(scope="module")
def small_frame_broker(tmp_path_factory):
    proc = LocalBroker(tmp_path_factory.mktemp("small-frames") / "data", max_request_bytes=1048576).start()
    yield proc
    proc.stop()


@pytest.mark.kafkette_only("a kafkette of its own with --max-request-bytes 1 MiB")
def test_oversized_frame_closes_the_connection_without_reading_the_body(small_frame_broker):
    with RawClient(small_frame_broker.bootstrap_servers) as raw:
        raw.send_bytes(struct.pack(">i", 10 * 1024 * 1024))  # announce 10 MB, send none of it
        assert raw.is_closed_by_peer(timeout=5), "the broker waited for a body it should refuse"
    assert_broker_serves(small_frame_broker.bootstrap_servers)


@pytest.mark.kafkette_only("a kafkette of its own with --max-request-bytes 1 MiB")
def test_frame_just_under_the_limit_is_read(small_frame_broker):
    """A Produce of ~900 KB fits under the 1 MB frame limit and is appended."""
    topic = create_topic(small_frame_broker.bootstrap_servers, unique("raw-near-limit"), 1)
    batch = build_batch([(None, os.urandom(900 * 1024))], timestamp_ms=TS)
    with RawClient(small_frame_broker.bootstrap_servers) as raw:
        assert produce_error(raw.request(PRODUCE, 9, produce_request(topic, batch))) == (0, 0)
        # ... and one over it is not: the broker closes, before or after the client has sent it all.
        big = build_batch([(None, os.urandom(1100 * 1024))], timestamp_ms=TS)
        try:
            raw.send(PRODUCE, 9, produce_request(topic, big))
        except ConnectionClosed:
            pass
        else:
            assert raw.is_closed_by_peer(timeout=5)
    assert log_end(small_frame_broker.bootstrap_servers, topic) == 1


@pytest.mark.parametrize("garbage", [
    b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n",  # "GET " announces a 1.2 GB frame
    framed(b"\x7f\x7f" + os.urandom(60)),  # a whole frame of noise (API key 32639)
    framed(b"\x00\x12\x00\x03"),  # a header cut in the middle
    struct.pack(">i", -5) + b"abcd",  # a negative size
    framed(raw_header(3, 12, 1) + b"\x00" + b"\xff" * 40),  # Metadata v12 with a body that isn't one
], ids=["http", "noise", "short-header", "negative-size", "bad-body"])
def test_garbage_closes_the_connection_and_the_broker_lives(broker, garbage):
    with RawClient(broker.bootstrap_servers) as raw:
        raw.send_bytes(garbage)
        assert raw.is_closed_by_peer(timeout=5)
    assert_broker_serves(broker.bootstrap_servers)


# ---------------------------------------------------------------------------------------------- pipelining


def test_pipelined_requests_are_answered_in_order(broker):
    topic = create_topic(broker.bootstrap_servers, unique("raw-pipeline"), 1)
    kinds = []
    with RawClient(broker.bootstrap_servers) as raw:
        frames = []
        produced = 0
        for i in range(50):
            kind = i % 7
            if kind == 0:
                api, version, body = API_VERSIONS, 3, API_VERSIONS.Request(client_software_name="p",
                                                                           client_software_version="1")
            elif kind == 1:
                api, version = METADATA, 12
                body = METADATA.Request(topics=[METADATA.Request.MetadataRequestTopic(name=topic)],
                                        allow_auto_topic_creation=False)
            elif kind in (2, 5):
                api, version = PRODUCE, 9
                body = produce_request(topic, build_batch([(None, b"pipelined-%d" % produced)], timestamp_ms=TS))
                produced += 1
            elif kind == 3:
                api, version, body = LIST_OFFSETS, 7, list_offsets_request(topic, -1)
            elif kind == 4:
                # A long poll at the log end: the answers behind it must wait for it.
                api, version, body = FETCH, 12, fetch_request(topic, 10_000 if i < 10 else 0, max_wait_ms=200,
                                                              min_bytes=1 << 30)
            else:
                R = DESCRIBE_CONFIGS.Request
                api, version = DESCRIBE_CONFIGS, 4
                body = R(resources=[R.DescribeConfigsResource(resource_type=2, resource_name=topic,
                                                              configuration_keys=None)])
            cid, frame = raw.frame(api, version, body, correlation_id=1000 + i)
            frames.append(frame)
            kinds.append((cid, api, version))
        raw.send_bytes(b"".join(frames))

        responses = []
        for cid, api, version in kinds:
            got, body = raw.recv(api, version)
            responses.append((got, api, body))
    assert [r[0] for r in responses] == [k[0] for k in kinds]

    produce_offsets = [body.responses[0].partition_responses[0].base_offset
                       for _, api, body in responses if api is PRODUCE]
    assert produce_offsets == list(range(produced))  # appended in the order sent
    # Each ListOffsets saw exactly the produces sent before it.
    seen, before = [], 0
    for _, api, body in responses:
        if api is PRODUCE:
            before += 1
        elif api is LIST_OFFSETS:
            seen.append((body.topics[0].partitions[0].offset, before))
    assert seen and all(offset == count for offset, count in seen)
    for _, api, body in responses:
        if api is METADATA:
            assert body.topics[0].error_code == 0 and body.topics[0].name == topic
        if api is API_VERSIONS:
            assert body.error_code == 0


def test_find_coordinator_and_init_producer_id_answer(broker):
    """The coordinator APIs clients need before idempotence: this node, and a fresh producer id."""
    with RawClient(broker.bootstrap_servers) as raw:
        found = raw.request(FIND_COORDINATOR, 2, FIND_COORDINATOR.Request(key="any-txn", key_type=1))
        first = raw.request(INIT_PRODUCER_ID, 4, INIT_PRODUCER_ID.Request(transactional_id=None,
                                                                          transaction_timeout_ms=60000))
        second = raw.request(INIT_PRODUCER_ID, 4, INIT_PRODUCER_ID.Request(transactional_id=None,
                                                                           transaction_timeout_ms=60000))
    assert (found.error_code, found.node_id, f"{found.host}:{found.port}") == (0, 1, broker.bootstrap_servers)
    assert first.error_code == 0 and second.error_code == 0
    assert first.producer_id >= 0 and second.producer_id >= 0 and first.producer_id != second.producer_id
    assert first.producer_epoch == 0
