"""Idempotent producers: no loss and no duplicates across dropped connections, and the producer-state rules.

The end-to-end test drives librdkafka through a proxy that cuts every
connection several times; the raw tests send the exact batches Kafka's
producer-state rules are about (replays, sequence gaps, stale epochs,
non-transactional writes inside a transaction).
"""

from __future__ import annotations

import threading
import time

import pytest
from confluent_kafka import Producer

from kafkette.local_broker import LocalBroker, free_port
from kafkette.protocol.messages import ADD_PARTITIONS_TO_TXN, END_TXN, INIT_PRODUCER_ID, LIST_OFFSETS, PRODUCE
from kafkette.protocol.records import build_batch
from tests.clients import DropProxy, RawClient, consume_assigned, create_topic, produce_request, watermarks
from tests.conftest import unique

TS = 1_700_000_000_000


def init_producer(raw: RawClient, transactional_id: str | None = None) -> tuple[int, int]:
    response = raw.request(INIT_PRODUCER_ID, 4, INIT_PRODUCER_ID.Request(transactional_id=transactional_id,
                                                                         transaction_timeout_ms=60000))
    assert response.error_code == 0
    return response.producer_id, response.producer_epoch


def batch(producer_id: int, epoch: int, sequence: int, count: int = 5, transactional: bool = False,
          tag: bytes = b"r") -> bytes:
    return build_batch([(None, b"%s-%d" % (tag, sequence + i)) for i in range(count)], timestamp_ms=TS,
                       producer_id=producer_id, producer_epoch=epoch, base_sequence=sequence,
                       transactional=transactional)


def produce(raw: RawClient, topic: str, records: bytes, partition: int = 0,
            transactional_id: str | None = None) -> tuple[int, int]:
    """(error code, base offset) of one partition's Produce."""
    response = raw.request(PRODUCE, 9, produce_request(topic, records, partition, transactional_id=transactional_id))
    part = response.responses[0].partition_responses[0]
    return part.error_code, part.base_offset


def log_end(raw: RawClient, topic: str, partition: int = 0) -> int:
    R = LIST_OFFSETS.Request
    response = raw.request(LIST_OFFSETS, 7, R(replica_id=-1, isolation_level=0, topics=[R.ListOffsetsTopic(
        name=topic, partitions=[R.ListOffsetsPartition(partition_index=partition, timestamp=-1)])]))
    return response.topics[0].partitions[0].offset


def wait_for_log_end(raw: RawClient, topic: str, offset: int, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while log_end(raw, topic) != offset:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


# ---------------------------------------------------------------------------------------------- end to end


@pytest.mark.kafkette_only("a kafkette of its own that advertises a dropping proxy's port")
def test_no_loss_no_duplicates_across_dropped_connections(tmp_path):
    port = free_port()
    proxy = DropProxy(port).start()
    # clients reconnect through the proxy after each drop
    proc = LocalBroker(tmp_path / "data", port=port, advertised_port=proxy.port).start()
    try:
        bootstrap = f"127.0.0.1:{proxy.port}"
        topic = create_topic(bootstrap, unique("idem-drops"), 3)
        total = 100_000
        producer = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True, "acks": "all",
                             "linger.ms": 5, "message.timeout.ms": 60000, "reconnect.backoff.ms": 10,
                             "reconnect.backoff.max.ms": 200})
        errors: list = []
        delivered = [0]

        def report(err, msg) -> None:
            if err is not None:
                errors.append(err)
            else:
                delivered[0] += 1

        cut: list[int] = []
        at_drop: list[int] = []

        def dropper() -> None:
            """Three drops, each once a share of the messages is delivered and a connection is live."""
            deadline = time.monotonic() + 60
            for threshold in (total // 5, total // 2, total * 4 // 5):
                while time.monotonic() < deadline and (delivered[0] < threshold or proxy.live() == 0):
                    time.sleep(0.002)
                cut.append(proxy.drop_all())
                at_drop.append(delivered[0])

        def wait_for_drops(count: int) -> None:
            """Serve delivery reports until the dropper has cut `count` times (it may lag under load)."""
            deadline = time.monotonic() + 60
            while len(at_drop) < count and time.monotonic() < deadline:
                producer.poll(0.002)

        # The loop produces no further than a tenth past each drop's share before that drop has
        # happened, so every drop comes before the last delivery however late the dropper runs.
        gates = {total * 3 // 10: 1, total * 6 // 10: 2, total * 9 // 10: 3}
        dropping = threading.Thread(target=dropper, daemon=True)
        dropping.start()
        for i in range(total):
            if i in gates:
                wait_for_drops(gates[i])
            while True:
                try:
                    producer.produce(topic, value=b"%06d" % i, partition=i % 3, on_delivery=report)
                    break
                except BufferError:
                    producer.poll(0.05)
            if i % 1000 == 999:
                producer.poll(0.02)  # paced over a few seconds, so the drops land mid-run
        remaining = producer.flush(90)
        dropping.join(5)
        print(f"connections cut per drop: {cut} (delivered by then: {at_drop}); "
              f"accepted through the proxy: {proxy.accepted}")
        assert remaining == 0 and not errors, f"{remaining} undelivered, errors: {errors[:5]}"
        assert delivered[0] == total
        assert len(cut) == 3 and all(n >= 1 for n in cut), f"a drop cut no live connection: {cut}"
        assert all(n < total for n in at_drop), f"a drop came after the last delivery: {at_drop}"

        got = consume_assigned(bootstrap, topic, total, partitions=(0, 1, 2), timeout=60)
        assert len(got) == total
        seen = [int(m.value()) for m in got]
        assert len(set(seen)) == total and set(seen) == set(range(total))
        for p in range(3):
            in_partition = [m for m in got if m.partition() == p]
            assert [int(m.value()) for m in in_partition] == list(range(p, total, 3))  # producer order
            assert [m.offset() for m in in_partition] == list(range(len(in_partition)))  # no gaps, no doubles
            assert watermarks(bootstrap, topic, p) == (0, len(in_partition))
    finally:
        proxy.stop()
        proc.stop()


# ---------------------------------------------------------------------------------------------- producer state


def test_replayed_produce_is_answered_with_the_original_offset(broker):
    topic = create_topic(broker.bootstrap_servers, unique("idem-replay"), 1)
    with RawClient(broker.bootstrap_servers) as raw:
        pid, epoch = init_producer(raw)
        assert produce(raw, topic, batch(-1, -1, -1, count=3, tag=b"plain")) == (0, 0)
        _, frame = raw.frame(PRODUCE, 9, produce_request(topic, batch(pid, epoch, 0)))
        raw.send_bytes(frame)
        first = raw.recv(PRODUCE, 9)[1].responses[0].partition_responses[0]
        raw.send_bytes(frame)  # exactly the same bytes again, as a retry after a lost answer
        second = raw.recv(PRODUCE, 9)[1].responses[0].partition_responses[0]
        assert (first.error_code, first.base_offset) == (0, 3)
        assert (second.error_code, second.base_offset) == (0, 3)
        assert log_end(raw, topic) == 8

        # The next batches carry on; a replay of any of the last five is still recognised.
        offsets = {0: 3}
        for seq in range(5, 30, 5):
            code, offset = produce(raw, topic, batch(pid, epoch, seq))
            assert code == 0
            offsets[seq] = offset
        end = log_end(raw, topic)
        assert end == 3 + 30
        for seq in (5, 15, 25):
            assert produce(raw, topic, batch(pid, epoch, seq)) == (0, offsets[seq])
        # One older than the last five is no longer known: out of order, as in Kafka.
        assert produce(raw, topic, batch(pid, epoch, 0))[0] == 45
        assert log_end(raw, topic) == end


def test_sequence_gap_is_out_of_order_and_writes_nothing(broker):
    topic = create_topic(broker.bootstrap_servers, unique("idem-gap"), 1)
    with RawClient(broker.bootstrap_servers) as raw:
        pid, epoch = init_producer(raw)
        assert produce(raw, topic, batch(pid, epoch, 0)) == (0, 0)
        for bad_sequence in (10, 6, 4):  # a gap, one too far, and an overlap that is no exact replay
            code, offset = produce(raw, topic, batch(pid, epoch, bad_sequence))
            assert (code, offset) == (45, -1), bad_sequence  # OUT_OF_ORDER_SEQUENCE_NUMBER
        assert log_end(raw, topic) == 5
        assert produce(raw, topic, batch(pid, epoch, 5)) == (0, 5)  # the right one still goes in
        assert log_end(raw, topic) == 10


def test_stale_epoch_is_invalid_producer_epoch(broker):
    topic = create_topic(broker.bootstrap_servers, unique("idem-epoch"), 1)
    with RawClient(broker.bootstrap_servers) as raw:
        pid, epoch = init_producer(raw)
        assert produce(raw, topic, batch(pid, epoch, 0)) == (0, 0)
        assert produce(raw, topic, batch(pid, epoch + 1, 0)) == (0, 5)  # a new epoch starts at sequence 0
        code, offset = produce(raw, topic, batch(pid, epoch, 5))
        assert (code, offset) == (47, -1)  # INVALID_PRODUCER_EPOCH (never PRODUCER_FENCED on Produce)
        assert log_end(raw, topic) == 10
        # A new epoch must start at sequence 0.
        assert produce(raw, topic, batch(pid, epoch + 2, 3))[0] == 45
        assert log_end(raw, topic) == 10


def test_transactional_producer_state_rules(broker):
    topic = create_topic(broker.bootstrap_servers, unique("idem-txn"), 2)
    tid = unique("tid-raw")
    A = ADD_PARTITIONS_TO_TXN.Request
    with RawClient(broker.bootstrap_servers) as raw:
        pid, epoch = init_producer(raw, tid)
        added = raw.request(ADD_PARTITIONS_TO_TXN, 3, A(
            v3_and_below_transactional_id=tid, v3_and_below_producer_id=pid, v3_and_below_producer_epoch=epoch,
            v3_and_below_topics=[A.AddPartitionsToTxnTopic(name=topic, partitions=[0])]))
        assert added.results_by_topic_v3_and_below[0].results_by_partition[0].partition_error_code == 0
        assert produce(raw, topic, batch(pid, epoch, 0, transactional=True), transactional_id=tid) == (0, 0)

        # A non-transactional batch from the producer while its transaction is open.
        assert produce(raw, topic, batch(pid, epoch, 5)) == (48, -1)  # INVALID_TXN_STATE
        # A transactional batch for a partition never added to the transaction (Produce < v11).
        assert produce(raw, topic, batch(pid, epoch, 0, transactional=True), partition=1,
                       transactional_id=tid) == (48, -1)
        assert log_end(raw, topic, 0) == 5 and log_end(raw, topic, 1) == 0

        ended = raw.request(END_TXN, 3, END_TXN.Request(transactional_id=tid, producer_id=pid,
                                                        producer_epoch=epoch, committed=False))
        assert ended.error_code == 0
        assert wait_for_log_end(raw, topic, 6)  # the ABORT marker (Kafka writes it just after answering EndTxn)

        # A second init bumps the epoch: the old epoch's transactional batches are refused.
        new_pid, new_epoch = init_producer(raw, tid)
        assert (new_pid, new_epoch) == (pid, epoch + 1)
        code, _ = produce(raw, topic, batch(pid, epoch, 5, transactional=True), transactional_id=tid)
        assert code == 47  # INVALID_PRODUCER_EPOCH
        assert log_end(raw, topic, 0) == 6
