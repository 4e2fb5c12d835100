"""One log segment: the `.log` file of whole batches plus its three indexes.

Positions inside the file are found through the sparse offset index and a
short forward walk over batch headers; records are never decoded here except
by the cold `find_timestamp` helpers.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Literal, overload

import structlog
from crc32c import crc32c

from kafkette.protocol.records import CRC_START, HEADER, HEADER_SIZE, LOG_OVERHEAD, BatchHeader
from kafkette.protocol.timestamps import first_record_at
from kafkette.storage.files import LazyFile, file_name, write_all
from kafkette.storage.index import OffsetIndex, TimeIndex
from kafkette.storage.txn_index import TxnIndex

log = structlog.get_logger()

LOG_SUFFIX = ".log"
SCAN_CHUNK = 1 << 20
MIN_BATCH_LENGTH = HEADER_SIZE - LOG_OVERHEAD
LENGTH_TO_MAGIC = struct.Struct(">iib")  # batch length, partition leader epoch, magic: bytes 8..16
_POSITION_HINTS = 64


class CorruptBatch(Exception):
    """A stored batch header that cannot be right; Kafka's CorruptRecordException (CORRUPT_MESSAGE)."""


class Segment(LazyFile):
    def __init__(self, directory: Path, base_offset: int, index_interval_bytes: int, size: int | None = None, *,
                 read_only: bool = False) -> None:
        """`read_only`: for tools reading a stopped broker's files (`kafkette dump --data-dir`) without
        writing to them; such a segment must only be read (`iter_batches`, `read`, `first_batch_at`)."""
        super().__init__(os.O_RDONLY if read_only else os.O_RDWR | os.O_CREAT | os.O_APPEND)
        self.base_offset = base_offset
        self.directory = directory
        stem = file_name(base_offset, "")
        self.index = OffsetIndex(directory, stem + ".index")
        self.time_index = TimeIndex(directory, stem + ".timeindex")
        self.txn_index = TxnIndex(directory, stem + ".txnindex")
        self.index_interval_bytes = index_interval_bytes
        if size is None:
            size = self.path.stat().st_size if self.path.exists() else 0
        self.size = size
        self.next_offset = base_offset  # set by whoever knows: a scan, or the next segment's base
        self.max_timestamp = -1
        self.offset_of_max_timestamp = -1
        self.bytes_since_index = 0
        self.indexes_loaded = False
        self.txn_index_loaded = False
        self._unsynced = True  # written by an earlier process, maybe not yet on disk: sync() makes sure
        self._hints: dict[int, int] = {}  # offset -> position of the batch starting there

    @classmethod
    def empty(cls, directory: Path, base_offset: int, index_interval_bytes: int) -> Segment:
        """A segment that starts at the log end: no file yet (the first use of `fd` creates it)."""
        segment = cls(directory, base_offset, index_interval_bytes, size=0)
        segment.indexes_loaded = segment.txn_index_loaded = True
        return segment

    # --- files ---------------------------------------------------------------

    @property
    def path(self) -> Path:  # made when used (to open or delete): creating 10,000 partitions makes none
        return self.directory / file_name(self.base_offset, LOG_SUFFIX)

    fd = property(LazyFile._open, doc="The `.log` file's descriptor, opened (or created) on first use.")

    def close(self) -> None:
        self._close_file()
        self.index.close()
        self.time_index.close()
        self.txn_index.close()

    def discard(self) -> None:
        """Close every file without writing anything (the segment is being deleted)."""
        self._close_file()
        for index in (self.index, self.time_index, self.txn_index):
            index.discard()

    def sync(self) -> None:
        if self._unsynced:
            os.fsync(self.fd)
            self._unsynced = False
        self.index.sync()
        self.time_index.sync()
        self.txn_index.sync()

    def delete(self) -> None:
        self.discard()
        for path in (self.path, self.index.path, self.time_index.path, self.txn_index.path):
            path.unlink(missing_ok=True)

    def read(self, position: int, size: int) -> bytes:
        return os.pread(self.fd, size, position)

    # --- append --------------------------------------------------------------

    def append(self, buf: bytearray, batches: list[tuple[int, BatchHeader]], *, sync: bool) -> None:
        """Write `buf` (whole batches, offsets already assigned); `batches` holds (position in buf, header).

        Raises OSError with the file as it was; otherwise the batches are in the
        file (and on disk if `sync`) before any in-memory state moves.
        """
        start = self.size
        self._unsynced = True
        try:
            write_all(self.fd, buf)
            if sync:
                os.fsync(self.fd)
        except OSError:
            os.ftruncate(self.fd, start)
            raise
        if sync:
            self._unsynced = False
        self.size = start + len(buf)
        for rel_pos, header in batches:
            self._note_batch(start + rel_pos, header)
        if self.index.write_due or self.time_index.write_due:
            self._write_indexes()

    def _write_indexes(self) -> None:
        try:
            self.index.write_pending()
            self.time_index.write_pending()
        except OSError as err:  # derived data: retried at the next sync, rebuilt after a crash
            log.error("index write failed", segment=str(self.path), error=str(err))

    def _note_batch(self, position: int, header: BatchHeader) -> None:
        """Advance the in-memory state and the sparse indexes past one batch at `position`."""
        if header.max_timestamp > self.max_timestamp:
            self.max_timestamp = header.max_timestamp
            self.offset_of_max_timestamp = header.base_offset
        if self.bytes_since_index >= self.index_interval_bytes:
            relative = header.base_offset - self.base_offset
            if not self.index.keys or relative > self.index.keys[-1]:
                self.index.append(relative, position)
                self.time_index.maybe_append(self.max_timestamp, self.offset_of_max_timestamp - self.base_offset)
            self.bytes_since_index = 0
        self.bytes_since_index += header.batch_length + LOG_OVERHEAD
        self.next_offset = header.base_offset + header.last_offset_delta + 1

    def seal_time_index(self) -> None:
        """Record the segment's max timestamp, so it survives a reopen without a scan."""
        if self.max_timestamp >= 0:
            self.time_index.maybe_append(self.max_timestamp, self.offset_of_max_timestamp - self.base_offset)

    # --- opening and recovery --------------------------------------------------

    def load_max_timestamp(self) -> None:
        """For a closed segment, the max timestamp is the time index's last entry."""
        path = self.time_index.path
        if not path.exists():
            return
        size = path.stat().st_size
        entry = self.time_index.ENTRY
        if size >= entry.size:
            with open(path, "rb") as f:
                f.seek(size - size % entry.size - entry.size)
                ts, rel = entry.unpack(f.read(entry.size))
            self.max_timestamp, self.offset_of_max_timestamp = ts, self.base_offset + rel

    def open_indexes(self, verify_from: int, *, repair: bool = True) -> int:
        """Load and check the indexes, then walk batch headers to the end of the file.

        Bytes before `verify_from` are trusted (structure only); later ones must
        pass the CRC and offset continuity, and the first bad batch and all that
        follows is truncated (with `repair`; without, as for a closed segment opened
        on first read, it stays, logged, and reads of it fail). Missing index entries
        are rebuilt along the way. Returns the number of bytes truncated.
        """
        self.index.load()
        self.time_index.load()
        self.ensure_txn_index()
        self.indexes_loaded = True
        verify_from = min(verify_from, self.size)
        if not self.index.is_consistent(self.size):
            self._clear_indexes()
        self.index.truncate_from_position(verify_from)
        start_rel, start = self.index.floor(2**31)
        if not self._batch_starts_at(start, self.base_offset + start_rel):
            self._clear_indexes()
            start_rel, start = 0, 0
        if not self.time_index.is_consistent(2**31):
            self.time_index.truncate_entries(0)
        self.time_index.truncate_from_offset(start_rel + 1)
        last = self.time_index.last
        self.max_timestamp, self.offset_of_max_timestamp = (
            (last[0], self.base_offset + last[1]) if last else (-1, -1))
        known_end = self.next_offset
        valid_end, damage = self._scan(start, self.base_offset + start_rel, verify_from)
        truncated = self.size - valid_end
        if truncated and not repair:
            log.error("damaged batch in a closed log segment; reads of it answer CORRUPT_MESSAGE",
                      partition=self.path.parent.name, segment=self.path.name, from_offset=self.next_offset,
                      position=valid_end, reason=damage)
            self.next_offset = known_end
            return 0
        if truncated:
            log.warning("truncating a damaged log segment", partition=self.path.parent.name,
                        segment=self.path.name, from_offset=self.next_offset, position=valid_end,
                        truncated_bytes=truncated, reason=damage,
                        effect=f"offsets from {self.next_offset} in this segment are gone")
            os.ftruncate(self.fd, valid_end)
            self._unsynced = True
            self.size = valid_end
        self.txn_index.truncate_from_offset(self.next_offset)
        self.time_index.truncate_from_offset(self.next_offset - self.base_offset)
        self.seal_time_index()
        return truncated

    def _clear_indexes(self) -> None:
        self.index.truncate_entries(0)
        self.time_index.truncate_entries(0)

    def _batch_starts_at(self, position: int, offset: int) -> bool:
        if position == 0:
            return True
        data = self.read(position, HEADER_SIZE)
        if len(data) < HEADER_SIZE:
            return False
        header = BatchHeader.parse(data)
        return header.magic == 2 and header.base_offset == offset

    def _scan(self, start: int, expected_offset: int, verify_from: int) -> tuple[int, str]:
        """(end of the last sound batch, why the walk stopped before the end of the file)."""
        self.next_offset = expected_offset
        self.bytes_since_index = 0
        position = start
        for position, header, batch in self.iter_batches(start, with_data=True):
            if header.base_offset != self.next_offset:
                return position, f"the batch there starts at offset {header.base_offset}, not {self.next_offset}"
            if position >= verify_from and crc32c(batch[CRC_START:]) != header.crc:
                return position, f"the batch of offsets {header.base_offset}..{header.last_offset} fails its CRC"
            self._note_batch(position, header)
            position += header.batch_length + LOG_OVERHEAD
        return position, self.damage_at(position)

    def damage_at(self, position: int) -> str:
        """What `iter_batches` found wrong at `position` (where it stopped before the end)."""
        data = self.read(position, HEADER_SIZE) if position < self.size else b""
        if len(data) < HEADER_SIZE:
            return f"a torn batch header ({self.size - position} bytes) at the end of the file"
        header = BatchHeader.parse(data)
        if header.magic != 2 or header.batch_length < MIN_BATCH_LENGTH:
            return f"an unreadable batch header (magic {header.magic}, length {header.batch_length})"
        return f"a batch of {header.size} bytes runs past the end of the file (a torn write)"

    @overload
    def iter_batches(self, start: int = 0, end: int | None = None, *, with_data: Literal[True]
                     ) -> Iterator[tuple[int, BatchHeader, memoryview]]: ...

    @overload
    def iter_batches(self, start: int = 0, end: int | None = None, *, with_data: bool = False
                     ) -> Iterator[tuple[int, BatchHeader, memoryview | None]]: ...

    def iter_batches(self, start: int = 0, end: int | None = None, *, with_data: bool = False
                     ) -> Iterator[tuple[int, BatchHeader, memoryview | None]]:
        """Yield (position, header, batch bytes or None) for well-formed batches from `start`.

        Stops silently at the first implausible header or a batch running past `end`.
        """
        end = self.size if end is None else end
        position = start
        while position < end:
            began = position
            want = min(max(SCAN_CHUNK, HEADER_SIZE), end - position)
            chunk = memoryview(self.read(position, want))
            offset = 0
            while True:
                if len(chunk) - offset < HEADER_SIZE:
                    if len(chunk) - offset == end - position:
                        return  # a torn header at the end
                    break
                header = BatchHeader._make(HEADER.unpack_from(chunk, offset))
                size = header.batch_length + LOG_OVERHEAD
                if header.magic != 2 or header.batch_length < MIN_BATCH_LENGTH or position + size > end:
                    return
                if offset + size > len(chunk):
                    if with_data and offset == 0:
                        chunk = memoryview(self.read(position, size))
                        yield position, header, chunk
                        position += size
                    elif not with_data:
                        yield position, header, None
                        position += size
                    break
                yield position, header, chunk[offset:offset + size]
                offset += size
                position += size
            if position == began:
                return

    # --- lookups (hot path) ----------------------------------------------------

    def ensure_indexes(self) -> None:
        if not self.indexes_loaded:  # a closed segment: never cut, or later offsets would be skipped silently
            self.open_indexes(self.size, repair=False)

    def ensure_txn_index(self) -> None:
        if not self.txn_index_loaded:
            self.txn_index.load()
            self.txn_index_loaded = True

    def position_of(self, offset: int) -> int:
        """Start of the batch that holds `offset`; the file size past the last batch."""
        if offset >= self.next_offset:
            return self.size
        hint = self._hints.get(offset)
        if hint is not None:
            return hint
        self.ensure_indexes()
        _, position = self.index.floor(offset - self.base_offset)
        window = max(self.index_interval_bytes * 2, 16384)
        while position < self.size:
            data = self.read(position, min(window, self.size - position))
            pos = 0
            while len(data) - pos >= HEADER_SIZE:
                fields = HEADER.unpack_from(data, pos)
                if fields[1] < MIN_BATCH_LENGTH or fields[3] != 2:  # batch length, magic
                    raise self.damaged(position + pos)
                if fields[0] + fields[6] >= offset:  # base offset + last offset delta
                    return position + pos
                pos += fields[1] + LOG_OVERHEAD
            if pos == 0:
                break
            position += pos
        return self.size

    def boundary_before(self, start: int, limit: int) -> tuple[int, int]:
        """Largest batch boundary in (start, limit] and the offset that starts there.

        Returns (start, -1) when even the first batch from `start` ends past `limit`.
        """
        self.ensure_indexes()
        relative, position = self.index.floor_by_position(limit)
        best = (position, self.base_offset + relative) if position > start else (start, -1)  # an entry is a boundary
        for pos, header, _ in self.iter_batches(max(position, start), min(self.size, limit)):
            best = (pos + header.batch_length + LOG_OVERHEAD, header.next_offset)
        return best

    def damaged(self, position: int) -> CorruptBatch:
        return CorruptBatch(f"{self.path.name} at position {position}: {self.damage_at(position)}")

    def first_batch_at(self, position: int) -> BatchHeader:
        """The header of the batch at `position`; raises CorruptBatch if no whole batch can start there."""
        header = BatchHeader.parse(self.read(position, HEADER_SIZE))
        if header.magic != 2 or header.batch_length < MIN_BATCH_LENGTH or position + header.size > self.size:
            raise self.damaged(position)
        return header

    def remember(self, offset: int, position: int) -> None:
        if len(self._hints) >= _POSITION_HINTS:
            self._hints.clear()
        self._hints[offset] = position

    # --- timestamps (cold path) ------------------------------------------------

    def find_timestamp(self, timestamp: int, min_offset: int = 0) -> tuple[int, int] | None:
        """First record (offset, timestamp) at or after `min_offset` with timestamp >= `timestamp`.

        Batch headers (their max timestamps) pick the batch; only that one is
        decoded, inflated within the budget of `first_record_at`, which raises
        RecordsError for a batch that can't be read.
        """
        if self.max_timestamp < timestamp:
            return None
        self.ensure_indexes()
        relative = self.time_index.floor(timestamp)
        first = max(self.base_offset + relative if relative is not None else 0, min_offset)
        for _, header, batch in self.iter_batches(self.position_of(first), with_data=True):
            if header.max_timestamp >= timestamp and header.next_offset > min_offset:
                found = first_record_at(batch, timestamp, min_offset)
                if found is not None:
                    return found
        return None

