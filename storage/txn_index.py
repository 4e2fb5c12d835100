"""Per-segment index of aborted transactions, as Kafka's `.txnindex`.

An entry is written when an ABORT marker closes a non-empty transaction; it
lives in the segment that holds the marker. A read_committed fetch of
[fetch_offset, upper_bound) must report every entry that overlaps it.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import NamedTuple

import structlog

from kafkette.storage.files import EntryFile

log = structlog.get_logger()

_ENTRY = struct.Struct(">qqqq")


class AbortedTxn(NamedTuple):
    producer_id: int
    first_offset: int
    last_offset: int  # the ABORT marker's offset
    last_stable_offset: int  # the LSO right after the marker


def read_entries(path: Path) -> list[AbortedTxn]:
    """The entries of an index file, read without changing it (a torn last entry is left out)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return []
    return [AbortedTxn(*e) for e in _ENTRY.iter_unpack(data[:len(data) - len(data) % _ENTRY.size])]


class TxnIndex(EntryFile):
    def __init__(self, directory: Path, name: str) -> None:
        super().__init__(directory, name)
        self._persisted = 0  # entries known to be in the file
        self.entries: list[AbortedTxn] = []

    def load(self) -> None:
        if not self.path.exists():
            self.entries = []
            return
        self.entries = [AbortedTxn(*e) for e in _ENTRY.iter_unpack(self._read_entries(_ENTRY.size))]
        self._persisted = len(self.entries)

    @property
    def last_marker_offset(self) -> int:
        return self.entries[-1].last_offset if self.entries else -1

    def append(self, entry: AbortedTxn) -> None:
        """Record an entry; a failed write is retried by `sync` (which then fails the flush)."""
        self.entries.append(entry)
        try:
            self.write_pending()
        except OSError as err:
            log.error("txn index write failed", path=str(self.path), error=str(err))

    def write_pending(self) -> None:
        if self._persisted < len(self.entries):
            data = b"".join(_ENTRY.pack(*e) for e in self.entries[self._persisted:])
            self._pwrite(data, self._persisted * _ENTRY.size)
            self._persisted = len(self.entries)

    def truncate_from_offset(self, offset: int) -> None:
        """Drop entries whose marker is at or after `offset` (the data they describe is gone)."""
        keep = [e for e in self.entries if e.last_offset < offset]
        if len(keep) == len(self.entries):
            return
        self.entries = keep
        self._truncate(len(keep) * _ENTRY.size)
        self._persisted = len(keep)

    def collect(self, fetch_offset: int, upper_bound: int, out: list[AbortedTxn]) -> bool:
        """Add overlapping entries to `out`; True once later segments can't overlap either."""
        for entry in self.entries:
            if entry.last_offset >= fetch_offset and entry.first_offset < upper_bound:
                out.append(entry)
            if entry.last_stable_offset >= upper_bound:
                return True
        return False

    def close(self) -> None:
        try:
            self.write_pending()  # a write that failed earlier: entries stay in memory for the next sync
        except OSError as err:
            log.error("txn index write failed", path=str(self.path), error=str(err))
        self._close_file()
