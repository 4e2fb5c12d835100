"""The file descriptors the log keeps open, bounded for the whole process.

Every segment file and index file opens its descriptor on first use and
registers it here; once more than `capacity` are open, the least recently
used ones are closed (they reopen on their next use). The bound is per process
because RLIMIT_NOFILE is: the store sets it from the open-file limit, leaving
room for connections. Eviction is "second chance": using a file only sets a
flag, so the hot path pays one attribute store, and the sweep that makes room
passes over recently used files once before it closes them.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Protocol

DEFAULT_CAPACITY = 1024
MIN_CAPACITY = 16  # an operation touches at most a segment and its three indexes at once


class Handle(Protocol):
    used: bool  # set on every use; cleared by a sweep that spares the file

    def release(self) -> None:
        """Close the descriptor (never fails, loses nothing: what was written stays written)."""


class OpenFiles:
    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        self.capacity = max(capacity, MIN_CAPACITY)
        self._open: OrderedDict[int, Handle] = OrderedDict()  # id -> handle, oldest registration first
        self.evicted = 0  # how many descriptors the bound closed (for tests and logs)

    def __len__(self) -> int:
        return len(self._open)

    def set_capacity(self, capacity: int) -> None:
        self.capacity = max(capacity, MIN_CAPACITY)
        self._make_room()

    def opened(self, handle: Handle) -> None:
        handle.used = True
        self._open[id(handle)] = handle
        if len(self._open) > self.capacity:
            self._make_room()

    def closed(self, handle: Handle) -> None:
        self._open.pop(id(handle), None)

    def _make_room(self) -> None:
        """Close the oldest files not used since the last sweep; a full turn clears every flag, so it ends."""
        while len(self._open) > self.capacity:
            key, handle = self._open.popitem(last=False)
            if handle.used:
                handle.used = False
                self._open[key] = handle
            else:
                handle.release()
                self.evicted += 1


OPEN_FILES = OpenFiles()  # the process's one budget
