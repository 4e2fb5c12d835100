"""MemoryStore: the storage engine that keeps everything in memory (unit tests, `--storage memory`).

It applies the same rules as the segment log (the shared `appending` step, the
producer state table, aborted-transaction lists) and serves batches verbatim;
only durability is missing: a restart starts empty.
"""

from __future__ import annotations

from bisect import bisect_left
from typing import Callable, Iterator

from kafkette.protocol.errors import ErrorCode
from kafkette.protocol.model import RecordChunk
from kafkette.protocol.records import ABORT, COMMIT, BatchHeader
from kafkette.protocol.timestamps import first_record_at
from kafkette.storage.appending import AppendResult, Placed, ReadResult, place_batches, place_marker
from kafkette.storage.config import LogConfig
from kafkette.storage.engine import Steps, TopicError, TopicTable, topic_log_config
from kafkette.storage.producer_state import Duplicate, ProducerInfo, ProducerStateTable
from kafkette.storage.txn_index import AbortedTxn


class MemoryPartition:
    def __init__(self, config: LogConfig, on_append: Callable[[MemoryPartition], None] | None = None) -> None:
        self.config = config
        self.producers = ProducerStateTable()
        self._headers: list[BatchHeader] = []  # as placed, oldest first
        self._data: list[bytes] = []
        self._last_offsets: list[int] = []  # for bisect
        self._aborted: list[AbortedTxn] = []
        self._log_start = 0
        self._next = 0
        self._on_append = on_append

    # --- offsets -------------------------------------------------------------

    @property
    def next_offset(self) -> int:
        return self._next

    @property
    def high_watermark(self) -> int:
        return self._next

    @property
    def last_stable_offset(self) -> int:
        unstable = self.producers.first_unstable_offset()
        return self._next if unstable is None else min(unstable, self._next)

    @property
    def log_start_offset(self) -> int:
        return self._log_start

    # --- append --------------------------------------------------------------

    def append(self, records: bytes | memoryview, *, now_ms: int, leader_epoch: int = 0) -> AppendResult:
        placed = place_batches(records, self._next, self.producers, now_ms=now_ms,
                               log_append_time=self.config.log_append_time, leader_epoch=leader_epoch)
        if isinstance(placed, Duplicate):
            return AppendResult(ErrorCode.NONE, placed.meta.first_offset, placed.meta.timestamp, self._log_start)
        if not isinstance(placed, Placed):
            return AppendResult(placed, -1, -1, self._log_start)
        for position, header in placed.batches:
            self._add(header, bytes(placed.buf[position:position + header.size]))
        self.producers.commit(placed.staged)
        self._appended()
        return AppendResult(ErrorCode.NONE, placed.batches[0][1].base_offset, placed.append_time, self._log_start)

    def append_control(self, producer_id: int, producer_epoch: int, commit: bool, coordinator_epoch: int,
                       now_ms: int, *, leader_epoch: int = 0) -> AppendResult:
        error = self.producers.check_marker(producer_id, producer_epoch, coordinator_epoch)
        if error:
            return AppendResult(error, -1, -1, self._log_start)
        offset = self._next
        buf, header = place_marker(producer_id, producer_epoch, commit, coordinator_epoch, offset, now_ms,
                                   leader_epoch)
        self._add(header, bytes(buf))
        done = self.producers.apply_marker(producer_id, producer_epoch, coordinator_epoch,
                                           COMMIT if commit else ABORT, offset, now_ms)
        if done.aborted:
            self._aborted.append(AbortedTxn(producer_id, done.first_offset, offset, self.last_stable_offset))
        self._appended()
        return AppendResult(ErrorCode.NONE, offset, -1, self._log_start)

    def _add(self, header: BatchHeader, data: bytes) -> None:
        self._headers.append(header)
        self._data.append(data)
        self._last_offsets.append(header.last_offset)
        self._next = header.next_offset

    def _appended(self) -> None:
        if self._on_append is not None:
            self._on_append(self)

    # --- read ----------------------------------------------------------------

    def read(self, offset: int, max_bytes: int, *, isolation_committed: bool, min_one: bool = True) -> ReadResult:
        hwm, lso = self._next, self.last_stable_offset
        if offset < self._log_start or offset > hwm:
            return ReadResult(ErrorCode.OFFSET_OUT_OF_RANGE, [], hwm, lso, self._log_start, [])
        upper = lso if isolation_committed else hwm
        chunks: list[RecordChunk] = []
        size, end = 0, offset
        for i in range(bisect_left(self._last_offsets, offset), len(self._headers)):
            header, data = self._headers[i], self._data[i]
            if header.last_offset >= upper or (size + len(data) > max_bytes and not (min_one and not chunks)):
                break
            chunks.append(data)
            size += len(data)
            end = header.next_offset
        aborted = []
        if isolation_committed and chunks:
            aborted = [(e.producer_id, e.first_offset) for e in self._aborted
                       if e.last_offset >= offset and e.first_offset < end]
        return ReadResult(ErrorCode.NONE, chunks, hwm, lso, self._log_start, aborted)

    # --- timestamps ----------------------------------------------------------

    def offset_for_timestamp(self, timestamp: int) -> tuple[int, int] | None:
        for header, data in zip(self._headers, self._data):
            if header.max_timestamp >= timestamp and header.next_offset > self._log_start:
                found = first_record_at(data, max(timestamp, 0), self._log_start)
                if found is not None:
                    return found
        return None

    def max_timestamp(self) -> tuple[int, int] | None:
        live = [(h, d) for h, d in zip(self._headers, self._data)
                if h.next_offset > self._log_start and h.max_timestamp >= 0]
        if not live:
            return None
        header, data = max(live, key=lambda hd: hd[0].max_timestamp)  # max() keeps the first of equals
        return first_record_at(data, header.max_timestamp, self._log_start)

    # --- producers, log start, retention --------------------------------------

    def producers_info(self) -> list[ProducerInfo]:
        return self.producers.infos()

    def delete_records_before(self, offset: int) -> ErrorCode:
        if offset == -1:
            offset = self._next
        if offset < 0 or offset > self._next:
            return ErrorCode.OFFSET_OUT_OF_RANGE
        if offset > self._log_start:
            self._log_start = offset
            self._drop_while(lambda header, data: header.next_offset <= offset)
            self.producers.evict_before(offset)
        return ErrorCode.NONE

    def enforce_retention(self, now_ms: int) -> int:
        """Retention by age and size, a batch standing for a segment; the newest batch always stays."""
        if not self.config.deletes:
            return 0
        dropped = 0
        if self.config.retention_ms >= 0:
            dropped += self._drop_while(lambda header, data: now_ms - header.max_timestamp > self.config.retention_ms)
        if self.config.retention_bytes >= 0:
            excess = sum(len(d) for d in self._data) - self.config.retention_bytes

            def over_size(header: BatchHeader, data: bytes) -> bool:
                nonlocal excess
                if excess - len(data) < 0:
                    return False
                excess -= len(data)
                return True

            dropped += self._drop_while(over_size)
        return dropped

    def _drop_while(self, expired: Callable[[BatchHeader, bytes], bool]) -> int:
        count = 0
        while count < len(self._headers) - 1 and expired(self._headers[count], self._data[count]):
            count += 1
        if count:
            del self._headers[:count], self._data[:count], self._last_offsets[:count]
            if self._log_start < self._headers[0].base_offset:
                self._log_start = self._headers[0].base_offset
                self.producers.evict_before(self._log_start)
        return count


class MemoryStore(TopicTable[MemoryPartition]):
    def __init__(self, default_config: LogConfig,
                 on_append: Callable[[MemoryPartition], None] | None = None) -> None:
        super().__init__()
        self.default_config = default_config
        self._on_append = on_append

    def open(self) -> None:
        pass

    def close(self) -> None:
        self._topics.clear()

    def _partition_maker(self, name: str, configs: dict[str, str]) -> Callable[[int], MemoryPartition]:
        config = topic_log_config(self.default_config, configs)
        return lambda index: self._partition(config)

    def deleting_topic(self, name: str) -> Steps[None]:
        if self._topics.pop(name, None) is None:
            raise TopicError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, f"no topic {name!r}")
        yield from ()

    def remove_deleted(self) -> Iterator[None]:
        return iter(())

    def restore_topic_metadata(self, name: str, partitions: int, configs: dict[str, str]) -> None:
        raise TopicError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, "a memory store has no offline topics")

    def set_topic_config(self, name: str, configs: dict[str, str]) -> None:
        topic = self._existing(name)
        config = topic_log_config(self.default_config, configs)
        topic.configs = dict(configs)
        for partition in topic.partitions:
            partition.config = config

    def enforce_retention(self, now_ms: int) -> int:
        return sum(p.enforce_retention(now_ms) for t in self._topics.values() for p in t.partitions)

    def flush(self) -> Iterator[None]:
        return iter(())

    def _partition(self, config: LogConfig) -> MemoryPartition:
        return MemoryPartition(config, self._on_append)
