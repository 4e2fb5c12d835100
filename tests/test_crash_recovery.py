"""Crash safety: kill -9 the broker at any moment, restart it, and nothing acknowledged is lost or half-visible.

Two kinds of test:
- exact ones with a raw client, where every byte sent and every answer is known
  (an idempotent batch retried across a kill is answered with its original offset);
- a chaos run: transactional producers, an idempotent producer, an exactly-once
  consume-transform-produce pipeline and a plain committing consumer run against a
  broker that is SIGKILLed at random moments and restarted on the same data
  directory; then read_committed and read_uncommitted readers check every
  acknowledgement against the log.

The chaos seed is printed (`crash seed=...`); set KAFKETTE_CRASH_SEED to replay one.
A kill -9 of the process alone must lose nothing acknowledged under every --fsync
setting: the bytes are written with os.write before the answer, and the page cache
outlives the process.
"""

from __future__ import annotations

import os
import random
import threading
import time
import traceback
from collections import Counter
from dataclasses import dataclass, field

import pytest
from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition

from kafkette.local_broker import LocalBroker
from kafkette.protocol.errors import ErrorCode
from kafkette.protocol.messages import INIT_PRODUCER_ID, PRODUCE
from kafkette.protocol.records import build_batch
from tests.clients import RawClient, create_topic, fetch_records, produce_and_flush, produce_request

pytestmark = pytest.mark.kafkette_only("kills kafkette with SIGKILL and restarts it on its data dir")

FSYNC = ["always", "interval", "never"]
TS = 1_700_000_000_000


# ---------------------------------------------------------------------------------------------- raw client


def init_producer_id(bootstrap: str) -> tuple[int, int]:
    """An idempotent (non-transactional) producer id and epoch."""
    with RawClient(bootstrap) as raw:
        response = raw.request(INIT_PRODUCER_ID, 4, INIT_PRODUCER_ID.Request(
            transactional_id=None, transaction_timeout_ms=60000, producer_id=-1, producer_epoch=-1))
    assert response.error_code == 0
    return response.producer_id, response.producer_epoch


def idempotent_batch(pid: int, epoch: int, sequence: int, count: int = 3) -> bytes:
    return build_batch([(None, b"seq-%d" % (sequence + i)) for i in range(count)], timestamp_ms=TS,
                       producer_id=pid, producer_epoch=epoch, base_sequence=sequence)


def produce(bootstrap: str, topic: str, batch: bytes, partition: int = 0) -> tuple[int, int]:
    """One acks=all Produce v9 of one batch: (error code, base offset)."""
    with RawClient(bootstrap) as raw:
        response = raw.request(PRODUCE, 9, produce_request(topic, batch, partition))
    answer = response.responses[0].partition_responses[0]
    return answer.error_code, answer.base_offset


def log_values(bootstrap: str, topic: str, partition: int = 0) -> list[bytes]:
    offset, out = 0, []
    while True:
        data, records = fetch_records(bootstrap, topic, partition, offset)
        if not records:
            return out
        out.extend(r.value for r in records)
        offset = records[-1].offset + 1


def wait_for(predicate, what: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


@pytest.mark.parametrize("fsync", FSYNC)
def test_an_idempotent_batch_retried_after_a_kill_gets_its_original_offset(tmp_path, fsync):
    """Batches acknowledged just before a SIGKILL are resent after the restart: de-duplicated, not rewritten.

    The first two batches reach a producer-state snapshot (the flush timer's); the last three are
    only in the log, so the restored state must come from the snapshot plus a replay of the log.
    """
    broker = LocalBroker(tmp_path / "data", fsync=fsync, fsync_interval_ms=50).start()
    try:
        topic = create_topic(broker.bootstrap_servers, "idem-retry")
        pid, epoch = init_producer_id(broker.bootstrap_servers)
        batches = [idempotent_batch(pid, epoch, 3 * i) for i in range(5)]
        acked = [produce(broker.bootstrap_servers, topic, b) for b in batches[:2]]
        partition_dir = tmp_path / "data" / f"{topic}-0"
        if fsync != "never":  # under `never` there is no flush timer: everything comes from the log
            wait_for(lambda: list(partition_dir.glob("*.snapshot")) and
                     any(int(p.stem) >= 6 for p in partition_dir.glob("*.snapshot")), "a producer snapshot")
        acked += [produce(broker.bootstrap_servers, topic, b) for b in batches[2:]]
        assert acked == [(0, 3 * i) for i in range(5)]
        broker.kill()
        broker.start()
        # Every retained batch is still known: each retry gets its first answer back.
        assert [produce(broker.bootstrap_servers, topic, b) for b in batches] == acked
        assert log_values(broker.bootstrap_servers, topic) == [b"seq-%d" % i for i in range(15)]
        # The sequence goes on from where it was; a gap is still refused.
        assert produce(broker.bootstrap_servers, topic, idempotent_batch(pid, epoch, 16)) == (
            ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER, -1)
        assert produce(broker.bootstrap_servers, topic, idempotent_batch(pid, epoch, 15)) == (0, 15)
    finally:
        broker.stop()


def test_an_idempotent_retry_after_two_kills_in_a_row_is_still_a_duplicate(tmp_path):
    """A restart that itself is killed (before any flush) must not lose the state recovery rebuilt."""
    broker = LocalBroker(tmp_path / "data", fsync="never").start()
    try:
        topic = create_topic(broker.bootstrap_servers, "idem-twice")
        pid, epoch = init_producer_id(broker.bootstrap_servers)
        batch = idempotent_batch(pid, epoch, 0)
        assert produce(broker.bootstrap_servers, topic, batch) == (0, 0)
        for _ in range(2):
            broker.kill()
            broker.start()
        assert produce(broker.bootstrap_servers, topic, batch) == (0, 0)
        assert log_values(broker.bootstrap_servers, topic) == [b"seq-0", b"seq-1", b"seq-2"]
    finally:
        broker.stop()


def test_producer_ids_are_never_handed_out_twice_across_kills(tmp_path):
    """A second producer getting the first one's id would inherit its sequences (and its duplicates)."""
    broker = LocalBroker(tmp_path / "data").start()
    try:
        seen = []
        for _ in range(3):
            seen.append(init_producer_id(broker.bootstrap_servers)[0])
            broker.kill()
            broker.start()
        seen.append(init_producer_id(broker.bootstrap_servers)[0])
        assert len(set(seen)) == len(seen)
    finally:
        broker.stop()


# ---------------------------------------------------------------------------------------------- chaos

TXN_TOPIC, IDEM_TOPIC, EOS_IN, EOS_OUT = "chaos-txn", "chaos-idem", "chaos-eos-in", "chaos-eos-out"
TXN_PARTITIONS, IDEM_PARTITIONS = 3, 2
VALUES_PER_TXN = 6  # spread over every partition of TXN_TOPIC
MAX_TXNS = 400
MAX_IDEM = 40_000
EOS_INPUTS = 300
KILLS = 5
# Reconnect quickly; and no KIP-899 re-bootstrap: with the only broker down librdkafka 2.16 would decommission
# it, and a decommissioned cached group coordinator makes send_offsets_to_transaction() hang past its timeout
# (librdkafka issues #5456 and #5511), a client bug that says nothing about the broker.
CLIENT = {"reconnect.backoff.ms": 20, "reconnect.backoff.max.ms": 300, "retry.backoff.ms": 20,
          "retry.backoff.max.ms": 300, "socket.connection.setup.timeout.ms": 2000,
          "topic.metadata.refresh.interval.ms": 1000, "log_level": 2,
          "metadata.recovery.strategy": "none"}
TXN_CLIENT = {**CLIENT, "transaction.timeout.ms": 30000, "message.timeout.ms": 30000, "linger.ms": 2}
GROUP_CLIENT = {**CLIENT, "session.timeout.ms": 6000, "heartbeat.interval.ms": 300, "enable.auto.commit": False,
                "auto.offset.reset": "earliest"}


@dataclass
class Ledger:
    """What the clients were told (acknowledged), written by the workers, checked against the log at the end."""

    txn_committed: set[int] = field(default_factory=set)  # commit_transaction returned
    txn_aborted: set[int] = field(default_factory=set)  # never committed: aborted, or commit never attempted
    txn_unknown: set[int] = field(default_factory=set)  # commit attempted, outcome not known
    idem_acked: dict[bytes, tuple[int, int]] = field(default_factory=dict)  # value -> (partition, offset)
    idem_failed: set[bytes] = field(default_factory=set)
    idem_fatal: list[str] = field(default_factory=list)
    eos_txns: int = 0
    eos_committed_to: int = 0  # input offset up to which a commit of the pipeline's txn was acknowledged
    plain_committed: dict[int, int] = field(default_factory=dict)  # partition -> highest acknowledged commit
    producer_restarts: int = 0
    errors: list[str] = field(default_factory=list)
    trace: list[str] = field(default_factory=list)  # client errors and pipeline outcomes, printed on failure
    lock: threading.Lock = field(default_factory=threading.Lock)

    def note(self, what: str) -> None:
        self.trace.append(f"{time.monotonic():.2f} {threading.current_thread().name}: {what}")


def worker(ledger: Ledger, fn, *args) -> threading.Thread:
    def run() -> None:
        try:
            fn(*args)
        except Exception as e:  # noqa: BLE001 - reported and failed on at the end
            ledger.errors.append(f"{fn.__name__}: {e!r}\n{traceback.format_exc()}")

    thread = threading.Thread(target=run, name=fn.__name__, daemon=True)
    thread.start()
    return thread


def kafka_error(e: Exception):
    return e.args[0] if e.args and isinstance(e.args[0], KafkaError) else None


class TxnProducer:
    """A transactional producer as a careful application keeps one: recreated after a fatal error."""

    def __init__(self, bootstrap: str, transactional_id: str, ledger: Ledger, deadline: float) -> None:
        self.config = {"bootstrap.servers": bootstrap, "transactional.id": transactional_id, **TXN_CLIENT}
        self.ledger = ledger
        self.deadline = deadline
        self.producer = self._new()

    def _new(self) -> Producer:
        while True:
            producer = Producer(self.config)
            while time.monotonic() < self.deadline:
                try:
                    producer.init_transactions(5)
                    return producer
                except KafkaException as e:
                    err = kafka_error(e)
                    self.ledger.note(f"init_transactions: {e}")
                    if err is not None and err.fatal():
                        break
            else:
                raise AssertionError("init_transactions did not succeed before the deadline")

    def renew(self) -> None:
        """Give up on this producer (its state is unknown) and fence it with a new one."""
        self.ledger.producer_restarts += 1
        self.producer = self._new()

    def produce(self, topic: str, value: bytes, partition: int) -> None:
        while True:
            try:
                self.producer.produce(topic, value=value, partition=partition)
                return
            except BufferError:
                self.producer.poll(0.05)

    def finish(self, commit: bool) -> str:
        """Commit or abort the open transaction: 'committed', 'aborted' or 'unknown'."""
        while time.monotonic() < self.deadline:
            try:
                if commit:
                    self.producer.commit_transaction(5)
                    return "committed"
                self.producer.abort_transaction(5)
                return "aborted"
            except KafkaException as e:
                err = kafka_error(e)
                self.ledger.note(f"{'commit' if commit else 'abort'}_transaction: {e}")
                if err is None or err.fatal():
                    return "unknown"
                if err.txn_requires_abort():
                    commit = False
                elif not err.retriable():
                    return "unknown"
        return "unknown"

    def transaction(self, writes: list[tuple[str, bytes, int]], commit: bool, before_commit=None) -> str:
        """One whole transaction; 'committed', 'aborted' (certainly not committed) or 'unknown'."""
        commit_attempted = False
        try:
            self.producer.begin_transaction()
            for topic, value, partition in writes:
                self.produce(topic, value, partition)
            if before_commit is not None:
                before_commit(self.producer)
        except KafkaException as e:
            err = kafka_error(e)
            self.ledger.note(f"in transaction: {e}")
            if err is None or err.fatal():
                self.renew()
                return "aborted"  # fenced by the new producer's InitProducerId before any commit
            commit = False
        commit_attempted = commit
        outcome = self.finish(commit)
        if outcome == "unknown":
            self.renew()
            return "unknown" if commit_attempted else "aborted"
        return outcome


def transactional_writer(bootstrap: str, ledger: Ledger, stop: threading.Event, deadline: float) -> None:
    """Transactions of VALUES_PER_TXN values over every partition; every fourth one is aborted."""
    producer = TxnProducer(bootstrap, "chaos-txn", ledger, deadline)
    for n in range(MAX_TXNS):
        if stop.is_set():
            break
        writes = [(TXN_TOPIC, b"t%d:%d" % (n, i), i % TXN_PARTITIONS) for i in range(VALUES_PER_TXN)]
        outcome = producer.transaction(writes, commit=n % 4 != 3)
        with ledger.lock:
            {"committed": ledger.txn_committed, "aborted": ledger.txn_aborted,
             "unknown": ledger.txn_unknown}[outcome].add(n)
        time.sleep(0.02)  # spread the transactions over the kills
    producer.producer.flush(5)


def idempotent_writer(bootstrap: str, ledger: Ledger, stop: threading.Event, deadline: float) -> None:
    def delivered(err, msg) -> None:
        with ledger.lock:
            if err is None:
                ledger.idem_acked[msg.value()] = (msg.partition(), msg.offset())
            else:
                ledger.idem_failed.add(msg.value())

    def on_error(err) -> None:
        if err.fatal():
            ledger.idem_fatal.append(str(err))

    producer = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True, "acks": "all",
                         "linger.ms": 5, "message.timeout.ms": 30000, "error_cb": on_error, **CLIENT})
    k = 0
    while not stop.is_set() and k < MAX_IDEM:
        for _ in range(20):
            try:
                producer.produce(IDEM_TOPIC, value=b"i%d" % k, partition=k % IDEM_PARTITIONS, on_delivery=delivered)
                k += 1
            except BufferError:
                break
        producer.poll(0.02)
    left = producer.flush(max(1.0, deadline - time.monotonic()))
    assert left == 0, f"{left} idempotent messages never got a delivery report"


def group_consumer(bootstrap: str, group: str, topics: list[str], **extra) -> Consumer:
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": group, **GROUP_CLIENT, **extra})
    c.subscribe(topics)
    return c


def rewind_to_committed(c: Consumer, ledger: Ledger, deadline: float) -> None:
    """After an aborted or unknown transaction: continue from the group's committed offsets."""
    while time.monotonic() < deadline:
        try:
            assignment = c.assignment()
            for tp in c.committed(assignment, timeout=5):
                c.seek(TopicPartition(tp.topic, tp.partition, tp.offset if tp.offset >= 0 else 0))
            return
        except KafkaException as e:
            ledger.note(f"rewind: {e}")
            time.sleep(0.05)


def exactly_once_pipeline(bootstrap: str, ledger: Ledger, stop: threading.Event, deadline: float) -> None:
    """Consume EOS_IN, write b'out:' + value to EOS_OUT and commit the input offsets in the same transaction."""
    c = group_consumer(bootstrap, "chaos-eos", [EOS_IN], **{"isolation.level": "read_committed"})
    producer = TxnProducer(bootstrap, "chaos-eos", ledger, deadline)
    try:
        while ledger.eos_committed_to < EOS_INPUTS and time.monotonic() < deadline:
            messages = [m for m in c.consume(5, timeout=0.2) if not m.error()]
            if not messages:
                continue
            writes = [(EOS_OUT, b"out:" + m.value(), 0) for m in messages]
            positions: list = []

            def send_offsets(p: Producer) -> None:
                positions[:] = c.position(c.assignment())
                p.send_offsets_to_transaction(positions, c.consumer_group_metadata(), 5)

            outcome = producer.transaction(writes, commit=True, before_commit=send_offsets)
            ledger.eos_txns += 1
            ledger.note(f"{outcome} {[m.offset() for m in messages]} -> {positions}")
            if outcome == "committed":
                ledger.eos_committed_to = max([ledger.eos_committed_to] +
                                              [tp.offset for tp in positions if tp.partition == 0])
                time.sleep(0.1)  # spread the pipeline over the kills
            else:
                rewind_to_committed(c, ledger, deadline)
    finally:
        c.close()


def plain_committer(bootstrap: str, ledger: Ledger, stop: threading.Event, deadline: float) -> None:
    """Consume IDEM_TOPIC and commit (OffsetCommit, synchronously) every few dozen messages."""
    c = group_consumer(bootstrap, "chaos-plain", [IDEM_TOPIC])
    try:
        while not stop.is_set():
            if not [m for m in c.consume(50, timeout=0.2) if not m.error()]:
                continue
            try:
                for tp in c.commit(asynchronous=False):
                    if tp.error is None and tp.offset >= 0:
                        with ledger.lock:
                            ledger.plain_committed[tp.partition] = max(ledger.plain_committed.get(tp.partition, 0),
                                                                       tp.offset)
            except KafkaException:
                pass  # not acknowledged: nothing promised
    finally:
        c.close()


# ---------------------------------------------------------------------------------------------- reading back


def read_everything(bootstrap: str, topic: str, partitions: int, committed: bool) -> list:
    """Every message of `topic` from offset 0 to the end (the LSO for read_committed)."""
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "chaos-reader", "enable.auto.commit": False,
                  "enable.partition.eof": True, "auto.offset.reset": "earliest",
                  "isolation.level": "read_committed" if committed else "read_uncommitted", **CLIENT})
    out: list = []
    try:
        c.assign([TopicPartition(topic, p, 0) for p in range(partitions)])
        at_end: set[int] = set()
        deadline = time.monotonic() + 30
        while len(at_end) < partitions:
            assert time.monotonic() < deadline, f"reading {topic} did not reach the end"
            for msg in c.consume(10000, timeout=0.2):
                if msg.error():
                    assert msg.error().code() == KafkaError._PARTITION_EOF, msg.error()
                    at_end.add(msg.partition())
                else:
                    at_end.discard(msg.partition())
                    out.append(msg)
    finally:
        c.close()
    return out


def committed_offsets(bootstrap: str, group: str, topic: str, partitions: int) -> dict[int, int]:
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False, **CLIENT})
    try:
        got = c.committed([TopicPartition(topic, p) for p in range(partitions)], timeout=15)
        return {tp.partition: tp.offset for tp in got}
    finally:
        c.close()


def stable(bootstrap: str, topic: str, partitions: int) -> bool:
    for p in range(partitions):
        data, _ = fetch_records(bootstrap, topic, p, 0, isolation_level=1, max_bytes=1)
        if data.last_stable_offset != data.high_watermark:
            return False
    return True


# ---------------------------------------------------------------------------------------------- the run


def crash_seed() -> int:
    seed = int(os.environ.get("KAFKETTE_CRASH_SEED") or random.SystemRandom().randrange(2**32))
    print(f"crash seed={seed}")
    return seed


@pytest.mark.parametrize("fsync", FSYNC)
def test_kill_9_at_random_moments_loses_nothing_acknowledged(tmp_path, fsync):
    seed = crash_seed()
    rng = random.Random(seed)
    broker = LocalBroker(tmp_path / "data", fsync=fsync, fsync_interval_ms=50,
                           transaction_abort_interval_ms=200).start()
    bootstrap = broker.bootstrap_servers
    ledger = Ledger()
    stop = threading.Event()
    try:
        create_topic(bootstrap, TXN_TOPIC, TXN_PARTITIONS)
        create_topic(bootstrap, IDEM_TOPIC, IDEM_PARTITIONS)
        create_topic(bootstrap, EOS_IN, 1)
        create_topic(bootstrap, EOS_OUT, 1)
        produce_and_flush(bootstrap, EOS_IN, ({"value": b"in%d" % k} for k in range(EOS_INPUTS)), acks="all")

        deadline = time.monotonic() + 60
        threads = [worker(ledger, fn, bootstrap, ledger, stop, deadline)
                   for fn in (transactional_writer, idempotent_writer, exactly_once_pipeline, plain_committer)]
        for _ in range(KILLS):
            time.sleep(rng.uniform(0.05, 2.0))
            broker.kill()
            time.sleep(rng.uniform(0.0, 0.3))
            broker.start()
        time.sleep(1.0)  # let every client get through a last round with the broker up
        stop.set()
        for thread in threads:
            thread.join(max(1.0, deadline - time.monotonic()))
        assert not [t.name for t in threads if t.is_alive()], "a client worker did not finish in time"
        assert not ledger.errors, "\n".join(ledger.errors)

        broker.kill()  # one more crash with every client quiet: the final state too must survive it
        broker.start()
        wait_for(lambda: all(stable(bootstrap, t, n) for t, n in ((TXN_TOPIC, TXN_PARTITIONS), (EOS_OUT, 1))),
                 "every transaction to be closed", timeout=20)
        print(f"fsync={fsync} kills={KILLS + 1} txns committed={len(ledger.txn_committed)} "
              f"aborted={len(ledger.txn_aborted)} unknown={len(ledger.txn_unknown)} "
              f"idempotent acked={len(ledger.idem_acked)} failed={len(ledger.idem_failed)} "
              f"eos txns={ledger.eos_txns} producer restarts={ledger.producer_restarts}")
        check_transactions(bootstrap, ledger)
        check_idempotent(bootstrap, ledger)
        check_pipeline(bootstrap, ledger)
        check_plain_offsets(bootstrap, ledger)
    except BaseException:
        print("\n".join(ledger.trace[-200:]))
        raise
    finally:
        stop.set()
        broker.stop()


def check_transactions(bootstrap: str, ledger: Ledger) -> None:
    committed = read_everything(bootstrap, TXN_TOPIC, TXN_PARTITIONS, committed=True)
    everything = read_everything(bootstrap, TXN_TOPIC, TXN_PARTITIONS, committed=False)
    seen = Counter(m.value() for m in committed)
    assert not [v for v, n in seen.items() if n > 1], "a transactional value is visible twice"
    per_txn = Counter(int(v.split(b":")[0][1:]) for v in seen)
    assert {n for n, count in per_txn.items() if count != VALUES_PER_TXN} == set(), "a transaction is half visible"
    visible = set(per_txn)
    assert ledger.txn_committed - visible == set(), "an acknowledged commit is missing"
    assert ledger.txn_aborted & visible == set(), "an aborted transaction is visible to read_committed"
    assert set(seen) <= {m.value() for m in everything}


def check_idempotent(bootstrap: str, ledger: Ledger) -> None:
    assert ledger.idem_fatal == [], "the idempotent producer hit a fatal error"
    messages = read_everything(bootstrap, IDEM_TOPIC, IDEM_PARTITIONS, committed=False)
    at = {(m.partition(), m.offset()): m.value() for m in messages}
    lost = {v: where for v, where in ledger.idem_acked.items() if at.get(where) != v}
    assert not lost, f"{len(lost)} acknowledged messages are not where their ack said, e.g. {list(lost.items())[:5]}"
    copies = Counter(m.value() for m in messages)
    duplicated = {v for v, n in copies.items() if n > 1} - ledger.idem_failed
    assert not duplicated, f"idempotent producer duplicates: {sorted(duplicated)[:10]}"


def check_pipeline(bootstrap: str, ledger: Ledger) -> None:
    out = Counter(m.value() for m in read_everything(bootstrap, EOS_OUT, 1, committed=True))
    assert not [v for v, n in out.items() if n > 1], "the exactly-once pipeline wrote an input twice"
    expected = {b"out:in%d" % k for k in range(ledger.eos_committed_to)}
    assert expected - set(out) == set(), "output of an acknowledged pipeline transaction is missing"
    assert committed_offsets(bootstrap, "chaos-eos", EOS_IN, 1)[0] >= ledger.eos_committed_to
    assert ledger.eos_committed_to == EOS_INPUTS, "the pipeline did not get through its input"
    assert set(out) == {b"out:in%d" % k for k in range(EOS_INPUTS)}


def check_plain_offsets(bootstrap: str, ledger: Ledger) -> None:
    got = committed_offsets(bootstrap, "chaos-plain", IDEM_TOPIC, IDEM_PARTITIONS)
    behind = {p: (got.get(p), acked) for p, acked in ledger.plain_committed.items() if got.get(p, -1) < acked}
    assert not behind, f"committed group offsets went backwards: {behind}"


# ---------------------------------------------------------------------------------------------- one open EOS txn


def test_an_open_exactly_once_transaction_at_the_kill_is_aborted_with_its_offsets(tmp_path):
    """Consume-transform-produce: one transaction committed, the next one open (outputs and offsets sent) at
    the kill. After the restart the next producer with the same transactional.id fences it: its outputs never
    become visible and the group's offset stays at the committed transaction's."""
    broker = LocalBroker(tmp_path / "data").start()
    bootstrap = broker.bootstrap_servers
    try:
        source, sink = create_topic(bootstrap, "eos-open-in"), create_topic(bootstrap, "eos-open-out")
        produce_and_flush(bootstrap, source, ({"value": b"in%d" % k} for k in range(10)), acks="all")
        c = group_consumer(bootstrap, "eos-open", [source], **{"isolation.level": "read_committed"})
        ledger = Ledger()
        try:
            messages: list = []
            deadline = time.monotonic() + 20
            while len(messages) < 10:
                assert time.monotonic() < deadline, "the consumer got no input"
                messages += [m for m in c.consume(10 - len(messages), timeout=0.5) if not m.error()]
            producer = TxnProducer(bootstrap, "eos-open", ledger, deadline)

            def transaction(batch, commit: bool) -> None:
                producer.producer.begin_transaction()
                for m in batch:
                    producer.produce(sink, b"out:" + m.value(), 0)
                offsets = [TopicPartition(source, 0, batch[-1].offset() + 1)]
                producer.producer.send_offsets_to_transaction(offsets, c.consumer_group_metadata(), 10)
                if commit:
                    producer.producer.commit_transaction(10)
                else:
                    producer.producer.flush(10)  # the outputs are in the log, the transaction open

            transaction(messages[:5], commit=True)
            transaction(messages[5:], commit=False)
            broker.kill()
            broker.start()
            TxnProducer(bootstrap, "eos-open", ledger, time.monotonic() + 20)  # fences the open transaction
        finally:
            c.close()
        assert ledger.errors == []
        wait_for(lambda: stable(bootstrap, sink, 1), "the fenced transaction to be aborted")
        out = [m.value() for m in read_everything(bootstrap, sink, 1, committed=True)]
        assert out == [b"out:in%d" % k for k in range(5)]
        assert len(read_everything(bootstrap, sink, 1, committed=False)) == 10
        assert committed_offsets(bootstrap, "eos-open", source, 1) == {0: 5}
    finally:
        broker.stop()
