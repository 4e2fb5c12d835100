"""Idempotent/transactional producer state of one partition (Kafka's ProducerStateManager).

`ProducerStateTable.check` validates one batch against the current entries and
stages the update; nothing is visible until `commit` is called after the bytes
reached the log, so a failed write can never advance a sequence.
"""

from __future__ import annotations

import json
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from kafkette.protocol.errors import ErrorCode
from kafkette.protocol.records import ABORT, BatchHeader, add_sequence
from kafkette.storage.files import atomic_write, file_name

BATCHES_TO_RETAIN = 5
NO_EPOCH = -1
SNAPSHOT_SUFFIX = ".snapshot"


class BatchMeta(NamedTuple):
    first_seq: int
    last_seq: int
    first_offset: int
    last_offset: int
    timestamp: int


class ProducerInfo(NamedTuple):
    producer_id: int
    epoch: int
    last_sequence: int
    last_timestamp: int
    coordinator_epoch: int
    current_txn_start_offset: int


class CompletedTxn(NamedTuple):
    producer_id: int
    first_offset: int
    marker_offset: int
    aborted: bool


@dataclass(slots=True)
class ProducerEntry:
    producer_id: int
    epoch: int = NO_EPOCH
    batches: deque = field(default_factory=lambda: deque(maxlen=BATCHES_TO_RETAIN))
    last_timestamp: int = -1
    coordinator_epoch: int = -1
    txn_first_offset: int = -1  # -1: no open transaction

    @property
    def last_seq(self) -> int:
        return self.batches[-1].last_seq if self.batches else -1

    @property
    def last_offset(self) -> int:
        return self.batches[-1].last_offset if self.batches else -1

    def copy(self) -> ProducerEntry:
        return ProducerEntry(self.producer_id, self.epoch, deque(self.batches, maxlen=BATCHES_TO_RETAIN),
                             self.last_timestamp, self.coordinator_epoch, self.txn_first_offset)

    def find_duplicate(self, epoch: int, first_seq: int, last_seq: int) -> BatchMeta | None:
        if epoch != self.epoch:
            return None
        for meta in self.batches:
            if meta.first_seq == first_seq and meta.last_seq == last_seq:
                return meta
        return None

    def bump_epoch(self, epoch: int) -> None:
        if epoch != self.epoch:
            self.epoch = epoch
            self.batches.clear()

    def info(self) -> ProducerInfo:
        return ProducerInfo(self.producer_id, self.epoch, self.last_seq, self.last_timestamp,
                            self.coordinator_epoch, self.txn_first_offset)


class Duplicate(NamedTuple):
    meta: BatchMeta


def in_sequence(last_seq: int, next_seq: int) -> bool:
    return next_seq == (0 if last_seq < 0 else add_sequence(last_seq, 1))


class ProducerStateTable:
    def __init__(self) -> None:
        self.entries: dict[int, ProducerEntry] = {}
        self.open_txns: dict[int, int] = {}  # producer id -> first offset of its open txn
        self.changed = False  # since the last snapshot
        self.snapshot_offset = -1  # the log offset the newest snapshot on disk describes

    # --- validation and staging (append path) --------------------------------

    def check(self, header: BatchHeader, base_offset: int, staged: dict[int, ProducerEntry]) -> ErrorCode | Duplicate:
        """Validate one data batch placed at `base_offset`; stage its effect in `staged`."""
        pid = header.producer_id
        entry = staged.get(pid) or self.entries.get(pid)
        epoch = header.producer_epoch
        first_seq, last_seq = header.base_sequence, header.last_sequence
        if entry is not None:
            duplicate = entry.find_duplicate(epoch, first_seq, last_seq)
            if duplicate is not None:
                return Duplicate(duplicate)
            error = _sequence_error(entry, epoch, first_seq)
            if error:
                return error
            if not header.is_transactional and entry.txn_first_offset >= 0:
                return ErrorCode.INVALID_TXN_STATE
            if pid not in staged:
                entry = staged[pid] = entry.copy()
        else:
            entry = staged[pid] = ProducerEntry(pid)
        _record_batch(entry, header, base_offset)
        return ErrorCode.NONE

    def commit(self, staged: dict[int, ProducerEntry]) -> None:
        for pid, entry in staged.items():
            self.entries[pid] = entry
            if entry.txn_first_offset >= 0:
                self.open_txns[pid] = entry.txn_first_offset
        self.changed = True

    def check_marker(self, producer_id: int, epoch: int, coordinator_epoch: int) -> ErrorCode:
        entry = self.entries.get(producer_id)
        if entry is None:
            return ErrorCode.NONE
        if epoch < entry.epoch:
            return ErrorCode.INVALID_PRODUCER_EPOCH
        if coordinator_epoch < entry.coordinator_epoch:
            return ErrorCode.TRANSACTION_COORDINATOR_FENCED
        return ErrorCode.NONE

    def apply_marker(self, producer_id: int, epoch: int, coordinator_epoch: int, kind: int,
                     offset: int, timestamp: int) -> CompletedTxn:
        """Close the producer's transaction with the marker at `offset`."""
        entry = self.entries.get(producer_id)
        if entry is None:
            entry = self.entries[producer_id] = ProducerEntry(producer_id)
        first = entry.txn_first_offset
        entry.bump_epoch(epoch)
        entry.coordinator_epoch = coordinator_epoch
        entry.txn_first_offset = -1
        entry.last_timestamp = timestamp
        self.open_txns.pop(producer_id, None)
        self.changed = True
        return CompletedTxn(producer_id, first if first >= 0 else offset, offset, kind == ABORT and first >= 0)

    # --- replay (recovery) ---------------------------------------------------

    def replay(self, header: BatchHeader) -> None:
        """Apply a data batch read back from the log, without validation."""
        pid = header.producer_id
        entry = self.entries.get(pid)
        if entry is None:
            entry = self.entries[pid] = ProducerEntry(pid)
        _record_batch(entry, header, header.base_offset)
        if entry.txn_first_offset >= 0:
            self.open_txns[pid] = entry.txn_first_offset
        self.changed = True

    # --- queries -------------------------------------------------------------

    def first_unstable_offset(self) -> int | None:
        return min(self.open_txns.values()) if self.open_txns else None

    def infos(self) -> list[ProducerInfo]:
        return [entry.info() for entry in self.entries.values()]

    def evict_before(self, offset: int) -> None:
        """Forget producers whose last write fell below the log start (Kafka does this on retention)."""
        stale = [pid for pid, e in self.entries.items()
                 if e.txn_first_offset < 0 and 0 <= e.last_offset < offset]
        for pid in stale:
            del self.entries[pid]
        if stale:
            self.changed = True

    # --- snapshots -----------------------------------------------------------

    def to_json(self, offset: int) -> bytes:
        producers = [
            [e.producer_id, e.epoch, e.coordinator_epoch, e.last_timestamp, e.txn_first_offset,
             [list(b) for b in e.batches]]
            for e in self.entries.values()
        ]
        return json.dumps({"version": 1, "offset": offset, "producers": producers}).encode()

    @classmethod
    def from_json(cls, data: bytes) -> tuple[ProducerStateTable, int]:
        doc = json.loads(data)
        table = cls()
        for pid, epoch, coord, ts, txn_first, batches in doc["producers"]:
            entry = ProducerEntry(pid, epoch, deque((BatchMeta(*b) for b in batches), maxlen=BATCHES_TO_RETAIN),
                                  ts, coord, txn_first)
            table.entries[pid] = entry
            if txn_first >= 0:
                table.open_txns[pid] = txn_first
        return table, doc["offset"]


def _record_batch(entry: ProducerEntry, header: BatchHeader, base_offset: int) -> None:
    entry.bump_epoch(header.producer_epoch)
    last_offset = base_offset + header.last_offset_delta
    entry.batches.append(BatchMeta(header.base_sequence, header.last_sequence, base_offset, last_offset,
                                   header.max_timestamp))
    entry.last_timestamp = header.max_timestamp
    if header.is_transactional and entry.txn_first_offset < 0:
        entry.txn_first_offset = base_offset


def _sequence_error(entry: ProducerEntry, epoch: int, first_seq: int) -> ErrorCode:
    if epoch < entry.epoch:
        return ErrorCode.INVALID_PRODUCER_EPOCH
    if entry.epoch == NO_EPOCH:
        return ErrorCode.NONE  # no known epoch: accept any sequence
    if epoch > entry.epoch:
        return ErrorCode.NONE if first_seq == 0 else ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER
    if not in_sequence(entry.last_seq, first_seq):
        return ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER
    return ErrorCode.NONE


# --- snapshot files ---------------------------------------------------------------

SNAPSHOTS_TO_KEEP = 2


def snapshot_offsets(directory: Path) -> list[int]:
    return sorted(int(p.name[:-len(SNAPSHOT_SUFFIX)]) for p in directory.glob("*" + SNAPSHOT_SUFFIX)
                  if p.name[:-len(SNAPSHOT_SUFFIX)].isdigit())


def write_snapshot(directory: Path, table: ProducerStateTable, offset: int, *, sync: bool) -> None:
    atomic_write(directory / file_name(offset, SNAPSHOT_SUFFIX), table.to_json(offset), sync=sync)
    table.changed = False
    table.snapshot_offset = offset
    for old in snapshot_offsets(directory)[:-SNAPSHOTS_TO_KEEP]:
        (directory / file_name(old, SNAPSHOT_SUFFIX)).unlink(missing_ok=True)


def load_snapshot(directory: Path, max_offset: int) -> tuple[ProducerStateTable, int] | None:
    """The newest readable snapshot at or below `max_offset`; newer ones describe lost data and go."""
    for offset in reversed(snapshot_offsets(directory)):
        path = directory / file_name(offset, SNAPSHOT_SUFFIX)
        if offset > max_offset:
            path.unlink(missing_ok=True)
            continue
        try:
            return ProducerStateTable.from_json(path.read_bytes())
        except (OSError, ValueError, KeyError, TypeError):
            path.unlink(missing_ok=True)
    return None
