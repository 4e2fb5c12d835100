"""Sparse per-segment indexes: offset -> file position, and timestamp -> offset.

Both are append-only files of fixed-size big-endian entries mirrored in arrays.
Offsets are stored relative to the segment's base offset (int32), as Kafka does.
New entries are written in small groups with positioned writes (a failed
write is simply redone): an index is derived data, and the recovery point only
moves past entries after `sync` wrote them, so a crash just rebuilds the
unwritten ones from the log.
A torn trailing entry is dropped on load; deeper damage is reported by
`is_consistent` and the segment rebuilds the index from its batches.
"""

from __future__ import annotations

import struct
from array import array
from bisect import bisect_right
from pathlib import Path

from kafkette.storage.files import EntryFile


_WRITE_EVERY = 32  # entries


class _IndexFile(EntryFile):
    ENTRY: struct.Struct
    TYPECODES: tuple[str, str]

    def __init__(self, directory: Path, name: str) -> None:
        super().__init__(directory, name)
        self._pending = bytearray()
        self._persisted = 0  # entries known to be in the file
        self.keys = array(self.TYPECODES[0])
        self.values = array(self.TYPECODES[1])

    def load(self) -> None:
        """Read entries from disk, dropping a partially written last entry."""
        self._pending.clear()
        data = self._read_entries(self.ENTRY.size)
        self.keys = array(self.TYPECODES[0])
        self.values = array(self.TYPECODES[1])
        for key, value in self.ENTRY.iter_unpack(data):
            self.keys.append(key)
            self.values.append(value)
        self._persisted = len(self.keys)

    def __len__(self) -> int:
        return len(self.keys)

    def append(self, key: int, value: int) -> None:
        self._pending += self.ENTRY.pack(key, value)
        self.keys.append(key)
        self.values.append(value)

    @property
    def write_due(self) -> bool:
        return len(self._pending) >= _WRITE_EVERY * self.ENTRY.size

    def write_pending(self) -> None:
        if self._pending:
            self._pwrite(self._pending, self._persisted * self.ENTRY.size)
            self._persisted = len(self.keys)
            self._pending.clear()

    def truncate_entries(self, count: int) -> None:
        """Keep only the first `count` entries."""
        if count >= len(self.keys):
            return
        self.write_pending()
        self._truncate(count * self.ENTRY.size)
        del self.keys[count:]
        del self.values[count:]
        self._persisted = count

    def close(self) -> None:
        try:
            self.write_pending()
        except OSError:  # derived data: entries missing from the file are rebuilt from the log when opened
            pass
        self._close_file()


class OffsetIndex(_IndexFile):
    """Entries (relative base offset of a batch, byte position of that batch)."""

    ENTRY = struct.Struct(">ii")
    TYPECODES = ("i", "i")

    def floor(self, relative_offset: int) -> tuple[int, int]:
        """The last entry at or before `relative_offset`, or (0, 0)."""
        i = bisect_right(self.keys, relative_offset) - 1
        return (self.keys[i], self.values[i]) if i >= 0 else (0, 0)

    def floor_by_position(self, position: int) -> tuple[int, int]:
        """The last entry whose position is at or before `position`, or (0, 0)."""
        i = bisect_right(self.values, position) - 1
        return (self.keys[i], self.values[i]) if i >= 0 else (0, 0)

    def truncate_from_position(self, position: int) -> None:
        self.truncate_entries(bisect_right(self.values, position - 1))

    def is_consistent(self, segment_size: int) -> bool:
        keys, positions = self.keys, self.values
        if not keys:
            return True
        return (
            keys[0] >= 0
            and positions[0] >= 0
            and positions[-1] < segment_size
            and all(a < b for a, b in zip(keys, keys[1:]))
            and all(a < b for a, b in zip(positions, positions[1:]))
        )


class TimeIndex(_IndexFile):
    """Entries (max timestamp so far, relative offset of the batch that first reached it)."""

    ENTRY = struct.Struct(">qi")
    TYPECODES = ("q", "i")

    def floor(self, timestamp: int) -> int | None:
        """Relative offset of the last entry with timestamp <= `timestamp`."""
        i = bisect_right(self.keys, timestamp) - 1
        return self.values[i] if i >= 0 else None

    @property
    def last(self) -> tuple[int, int] | None:
        return (self.keys[-1], self.values[-1]) if self.keys else None

    def maybe_append(self, timestamp: int, relative_offset: int) -> None:
        last = self.last
        if last is None or (timestamp > last[0] and relative_offset > last[1]):
            self.append(timestamp, relative_offset)

    def truncate_from_offset(self, relative_offset: int) -> None:
        self.truncate_entries(bisect_right(self.values, relative_offset - 1))

    def is_consistent(self, last_relative_offset: int) -> bool:
        keys, offsets = self.keys, self.values
        if not keys:
            return True
        return (
            offsets[0] >= 0
            and offsets[-1] <= last_relative_offset
            and all(a < b for a, b in zip(keys, keys[1:]))
            and all(a < b for a, b in zip(offsets, offsets[1:]))
        )
