"""The transaction coordinator, as Kafka's classic (pre-KIP-890) protocol has it.

Every state change is appended to `__transaction_state` before it is applied
in memory and before the request is answered. Being a single process, the
coordinator writes the COMMIT/ABORT markers before answering EndTxn, so a
client never sees the window in which Kafka answers CONCURRENT_TRANSACTIONS.

Each new state is logged at info when it becomes current (`_store`), and the
outcomes are counted in `counts` for the metrics.
"""

from __future__ import annotations

import dataclasses
from typing import Callable, Iterable

import structlog

from kafkette.broker.clock import Clock
from kafkette.broker.internal_topic import OFFSETS_TOPIC, InternalTopic, InternalTopicError
from kafkette.broker.transactions.markers import MarkerWriter
from kafkette.broker.transactions.metadata import TransactionMetadata
from kafkette.broker.transactions.producer_ids import ProducerIdAllocator
from kafkette.broker.transactions.states import COMPLETE, PREPARING, TxnState
from kafkette.broker.transactions.txn_log import from_record, to_record
from kafkette.protocol.errors import ErrorCode
from kafkette.protocol.records import BatchHeader, iter_records
from kafkette.protocol.types import TopicPartition

log = structlog.get_logger("kafkette.transactions")
MAX_EPOCH = 32766  # Short.MaxValue - 1: past it the producer gets a new id
S = TxnState


@dataclasses.dataclass(frozen=True)
class InitResult:
    error: ErrorCode
    producer_id: int = -1
    producer_epoch: int = -1


@dataclasses.dataclass
class TransactionCounts:
    """Transactions ended since start: what the metrics export as counters."""

    committed: int = 0
    aborted: int = 0  # every abort, the timed-out and fenced ones included
    timed_out: int = 0  # aborted by the coordinator: open longer than their transaction.timeout.ms
    fenced: int = 0  # aborted because a new producer with the same transactional id called InitProducerId


# the event logged when a transaction enters a state
STATE_EVENTS = {
    S.EMPTY: "transactional producer initialised",
    S.ONGOING: "transaction begins",
    S.PREPARE_COMMIT: "transaction prepares commit",
    S.PREPARE_ABORT: "transaction prepares abort",
    S.COMPLETE_COMMIT: "transaction committed",
    S.COMPLETE_ABORT: "transaction aborted",
}


@dataclasses.dataclass(frozen=True)
class TransactionSettings:
    max_timeout_ms: int = 900_000  # Kafka's transaction.max.timeout.ms
    abort_interval_ms: int = 10_000  # Kafka's transaction.abort.timed.out.transaction.cleanup.interval.ms


class TransactionCoordinator:
    def __init__(self, txn_log: InternalTopic, markers: MarkerWriter, producer_ids: ProducerIdAllocator,
                 settings: TransactionSettings, clock: Clock,
                 coordinator_epoch: Callable[[str], int] = lambda _transactional_id: 0) -> None:
        """`txn_log` is `__transaction_state`; `markers` writes COMMIT/ABORT into the data partitions, stamped
        with `coordinator_epoch(transactional id)` (its partition's leader epoch: it grows when the coordinator
        moves)."""
        self.coordinator_epoch = coordinator_epoch
        self.topic = txn_log
        self.markers = markers
        self.producer_ids = producer_ids
        self.settings = settings
        self.now_ms = clock
        self.txns: dict[str, TransactionMetadata] = {}
        self.by_producer: dict[int, TransactionMetadata] = {}
        self.counts = TransactionCounts()
        self.tick_interval_ms = settings.abort_interval_ms

    # ------------------------------------------------------------------ life cycle

    def load(self) -> None:
        """Rebuild every transaction from `__transaction_state`; finish those caught mid-commit/abort."""
        highest_pid = -1
        for header, batch in self.topic.replay():
            if header.is_control:
                continue
            for record in iter_records(batch):
                if record.key is None:
                    continue
                transactional_id, txn = from_record(record.key, record.value)
                if txn is None:
                    self.txns.pop(transactional_id, None)
                else:
                    self.txns[transactional_id] = txn
                    highest_pid = max(highest_pid, txn.producer_id, txn.last_producer_id)
        self.producer_ids.load(at_least=highest_pid + 1)
        self.by_producer = {txn.producer_id: txn for txn in self.txns.values()}
        now = self.now_ms()
        unfinished = [t for t in self.txns.values() if t.state in PREPARING]
        for txn in unfinished:
            log.info("completing transaction interrupted by a restart", transactional_id=txn.transactional_id,
                     state=txn.state.wire_name, partitions=len(txn.partitions))
            if txn.state == S.PREPARE_EPOCH_FENCE:
                self._abort_fenced(txn, now)
            else:
                self._complete(txn, txn.state == S.PREPARE_COMMIT, now)
        log.info("transactions loaded", transactional_ids=len(self.txns),
                 open=sum(t.state == S.ONGOING for t in self.txns.values()), completed_on_load=len(unfinished))

    def tick(self, now_ms: int) -> None:
        """Abort, and fence, every transaction open longer than its timeout."""
        for txn in [t for t in self.txns.values() if t.expired(now_ms)]:
            log.info("aborting timed-out transaction", transactional_id=txn.transactional_id,
                     producer_id=txn.producer_id, epoch=txn.producer_epoch, timeout_ms=txn.timeout_ms)
            if self._abort_fenced(txn, now_ms) == ErrorCode.NONE:
                self.counts.timed_out += 1

    def close(self) -> None:
        pass

    def forget_everything(self) -> None:
        """`__transaction_state` was deleted (Kafka allows it): every transactional id is forgotten. A
        transaction open in a data partition stays open there (hanging, as in Kafka) until
        `kafkette txn abort` or Admin.abortTransaction ends it."""
        hanging = sum(t.state == S.ONGOING for t in self.txns.values())
        self.txns.clear()
        self.by_producer.clear()
        log.warning("__transaction_state deleted: every transactional id is forgotten", hanging_transactions=hanging)

    # ------------------------------------------------------------------ requests

    def init_producer_id(self, transactional_id: str | None, timeout_ms: int, producer_id: int = -1,
                         producer_epoch: int = -1) -> InitResult:
        if transactional_id is None:
            return InitResult(ErrorCode.NONE, self.producer_ids.allocate(), 0)
        if not 0 < timeout_ms <= self.settings.max_timeout_ms:
            return InitResult(ErrorCode.INVALID_TRANSACTION_TIMEOUT)
        now = self.now_ms()
        txn = self.txns.get(transactional_id)
        if txn is None:
            fresh = TransactionMetadata(transactional_id, self.producer_ids.allocate(), 0, timeout_ms,
                                        last_update_ms=now)
            return self._init_result(fresh)
        if txn.state in PREPARING:
            return InitResult(ErrorCode.CONCURRENT_TRANSACTIONS)
        if txn.state == S.ONGOING:
            log.info("fencing the previous producer: a new one with its transactional id aborts its open "
                     "transaction", transactional_id=transactional_id, producer_id=txn.producer_id,
                     epoch=txn.producer_epoch)
            if self._abort_fenced(txn, now) == ErrorCode.NONE:  # it can never be committed now
                self.counts.fenced += 1
            return InitResult(ErrorCode.CONCURRENT_TRANSACTIONS)
        if producer_id != -1:
            if producer_id == txn.producer_id and producer_epoch == txn.last_producer_epoch:
                return InitResult(ErrorCode.NONE, txn.producer_id, txn.producer_epoch)  # a retried bump
            if (producer_id, producer_epoch) != (txn.producer_id, txn.producer_epoch):
                return InitResult(ErrorCode.PRODUCER_FENCED)
        bumped = self._bump(txn)
        bumped.timeout_ms = timeout_ms
        bumped.state = S.EMPTY
        bumped.partitions = set()
        bumped.start_ms = -1  # no transaction yet (DescribeTransactions shows none, as Kafka's)
        bumped.last_update_ms = now
        return self._init_result(bumped)

    def add_partitions(self, transactional_id: str, producer_id: int, producer_epoch: int,
                       partitions: Iterable[TopicPartition]) -> ErrorCode:
        txn = self._producer_check(transactional_id, producer_id, producer_epoch)
        if isinstance(txn, ErrorCode):
            return txn
        wanted = set(partitions)
        if txn.state == S.ONGOING and wanted <= txn.partitions:
            return ErrorCode.NONE
        now = self.now_ms()
        updated = dataclasses.replace(txn, partitions=txn.partitions | wanted)
        if txn.state != S.ONGOING:
            updated.start_ms = now
            updated.partitions = wanted
        updated.transition(S.ONGOING, now)
        return self._store(updated)

    def add_offsets(self, transactional_id: str, producer_id: int, producer_epoch: int) -> ErrorCode:
        return self.add_partitions(transactional_id, producer_id, producer_epoch, [TopicPartition(OFFSETS_TOPIC, 0)])

    def end_txn(self, transactional_id: str, producer_id: int, producer_epoch: int, commit: bool) -> ErrorCode:
        txn = self._producer_check(transactional_id, producer_id, producer_epoch)
        if isinstance(txn, ErrorCode):
            return txn
        if txn.state in COMPLETE:
            done = S.COMPLETE_COMMIT if commit else S.COMPLETE_ABORT
            return ErrorCode.NONE if txn.state == done else ErrorCode.INVALID_TXN_STATE  # a retried EndTxn
        if txn.state != S.ONGOING:
            return ErrorCode.INVALID_TXN_STATE
        now = self.now_ms()
        prepared = dataclasses.replace(txn)
        prepared.transition(S.PREPARE_COMMIT if commit else S.PREPARE_ABORT, now)
        error = self._store(prepared)
        if error != ErrorCode.NONE:
            return error
        return self._complete(prepared, commit, now)

    def verify_produce(self, transactional_id: str | None, header: BatchHeader, topic: str, partition: int,
                       version: int) -> ErrorCode:
        """Kafka's partition verification: a transactional batch only for a partition in its open transaction."""
        txn = self.by_producer.get(header.producer_id)
        if txn is None or (transactional_id is not None and txn.transactional_id != transactional_id):
            return ErrorCode.INVALID_TXN_STATE
        if header.producer_epoch < txn.producer_epoch:
            return ErrorCode.INVALID_PRODUCER_EPOCH
        if txn.state != S.ONGOING or (topic, partition) not in txn.partitions:
            return ErrorCode.INVALID_TXN_STATE
        return ErrorCode.NONE

    # ------------------------------------------------------------------ steps

    def _producer_check(self, transactional_id: str, producer_id: int,
                        producer_epoch: int) -> TransactionMetadata | ErrorCode:
        """The producer's transaction, or why the request is refused."""
        txn = self.txns.get(transactional_id)
        if txn is None or txn.producer_id != producer_id:
            return ErrorCode.INVALID_PRODUCER_ID_MAPPING
        if txn.producer_epoch != producer_epoch:
            return ErrorCode.PRODUCER_FENCED
        if txn.state in PREPARING:
            return ErrorCode.CONCURRENT_TRANSACTIONS
        return txn

    def _bump(self, txn: TransactionMetadata) -> TransactionMetadata:
        bumped = dataclasses.replace(txn, last_producer_id=txn.producer_id, last_producer_epoch=txn.producer_epoch)
        if txn.producer_epoch >= MAX_EPOCH:
            bumped.producer_id, bumped.producer_epoch = self.producer_ids.allocate(), 0
        else:
            bumped.producer_epoch = txn.producer_epoch + 1
        return bumped

    def _init_result(self, txn: TransactionMetadata) -> InitResult:
        error = self._store(txn)
        if error != ErrorCode.NONE:
            return InitResult(error)
        return InitResult(ErrorCode.NONE, txn.producer_id, txn.producer_epoch)

    def _abort_fenced(self, txn: TransactionMetadata, now: int) -> ErrorCode:
        """Bump the epoch (fencing the producer) and abort its open transaction with the new epoch."""
        fenced = self._bump(txn)
        fenced.state = S.PREPARE_EPOCH_FENCE if txn.state == S.ONGOING else txn.state
        fenced.transition(S.PREPARE_ABORT, now)
        error = self._store(fenced)
        if error != ErrorCode.NONE:
            return error
        return self._complete(fenced, False, now)

    def _complete(self, txn: TransactionMetadata, commit: bool, now: int) -> ErrorCode:
        """Write a marker to every partition of the transaction, then record it as complete."""
        for topic, partition in sorted(txn.partitions):
            error = self.markers.write(topic, partition, txn.producer_id, txn.producer_epoch, commit,
                                       self.coordinator_epoch(txn.transactional_id), now)
            if error not in (ErrorCode.NONE, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION):
                log.error("could not write a transaction marker; will retry on restart", topic=topic,
                          partition=partition, transactional_id=txn.transactional_id, error=error.name)
                return ErrorCode.COORDINATOR_NOT_AVAILABLE
        done = dataclasses.replace(txn, partitions=set())
        done.transition(S.COMPLETE_COMMIT if commit else S.COMPLETE_ABORT, now)
        error = self._store(done)
        if error == ErrorCode.NONE:
            if commit:
                self.counts.committed += 1
            else:
                self.counts.aborted += 1
        return error

    def _store(self, txn: TransactionMetadata) -> ErrorCode:
        """Append the new state to `__transaction_state`, then make it the current one."""
        try:
            self.topic.append([to_record(txn)], self.now_ms())
        except InternalTopicError as e:
            log.error("could not write transaction state", transactional_id=txn.transactional_id, error=str(e))
            return ErrorCode.COORDINATOR_NOT_AVAILABLE
        previous = self.txns.get(txn.transactional_id)
        if previous is not None and self.by_producer.get(previous.producer_id) is previous:
            del self.by_producer[previous.producer_id]
        self.txns[txn.transactional_id] = txn
        self.by_producer[txn.producer_id] = txn
        _log_change(previous, txn)
        return ErrorCode.NONE

    # ------------------------------------------------------------------ queries

    def describe(self, transactional_id: str) -> TransactionMetadata | None:
        return self.txns.get(transactional_id)

    def all(self) -> list[TransactionMetadata]:
        return list(self.txns.values())


def _log_change(previous: TransactionMetadata | None, txn: TransactionMetadata) -> None:
    """Log a new state or producer epoch (not partitions added to an open transaction)."""
    if previous is not None and (previous.state, previous.producer_id, previous.producer_epoch) == \
            (txn.state, txn.producer_id, txn.producer_epoch):
        return
    fields = {"transactional_id": txn.transactional_id, "producer_id": txn.producer_id,
              "epoch": txn.producer_epoch, "state": txn.state.wire_name}
    if txn.state == S.ONGOING or txn.state in PREPARING:
        fields["partitions"] = len(txn.partitions)
    log.info(STATE_EVENTS.get(txn.state, "transaction state"), **fields)
