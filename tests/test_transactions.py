"""Transactions as clients see them: commit, abort, the LSO, fencing, timeouts, restarts, admin views.

confluent_kafka (librdkafka) is the main client; kafka-python and aiokafka
transactional producers are checked too, since they use older API versions.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter

import pytest
from confluent_kafka import IsolationLevel, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import OffsetSpec

from kafkette.local_broker import LocalBroker
from kafkette.protocol.messages import DESCRIBE_PRODUCERS, DESCRIBE_TRANSACTIONS, INIT_PRODUCER_ID, LIST_TRANSACTIONS
from tests.clients import (
    RawClient, admin, consume_until, consumer, create_topic, drain, fetch_records, produce_and_flush, values,
    watermarks,
)
from tests.conftest import unique

TIMEOUT = 20
FENCED_CODES = (KafkaError._FENCED, KafkaError.PRODUCER_FENCED, KafkaError.INVALID_PRODUCER_EPOCH)


def txn_producer(bootstrap: str, transactional_id: str | None = None, **config) -> Producer:
    producer = Producer({"bootstrap.servers": bootstrap, "transactional.id": transactional_id or unique("tid"),
                         "linger.ms": 5, **config})
    producer.init_transactions(TIMEOUT)
    return producer


def read_all(bootstrap: str, topic: str, partitions, committed: bool, expected: int | None = None,
             timeout: float = 10.0) -> list:
    """Everything readable at the given isolation level, from offset 0 of each partition."""
    c = consumer(bootstrap, **{"isolation.level": "read_committed" if committed else "read_uncommitted"})
    try:
        c.assign([TopicPartition(topic, p, 0) for p in partitions])
        if expected is not None:
            got = consume_until(c, expected, timeout)
            return got + drain(c, quiet=0.5, timeout=2)
        return drain(c, quiet=1.0, timeout=timeout)
    finally:
        c.close()


def latest(client, topic: str, partition: int, committed: bool) -> int:
    tp = TopicPartition(topic, partition)
    level = IsolationLevel.READ_COMMITTED if committed else IsolationLevel.READ_UNCOMMITTED
    return client.list_offsets({tp: OffsetSpec.latest()}, isolation_level=level,
                               request_timeout=TIMEOUT)[tp].result(timeout=TIMEOUT).offset


def raw_describe(bootstrap: str, transactional_id: str):
    with RawClient(bootstrap) as raw:
        response = raw.request(DESCRIBE_TRANSACTIONS, 0,
                               DESCRIBE_TRANSACTIONS.Request(transactional_ids=[transactional_id]))
    assert len(response.transaction_states) == 1
    return response.transaction_states[0]


def raw_list(bootstrap: str, states=(), producer_ids=(), duration_filter: int = -1):
    with RawClient(bootstrap) as raw:
        return raw.request(LIST_TRANSACTIONS, 1, LIST_TRANSACTIONS.Request(
            state_filters=list(states), producer_id_filters=list(producer_ids), duration_filter=duration_filter))


def raw_producers(bootstrap: str, topic: str, partition: int):
    R = DESCRIBE_PRODUCERS.Request
    with RawClient(bootstrap) as raw:
        response = raw.request(DESCRIBE_PRODUCERS, 0, R(topics=[R.TopicRequest(name=topic,
                                                                             partition_indexes=[partition])]))
    part = response.topics[0].partitions[0]
    assert part.error_code == 0
    return part.active_producers


def wait_until(condition, timeout: float, interval: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return condition()


# ---------------------------------------------------------------------------------------------- commit / abort


def test_commit_and_abort_across_topics_and_partitions(broker):
    topics = [create_topic(broker.bootstrap_servers, unique(f"txn-multi{i}"), 3) for i in range(3)]
    producer = txn_producer(broker.bootstrap_servers)

    def transaction(tag: str, commit: bool) -> None:
        producer.begin_transaction()
        for i in range(90):
            producer.produce(topics[i % 3], key=b"%d" % i, value=b"%s-%d" % (tag.encode(), i), partition=(i // 3) % 3)
        if commit:
            producer.commit_transaction(TIMEOUT)
        else:
            producer.flush(TIMEOUT)  # the aborted data really is in the log
            producer.abort_transaction(TIMEOUT)

    transaction("first", commit=True)
    transaction("aborted", commit=False)
    transaction("second", commit=True)

    for t, topic in enumerate(topics):
        committed = read_all(broker.bootstrap_servers, topic, range(3), committed=True, expected=60)
        assert Counter(v.split(b"-")[0] for v in values(committed)) == {b"first": 30, b"second": 30}
        uncommitted = read_all(broker.bootstrap_servers, topic, range(3), committed=False, expected=90)
        assert Counter(v.split(b"-")[0] for v in values(uncommitted)) == {b"first": 30, b"aborted": 30,
                                                                           b"second": 30}
        for p in range(3):
            # 10 records per transaction per partition, plus one marker each: 3 * 11.
            assert watermarks(broker.bootstrap_servers, topic, p) == (0, 33)
            in_order = [m.value() for m in committed if m.partition() == p]
            expected = [b"%s-%d" % (tag, i) for tag in (b"first", b"second") for i in range(90)
                        if i % 3 == t and (i // 3) % 3 == p]
            assert in_order == expected
    producer.flush(5)


def test_interleaved_committed_and_aborted_transactions_in_one_partition(broker):
    """Two producers write into one partition at the same time; one commits, the other aborts."""
    topic = create_topic(broker.bootstrap_servers, unique("txn-interleave"), 1)
    keeper, dropper = txn_producer(broker.bootstrap_servers), txn_producer(broker.bootstrap_servers)
    keeper.begin_transaction()
    dropper.begin_transaction()
    for i in range(30):
        keeper.produce(topic, b"keep-%d" % i)
        dropper.produce(topic, b"drop-%d" % i)
        if i % 5 == 4:  # interleave whole batches in the log
            keeper.flush(TIMEOUT)
            dropper.flush(TIMEOUT)
    dropper.abort_transaction(TIMEOUT)
    produce_and_flush(broker.bootstrap_servers, topic, [{"value": b"plain"}])
    keeper.commit_transaction(TIMEOUT)

    committed = read_all(broker.bootstrap_servers, topic, [0], committed=True, expected=31)
    assert values(committed) == [b"keep-%d" % i for i in range(30)] + [b"plain"]
    everything = read_all(broker.bootstrap_servers, topic, [0], committed=False, expected=61)
    assert sorted(values(everything)) == sorted([b"keep-%d" % i for i in range(30)] +
                                                [b"drop-%d" % i for i in range(30)] + [b"plain"])

    # On the wire: read_committed fetches name the aborted producer and its first offset; others get none.
    first_dropped = next(m for m in everything if m.value() == b"drop-0")
    data, _ = fetch_records(broker.bootstrap_servers, topic, 0, 0, isolation_level=1)
    assert data.aborted_transactions is not None and len(data.aborted_transactions) == 1
    assert data.aborted_transactions[0].first_offset == first_dropped.offset()
    uncommitted_data, _ = fetch_records(broker.bootstrap_servers, topic, 0, 0, isolation_level=0)
    assert not uncommitted_data.aborted_transactions
    assert data.last_stable_offset == data.high_watermark == 63  # 61 records and 2 markers


def test_open_transaction_holds_read_committed_at_the_lso(broker):
    topic = create_topic(broker.bootstrap_servers, unique("txn-lso"), 1)
    produce_and_flush(broker.bootstrap_servers, topic, [{"value": b"before-%d" % i} for i in range(3)])
    producer = txn_producer(broker.bootstrap_servers)
    producer.begin_transaction()
    for i in range(5):
        producer.produce(topic, b"txn-%d" % i)
    producer.flush(TIMEOUT)
    # Plain writes after the transaction's first offset are held back too.
    produce_and_flush(broker.bootstrap_servers, topic, [{"value": b"after-%d" % i} for i in range(4)])

    client = admin(broker.bootstrap_servers)
    assert latest(client, topic, 0, committed=False) == 12
    assert latest(client, topic, 0, committed=True) == 3  # the LSO: the open transaction's first offset
    c = consumer(broker.bootstrap_servers, **{"isolation.level": "read_committed"})
    try:
        c.assign([TopicPartition(topic, 0, 0)])
        held = drain(c, quiet=1.5, timeout=5)
        assert values(held) == [b"before-%d" % i for i in range(3)]
        uncommitted = read_all(broker.bootstrap_servers, topic, [0], committed=False, expected=12)
        assert len(uncommitted) == 12

        producer.commit_transaction(TIMEOUT)
        released = consume_until(c, 9, timeout=10)
    finally:
        c.close()
    assert values(released) == [b"txn-%d" % i for i in range(5)] + [b"after-%d" % i for i in range(4)]
    assert latest(client, topic, 0, committed=True) == latest(client, topic, 0, committed=False) == 13


def test_fencing_by_a_second_producer_with_the_same_transactional_id(broker):
    topic = create_topic(broker.bootstrap_servers, unique("txn-fence"), 1)
    tid = unique("tid-fence")
    first = txn_producer(broker.bootstrap_servers, tid)
    first.begin_transaction()
    first.produce(topic, b"zombie")
    first.flush(TIMEOUT)

    second = txn_producer(broker.bootstrap_servers, tid)  # aborts the first one's open transaction
    with pytest.raises(KafkaException) as info:
        first.commit_transaction(TIMEOUT)
    error = info.value.args[0]
    assert error.fatal() or error.code() in FENCED_CODES, error

    second.begin_transaction()
    second.produce(topic, b"successor")
    second.commit_transaction(TIMEOUT)

    committed = read_all(broker.bootstrap_servers, topic, [0], committed=True, expected=1)
    assert values(committed) == [b"successor"]
    uncommitted = read_all(broker.bootstrap_servers, topic, [0], committed=False, expected=2)
    assert values(uncommitted) == [b"zombie", b"successor"]
    state = raw_describe(broker.bootstrap_servers, tid)
    assert state.transaction_state == "CompleteCommit"
    assert state.producer_epoch >= 2  # bumped by the fence and by the second init


def test_timed_out_transaction_is_aborted_by_the_broker(broker):
    topic = create_topic(broker.bootstrap_servers, unique("txn-timeout"), 1)
    # 6 s: long enough that the open transaction is certainly still holding the LSO at the first check,
    # even on a loaded machine (with 2 s the broker had sometimes aborted it already).
    producer = txn_producer(broker.bootstrap_servers, **{"transaction.timeout.ms": 6000, "message.timeout.ms": 6000})
    producer.begin_transaction()
    for i in range(3):
        producer.produce(topic, b"stalled-%d" % i)
    producer.flush(TIMEOUT)
    client = admin(broker.bootstrap_servers)
    assert latest(client, topic, 0, committed=True) == 0

    # The producer stalls; the broker's sweep (every 200 ms here) aborts after ~6 s.
    assert wait_until(lambda: latest(client, topic, 0, committed=True) == 4, timeout=15), \
        "the LSO did not move past the timed-out transaction"
    assert latest(client, topic, 0, committed=False) == 4  # 3 records + the ABORT marker
    produce_and_flush(broker.bootstrap_servers, topic, [{"value": b"later"}])
    assert values(read_all(broker.bootstrap_servers, topic, [0], committed=True, expected=1)) == [b"later"]

    with pytest.raises(KafkaException) as info:
        producer.commit_transaction(TIMEOUT)
    error = info.value.args[0]
    assert error.fatal() or error.code() in FENCED_CODES or error.txn_requires_abort(), error


def test_group_offsets_in_a_transaction(broker):
    source = create_topic(broker.bootstrap_servers, unique("txn-offsets-in"), 1)
    sink = create_topic(broker.bootstrap_servers, unique("txn-offsets-out"), 1)
    group = unique("txn-group")
    produce_and_flush(broker.bootstrap_servers, source, [{"value": b"in-%d" % i} for i in range(10)])

    c = consumer(broker.bootstrap_servers, group_id=group)
    producer = txn_producer(broker.bootstrap_servers)
    try:
        c.assign([TopicPartition(source, 0, 0)])
        assert len(consume_until(c, 10, timeout=10)) == 10
        metadata = c.consumer_group_metadata()

        producer.begin_transaction()
        producer.produce(sink, b"aborted-output")
        producer.send_offsets_to_transaction([TopicPartition(source, 0, 5)], metadata, TIMEOUT)
        producer.abort_transaction(TIMEOUT)
        after_abort = c.committed([TopicPartition(source, 0)], timeout=TIMEOUT)[0]
        assert after_abort.offset < 0  # nothing was ever committed for this group

        producer.begin_transaction()
        producer.produce(sink, b"committed-output")
        producer.send_offsets_to_transaction([TopicPartition(source, 0, 10)], metadata, TIMEOUT)
        producer.commit_transaction(TIMEOUT)
        assert c.committed([TopicPartition(source, 0)], timeout=TIMEOUT)[0].offset == 10
    finally:
        c.close()
    assert values(read_all(broker.bootstrap_servers, sink, [0], committed=True, expected=1)) == [b"committed-output"]


# ---------------------------------------------------------------------------------------------- other clients


def test_kafka_python_transactions(broker):
    from kafka import KafkaConsumer, KafkaProducer
    from kafka import TopicPartition as KTopicPartition

    topic = create_topic(broker.bootstrap_servers, unique("txn-kpy"), 2)
    producer = KafkaProducer(bootstrap_servers=broker.bootstrap_servers, transactional_id=unique("tid-kpy"),
                             enable_idempotence=True, acks="all")
    try:
        producer.init_transactions()
        producer.begin_transaction()
        for i in range(20):
            producer.send(topic, value=b"kept-%d" % i, partition=i % 2)
        producer.commit_transaction()
        producer.begin_transaction()
        for i in range(20):
            producer.send(topic, value=b"dropped-%d" % i, partition=i % 2)
        producer.flush()
        producer.abort_transaction()
    finally:
        producer.close(timeout=10)

    committed = read_all(broker.bootstrap_servers, topic, range(2), committed=True, expected=20)
    assert sorted(values(committed)) == sorted(b"kept-%d" % i for i in range(20))
    assert len(read_all(broker.bootstrap_servers, topic, range(2), committed=False, expected=40)) == 40

    c = KafkaConsumer(bootstrap_servers=broker.bootstrap_servers, group_id=None, enable_auto_commit=False,
                      isolation_level="read_committed", auto_offset_reset="earliest")
    got = []
    try:
        c.assign([KTopicPartition(topic, 0), KTopicPartition(topic, 1)])
        c.seek_to_beginning()
        deadline = time.monotonic() + 15
        while len(got) < 20 and time.monotonic() < deadline:
            for records in c.poll(timeout_ms=500).values():
                got.extend(records)
    finally:
        c.close()
    assert sorted(r.value for r in got) == sorted(b"kept-%d" % i for i in range(20))


def test_aiokafka_transactions(broker):
    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
    from aiokafka.structs import TopicPartition as ATopicPartition

    topic = create_topic(broker.bootstrap_servers, unique("txn-aio"), 2)

    async def run() -> list:
        producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap_servers, transactional_id=unique("tid-aio"))
        await producer.start()
        try:
            async with producer.transaction():
                for i in range(20):
                    await producer.send(topic, value=b"kept-%d" % i, partition=i % 2)
            await producer.begin_transaction()
            for i in range(20):
                await producer.send_and_wait(topic, value=b"dropped-%d" % i, partition=i % 2)
            await producer.abort_transaction()
        finally:
            await producer.stop()
        c = AIOKafkaConsumer(bootstrap_servers=broker.bootstrap_servers, group_id=None, enable_auto_commit=False,
                             isolation_level="read_committed", auto_offset_reset="earliest")
        await c.start()
        got = []
        try:
            c.assign([ATopicPartition(topic, 0), ATopicPartition(topic, 1)])
            await c.seek_to_beginning()
            deadline = time.monotonic() + 15
            while len(got) < 20 and time.monotonic() < deadline:
                for records in (await c.getmany(timeout_ms=500)).values():
                    got.extend(records)
        finally:
            await c.stop()
        return got

    got = asyncio.run(asyncio.wait_for(run(), 60))
    assert sorted(r.value for r in got) == sorted(b"kept-%d" % i for i in range(20))
    committed = read_all(broker.bootstrap_servers, topic, range(2), committed=True, expected=20)
    assert sorted(values(committed)) == sorted(b"kept-%d" % i for i in range(20))
    assert len(read_all(broker.bootstrap_servers, topic, range(2), committed=False, expected=40)) == 40


# ---------------------------------------------------------------------------------------------- limits, restarts


@pytest.fixture(scope="module")
def short_timeout_broker(tmp_path_factory):
    proc = LocalBroker(tmp_path_factory.mktemp("txn-max") / "data", transaction_max_timeout_ms=5000).start()
    yield proc
    proc.stop()


@pytest.mark.kafkette_only("a kafkette of its own with a 5 s transaction.max.timeout.ms")
def test_transaction_timeout_above_the_broker_maximum_is_refused(short_timeout_broker):
    bootstrap = short_timeout_broker.bootstrap_servers
    producer = Producer({"bootstrap.servers": bootstrap, "transactional.id": unique("tid-long"),
                         "transaction.timeout.ms": 60000})
    with pytest.raises(KafkaException) as info:
        producer.init_transactions(TIMEOUT)
    error = info.value.args[0]
    assert error.code() == KafkaError.INVALID_TRANSACTION_TIMEOUT
    assert error.fatal()

    with RawClient(bootstrap) as raw:
        too_long = raw.request(INIT_PRODUCER_ID, 4, INIT_PRODUCER_ID.Request(transactional_id=unique("tid-raw"),
                                                                             transaction_timeout_ms=5001))
        at_max = raw.request(INIT_PRODUCER_ID, 4, INIT_PRODUCER_ID.Request(transactional_id=unique("tid-raw"),
                                                                           transaction_timeout_ms=5000))
    assert too_long.error_code == 50  # INVALID_TRANSACTION_TIMEOUT
    assert at_max.error_code == 0 and at_max.producer_id >= 0

    ok = txn_producer(bootstrap, **{"transaction.timeout.ms": 5000, "message.timeout.ms": 5000})
    ok.begin_transaction()
    ok.produce(create_topic(bootstrap, unique("txn-max-ok"), 1), b"fits")
    ok.commit_transaction(TIMEOUT)


@pytest.mark.kafkette_only("restarts the broker")
def test_transactions_across_a_clean_restart(fresh_broker):
    topic = create_topic(fresh_broker.bootstrap_servers, unique("txn-restart"), 2)
    tid = unique("tid-restart")
    producer = txn_producer(fresh_broker.bootstrap_servers, tid)
    producer.begin_transaction()
    for i in range(10):
        producer.produce(topic, b"before-%d" % i, partition=i % 2)
    producer.commit_transaction(TIMEOUT)
    producer.begin_transaction()
    for i in range(10):
        producer.produce(topic, b"open-%d" % i, partition=i % 2)
    producer.flush(TIMEOUT)

    fresh_broker.restart()

    # Kafka keeps the ongoing transaction in its log: the same producer may still commit it.
    producer.commit_transaction(TIMEOUT)
    committed = read_all(fresh_broker.bootstrap_servers, topic, range(2), committed=True, expected=20)
    assert sorted(values(committed)) == sorted([b"before-%d" % i for i in range(10)] +
                                               [b"open-%d" % i for i in range(10)])
    state = raw_describe(fresh_broker.bootstrap_servers, tid)
    assert state.transaction_state == "CompleteCommit"


@pytest.mark.kafkette_only("restarts the broker")
def test_committed_data_survives_a_restart_with_a_transaction_open(fresh_broker):
    topic = create_topic(fresh_broker.bootstrap_servers, unique("txn-restart-open"), 1)
    tid = unique("tid-restart-open")
    producer = txn_producer(fresh_broker.bootstrap_servers, tid)
    producer.begin_transaction()
    producer.produce(topic, b"committed")
    producer.commit_transaction(TIMEOUT)
    producer.begin_transaction()
    producer.produce(topic, b"pending")
    producer.flush(TIMEOUT)
    del producer  # gone without ending its transaction

    fresh_broker.restart()
    client = admin(fresh_broker.bootstrap_servers)
    # The open transaction is still open after the restart: the LSO stays at its first offset.
    assert latest(client, topic, 0, committed=True) == 2
    assert raw_describe(fresh_broker.bootstrap_servers, tid).transaction_state == "Ongoing"
    assert values(read_all(fresh_broker.bootstrap_servers, topic, [0], committed=True, expected=1)) == [b"committed"]

    # A new producer with the same id aborts it, and read_committed moves on.
    successor = txn_producer(fresh_broker.bootstrap_servers, tid)
    assert latest(client, topic, 0, committed=True) == latest(client, topic, 0, committed=False) == 4
    successor.begin_transaction()
    successor.produce(topic, b"successor")
    successor.commit_transaction(TIMEOUT)
    assert values(read_all(fresh_broker.bootstrap_servers, topic, [0], committed=True, expected=2)) == [b"committed",
                                                                                               b"successor"]


# ---------------------------------------------------------------------------------------------- admin views


def test_list_and_describe_transactions_and_producers(broker):
    """confluent_kafka 2.16 has no list/describe_transactions: the raw APIs are checked instead."""
    topic = create_topic(broker.bootstrap_servers, unique("txn-describe"), 2)
    produce_and_flush(broker.bootstrap_servers, topic, [{"value": b"plain", "partition": 1}])
    tid = unique("tid-describe")
    producer = txn_producer(broker.bootstrap_servers, tid, **{"transaction.timeout.ms": 30000})

    assert raw_describe(broker.bootstrap_servers, tid).transaction_state == "Empty"
    producer.begin_transaction()
    producer.produce(topic, b"a", partition=0)
    producer.produce(topic, b"b", partition=1)
    producer.flush(TIMEOUT)

    state = raw_describe(broker.bootstrap_servers, tid)
    assert (state.error_code, state.transaction_state, state.transaction_timeout_ms) == (0, "Ongoing", 30000)
    assert state.producer_id >= 0 and state.transaction_start_time_ms > 0
    assert [(t.topic, sorted(t.partitions)) for t in state.topics] == [(topic, [0, 1])]

    ongoing = raw_list(broker.bootstrap_servers, states=["Ongoing"])
    assert ongoing.error_code == 0 and ongoing.unknown_state_filters == []
    assert (tid, state.producer_id, "Ongoing") in {(t.transactional_id, t.producer_id, t.transaction_state)
                                                   for t in ongoing.transaction_states}
    by_pid = raw_list(broker.bootstrap_servers, producer_ids=[state.producer_id])
    assert [t.transactional_id for t in by_pid.transaction_states] == [tid]
    assert raw_list(broker.bootstrap_servers, states=["NoSuchState"]).unknown_state_filters == ["NoSuchState"]

    active = {p.producer_id: p for p in raw_producers(broker.bootstrap_servers, topic, 1)}
    assert state.producer_id in active
    assert active[state.producer_id].producer_epoch == state.producer_epoch
    assert active[state.producer_id].current_txn_start_offset == 1  # after the plain record at 0

    producer.commit_transaction(TIMEOUT)
    # Kafka answers EndTxn in PrepareCommit and writes the markers after: CompleteCommit follows soon.
    assert wait_until(lambda: raw_describe(broker.bootstrap_servers, tid).transaction_state == "CompleteCommit", 10)
    done = raw_describe(broker.bootstrap_servers, tid)
    assert done.producer_id == state.producer_id
    assert tid not in {t.transactional_id for t in raw_list(broker.bootstrap_servers, states=["Ongoing"]).transaction_states}
    after = {p.producer_id: p for p in raw_producers(broker.bootstrap_servers, topic, 1)}
    assert after[state.producer_id].current_txn_start_offset == -1

    producer.begin_transaction()
    producer.produce(topic, b"c", partition=0)
    producer.flush(TIMEOUT)  # else librdkafka may abort before registering a partition: no EndTxn at all
    producer.abort_transaction(TIMEOUT)
    assert wait_until(lambda: raw_describe(broker.bootstrap_servers, tid).transaction_state == "CompleteAbort", 10)

    unknown = raw_describe(broker.bootstrap_servers, unique("tid-never"))
    assert unknown.error_code == 105  # TRANSACTIONAL_ID_NOT_FOUND


def test_list_transactions_duration_filter_is_kafkas(broker):
    """TransactionStateManager.listTransactionStates: the ids whose transaction started more than the filter
    ago, in every state (a completed one too); an Empty id has no start time (-1), so it always passes."""
    topic = create_topic(broker.bootstrap_servers, unique("txn-duration"), 1)
    ids = {state: unique(f"tid-{state}") for state in ("Empty", "Ongoing", "CompleteCommit")}
    for state, tid in ids.items():
        producer = txn_producer(broker.bootstrap_servers, tid)
        producer.begin_transaction()
        producer.produce(topic, b"x")
        producer.flush(TIMEOUT)
        if state != "Ongoing":
            producer.commit_transaction(TIMEOUT)
    txn_producer(broker.bootstrap_servers, ids["Empty"])  # a new producer: the id is Empty again
    described = {state: raw_describe(broker.bootstrap_servers, tid) for state, tid in ids.items()}
    assert {state: d.transaction_state for state, d in described.items()} == {state: state for state in ids}
    assert described["Empty"].transaction_start_time_ms == -1  # no transaction since the new producer's init
    time.sleep(0.05)

    def listed(duration: int) -> set[str]:
        answer = raw_list(broker.bootstrap_servers, producer_ids=[d.producer_id for d in described.values()],
                          duration_filter=duration)
        return {t.transaction_state for t in answer.transaction_states}

    assert listed(-1) == listed(0) == {"Empty", "Ongoing", "CompleteCommit"}
    assert listed(60_000) == {"Empty"}
