"""Produce validates records as Kafka does: each rule answered with Kafka's code, nothing stored, the partition intact.

Sources (apache/kafka): ProduceRequest.validateRecords and ByteBufferLogInputStream
(framing, one batch per partition), UnifiedLog.analyzeAndValidateRecords (base
offset, size, CRC), LogValidator.validateBatch / validateRecord (offset range,
count, control batches, sequences, keys on compacted topics, timestamps),
DefaultRecord.readFrom (every record field), ReplicaManager (record_errors and
error_message only for RecordValidationException; "Partition was not added to
the transaction"), KafkaApis.handleProduceRequest (transactional id).
"""

from __future__ import annotations

import time

import pytest

from kafkette.local_broker import LocalBroker
from kafkette.protocol.messages import FETCH, INIT_PRODUCER_ID, LIST_OFFSETS, PRODUCE
from kafkette.protocol.primitives import varint
from kafkette.protocol.records import (
    CONTROL_BIT, GZIP, LZ4, SNAPPY, ZSTD, BatchHeader, build_batch, compress, split_batches,
)
from tests.batches import TS, good_batch, record, reheader, with_body, zstd_batch
from tests.clients import ConnectionClosed, RawClient, create_topic, fetch_records, produce_request
from tests.conftest import unique

INVALID_RECORD, CORRUPT_MESSAGE, INVALID_TIMESTAMP, UNSUPPORTED_COMPRESSION, UNKNOWN_SERVER_ERROR = 87, 2, 32, 76, -1
MESSAGE_TOO_LARGE, INVALID_TXN_STATE, TXN_ID_AUTHORIZATION_FAILED, INVALID_PRODUCER_ID_MAPPING = 10, 48, 53, 49


def produce(bootstrap: str, topic: str, records: bytes, version: int = 9, transactional_id: str | None = None):
    with RawClient(bootstrap) as raw:
        response = raw.request(PRODUCE, version, produce_request(topic, records, transactional_id=transactional_id))
    return response.responses[0].partition_responses[0]


@pytest.fixture
def topic(broker) -> str:
    """A topic holding one good batch written before the bad input."""
    name = create_topic(broker.bootstrap_servers, unique("valid"), 1)
    assert produce(broker.bootstrap_servers, name, good_batch(3)).error_code == 0
    return name


def assert_untouched(broker, topic: str, timestamp_ms: int = TS) -> None:
    """Nothing of the refused batch was stored, the earlier records read back, and the partition takes more."""
    data, records = fetch_records(broker.bootstrap_servers, topic, 0, 0)
    assert data.high_watermark == 3
    assert [r.value for r in records] == [b"value-0", b"value-1", b"value-2"]
    next_batch = build_batch([(b"k", b"next")], timestamp_ms=timestamp_ms)
    assert produce(broker.bootstrap_servers, topic, next_batch).base_offset == 3


def one_record_body(offset_delta: int = 0, **kw) -> bytes:
    return record(offset_delta, **kw)


class KafketteOnly(str):
    """Why a MALFORMED case is answered so by kafkette only (the test is skipped against Kafka)."""


STORED_BY_KAFKA = KafketteOnly("Kafka 4.4 stores this batch (LogValidator does not check it); kafkette refuses it "
                               "because consumers would then read records at offsets the batch does not claim, or "
                               "keys it does not hold")

# (case, records field, Kafka's code[, Kafka's error_message, or why only kafkette answers so])
MALFORMED = [
    ("count above lastOffsetDelta + 1", lambda: reheader(good_batch(3), record_count=4), INVALID_RECORD),
    ("count below lastOffsetDelta + 1", lambda: reheader(good_batch(3), last_offset_delta=5), INVALID_RECORD),
    ("negative lastOffsetDelta", lambda: reheader(good_batch(3), last_offset_delta=-7, record_count=-6),
     INVALID_RECORD),
    ("huge lastOffsetDelta", lambda: reheader(good_batch(3), last_offset_delta=2**31 - 1), INVALID_RECORD),
    ("zero records", lambda: reheader(good_batch(1), last_offset_delta=-1, record_count=0), INVALID_RECORD),
    ("record offset deltas out of sequence", lambda: with_body(record(0) + record(2), 2), INVALID_RECORD,
     STORED_BY_KAFKA),
    ("record length past the batch", lambda: with_body(record(0, length_delta=40), 1), INVALID_RECORD),
    ("record length shorter than its fields", lambda: with_body(record(0, length_delta=-2), 1), INVALID_RECORD),
    ("record length longer than its fields", lambda: with_body(record(0, extra=b"\x00\x00"), 1), INVALID_RECORD),
    ("negative record length", lambda: with_body(varint(-5) + b"\x00" * 8, 1), INVALID_RECORD),
    ("varint of six bytes", lambda: with_body(record(0, headers=b"\x80\x80\x80\x80\x80\x01"), 1), INVALID_RECORD),
    ("key length below -1", lambda: with_body(record(0, key=None).replace(varint(-1), varint(-3), 1), 1),
     INVALID_RECORD, STORED_BY_KAFKA),
    ("value length past its record", lambda: with_body(varint(8) + b"\x00\x00\x00\x02kk\x7f\x00", 1),
     INVALID_RECORD),
    ("negative header count", lambda: with_body(record(0, headers=varint(-1)), 1), INVALID_RECORD),
    ("negative header key length", lambda: with_body(record(0, headers=varint(1) + varint(-1) + varint(-1)), 1),
     INVALID_RECORD),
    ("bytes after the last record", lambda: with_body(record(0) + record(1), 1), INVALID_RECORD),
    ("control batch from a client", lambda: reheader(good_batch(1), attributes=CONTROL_BIT), INVALID_RECORD),
    ("idempotent batch with sequence -1", lambda: good_batch(1, producer_id=7, producer_epoch=0),
     INVALID_RECORD),
    ("two batches for one partition", lambda: good_batch(1) + good_batch(1), INVALID_RECORD),
    ("base offset not 0", lambda: good_batch(1, base_offset=5), INVALID_RECORD),
    ("magic 1", lambda: reheader(good_batch(1), magic=1), INVALID_RECORD),
    ("batch shorter than its length", lambda: good_batch(1)[:-4], INVALID_RECORD),
    ("bad CRC", lambda: good_batch(1)[:-1] + b"\xff", CORRUPT_MESSAGE),
    ("batch length below 14", lambda: good_batch(1)[:8] + (10).to_bytes(4, "big") + good_batch(1)[12:],
     CORRUPT_MESSAGE, "Record size 10 is less than the minimum record overhead (14)"),
    ("magic 3", lambda: reheader(good_batch(1), magic=3), CORRUPT_MESSAGE, "Invalid magic found in record: 3"),
    ("garbage after the batch", lambda: good_batch(1) + b"\x00" * 8 + b"\x00\x00\x00\x05" + b"\x00" * 8,
     CORRUPT_MESSAGE),
    ("codec id 5", lambda: reheader(good_batch(1), attributes=5), UNKNOWN_SERVER_ERROR),
    ("codec id 7", lambda: reheader(good_batch(1), attributes=7), UNKNOWN_SERVER_ERROR),
    ("zstd payload that is not zstd", lambda: with_body(b"\x28\xb5\x2f\xfd" + b"\x11" * 40, 1, attributes=ZSTD),
     UNKNOWN_SERVER_ERROR),
    ("gzip payload cut short", lambda: with_body(compress(GZIP, record(0) * 1)[:-6], 1, attributes=GZIP),
     UNKNOWN_SERVER_ERROR),
    ("lz4 records out of sequence", lambda: with_body(compress(LZ4, record(0) + record(0)), 2, attributes=LZ4),
     INVALID_RECORD, KafketteOnly("Kafka 4.4 means INVALID_RECORD here (LogValidator's 'does not have incremental "
                                  "offsets') but fails while writing that message and answers UNKNOWN_SERVER_ERROR; "
                                  "kafkette answers what Kafka means to")),
    ("snappy record too long", lambda: with_body(compress(SNAPPY, record(0, length_delta=3)), 1,
                                                 attributes=SNAPPY), INVALID_RECORD, STORED_BY_KAFKA),
    ("zstd with more records than counted", lambda: zstd_batch(compress(ZSTD, record(0) + record(1)), 1),
     INVALID_RECORD),
]


def malformed_case(name: str, make, code: int, message: str | None = None):
    if isinstance(message, KafketteOnly):
        return pytest.param(make, code, None, id=name, marks=pytest.mark.kafkette_only(message))
    return pytest.param(make, code, message, id=name)


@pytest.mark.parametrize("records,code,kafkas_message", [malformed_case(*case) for case in MALFORMED])
def test_malformed_batch_is_refused_with_kafkas_code(broker, topic, records, code, kafkas_message):
    part = produce(broker.bootstrap_servers, topic, records())
    assert (part.error_code, part.base_offset) == (code, -1)
    if kafkas_message is not None or not isinstance(broker, LocalBroker):
        assert part.error_message == kafkas_message
    else:  # v8+: where Kafka says nothing, kafkette says what was wrong, in one line
        assert part.error_message and "\n" not in part.error_message
    assert part.record_errors == []  # Kafka lists record errors only for the key and timestamp rules
    assert_untouched(broker, topic)


def test_error_message_only_from_produce_v8(broker, topic):
    part = produce(broker.bootstrap_servers, topic, reheader(good_batch(3), record_count=4), version=7)
    assert part.error_code == INVALID_RECORD
    assert_untouched(broker, topic)


def test_zstd_before_produce_v7_is_unsupported(broker, topic):
    part = produce(broker.bootstrap_servers, topic, good_batch(1, compression=ZSTD), version=6)
    assert part.error_code == UNSUPPORTED_COMPRESSION
    assert_untouched(broker, topic)


@pytest.mark.parametrize("codec", [GZIP, SNAPPY, LZ4, ZSTD])
def test_every_codec_is_inflated_and_accepted(broker, topic, codec):
    part = produce(broker.bootstrap_servers, topic, good_batch(5, compression=codec))
    assert (part.error_code, part.base_offset) == (0, 3)
    _, records = fetch_records(broker.bootstrap_servers, topic, 0, 3)
    assert [r.value for r in records] == [b"value-%d" % i for i in range(5)]


def test_keyless_records_on_a_compacted_topic(broker):
    name = create_topic(broker.bootstrap_servers, unique("compacted"), 1, {"cleanup.policy": "compact"})
    assert produce(broker.bootstrap_servers, name, good_batch(3)).error_code == 0
    batch = build_batch([(b"a", b"1"), (None, b"2"), (b"c", b"3"), (None, b"4")], timestamp_ms=TS)
    part = produce(broker.bootstrap_servers, name, batch)
    expected = f"Compacted topic cannot accept message without key in topic partition {name}-0"
    assert part.error_code == INVALID_RECORD
    assert [(e.batch_index, e.batch_index_error_message) for e in part.record_errors] == [(1, expected), (3, expected)]
    assert part.error_message.startswith("One or more records have been rejected due to 2 record errors in total")
    assert_untouched(broker, name)


def test_timestamps_outside_the_topic_bounds(broker):
    """message.timestamp.before.max.ms (Kafka 4 has no message.timestamp.difference.max.ms any more)."""
    name = create_topic(broker.bootstrap_servers, unique("ts-bounds"), 1, {"message.timestamp.before.max.ms": "3600000"})
    now = int(time.time() * 1000)
    assert produce(broker.bootstrap_servers, name, build_batch(
        [(b"k%d" % i, b"value-%d" % i) for i in range(3)], timestamp_ms=now)).error_code == 0
    old = now - 2 * 3600_000
    batch = build_batch([(b"a", b"1", (), now), (b"b", b"2", (), old)], timestamp_ms=now)
    part = produce(broker.bootstrap_servers, name, batch)
    assert part.error_code == INVALID_TIMESTAMP
    assert part.error_message == "One or more records have been rejected due to invalid timestamp"
    assert [e.batch_index for e in part.record_errors] == [1]
    assert part.record_errors[0].batch_index_error_message.startswith(f"Timestamp {old} of message with offset 1 is")
    assert_untouched(broker, name, now)


def test_timestamps_an_hour_ahead_by_default(broker, topic):
    """Kafka 4's message.timestamp.after.max.ms defaults to one hour."""
    ahead = int(time.time() * 1000) + 2 * 3600_000
    part = produce(broker.bootstrap_servers, topic, build_batch([(b"k", b"v", (), ahead)], timestamp_ms=ahead))
    assert part.error_code == INVALID_TIMESTAMP
    assert [e.batch_index for e in part.record_errors] == [0]
    assert_untouched(broker, topic)


def test_producer_may_not_set_log_append_time_on_a_log_append_time_topic(broker):
    name = create_topic(broker.bootstrap_servers, unique("lat"), 1, {"message.timestamp.type": "LogAppendTime"})
    assert produce(broker.bootstrap_servers, name, good_batch(3)).error_code == 0
    part = produce(broker.bootstrap_servers, name, reheader(good_batch(2), attributes=0x08))
    assert part.error_code == INVALID_TIMESTAMP
    assert [e.batch_index for e in part.record_errors] == [0, 1]
    assert_untouched(broker, name)


def test_a_wrong_max_timestamp_is_set_from_the_records(broker, topic):
    """LogValidator rewrites the batch's max timestamp (setMaxTimestamp); ListOffsets then finds the records."""
    batch = reheader(build_batch([(b"a", b"1", (), TS + 10), (b"b", b"2", (), TS + 500)], timestamp_ms=TS),
                     max_timestamp=TS)
    assert produce(broker.bootstrap_servers, topic, batch).base_offset == 3
    data, _ = fetch_records(broker.bootstrap_servers, topic, 0, 3)
    stored = split_batches(bytes(data.records))[0][0]
    assert stored.max_timestamp == TS + 500
    R = LIST_OFFSETS.Request
    with RawClient(broker.bootstrap_servers) as raw:
        found = raw.request(LIST_OFFSETS, 7, R(replica_id=-1, isolation_level=0, topics=[R.ListOffsetsTopic(
            name=topic, partitions=[R.ListOffsetsPartition(partition_index=0, timestamp=TS + 100)])]))
    assert (found.topics[0].partitions[0].offset, found.topics[0].partitions[0].timestamp) == (4, TS + 500)


def init_producer(bootstrap: str, transactional_id: str | None) -> tuple[int, int]:
    R = INIT_PRODUCER_ID.Request
    with RawClient(bootstrap) as raw:
        response = raw.request(INIT_PRODUCER_ID, 4, R(transactional_id=transactional_id, transaction_timeout_ms=60000,
                                                       producer_id=-1, producer_epoch=-1))
    assert response.error_code == 0
    return response.producer_id, response.producer_epoch


def test_transactional_batch_outside_the_transaction(broker, topic):
    txn = unique("txn")
    pid, epoch = init_producer(broker.bootstrap_servers, txn)
    batch = good_batch(1, producer_id=pid, producer_epoch=epoch, base_sequence=0, transactional=True)
    part = produce(broker.bootstrap_servers, topic, batch, transactional_id=txn)
    assert (part.error_code, part.error_message) == (INVALID_TXN_STATE, "Partition was not added to the transaction")
    assert produce(broker.bootstrap_servers, topic, batch).error_code == TXN_ID_AUTHORIZATION_FAILED
    assert_untouched(broker, topic)


def test_two_transactional_producers_in_one_request(broker):
    name = create_topic(broker.bootstrap_servers, unique("two-pids"), 2)
    first = init_producer(broker.bootstrap_servers, unique("txn-a"))
    second = init_producer(broker.bootstrap_servers, unique("txn-b"))
    R = PRODUCE.Request
    body = R(transactional_id="txn-a", acks=-1, timeout_ms=5000, topic_data=[R.TopicProduceData(name=name, partition_data=[
        R.PartitionProduceData(index=i, records=good_batch(1, producer_id=pid, producer_epoch=epoch, base_sequence=0,
                                                           transactional=True))
        for i, (pid, epoch) in enumerate([first, second])])])
    with RawClient(broker.bootstrap_servers) as raw:
        response = raw.request(PRODUCE, 9, body)
    assert [p.error_code for p in response.responses[0].partition_responses] == [INVALID_PRODUCER_ID_MAPPING] * 2


def test_idempotent_and_plain_batches_still_work(broker, topic):
    pid, epoch = init_producer(broker.bootstrap_servers, None)
    assert produce(broker.bootstrap_servers, topic, good_batch(2, producer_id=pid, producer_epoch=epoch,
                                                               base_sequence=0)).base_offset == 3
    data, records = fetch_records(broker.bootstrap_servers, topic, 0, 0)
    assert data.high_watermark == 5 and len(records) == 5
    assert BatchHeader.parse(bytes(data.records)).record_count == 3


def test_fetch_still_serves_after_refusals(broker, topic):
    for _, make, _ in MALFORMED[:5]:
        produce(broker.bootstrap_servers, topic, make())
    with RawClient(broker.bootstrap_servers) as raw:
        R = FETCH.Request
        response = raw.request(FETCH, 12, R(max_wait_ms=0, min_bytes=0, max_bytes=1 << 20, isolation_level=0,
                                            session_id=0, session_epoch=-1, topics=[R.FetchTopic(topic=topic, partitions=[
                                                R.FetchPartition(partition=0, fetch_offset=0,
                                                                 partition_max_bytes=1 << 20)])],
                                            forgotten_topics_data=[], rack_id=""))
    assert response.responses[0].partitions[0].high_watermark == 3


def test_a_refused_acks_0_produce_closes_the_connection(broker, topic):
    """KafkaApis closes the connection of an acks=0 request with any error: nothing else tells the producer."""
    with RawClient(broker.bootstrap_servers) as raw:
        raw.send(PRODUCE, 9, produce_request(topic, reheader(good_batch(3), record_count=4), acks=0))
        with pytest.raises(ConnectionClosed):
            raw.recv_frame()
    assert_untouched(broker, topic)
