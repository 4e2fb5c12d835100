"""The transaction coordinator's restart path: what `__transaction_state` says is finished on start.

Each scenario is written straight into a stopped broker's data directory, as a
kill -9 would have left it: a transaction record in `__transaction_state`, the
transactional data in user partitions, and no marker yet. The broker is then
started, in process (no sockets) for the state checks and as a subprocess for
what real clients see.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from confluent_kafka import TopicPartition

from kafkette.broker.config import BrokerConfig
from kafkette.broker.groups.offsets import OffsetAndMetadata
from kafkette.broker.groups.records import offset_key, offset_value
from kafkette.broker.internal_topic import OFFSETS_TOPIC, TRANSACTIONS_TOPIC, ensure_internal_topics
from kafkette.broker.state import Broker
from kafkette.broker.transactions.metadata import TransactionMetadata
from kafkette.broker.transactions.states import TxnState
from kafkette.broker.transactions.txn_log import to_record
from kafkette.local_broker import LocalBroker
from kafkette.protocol.messages import DESCRIBE_TRANSACTIONS, LIST_TRANSACTIONS
from kafkette.protocol.records import NewRecord, build_batch, iter_records, split_batches
from kafkette.storage import LogConfig, LogStore
from tests.clients import RawClient, consume_assigned, consumer, drain, fetch_records, values

pytestmark = pytest.mark.kafkette_only("seeds a stopped kafkette's data dir")

TOPIC = "orders"
PID = 4000
EPOCH = 3
TIMEOUT_MS = 60_000
S = TxnState


def now_ms() -> int:
    return int(time.time() * 1000)


# ---------------------------------------------------------------------------------------------- seeding


class Seed:
    """A stopped broker's data directory, opened with the storage layer alone."""

    def __init__(self, data_dir: Path, partitions: int = 2) -> None:
        self.store = LogStore(data_dir, LogConfig())
        self.store.open()
        ensure_internal_topics(self.store)
        if self.store.topic(TOPIC) is None:
            self.store.create_topic(TOPIC, partitions, {})
        self.sequences: dict[tuple[str, int, int], int] = {}

    def txn_state(self, txn: TransactionMetadata) -> None:
        """What the coordinator appends before it acts: one record in `__transaction_state`."""
        result = self.store.partition(TRANSACTIONS_TOPIC, 0).append(
            build_batch([to_record(txn)], timestamp_ms=now_ms()), now_ms=now_ms())
        assert result.error == 0

    def txn_data(self, partition: int, items: list[bytes], *, pid: int = PID, epoch: int = EPOCH) -> int:
        """A transactional producer's batch on a user partition; returns its base offset."""
        return self._txn_batch(TOPIC, partition, [NewRecord(None, v) for v in items], pid, epoch)

    def txn_offset(self, group: str, partition: int, offset: int, *, pid: int = PID, epoch: int = EPOCH) -> None:
        """A TxnOffsetCommit as the group coordinator writes it: a transactional batch in `__consumer_offsets`."""
        record = NewRecord(offset_key(group, TOPIC, partition), offset_value(OffsetAndMetadata(offset)))
        self._txn_batch(OFFSETS_TOPIC, 0, [record], pid, epoch)

    def _txn_batch(self, topic: str, partition: int, records: list[NewRecord], pid: int, epoch: int) -> int:
        key = (topic, partition, pid)
        sequence = self.sequences.get(key, 0)
        batch = build_batch(records, timestamp_ms=now_ms(), producer_id=pid, producer_epoch=epoch,
                            base_sequence=sequence, transactional=True)
        result = self.store.partition(topic, partition).append(batch, now_ms=now_ms())
        assert result.error == 0
        self.sequences[key] = sequence + len(records)
        return result.base_offset

    def plain_offset(self, group: str, partition: int, offset: int) -> None:
        record = NewRecord(offset_key(group, TOPIC, partition), offset_value(OffsetAndMetadata(offset)))
        batch = build_batch([record], timestamp_ms=now_ms())
        assert self.store.partition(OFFSETS_TOPIC, 0).append(batch, now_ms=now_ms()).error == 0

    def close(self) -> None:
        self.store.close()


def txn(state: TxnState, partitions: set, *, tid: str = "tx-1", start_ms: int | None = None,
        timeout_ms: int = TIMEOUT_MS) -> TransactionMetadata:
    start = now_ms() if start_ms is None else start_ms
    return TransactionMetadata(tid, PID, EPOCH, timeout_ms, state, set(partitions), start_ms=start,
                               last_update_ms=start)


def seeded(tmp_path: Path, state: TxnState, *, start_ms: int | None = None, timeout_ms: int = TIMEOUT_MS,
           group: str | None = None) -> tuple[Path, list[int]]:
    """One transaction of two data batches (partitions 0 and 1) left in `state` with no marker written.

    The record sequence is Kafka's: Ongoing (partitions added), the data, then `state`.
    Returns the data directory and the data batches' base offsets.
    """
    data_dir = tmp_path / "data"
    seed = Seed(data_dir)
    partitions = {(TOPIC, 0), (TOPIC, 1)} | ({(OFFSETS_TOPIC, 0)} if group else set())
    seed.txn_state(txn(S.ONGOING, partitions, start_ms=start_ms, timeout_ms=timeout_ms))
    offsets = [seed.txn_data(0, [b"a0", b"a1"]), seed.txn_data(1, [b"b0"])]
    if group:
        seed.plain_offset(group, 0, 1)
        seed.txn_offset(group, 0, 2)
    if state != S.ONGOING:
        seed.txn_state(txn(state, partitions, start_ms=start_ms, timeout_ms=timeout_ms))
    seed.close()
    return data_dir, offsets


# ---------------------------------------------------------------------------------------------- in process


def run_broker(data_dir: Path, check, **settings) -> None:
    """Start a Broker in process (store, coordinators, timers; no listener), run `check(broker)`, stop it."""
    async def main() -> None:
        broker = Broker(BrokerConfig(data_dir=data_dir, port=0, **settings))
        await broker.start()
        try:
            check(broker)
        finally:
            await broker.stop()

    asyncio.run(main())


def committed_view(broker, partition: int):
    return broker.store.partition(TOPIC, partition).read(0, 1 << 20, isolation_committed=True)


def batch_values(chunks) -> list[bytes]:
    out = []
    for header, batch in split_batches(b"".join(chunks)):
        if not header.is_control:
            out.extend(r.value for r in iter_records(batch))
    return out


def test_prepare_commit_is_completed_on_start(tmp_path):
    data_dir, _ = seeded(tmp_path, S.PREPARE_COMMIT)

    def check(broker):
        state = broker.transactions.describe("tx-1")
        assert (state.state, state.partitions, state.producer_epoch) == (S.COMPLETE_COMMIT, set(), EPOCH)
        for partition, expected in ((0, [b"a0", b"a1"]), (1, [b"b0"])):
            log = broker.store.partition(TOPIC, partition)
            view = committed_view(broker, partition)
            assert log.last_stable_offset == log.high_watermark == len(expected) + 1  # data + COMMIT marker
            assert batch_values(view.chunks) == expected and view.aborted == []

    run_broker(data_dir, check)


def test_prepare_abort_is_completed_on_start_and_indexed_as_aborted(tmp_path):
    data_dir, offsets = seeded(tmp_path, S.PREPARE_ABORT)

    def check(broker):
        assert broker.transactions.describe("tx-1").state == S.COMPLETE_ABORT
        for partition, first in zip((0, 1), offsets):
            log = broker.store.partition(TOPIC, partition)
            assert log.last_stable_offset == log.high_watermark
            assert committed_view(broker, partition).aborted == [(PID, first)]

    run_broker(data_dir, check)


def test_prepare_epoch_fence_is_aborted_with_a_bumped_epoch_on_start(tmp_path):
    data_dir, offsets = seeded(tmp_path, S.PREPARE_EPOCH_FENCE)

    def check(broker):
        state = broker.transactions.describe("tx-1")
        assert (state.state, state.producer_epoch) == (S.COMPLETE_ABORT, EPOCH + 1)
        assert committed_view(broker, 0).aborted == [(PID, offsets[0])]
        assert broker.store.partition(TOPIC, 0).producers_info()[0].epoch == EPOCH + 1

    run_broker(data_dir, check)


def test_completion_is_recorded_so_a_second_restart_writes_no_more_markers(tmp_path):
    data_dir, _ = seeded(tmp_path, S.PREPARE_COMMIT)
    ends: list[int] = []
    run_broker(data_dir, lambda b: ends.append(b.store.partition(TOPIC, 0).high_watermark))
    run_broker(data_dir, lambda b: ends.append(b.store.partition(TOPIC, 0).high_watermark))
    assert ends == [3, 3]


def test_a_crash_after_some_markers_is_completed_without_harm(tmp_path):
    """PrepareCommit durable, the marker on partition 0 written, the crash before partition 1's."""
    data_dir, _ = seeded(tmp_path, S.PREPARE_COMMIT)
    store = LogStore(data_dir, LogConfig())
    store.open()
    assert store.partition(TOPIC, 0).append_control(PID, EPOCH, True, 0, now_ms=now_ms()).error == 0
    store.close()

    def check(broker):
        assert broker.transactions.describe("tx-1").state == S.COMPLETE_COMMIT
        for partition, expected in ((0, [b"a0", b"a1"]), (1, [b"b0"])):
            log = broker.store.partition(TOPIC, partition)
            assert log.last_stable_offset == log.high_watermark
            assert batch_values(committed_view(broker, partition).chunks) == expected

    run_broker(data_dir, check)


def test_an_ongoing_transaction_stays_open_and_keeps_its_start_time(tmp_path):
    started = now_ms() - 5_000
    data_dir, offsets = seeded(tmp_path, S.ONGOING, start_ms=started)

    def check(broker):
        state = broker.transactions.describe("tx-1")
        assert (state.state, state.start_ms) == (S.ONGOING, started)
        log = broker.store.partition(TOPIC, 0)
        assert log.last_stable_offset == offsets[0] < log.high_watermark
        broker.transactions.tick(started + TIMEOUT_MS - 1)
        assert broker.transactions.describe("tx-1").state == S.ONGOING
        broker.transactions.tick(started + TIMEOUT_MS + 1)  # its own timeout, from its real start
        state = broker.transactions.describe("tx-1")
        assert (state.state, state.producer_epoch) == (S.COMPLETE_ABORT, EPOCH + 1)
        assert log.last_stable_offset == log.high_watermark
        assert committed_view(broker, 0).aborted == [(PID, offsets[0])]

    run_broker(data_dir, check)


def test_transactional_offsets_of_a_prepared_commit_become_committed_on_start(tmp_path):
    data_dir, _ = seeded(tmp_path, S.PREPARE_COMMIT, group="g1")

    def check(broker):
        rows = broker.groups.offsets.fetch("g1", [(TOPIC, [0])], require_stable=True)
        (_, [(partition, offset, error)]), = rows
        assert (partition, offset.offset, error) == (0, 2, 0)

    run_broker(data_dir, check)


def test_transactional_offsets_of_a_prepared_abort_are_dropped_on_start(tmp_path):
    data_dir, _ = seeded(tmp_path, S.PREPARE_ABORT, group="g1")

    def check(broker):
        (_, [(partition, offset, error)]), = broker.groups.offsets.fetch("g1", [(TOPIC, [0])], require_stable=True)
        assert (partition, offset.offset, error) == (0, 1, 0)  # the plain commit before it stays

    run_broker(data_dir, check)


def test_transactional_offsets_of_an_open_transaction_stay_pending(tmp_path):
    data_dir, _ = seeded(tmp_path, S.ONGOING, group="g1")

    def check(broker):
        (_, [(_, offset, error)]), = broker.groups.offsets.fetch("g1", [(TOPIC, [0])], require_stable=True)
        assert (offset, error) == (None, 88)  # UNSTABLE_OFFSET_COMMIT
        (_, [(_, offset, _)]), = broker.groups.offsets.fetch("g1", [(TOPIC, [0])], require_stable=False)
        assert offset.offset == 1

    run_broker(data_dir, check)


# ---------------------------------------------------------------------------------------------- real clients


def describe(bootstrap: str, tid: str):
    with RawClient(bootstrap) as raw:
        response = raw.request(DESCRIBE_TRANSACTIONS, 0, DESCRIBE_TRANSACTIONS.Request(transactional_ids=[tid]))
    return response.transaction_states[0]


def listed(bootstrap: str) -> dict[str, str]:
    with RawClient(bootstrap) as raw:
        response = raw.request(LIST_TRANSACTIONS, 1, LIST_TRANSACTIONS.Request(
            state_filters=[], producer_id_filters=[], duration_filter=-1))
    return {t.transactional_id: t.transaction_state for t in response.transaction_states}


def test_clients_see_a_prepared_commit_completed_after_start(tmp_path):
    data_dir, _ = seeded(tmp_path, S.PREPARE_COMMIT)
    broker = LocalBroker(data_dir).start()
    try:
        assert describe(broker.bootstrap_servers, "tx-1").transaction_state == "CompleteCommit"
        assert listed(broker.bootstrap_servers) == {"tx-1": "CompleteCommit"}
        got = consume_assigned(broker.bootstrap_servers, TOPIC, 3, partitions=(0, 1), timeout=15,
                               **{"isolation.level": "read_committed"})
        assert sorted(values(got)) == [b"a0", b"a1", b"b0"]
    finally:
        broker.stop()


def test_clients_never_see_a_prepared_abort(tmp_path):
    data_dir, offsets = seeded(tmp_path, S.PREPARE_ABORT)
    broker = LocalBroker(data_dir).start()
    try:
        assert listed(broker.bootstrap_servers) == {"tx-1": "CompleteAbort"}
        data, records = fetch_records(broker.bootstrap_servers, TOPIC, 0, 0, isolation_level=1)
        assert data.last_stable_offset == data.high_watermark == 3
        assert [(a.producer_id, a.first_offset) for a in data.aborted_transactions] == [(PID, offsets[0])]
        c = consumer(broker.bootstrap_servers, **{"isolation.level": "read_committed"})
        try:
            c.assign([TopicPartition(TOPIC, p, 0) for p in (0, 1)])
            assert drain(c, quiet=1.0, timeout=5) == []
        finally:
            c.close()
    finally:
        broker.stop()


def test_an_expired_ongoing_transaction_is_aborted_by_the_timer_after_start(tmp_path):
    """Started two minutes before the crash with a one-minute timeout: due at once, by its stored start."""
    data_dir, offsets = seeded(tmp_path, S.ONGOING, start_ms=now_ms() - 120_000)
    broker = LocalBroker(data_dir, transaction_abort_interval_ms=100).start()
    try:
        deadline = time.monotonic() + 15
        while describe(broker.bootstrap_servers, "tx-1").transaction_state != "CompleteAbort":
            assert time.monotonic() < deadline, "the expired transaction was not aborted"
            time.sleep(0.05)
        state = describe(broker.bootstrap_servers, "tx-1")
        assert state.producer_epoch == EPOCH + 1
        data, records = fetch_records(broker.bootstrap_servers, TOPIC, 0, 0, isolation_level=1)
        assert data.last_stable_offset == data.high_watermark
        assert [(a.producer_id, a.first_offset) for a in data.aborted_transactions] == [(PID, offsets[0])]
    finally:
        broker.stop()


@pytest.mark.parametrize("state", [S.PREPARE_COMMIT, S.PREPARE_ABORT], ids=lambda s: s.wire_name)
def test_a_killed_broker_completes_the_transaction_on_the_next_start(tmp_path, state):
    """Seeded, started (which completes it), killed at once, started again: the completion itself survived."""
    data_dir, _ = seeded(tmp_path, state)
    broker = LocalBroker(data_dir).start()
    broker.kill()
    broker.start()
    try:
        expected = "CompleteCommit" if state == S.PREPARE_COMMIT else "CompleteAbort"
        assert describe(broker.bootstrap_servers, "tx-1").transaction_state == expected
        c = consumer(broker.bootstrap_servers, **{"isolation.level": "read_committed"})
        try:
            c.assign([TopicPartition(TOPIC, p, 0) for p in (0, 1)])
            got = drain(c, quiet=1.0, timeout=10)
        finally:
            c.close()
        assert sorted(values(got)) == ([b"a0", b"a1", b"b0"] if state == S.PREPARE_COMMIT else [])
        for partition in (0, 1):
            data, _ = fetch_records(broker.bootstrap_servers, TOPIC, partition, 0, isolation_level=1)
            assert data.last_stable_offset == data.high_watermark
    finally:
        broker.stop()
