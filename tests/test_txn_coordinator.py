"""The transaction coordinator, socket-free: Kafka's classic transaction protocol as a specification."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from kafkette.broker.clock import now_ms
from kafkette.broker.errors import wire_error
from kafkette.broker.internal_topic import TRANSACTIONS_TOPIC, InternalTopic, ensure_internal_topics
from kafkette.broker.transactions import coordinator as coordinator_module
from kafkette.broker.transactions.coordinator import TransactionCoordinator, TransactionSettings
from kafkette.broker.transactions.markers import MarkerWriter
from kafkette.broker.transactions.producer_ids import ProducerIdAllocator
from kafkette.broker.transactions.states import IllegalTransition, TxnState, check_transition
from kafkette.broker.transactions.txn_log import to_record
from kafkette.protocol.errors import ErrorCode
from kafkette.protocol.messages import END_TXN
from kafkette.protocol.records import BatchHeader, build_batch, control_type, split_batches
from kafkette.storage.config import LogConfig
from kafkette.storage.store import LogStore

E = ErrorCode
TIMEOUT = 60_000


class Txns:
    """A transaction coordinator on a log store, with nothing else of a broker."""

    def __init__(self, data_dir: Path, transaction_max_timeout_ms: int = 900_000) -> None:
        self.store = LogStore(data_dir, LogConfig())
        self.store.open()
        ensure_internal_topics(self.store)
        self.transactions = TransactionCoordinator(
            InternalTopic(self.store, TRANSACTIONS_TOPIC), MarkerWriter(self.store, lambda *completed: None),
            ProducerIdAllocator(data_dir / "producer-ids.json"),
            TransactionSettings(max_timeout_ms=transaction_max_timeout_ms), now_ms)
        self.transactions.load()

    def create_topic(self, name: str, partitions: int) -> None:
        self.store.create_topic(name, partitions, {})

    def now_ms(self) -> int:
        return now_ms()

    def close(self) -> None:
        self.store.close()


def open_broker(data_dir: Path, **settings) -> Txns:
    return Txns(data_dir, **settings)


@pytest.fixture
def broker(tmp_path):
    b = open_broker(tmp_path)
    b.create_topic("orders", 2)
    b.create_topic("payments", 1)
    yield b
    b.close()


def produce_txn(broker: Txns, topic: str, partition: int, pid: int, epoch: int, seq: int = 0) -> int:
    batch = build_batch([(b"k", b"v")], timestamp_ms=broker.now_ms(), producer_id=pid, producer_epoch=epoch,
                        base_sequence=seq, transactional=True)
    result = broker.store.partition(topic, partition).append(batch, now_ms=broker.now_ms())
    assert result.error == E.NONE
    return result.base_offset


def last_batch(broker: Txns, topic: str, partition: int) -> tuple[BatchHeader, memoryview]:
    log = broker.store.partition(topic, partition)
    result = log.read(log.log_start_offset, 1 << 20, isolation_committed=False)
    return split_batches(b"".join(result.chunks))[-1]


def begin(broker: Txns, txn_id: str, partitions: list[tuple[str, int]]) -> tuple[int, int]:
    init = broker.transactions.init_producer_id(txn_id, TIMEOUT)
    assert init.error == E.NONE
    assert broker.transactions.add_partitions(txn_id, init.producer_id, init.producer_epoch, partitions) == E.NONE
    return init.producer_id, init.producer_epoch


def test_idempotent_producers_get_distinct_ids_at_epoch_zero(broker):
    first = broker.transactions.init_producer_id(None, TIMEOUT)
    second = broker.transactions.init_producer_id(None, TIMEOUT)
    assert (first.error, second.error) == (E.NONE, E.NONE)
    assert first.producer_id != second.producer_id
    assert first.producer_epoch == second.producer_epoch == 0


def test_reinit_of_a_transactional_id_bumps_the_epoch_and_keeps_the_id(broker):
    first = broker.transactions.init_producer_id("t", TIMEOUT)
    second = broker.transactions.init_producer_id("t", TIMEOUT)
    assert second.producer_id == first.producer_id
    assert second.producer_epoch == first.producer_epoch + 1


def test_timeout_above_the_broker_maximum_is_rejected(tmp_path):
    b = open_broker(tmp_path, transaction_max_timeout_ms=5000)
    try:
        assert b.transactions.init_producer_id("t", 5001).error == E.INVALID_TRANSACTION_TIMEOUT
        assert b.transactions.init_producer_id("t", 5000).error == E.NONE
    finally:
        b.close()


def test_commit_writes_a_commit_marker_to_every_partition_and_completes(broker):
    parts = [("orders", 0), ("orders", 1), ("payments", 0)]
    pid, epoch = begin(broker, "t", parts)
    for topic, p in parts:
        produce_txn(broker, topic, p, pid, epoch)
    assert broker.store.partition("orders", 0).last_stable_offset == 0
    assert broker.transactions.end_txn("t", pid, epoch, commit=True) == E.NONE
    for topic, p in parts:
        header, batch = last_batch(broker, topic, p)
        assert header.is_control and control_type(batch) == 1
        log = broker.store.partition(topic, p)
        assert log.last_stable_offset == log.high_watermark == 2
    txn = broker.transactions.describe("t")
    assert txn.state == TxnState.COMPLETE_COMMIT and not txn.partitions


def test_abort_lists_the_transaction_as_aborted_for_read_committed_fetches(broker):
    pid, epoch = begin(broker, "t", [("orders", 0)])
    first = produce_txn(broker, "orders", 0, pid, epoch)
    assert broker.transactions.end_txn("t", pid, epoch, commit=False) == E.NONE
    header, batch = last_batch(broker, "orders", 0)
    assert header.is_control and control_type(batch) == 0
    result = broker.store.partition("orders", 0).read(0, 1 << 20, isolation_committed=True)
    assert result.aborted == [(pid, first)]


def test_end_txn_retries_and_wrong_results_answer_as_kafka(broker):
    pid, epoch = begin(broker, "t", [("orders", 0)])
    assert broker.transactions.end_txn("t", pid, epoch, commit=True) == E.NONE
    assert broker.transactions.end_txn("t", pid, epoch, commit=True) == E.NONE  # a retry
    assert broker.transactions.end_txn("t", pid, epoch, commit=False) == E.INVALID_TXN_STATE
    fresh = broker.transactions.init_producer_id("u", TIMEOUT)
    assert broker.transactions.end_txn("u", fresh.producer_id, fresh.producer_epoch, True) == E.INVALID_TXN_STATE


def test_wrong_producer_id_or_epoch_is_rejected(broker):
    pid, epoch = begin(broker, "t", [("orders", 0)])
    assert broker.transactions.add_partitions("t", pid + 1, epoch, [("orders", 1)]) == E.INVALID_PRODUCER_ID_MAPPING
    assert broker.transactions.add_partitions("t", pid, epoch - 1, [("orders", 1)]) == E.PRODUCER_FENCED
    assert broker.transactions.end_txn("nobody", pid, epoch, True) == E.INVALID_PRODUCER_ID_MAPPING
    assert broker.transactions.add_offsets("t", pid, epoch + 1) == E.PRODUCER_FENCED


def test_a_second_producer_fences_the_first_and_aborts_its_transaction(broker):
    pid, epoch = begin(broker, "t", [("orders", 0)])
    produce_txn(broker, "orders", 0, pid, epoch)
    assert broker.transactions.init_producer_id("t", TIMEOUT).error == E.CONCURRENT_TRANSACTIONS
    header, batch = last_batch(broker, "orders", 0)
    assert header.is_control and control_type(batch) == 0 and header.producer_epoch == epoch + 1
    assert broker.transactions.end_txn("t", pid, epoch, commit=True) == E.PRODUCER_FENCED
    retry = broker.transactions.init_producer_id("t", TIMEOUT)
    assert (retry.error, retry.producer_id, retry.producer_epoch) == (E.NONE, pid, epoch + 2)
    log = broker.store.partition("orders", 0)
    assert log.last_stable_offset == log.high_watermark


def test_a_timed_out_transaction_is_aborted_and_its_producer_fenced(broker):
    init = broker.transactions.init_producer_id("t", 1000)
    pid, epoch = init.producer_id, init.producer_epoch
    broker.transactions.add_partitions("t", pid, epoch, [("orders", 0)])
    produce_txn(broker, "orders", 0, pid, epoch)
    started = broker.transactions.describe("t").start_ms
    broker.transactions.tick(started + 999)
    assert broker.transactions.describe("t").state == TxnState.ONGOING
    broker.transactions.tick(started + 1001)
    txn = broker.transactions.describe("t")
    assert txn.state == TxnState.COMPLETE_ABORT and txn.producer_epoch == epoch + 1
    assert broker.transactions.end_txn("t", pid, epoch, commit=True) == E.PRODUCER_FENCED
    assert broker.store.partition("orders", 0).last_stable_offset == 2


def test_an_abort_marker_written_by_an_admin_ends_the_transaction_on_its_partition_only(broker):
    """Admin.abortTransaction (kafkette txn abort --start-offset) writes the ABORT marker with WriteTxnMarkers at
    the partition and tells no coordinator, as Kafka does: the partition's LSO moves on at once, the coordinator
    still has the transaction Ongoing and aborts it at its timeout with a bumped epoch, which the partition takes
    without a second aborted-transaction entry."""
    init = broker.transactions.init_producer_id("t", 1000)
    pid, epoch = init.producer_id, init.producer_epoch
    broker.transactions.add_partitions("t", pid, epoch, [("orders", 0), ("orders", 1)])
    first = produce_txn(broker, "orders", 0, pid, epoch)
    produce_txn(broker, "orders", 1, pid, epoch)
    log = broker.store.partition("orders", 0)
    assert broker.transactions.markers.write("orders", 0, pid, epoch, False, 0, now_ms()) == E.NONE
    assert log.last_stable_offset == log.high_watermark == 2
    assert broker.store.partition("orders", 1).last_stable_offset == 0  # the other partition waits for the coordinator
    assert broker.transactions.describe("t").state == TxnState.ONGOING

    broker.transactions.tick(broker.transactions.describe("t").start_ms + 1001)
    txn = broker.transactions.describe("t")
    assert txn.state == TxnState.COMPLETE_ABORT and txn.producer_epoch == epoch + 1
    header, batch = last_batch(broker, "orders", 0)
    assert header.is_control and control_type(batch) == 0 and header.producer_epoch == epoch + 1
    assert log.last_stable_offset == log.high_watermark == 3
    assert log.aborted_transactions(0, 3) == [(pid, first)]
    assert broker.store.partition("orders", 1).last_stable_offset == 2


def test_produce_verification_rejects_partitions_outside_the_transaction(broker):
    pid, epoch = begin(broker, "t", [("orders", 0)])
    header = BatchHeader.parse(build_batch([(None, b"v")], timestamp_ms=0, producer_id=pid, producer_epoch=epoch,
                                           base_sequence=0, transactional=True))
    verify = broker.transactions.verify_produce
    assert verify("t", header, "orders", 0, 9) == E.NONE
    assert verify("t", header, "orders", 1, 9) == E.INVALID_TXN_STATE
    assert verify("t", header._replace(producer_epoch=epoch - 1), "orders", 0, 9) == E.INVALID_PRODUCER_EPOCH
    assert verify("other", header, "orders", 0, 9) == E.INVALID_TXN_STATE
    broker.transactions.end_txn("t", pid, epoch, commit=True)
    assert verify("t", header, "orders", 0, 9) == E.INVALID_TXN_STATE


def test_kip360_epoch_bump_with_the_current_or_last_epoch(broker):
    first = broker.transactions.init_producer_id("t", TIMEOUT)
    bumped = broker.transactions.init_producer_id("t", TIMEOUT, first.producer_id, first.producer_epoch)
    assert bumped.producer_epoch == first.producer_epoch + 1
    retried = broker.transactions.init_producer_id("t", TIMEOUT, first.producer_id, first.producer_epoch)
    assert (retried.producer_id, retried.producer_epoch) == (bumped.producer_id, bumped.producer_epoch)
    stale = broker.transactions.init_producer_id("t", TIMEOUT, first.producer_id, first.producer_epoch - 5)
    assert stale.error == E.PRODUCER_FENCED


def test_an_exhausted_epoch_moves_the_producer_to_a_new_id(broker, monkeypatch):
    first = broker.transactions.init_producer_id("t", TIMEOUT)
    monkeypatch.setattr(coordinator_module, "MAX_EPOCH", first.producer_epoch)
    second = broker.transactions.init_producer_id("t", TIMEOUT)
    assert second.producer_id != first.producer_id and second.producer_epoch == 0


def test_state_and_producer_ids_survive_a_restart(tmp_path):
    b = open_broker(tmp_path)
    b.create_topic("orders", 1)
    pid, epoch = begin(b, "t", [("orders", 0)])
    produce_txn(b, "orders", 0, pid, epoch)
    idempotent = b.transactions.init_producer_id(None, TIMEOUT).producer_id
    b.close()
    b = open_broker(tmp_path)
    try:
        txn = b.transactions.describe("t")
        assert (txn.state, txn.producer_id, txn.producer_epoch) == (TxnState.ONGOING, pid, epoch)
        assert txn.partitions == {("orders", 0)}
        assert b.store.partition("orders", 0).last_stable_offset == 0
        fresh = b.transactions.init_producer_id(None, TIMEOUT).producer_id
        assert fresh not in (pid, idempotent)
        assert b.transactions.end_txn("t", pid, epoch, commit=True) == E.NONE
        assert b.store.partition("orders", 0).last_stable_offset == 2
    finally:
        b.close()


def test_a_transaction_caught_in_prepare_commit_is_completed_at_start(tmp_path):
    b = open_broker(tmp_path)
    b.create_topic("orders", 1)
    pid, epoch = begin(b, "t", [("orders", 0)])
    produce_txn(b, "orders", 0, pid, epoch)
    prepared = dataclasses.replace(b.transactions.describe("t"))
    prepared.transition(TxnState.PREPARE_COMMIT, b.now_ms())
    b.transactions.topic.append([to_record(prepared)], b.now_ms())  # the crash came before the markers
    b.close()
    b = open_broker(tmp_path)
    try:
        assert b.transactions.describe("t").state == TxnState.COMPLETE_COMMIT
        header, batch = last_batch(b, "orders", 0)
        assert header.is_control and control_type(batch) == 1
        assert b.store.partition("orders", 0).last_stable_offset == 2
    finally:
        b.close()


def test_transitions_follow_kafkas_table():
    check_transition(TxnState.ONGOING, TxnState.PREPARE_COMMIT)
    check_transition(TxnState.PREPARE_EPOCH_FENCE, TxnState.PREPARE_ABORT)
    with pytest.raises(IllegalTransition):
        check_transition(TxnState.EMPTY, TxnState.PREPARE_COMMIT)
    with pytest.raises(IllegalTransition):
        check_transition(TxnState.COMPLETE_COMMIT, TxnState.COMPLETE_ABORT)


@pytest.mark.parametrize("version, expected", [(0, E.INVALID_PRODUCER_EPOCH), (1, E.INVALID_PRODUCER_EPOCH),
                                               (2, E.PRODUCER_FENCED), (3, E.PRODUCER_FENCED)])
def test_producer_fenced_is_mapped_for_old_request_versions(version, expected):
    assert wire_error(END_TXN, version, E.PRODUCER_FENCED) == expected
    assert wire_error(END_TXN, version, E.CONCURRENT_TRANSACTIONS) == E.CONCURRENT_TRANSACTIONS
