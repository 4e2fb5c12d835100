"""PartitionLog: the append/read API of one partition's segmented log.

Called from one thread. An append is a single step: validate every batch and
the producer rules against staged state, write the bytes, and only then make
the producer state, indexes and high watermark move.
"""

from __future__ import annotations

import os
from bisect import bisect_right
from pathlib import Path
from typing import Callable

import structlog

from kafkette.protocol.errors import ErrorCode
from kafkette.protocol.model import RecordChunk
from kafkette.protocol.records import ABORT, COMMIT, LOG_OVERHEAD, BatchHeader
from kafkette.storage import recovery
from kafkette.storage.appending import AppendResult, Placed, ReadResult, place_batches, place_marker
from kafkette.storage.checkpoint import CheckpointError, PartitionCheckpoint, read_checkpoint, write_checkpoint
from kafkette.storage.config import FsyncPolicy, LogConfig
from kafkette.storage.files import DELETED_SUFFIX, fsync_dir
from kafkette.storage.producer_state import Duplicate, ProducerInfo, ProducerStateTable, write_snapshot
from kafkette.storage.segment import LENGTH_TO_MAGIC, MIN_BATCH_LENGTH, CorruptBatch, Segment
from kafkette.storage.txn_index import AbortedTxn

log = structlog.get_logger()

MAX_RELATIVE_OFFSET = 2**31 - 1
MAX_POSITION = 2**62  # a recovery position past the end of any segment
# Start-up replays the batch headers written after the newest producer snapshot; a snapshot is
# written (unsynced: a lost or torn one only means a longer replay) once this much was appended
# since the last one, even when no producer changed, so that replay stays short under every policy.
SNAPSHOT_LAG_BYTES = 64 << 20



class PartitionLog:
    def __init__(self, directory: Path, config: LogConfig, segments: list[Segment], log_start_offset: int,
                 producers: ProducerStateTable, *, on_disk: bool = True) -> None:
        self.directory = directory
        self.config = config
        self.segments = segments
        self._bases = [s.base_offset for s in segments]
        self.log_start_offset = log_start_offset
        self.producers = producers
        self.on_disk = on_disk  # False until the first append makes the directory
        self._directory_unsynced = False  # made by this process and not yet fsynced into its parent
        self.dirty = False  # bytes written since the last flush
        self._unsnapshotted_bytes = 0  # appended since the newest producer snapshot
        # the recovery point: everything before (segment base, position) is synced and indexed
        self._recovery = (segments[-1].base_offset, segments[-1].size)
        self.on_append: Callable[[PartitionLog], None] = _ignore  # the store wakes long polls through it
        self._reported: set[str] = set()  # damaged batches already logged

    @classmethod
    def create(cls, directory: Path, config: LogConfig) -> PartitionLog:
        """A new, empty partition. Nothing touches the disk before its first append, so a topic of
        10,000 partitions costs no file, no descriptor and no fsync until it is written to."""
        producers = ProducerStateTable()
        producers.snapshot_offset = 0  # the empty table is what a snapshot of the empty log holds
        return cls(directory, config, [Segment.empty(directory, 0, config.index_interval_bytes)], 0, producers,
                   on_disk=False)

    @classmethod
    def open(cls, directory: Path, config: LogConfig, *, clean: bool = False) -> PartitionLog:
        """Open a partition directory, recovering whatever a crash left; an absent one is a new partition.

        After a clean shutdown (`clean`) the segments are trusted to their end even when the checkpoint
        that says so is lost or damaged, as Kafka skips recovery after a clean shutdown.
        """
        if not directory.exists():
            return cls.create(directory, config)
        checkpoint = _checkpoint(directory, clean)
        segments, truncated = recovery.open_segments(directory, config, checkpoint)
        producers, replayed = recovery.restore_producers(directory, segments)
        end = segments[-1].next_offset
        log_start = min(max(checkpoint.log_start_offset, segments[0].base_offset), end)
        recovery.log_recovery(directory, clean=clean, truncated=truncated, replayed=replayed, end_offset=end)
        for segment in segments[:-1]:
            segment.close()  # reopened on demand
        partition = cls(directory, config, segments, log_start, producers)
        verified_to = (checkpoint.recovery_segment, checkpoint.recovery_position)
        if truncated or replayed or verified_to != partition._recovery or producers.snapshot_offset != end:
            partition._recovery = min(verified_to, partition._recovery)  # so flush syncs every segment after it
            partition.flush(force=True, snapshot=True)
        return partition

    # --- offsets -------------------------------------------------------------

    @property
    def next_offset(self) -> int:
        return self.segments[-1].next_offset

    @property
    def high_watermark(self) -> int:
        return self.next_offset  # a single replica: everything appended is committed

    @property
    def last_stable_offset(self) -> int:
        unstable = self.producers.first_unstable_offset()
        end = self.next_offset
        return end if unstable is None else min(unstable, end)

    @property
    def size_bytes(self) -> int:
        return sum(s.size for s in self.segments)

    # --- append --------------------------------------------------------------

    def append(self, records: bytes | memoryview, *, now_ms: int, leader_epoch: int = 0) -> AppendResult:
        """Append a Produce partition's records field (one or more batches), all or nothing."""
        placed = place_batches(records, self.next_offset, self.producers, now_ms=now_ms,
                               log_append_time=self.config.log_append_time, leader_epoch=leader_epoch)
        if isinstance(placed, Duplicate):
            return AppendResult(ErrorCode.NONE, placed.meta.first_offset, placed.meta.timestamp, self.log_start_offset)
        if not isinstance(placed, Placed):
            return self._failed(placed)
        error = self._write(placed.buf, placed.batches)
        if error:
            return self._failed(error)
        self.producers.commit(placed.staged)
        self._snapshot_if_lagging()
        self.on_append(self)
        return AppendResult(ErrorCode.NONE, placed.batches[0][1].base_offset, placed.append_time,
                            self.log_start_offset)

    def append_control(self, producer_id: int, producer_epoch: int, commit: bool, coordinator_epoch: int,
                       now_ms: int, *, leader_epoch: int = 0) -> AppendResult:
        """Write a COMMIT/ABORT marker and close the producer's transaction on this partition."""
        error = self.producers.check_marker(producer_id, producer_epoch, coordinator_epoch)
        if error:
            return self._failed(error)
        offset = self.next_offset
        buf, header = place_marker(producer_id, producer_epoch, commit, coordinator_epoch, offset, now_ms,
                                   leader_epoch)
        error = self._write(buf, [(0, header)])
        if error:
            return self._failed(error)
        done = self.producers.apply_marker(producer_id, producer_epoch, coordinator_epoch,
                                           COMMIT if commit else ABORT, offset, now_ms)
        if done.aborted:
            entry = AbortedTxn(producer_id, done.first_offset, offset, self.last_stable_offset)
            self.segments[-1].ensure_txn_index()
            self.segments[-1].txn_index.append(entry)
        self.on_append(self)
        return AppendResult(ErrorCode.NONE, offset, -1, self.log_start_offset)

    def _write(self, buf: bytearray, placed: list[tuple[int, BatchHeader]]) -> ErrorCode:
        try:
            if not self.on_disk:
                self._make_directory()
            segment = self._segment_with_room(len(buf), placed[-1][1].next_offset)
            segment.append(buf, placed, sync=self.config.fsync is FsyncPolicy.ALWAYS)
        except OSError as err:
            log.error("append failed", partition=self.directory.name, error=str(err))
            return ErrorCode.KAFKA_STORAGE_ERROR
        self.dirty = True
        self._unsnapshotted_bytes += len(buf)
        return ErrorCode.NONE

    def _make_directory(self) -> None:
        """The first append's directory; one left by a deleted topic of the same name is moved aside first."""
        if self.directory.exists():
            stale = self.directory.with_name(f"{self.directory.name}.{os.urandom(8).hex()}{DELETED_SUFFIX}")
            log.warning("moving aside a partition directory that belongs to no topic", directory=str(self.directory),
                        moved_to=stale.name, hint="it is removed at the next start")
            self.directory.rename(stale)
        self.directory.mkdir(parents=True)
        self.on_disk = True
        self._directory_unsynced = True
        if self.config.fsync is FsyncPolicy.ALWAYS:
            self._sync_directory()

    def _sync_directory(self) -> None:
        """Make the directory's entry durable in its parent (a power cut could lose the whole partition)."""
        fsync_dir(self.directory.parent)
        self._directory_unsynced = False

    def _failed(self, error: ErrorCode) -> AppendResult:
        return AppendResult(error, -1, -1, self.log_start_offset)

    def _segment_with_room(self, size: int, end_offset: int) -> Segment:
        active = self.segments[-1]
        too_big = active.size > 0 and active.size + size > self.config.segment_bytes
        if too_big or end_offset - active.base_offset > MAX_RELATIVE_OFFSET:
            return self.roll()
        return active

    def roll(self) -> Segment:
        """Close the active segment for writing and start a new one at the log end."""
        old = self.segments[-1]
        if old.size == 0:
            return old
        old.seal_time_index()
        if self.config.fsync is not FsyncPolicy.NEVER:
            old.sync()
        segment = Segment.empty(self.directory, old.next_offset, self.config.index_interval_bytes)
        segment.fd  # creates the file
        self.segments.append(segment)
        self._bases.append(segment.base_offset)
        if self.config.fsync is not FsyncPolicy.NEVER:
            self._recovery = (segment.base_offset, 0)
            self._snapshot_and_checkpoint(sync=True, snapshot=True)
        return segment

    # --- read ----------------------------------------------------------------

    def read(self, offset: int, max_bytes: int, *, isolation_committed: bool, min_one: bool = True) -> ReadResult:
        """Whole batches from the one holding `offset`, bounded by max_bytes and the HWM or LSO."""
        hwm = self.high_watermark
        lso = self.last_stable_offset
        if offset < self.log_start_offset or offset > hwm:
            return ReadResult(ErrorCode.OFFSET_OUT_OF_RANGE, [], hwm, lso, self.log_start_offset, [])
        upper = lso if isolation_committed else hwm
        try:
            chunks, end_offset = self._read_chunks(offset, upper, max_bytes, min_one)
            aborted = self.aborted_transactions(offset, end_offset) if isolation_committed and chunks else []
        except OSError as err:
            log.error("read failed", partition=self.directory.name, error=str(err))
            return ReadResult(ErrorCode.KAFKA_STORAGE_ERROR, [], hwm, lso, self.log_start_offset, [])
        except CorruptBatch as err:
            if str(err) not in self._reported:
                self._reported.add(str(err))
                log.error("damaged batch in the log; fetches from it answer CORRUPT_MESSAGE", offset=offset,
                          partition=self.directory.name, damage=str(err),
                          hint="consumers can skip past it by seeking beyond the damaged batch")
            return ReadResult(ErrorCode.CORRUPT_MESSAGE, [], hwm, lso, self.log_start_offset, [])
        return ReadResult(ErrorCode.NONE, chunks, hwm, lso, self.log_start_offset, aborted)

    def _read_chunks(self, offset: int, upper: int, max_bytes: int, min_one: bool) -> tuple[list[RecordChunk], int]:
        """One pread per segment touched; returns the chunks and the offset just past them."""
        chunks: list[RecordChunk] = []
        budget = max_bytes
        cursor = offset
        index = bisect_right(self._bases, offset) - 1
        while cursor < upper and index < len(self.segments):
            segment = self.segments[index]
            start = segment.position_of(cursor)
            if upper >= segment.next_offset:
                end, end_offset = segment.size, segment.next_offset
            else:
                end, end_offset = segment.position_of(upper), upper
            if end - start > budget:
                end, end_offset = segment.boundary_before(start, start + budget)
                if end == start and min_one and not chunks:
                    header = segment.first_batch_at(start)
                    end, end_offset = start + header.size, header.next_offset
            if end > start:
                data = segment.read(start, end - start)
                length, _, magic = LENGTH_TO_MAGIC.unpack_from(data, 8)  # served verbatim: is it a whole batch?
                if magic != 2 or length < MIN_BATCH_LENGTH or length + LOG_OVERHEAD > len(data):
                    raise segment.damaged(start)
                chunks.append(data)
                budget -= end - start
                cursor = end_offset
                segment.remember(end_offset, end)
            if end < segment.size or budget <= 0:
                break
            index += 1
        return chunks, cursor

    def aborted_transactions(self, fetch_offset: int, upper_bound: int) -> list[tuple[int, int]]:
        """(producer id, first offset) of aborted txns overlapping [fetch_offset, upper_bound)."""
        found: list[AbortedTxn] = []
        for segment in self.segments[max(bisect_right(self._bases, fetch_offset) - 1, 0):]:
            segment.ensure_txn_index()
            if segment.txn_index.collect(fetch_offset, upper_bound, found):
                break
        return [(e.producer_id, e.first_offset) for e in found]

    # --- timestamps ----------------------------------------------------------

    def offset_for_timestamp(self, timestamp: int) -> tuple[int, int] | None:
        """(offset, timestamp) of the first record at or after `timestamp` (ListOffsets)."""
        for segment in self.segments:
            if segment.max_timestamp < timestamp or segment.next_offset <= self.log_start_offset:
                continue
            found = segment.find_timestamp(max(timestamp, 0), self.log_start_offset)
            if found is not None:
                return found
        return None

    def max_timestamp(self) -> tuple[int, int] | None:
        """(offset, timestamp) of the record with the largest timestamp (ListOffsets -3)."""
        live = [s for s in self.segments if s.next_offset > self.log_start_offset and s.max_timestamp >= 0]
        if not live:
            return None
        best = max(live, key=lambda s: s.max_timestamp)  # max() keeps the first of equals
        return best.find_timestamp(best.max_timestamp, self.log_start_offset)

    # --- producers -----------------------------------------------------------

    def producers_info(self) -> list[ProducerInfo]:
        return self.producers.infos()

    # --- log start, retention ------------------------------------------------

    def delete_records_before(self, offset: int) -> ErrorCode:
        """Advance the log start offset (DeleteRecords; -1 means the high watermark)."""
        if offset == -1:
            offset = self.high_watermark
        if offset < 0 or offset > self.high_watermark:
            return ErrorCode.OFFSET_OUT_OF_RANGE
        if offset > self.log_start_offset:
            try:  # the new log start is durable before anything is deleted, or nothing changes
                write_checkpoint(self.directory, PartitionCheckpoint(offset, *self._recovery))
            except OSError as err:
                log.error("delete records failed", partition=self.directory.name, error=str(err))
                return ErrorCode.KAFKA_STORAGE_ERROR
            self.log_start_offset = offset
            self._delete_segments(lambda s: s.next_offset <= offset)
            self.producers.evict_before(offset)
        return ErrorCode.NONE

    def enforce_retention(self, now_ms: int) -> int:
        """Delete whole old segments by age and by total size; returns how many went."""
        if not self.config.deletes:
            return 0
        deleted = 0
        if self.config.retention_ms >= 0:
            deleted += self._delete_segments(lambda s: now_ms - s.max_timestamp > self.config.retention_ms)
        if self.config.retention_bytes >= 0:
            excess = self.size_bytes - self.config.retention_bytes

            def over_size(segment: Segment) -> bool:
                nonlocal excess
                if excess - segment.size < 0:
                    return False
                excess -= segment.size
                return True

            deleted += self._delete_segments(over_size)
        return deleted

    def _delete_segments(self, expired) -> int:
        """Delete the oldest segments while `expired` holds, never the active one."""
        count = 0
        while len(self.segments) > 1 and expired(self.segments[0]):
            segment = self.segments.pop(0)
            self._bases.pop(0)
            segment.delete()
            count += 1
        if count:
            if self.log_start_offset < self.segments[0].base_offset:
                self.log_start_offset = self.segments[0].base_offset
                self.producers.evict_before(self.log_start_offset)
            try:  # the segments are gone either way; a stale log start is corrected by the next open
                self._write_checkpoint()
            except OSError as err:
                log.error("checkpoint write failed after deleting segments", partition=self.directory.name,
                          error=str(err))
        return count

    # --- durability ----------------------------------------------------------

    def flush(self, *, force: bool = False, snapshot: bool = False) -> None:
        """Make everything appended so far durable and move the recovery point to the log end.

        The producer state is snapshotted when it changed, or with `snapshot` when only the log moved on.
        """
        if not (self.dirty or force or self.producers.changed):
            return
        if self._directory_unsynced:
            self._sync_directory()
        self.segments[-1].seal_time_index()
        for segment in self.segments[max(bisect_right(self._bases, self._recovery[0]) - 1, 0):]:
            segment.sync()
        self._recovery = (self.segments[-1].base_offset, self.segments[-1].size)
        self._snapshot_and_checkpoint(sync=True, snapshot=snapshot)
        self.dirty = False

    def close(self) -> None:
        """Flush and close every file; raises OSError when the flush failed (the files are closed all the same,
        and the next open recovers from the last checkpoint that was written)."""
        try:
            if self.on_disk:
                self.flush(force=self.producers.snapshot_offset != self.next_offset, snapshot=True)
        finally:
            for segment in self.segments:
                segment.close()

    def discard(self) -> None:
        """Close every file without writing anything: the partition is being deleted."""
        for segment in self.segments:
            segment.discard()

    def _snapshot_and_checkpoint(self, *, sync: bool, snapshot: bool = False) -> None:
        if self.producers.changed or (snapshot and self.producers.snapshot_offset != self.next_offset):
            self._write_snapshot(sync=sync)
        self._write_checkpoint(sync=sync)

    def _snapshot_if_lagging(self) -> None:
        if self._unsnapshotted_bytes < SNAPSHOT_LAG_BYTES:
            return
        try:
            for segment in self.segments:  # replay would no longer re-index an aborted txn the snapshot covers
                segment.txn_index.write_pending()
            self._write_snapshot(sync=False)
        except OSError as err:  # only start-up time depends on it
            log.error("producer snapshot failed", partition=self.directory.name, error=str(err))

    def _write_snapshot(self, *, sync: bool) -> None:
        write_snapshot(self.directory, self.producers, self.next_offset, sync=sync)
        self._unsnapshotted_bytes = 0

    def _write_checkpoint(self, *, sync: bool = True) -> None:
        checkpoint = PartitionCheckpoint(self.log_start_offset, *self._recovery)
        write_checkpoint(self.directory, checkpoint, sync=sync)

def _checkpoint(directory: Path, clean: bool) -> PartitionCheckpoint:
    """The checkpoint to recover from: the partition's own, or after a clean shutdown without a readable
    one, "everything is verified" (the clean-shutdown marker is only written after every flush succeeded)."""
    try:
        checkpoint = read_checkpoint(directory)
    except CheckpointError as err:
        log.warning("partition checkpoint unreadable", partition=directory.name, error=str(err),
                    recovery="trusting the segments to their end: the last shutdown was clean" if clean else
                    "verifying every batch", log_start="the first segment's base offset: a DeleteRecords "
                    "position may be lost")
        checkpoint = None
    if checkpoint is not None:
        return checkpoint
    if clean:
        bases = recovery.segment_bases(directory)
        return PartitionCheckpoint(0, bases[-1] if bases else 0, MAX_POSITION)
    return PartitionCheckpoint()


def _ignore(partition: PartitionLog) -> None:
    pass
