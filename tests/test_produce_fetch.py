"""Producing and fetching as real clients do: codecs, acks, offsets by time, fetch limits, restarts.

Messages are read back by assign() (no consumer group): the point is the log,
not group membership.
"""

from __future__ import annotations

import asyncio
import threading
import time

import pytest
from confluent_kafka import TIMESTAMP_LOG_APPEND_TIME, KafkaError, Producer, TopicPartition
from confluent_kafka.admin import OffsetSpec

from kafkette.local_broker import LocalBroker
from kafkette.protocol.messages import FETCH, PRODUCE
from kafkette.protocol.records import HEADER_SIZE, BatchHeader, NewRecord, build_batch
from tests.clients import (
    RawClient, admin, consume_assigned, consume_until, consumer, create_topic, produce_and_flush, produce_request,
    values, watermarks,
)
from tests.conftest import unique

TIMEOUT = 15
BASE_TS = 1_700_000_000_000


def whole_batches(records) -> list[BatchHeader]:
    """Headers of the complete batches in a Fetch records field (a cut trailing batch is ignored)."""
    data = bytes(records or b"")
    headers, pos = [], 0
    while len(data) - pos >= HEADER_SIZE:
        header = BatchHeader.parse(data, pos)
        if pos + header.size > len(data):
            break
        headers.append(header)
        pos += header.size
    return headers


def raw_fetch(bootstrap: str, partitions: dict[tuple[str, int], int], *, partition_max_bytes: int,
              max_bytes: int = 50 * 1024 * 1024, max_wait_ms: int = 0, isolation_level: int = 0):
    """One Fetch v12; returns {(topic, partition): PartitionData}."""
    R = FETCH.Request
    by_topic: dict[str, list] = {}
    for (topic, partition), offset in partitions.items():
        by_topic.setdefault(topic, []).append(R.FetchPartition(partition=partition, fetch_offset=offset,
                                                               partition_max_bytes=partition_max_bytes))
    body = R(max_wait_ms=max_wait_ms, min_bytes=1, max_bytes=max_bytes, isolation_level=isolation_level,
             session_id=0, session_epoch=-1, topics=[R.FetchTopic(topic=t, partitions=p) for t, p in by_topic.items()],
             forgotten_topics_data=[], rack_id="")
    with RawClient(bootstrap, timeout=max_wait_ms / 1000 + 10) as raw:
        response = raw.request(FETCH, 12, body)
    return {(t.topic, p.partition_index): p for t in response.responses for p in t.partitions}


def list_offset(client, topic: str, partition: int, spec) -> object:
    tp = TopicPartition(topic, partition)
    return client.list_offsets({tp: spec}, request_timeout=TIMEOUT)[tp].result(timeout=TIMEOUT)


# ---------------------------------------------------------------------------------------------- codecs


CODECS = {"none": 0, "gzip": 1, "snappy": 2, "lz4": 3, "zstd": 4}


@pytest.mark.parametrize("codec", list(CODECS))
def test_ten_thousand_messages_per_codec_read_back_intact(broker, codec):
    topic = create_topic(broker.bootstrap_servers, unique(f"pf-{codec}"), 2)
    count = 10_000

    def message(i: int) -> dict:
        return {"partition": i % 2, "key": None if i % 7 == 0 else b"key-%d" % i,
                "value": b"value-%06d-" % i + b"abcdefgh" * (i % 5),
                "headers": [("seq", str(i).encode()), ("codec", codec.encode()), ("empty", None)]}

    produce_and_flush(broker.bootstrap_servers, topic, (message(i) for i in range(count)),
                      **{"compression.codec": codec, "linger.ms": 20, "batch.num.messages": 1000})
    got = consume_assigned(broker.bootstrap_servers, topic, count, partitions=(0, 1), timeout=60)
    assert len(got) == count

    by_partition = {0: [], 1: []}
    for m in got:
        by_partition[m.partition()].append(m)
    for partition, messages in by_partition.items():
        expected = [message(i) for i in range(partition, count, 2)]
        assert [m.offset() for m in messages] == list(range(len(expected)))
        assert [m.value() for m in messages] == [e["value"] for e in expected]
        assert [m.key() for m in messages] == [e["key"] for e in expected]
        assert [m.headers() for m in messages] == [e["headers"] for e in expected]

    # The broker stores the producer's batches as they came: still compressed with this codec. librdkafka
    # sends a batch uncompressed when compressing would make it larger (rd_kafka_msgset_writer_compress),
    # which a batch of one or two short records can be; those come back uncompressed, as they were sent.
    data = raw_fetch(broker.bootstrap_servers, {(topic, 0): 0}, partition_max_bytes=1 << 20)[(topic, 0)]
    batches = whole_batches(data.records)
    compressions = [b.compression for b in batches]
    assert CODECS[codec] in compressions and set(compressions) <= {CODECS[codec], CODECS["none"]}


# ---------------------------------------------------------------------------------------------- acks


@pytest.mark.parametrize("acks", ["0", "1", "all"])
def test_acks(broker, acks):
    topic = create_topic(broker.bootstrap_servers, unique(f"pf-acks{acks}"), 1)
    delivered = produce_and_flush(broker.bootstrap_servers, topic, ({"value": b"a%d" % i} for i in range(200)), acks=acks)
    if acks != "0":
        # With acks the broker tells each message's offset.
        assert sorted(m.offset() for m in delivered) == list(range(200))
    got = consume_assigned(broker.bootstrap_servers, topic, 200)
    assert values(got) == [b"a%d" % i for i in range(200)]
    assert watermarks(broker.bootstrap_servers, topic) == (0, 200)


def test_acks_zero_raw_gets_no_response(broker):
    """Kafka sends nothing back for acks=0; the next request's answer is the next thing on the wire."""
    topic = create_topic(broker.bootstrap_servers, unique("pf-acks0-raw"), 1)
    batch = build_batch([(None, b"fire-and-forget")], timestamp_ms=BASE_TS)
    request = produce_request(topic, batch, acks=0)
    with RawClient(broker.bootstrap_servers) as raw:
        raw.send(PRODUCE, 9, request)
        request.acks = 1
        second = raw.send(PRODUCE, 9, request)
        cid, response = raw.recv(PRODUCE, 9)
    assert cid == second
    assert response.responses[0].partition_responses[0].base_offset == 1
    assert watermarks(broker.bootstrap_servers, topic) == (0, 2)


# ---------------------------------------------------------------------------------------------- offsets


def test_offsets_for_times_across_batches(broker):
    topic = create_topic(broker.bootstrap_servers, unique("pf-times"), 1)
    # Five batches of ten, each batch 1000 ms after the previous; offsets 10k..10k+9 have BASE_TS + 1000k.
    for k in range(5):
        produce_and_flush(broker.bootstrap_servers, topic, ({"value": b"b%d-%d" % (k, i), "timestamp": BASE_TS + 1000 * k}
                                                    for i in range(10)))
    c = consumer(broker.bootstrap_servers)
    try:
        def lookup(ts: int) -> int:
            return c.offsets_for_times([TopicPartition(topic, 0, ts)], timeout=TIMEOUT)[0].offset

        for k in range(5):
            assert lookup(BASE_TS + 1000 * k) == 10 * k
            assert lookup(BASE_TS + 1000 * k - 1) == 10 * k
        assert lookup(BASE_TS + 1000 * 2 + 1) == 30
        assert lookup(0) == 0
        assert lookup(BASE_TS + 1000 * 4 + 1) == -1  # nothing that late: OFFSET_END
    finally:
        c.close()


def test_offsets_for_times_within_one_batch(broker):
    topic = create_topic(broker.bootstrap_servers, unique("pf-times1"), 1)
    stamps = [BASE_TS + 10 * i for i in range(8)] + [BASE_TS + 500, BASE_TS + 200, BASE_TS + 300]
    # One batch for certain: a client's linger may split the records when the machine is busy.
    records = build_batch([NewRecord(None, b"t%d" % i, (), ts) for i, ts in enumerate(stamps)], timestamp_ms=BASE_TS)
    with RawClient(broker.bootstrap_servers) as raw:
        response = raw.request(PRODUCE, 9, produce_request(topic, records))
    assert response.responses[0].partition_responses[0].error_code == 0
    fetched = raw_fetch(broker.bootstrap_servers, {(topic, 0): 0}, partition_max_bytes=1 << 20)[(topic, 0)]
    assert len(whole_batches(fetched.records)) == 1, "the producer was expected to send one batch"

    c = consumer(broker.bootstrap_servers)
    try:
        def lookup(ts: int) -> int:
            return c.offsets_for_times([TopicPartition(topic, 0, ts)], timeout=TIMEOUT)[0].offset

        assert lookup(BASE_TS) == 0
        assert lookup(BASE_TS + 25) == 3
        assert lookup(BASE_TS + 70) == 7
        assert lookup(BASE_TS + 71) == 8  # the 500 ms record is the first at or after
        assert lookup(BASE_TS + 250) == 8  # not the later 300 ms one: the first in offset order
        assert lookup(BASE_TS + 501) == -1
    finally:
        c.close()


def test_list_offsets_earliest_latest_and_max_timestamp(broker):
    topic = create_topic(broker.bootstrap_servers, unique("pf-listoff"), 2)
    stamps = [BASE_TS + 5, BASE_TS + 900, BASE_TS + 40, BASE_TS + 900, BASE_TS + 1]
    produce_and_flush(broker.bootstrap_servers, topic, ({"value": b"x", "partition": 0, "timestamp": ts} for ts in stamps))
    client = admin(broker.bootstrap_servers)

    assert list_offset(client, topic, 0, OffsetSpec.earliest()).offset == 0
    assert list_offset(client, topic, 0, OffsetSpec.latest()).offset == 5
    top = list_offset(client, topic, 0, OffsetSpec.max_timestamp())
    assert (top.offset, top.timestamp) == (1, BASE_TS + 900)  # the first of the two largest
    by_time = list_offset(client, topic, 0, OffsetSpec.for_timestamp(BASE_TS + 30))
    assert (by_time.offset, by_time.timestamp) == (1, BASE_TS + 900)

    # The empty partition: both ends are 0, no max timestamp.
    assert list_offset(client, topic, 1, OffsetSpec.earliest()).offset == 0
    assert list_offset(client, topic, 1, OffsetSpec.latest()).offset == 0
    assert list_offset(client, topic, 1, OffsetSpec.max_timestamp()).offset == -1

    assert watermarks(broker.bootstrap_servers, topic, 0) == (0, 5)
    assert watermarks(broker.bootstrap_servers, topic, 1) == (0, 0)


def test_fetch_beyond_the_log_end_is_offset_out_of_range(broker):
    topic = create_topic(broker.bootstrap_servers, unique("pf-oor"), 1)
    produce_and_flush(broker.bootstrap_servers, topic, ({"value": b"m%d" % i} for i in range(10)))

    data = raw_fetch(broker.bootstrap_servers, {(topic, 0): 1000}, partition_max_bytes=1 << 20)[(topic, 0)]
    assert data.error_code == 1  # OFFSET_OUT_OF_RANGE
    # Kafka's offsets beside a partition error are -1 (the client learns the log's bounds from ListOffsets)
    assert (data.high_watermark, data.last_stable_offset, data.log_start_offset) == (-1, -1, -1)
    # Fetching exactly at the log end is not out of range: just nothing yet.
    at_end = raw_fetch(broker.bootstrap_servers, {(topic, 0): 10}, partition_max_bytes=1 << 20)[(topic, 0)]
    assert at_end.error_code == 0 and not whole_batches(at_end.records)

    strict = consumer(broker.bootstrap_servers, **{"auto.offset.reset": "error"})
    try:
        strict.assign([TopicPartition(topic, 0, 1000)])
        deadline = time.monotonic() + 10
        error = None
        while error is None and time.monotonic() < deadline:
            msg = strict.poll(0.5)
            if msg is not None:
                assert msg.error() is not None, f"unexpected message at offset {msg.offset()}"
                error = msg.error()
        assert error is not None, "no error reported for an out-of-range offset"
        assert error.code() in (KafkaError.OFFSET_OUT_OF_RANGE, KafkaError._AUTO_OFFSET_RESET)
        assert "out of range" in error.str().lower()
    finally:
        strict.close()

    # With auto.offset.reset=earliest the consumer starts over from offset 0.
    got = consume_assigned(broker.bootstrap_servers, topic, 10, start=1000, **{"auto.offset.reset": "earliest"})
    assert [m.offset() for m in got] == list(range(10))


def test_long_poll_returns_a_message_produced_while_waiting(broker):
    topic = create_topic(broker.bootstrap_servers, unique("pf-longpoll"), 1)
    produce_and_flush(broker.bootstrap_servers, topic, [{"value": b"before"}])

    c = consumer(broker.bootstrap_servers, **{"fetch.wait.max.ms": 5000, "fetch.min.bytes": 1})
    producer = Producer({"bootstrap.servers": broker.bootstrap_servers, "linger.ms": 0})
    try:
        c.assign([TopicPartition(topic, 0, 1)])
        assert c.poll(1.5) is None  # the consumer is now parked in a long poll
        sent_at = time.monotonic()
        producer.produce(topic, b"during")
        assert producer.flush(10) == 0
        got = consume_until(c, 1, timeout=10)
        latency = time.monotonic() - sent_at
    finally:
        c.close()
    assert values(got) == [b"during"] and got[0].offset() == 1
    print(f"long-poll wake-up latency: {latency * 1000:.1f} ms")


def test_raw_long_poll_is_woken_by_an_append(broker):
    topic = create_topic(broker.bootstrap_servers, unique("pf-longpoll-raw"), 1)
    result: dict = {}

    def poll() -> None:
        result["data"] = raw_fetch(broker.bootstrap_servers, {(topic, 0): 0}, partition_max_bytes=1 << 20,
                                   max_wait_ms=5000)[(topic, 0)]
        result["at"] = time.monotonic()

    waiter = threading.Thread(target=poll)
    waiter.start()
    time.sleep(0.5)
    sent_at = time.monotonic()
    produce_and_flush(broker.bootstrap_servers, topic, [{"value": b"wake"}])
    waiter.join(20)
    assert not waiter.is_alive()
    data = result["data"]
    assert data.error_code == 0 and data.high_watermark == 1
    assert [b.base_offset for b in whole_batches(data.records)] == [0]
    print(f"raw long-poll answered {(result['at'] - sent_at) * 1000:.1f} ms after the produce was sent")


# ---------------------------------------------------------------------------------------------- fetch limits


BIG = 2 * 1024 * 1024


def test_a_batch_larger_than_the_fetch_limits_is_still_returned_whole(broker):
    topic = create_topic(broker.bootstrap_servers, unique("pf-big"), 1, {"max.message.bytes": str(4 * 1024 * 1024)})
    big_value = bytes(range(256)) * (BIG // 256)
    small = [{"value": b"small-%d" % i} for i in range(3)]
    for message in small + [{"value": big_value, "key": b"big"}] + small:
        produce_and_flush(broker.bootstrap_servers, topic, [message],
                          **{"message.max.bytes": 4 * 1024 * 1024, "compression.codec": "none"})

    got = consume_assigned(broker.bootstrap_servers, topic, 7, timeout=30,
                           **{"fetch.max.bytes": 1024, "max.partition.fetch.bytes": 1024,
                              "message.max.bytes": 1000})
    assert [m.offset() for m in got] == list(range(7))
    assert got[3].key() == b"big" and got[3].value() == big_value
    assert values(got[:3]) == values(got[4:]) == [b"small-%d" % i for i in range(3)]

    # From the big batch with a 1 KB limit: exactly that batch, whole, nothing after it.
    at_big = raw_fetch(broker.bootstrap_servers, {(topic, 0): 3}, partition_max_bytes=1024, max_bytes=1024)[(topic, 0)]
    batches = whole_batches(at_big.records)
    assert [b.base_offset for b in batches] == [3]
    assert batches[0].size > BIG and len(at_big.records) == batches[0].size

    # From the start with a limit fitting two small batches: no more bytes than the limit.
    everything = raw_fetch(broker.bootstrap_servers, {(topic, 0): 0}, partition_max_bytes=1 << 20)[(topic, 0)]
    first = whole_batches(everything.records)[0]
    limit = 2 * first.size + 10
    head = raw_fetch(broker.bootstrap_servers, {(topic, 0): 0}, partition_max_bytes=limit)[(topic, 0)]
    assert len(head.records) <= limit
    assert [b.base_offset for b in whole_batches(head.records)] == [0, 1]


def test_fetch_max_bytes_across_partitions(broker):
    topic = create_topic(broker.bootstrap_servers, unique("pf-maxbytes"), 3)
    for i in range(30):
        produce_and_flush(broker.bootstrap_servers, topic, [{"value": b"%04d" % i + b"." * 200, "partition": i % 3}])
    offsets = {(topic, p): 0 for p in range(3)}
    one = whole_batches(raw_fetch(broker.bootstrap_servers, {(topic, 0): 0}, partition_max_bytes=1 << 20)[(topic, 0)].records)
    assert len(one) == 10
    batch_size = one[0].size

    # The response as a whole is bounded by max_bytes (whole batches only).
    limited = raw_fetch(broker.bootstrap_servers, offsets, partition_max_bytes=1 << 20, max_bytes=4 * batch_size)
    total = sum(len(p.records or b"") for p in limited.values())
    assert 0 < total <= 4 * batch_size
    assert all(p.error_code == 0 and p.high_watermark == 10 for p in limited.values())

    # Even a max_bytes below one batch returns that one batch of the first partition.
    tiny = raw_fetch(broker.bootstrap_servers, offsets, partition_max_bytes=1 << 20, max_bytes=10)
    sizes = {k: len(p.records or b"") for k, p in tiny.items()}
    assert sum(sizes.values()) == batch_size and sizes[(topic, 0)] == batch_size


def test_a_batch_over_max_message_bytes_is_refused(broker):
    """Kafka checks each batch against the topic's max.message.bytes: MESSAGE_TOO_LARGE (10)."""
    topic = create_topic(broker.bootstrap_servers, unique("pf-toolarge"), 1, {"max.message.bytes": "10000"})
    batch = build_batch([(None, b"z" * 20000)], timestamp_ms=BASE_TS)
    with RawClient(broker.bootstrap_servers) as raw:
        response = raw.request(PRODUCE, 9, produce_request(topic, batch))
    assert response.responses[0].partition_responses[0].error_code == 10
    assert watermarks(broker.bootstrap_servers, topic) == (0, 0)


def test_log_append_time_topic_stamps_records_with_broker_time(broker):
    """message.timestamp.type=LogAppendTime: the broker's clock replaces the producer's timestamps."""
    topic = create_topic(broker.bootstrap_servers, unique("pf-appendtime"), 1, {"message.timestamp.type": "LogAppendTime"})
    before_ms = int(time.time() * 1000)
    delivered = produce_and_flush(broker.bootstrap_servers, topic, [{"value": b"old-%d" % i, "timestamp": BASE_TS}
                                                            for i in range(3)])
    after_ms = int(time.time() * 1000)
    # The produce answer carries the append time, and the client reports it.
    assert all(m.timestamp()[0] == TIMESTAMP_LOG_APPEND_TIME for m in delivered), [m.timestamp() for m in delivered]
    got = consume_assigned(broker.bootstrap_servers, topic, 3)
    assert values(got) == [b"old-%d" % i for i in range(3)]
    for m in got:
        kind, ts = m.timestamp()
        assert kind == TIMESTAMP_LOG_APPEND_TIME
        assert before_ms - 1000 <= ts <= after_ms + 1000, (ts, before_ms, after_ms)


# ---------------------------------------------------------------------------------------------- durability


@pytest.mark.kafkette_only("restarts the broker")
def test_clean_restart_loses_nothing(fresh_broker):
    topic = create_topic(fresh_broker.bootstrap_servers, unique("pf-restart"), 3)
    count = 3000
    produce_and_flush(fresh_broker.bootstrap_servers, topic, ({"key": b"k%d" % i, "value": b"v%d" % i, "partition": i % 3}
                                                      for i in range(count)))
    before = [watermarks(fresh_broker.bootstrap_servers, topic, p) for p in range(3)]
    assert before == [(0, count // 3)] * 3

    fresh_broker.restart()
    assert [watermarks(fresh_broker.bootstrap_servers, topic, p) for p in range(3)] == before
    got = consume_assigned(fresh_broker.bootstrap_servers, topic, count, partitions=(0, 1, 2), timeout=30)
    assert len(got) == count
    for m in got:
        i = int(m.value()[1:])
        assert (m.partition(), m.offset(), m.key()) == (i % 3, i // 3, b"k%d" % i)

    # Appends after the restart continue at the old log end.
    delivered = produce_and_flush(fresh_broker.bootstrap_servers, topic, [{"value": b"after", "partition": 1}])
    assert delivered[0].offset() == count // 3


@pytest.mark.kafkette_only("a kafkette of its own with 64 KB segments, restarted")
def test_segments_roll_and_reads_cross_them(tmp_path):
    proc = LocalBroker(tmp_path / "data", segment_bytes=65536).start()
    try:
        topic = create_topic(proc.bootstrap_servers, unique("pf-segments"), 1)
        count = 3000
        produce_and_flush(proc.bootstrap_servers, topic, ({"value": b"%05d" % i + b"-" * 200, "timestamp": BASE_TS + i}
                                                  for i in range(count)), **{"batch.num.messages": 50})
        segments = sorted((tmp_path / "data" / f"{topic}-0").glob("*.log"))
        assert len(segments) >= 8, f"expected many 64 KB segments for ~650 KB, got {len(segments)}"
        assert all(s.stat().st_size <= 65536 for s in segments[:-1])
        bases = [int(s.name.split(".")[0]) for s in segments]
        assert bases[0] == 0 and bases == sorted(bases)

        got = consume_assigned(proc.bootstrap_servers, topic, count, timeout=30)
        assert [int(m.value()[:5]) for m in got] == list(range(count))
        # A read starting inside a later segment, and one starting exactly at a segment's base.
        middle = bases[len(bases) // 2]
        for start in (middle, middle + 7):
            part = consume_assigned(proc.bootstrap_servers, topic, count - start, start=start, timeout=30)
            assert [m.offset() for m in part] == list(range(start, count))
        c = consumer(proc.bootstrap_servers)
        try:
            found = c.offsets_for_times([TopicPartition(topic, 0, BASE_TS + middle + 3)], timeout=TIMEOUT)
            assert found[0].offset == middle + 3
        finally:
            c.close()

        proc.restart()
        assert watermarks(proc.bootstrap_servers, topic) == (0, count)
        again = consume_assigned(proc.bootstrap_servers, topic, count - bases[-1], start=bases[-1], timeout=30)
        assert [m.offset() for m in again] == list(range(bases[-1], count))
    finally:
        proc.stop()


# ---------------------------------------------------------------------------------------------- other clients


def test_kafka_python_produces_and_consumes(broker):
    from kafka import KafkaConsumer, KafkaProducer
    from kafka import TopicPartition as KTopicPartition

    topic = create_topic(broker.bootstrap_servers, unique("pf-kpy"), 2)
    producer = KafkaProducer(bootstrap_servers=broker.bootstrap_servers, acks="all", linger_ms=5, compression_type="gzip")
    try:
        futures = [producer.send(topic, key=b"k%d" % i, value=b"kafka-python-%d" % i, partition=i % 2,
                                 headers=[("i", str(i).encode())]) for i in range(500)]
        producer.flush(timeout=30)
        metas = [f.get(timeout=10) for f in futures]
    finally:
        producer.close(timeout=10)
    assert sorted(m.offset for m in metas if m.partition == 0) == list(range(250))

    c = KafkaConsumer(bootstrap_servers=broker.bootstrap_servers, group_id=None, enable_auto_commit=False,
                      auto_offset_reset="earliest", consumer_timeout_ms=10_000)
    got = []
    try:
        c.assign([KTopicPartition(topic, 0), KTopicPartition(topic, 1)])
        c.seek_to_beginning()
        deadline = time.monotonic() + 30
        while len(got) < 500 and time.monotonic() < deadline:
            for records in c.poll(timeout_ms=500).values():
                got.extend(records)
    finally:
        c.close()
    assert len(got) == 500
    for r in got:
        i = int(r.value.rsplit(b"-", 1)[1])
        assert (r.partition, r.key, r.headers) == (i % 2, b"k%d" % i, [("i", str(i).encode())])
    for p in (0, 1):
        assert [r.offset for r in got if r.partition == p] == list(range(250))
    # And confluent_kafka reads the same thing.
    assert len(consume_assigned(broker.bootstrap_servers, topic, 500, partitions=(0, 1))) == 500


def test_aiokafka_produces_and_consumes(broker):
    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
    from aiokafka.structs import TopicPartition as ATopicPartition

    topic = create_topic(broker.bootstrap_servers, unique("pf-aio"), 2)

    async def run() -> tuple[list, list]:
        producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap_servers, acks="all", compression_type="lz4",
                                    linger_ms=5)
        await producer.start()
        try:
            futures = [await producer.send(topic, key=b"k%d" % i, value=b"aiokafka-%d" % i, partition=i % 2)
                       for i in range(500)]
            metas = await asyncio.wait_for(asyncio.gather(*futures), 30)
        finally:
            await producer.stop()
        c = AIOKafkaConsumer(bootstrap_servers=broker.bootstrap_servers, group_id=None, enable_auto_commit=False,
                             auto_offset_reset="earliest")
        await c.start()
        got = []
        try:
            c.assign([ATopicPartition(topic, 0), ATopicPartition(topic, 1)])
            await c.seek_to_beginning()
            deadline = time.monotonic() + 30
            while len(got) < 500 and time.monotonic() < deadline:
                for records in (await c.getmany(timeout_ms=500)).values():
                    got.extend(records)
        finally:
            await c.stop()
        return metas, got

    metas, got = asyncio.run(asyncio.wait_for(run(), 90))
    assert sorted(m.offset for m in metas if m.partition == 1) == list(range(250))
    assert len(got) == 500
    for r in got:
        i = int(r.value.rsplit(b"-", 1)[1])
        assert (r.partition, r.key) == (i % 2, b"k%d" % i)
    for p in (0, 1):
        assert [r.offset for r in got if r.partition == p] == list(range(250))
