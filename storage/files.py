"""Small file helpers shared by the storage modules."""

from __future__ import annotations

import os
from pathlib import Path

from kafkette.storage.handles import OPEN_FILES

DELETED_SUFFIX = "-delete"  # Kafka's suffix for the directory of a deleted partition awaiting removal


def atomic_write(path: Path, data: bytes, *, sync: bool = True) -> None:
    """Replace `path` so that a crash leaves either the old or the new content."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        write_all(fd, data)
        if sync:
            os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    if sync:
        fsync_dir(path.parent)


def write_all(fd: int, data: bytes | bytearray | memoryview) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def pwrite_all(fd: int, data: bytes | bytearray | memoryview, position: int) -> None:
    view = memoryview(data)
    while view:
        written = os.pwrite(fd, view, position)
        view = view[written:]
        position += written


class LazyFile:
    """A file opened on first use within the process's budget of open files (`storage.handles`), which
    closes it when cold; it reopens on its next use. Subclasses say where it is (`path`)."""

    def __init__(self, flags: int) -> None:
        self._fd: int | None = None
        self._flags = flags
        self.used = False

    @property
    def path(self) -> Path:
        raise NotImplementedError

    def _open(self) -> int:
        fd = self._fd
        if fd is None:
            fd = self._fd = os.open(self.path, self._flags, 0o644)
            OPEN_FILES.opened(self)
        else:
            self.used = True
        return fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def _close_file(self) -> None:
        if self._fd is not None:
            OPEN_FILES.closed(self)
            self.release()


class EntryFile(LazyFile):
    """An index file of fixed-size entries; `sync` fsyncs only if it was written to since, reopening it if
    the budget closed it meanwhile."""

    def __init__(self, directory: Path, name: str) -> None:
        super().__init__(os.O_RDWR | os.O_CREAT)
        self.directory = directory
        self.name = name
        self._unsynced = False

    @property
    def path(self) -> Path:  # made when used (to open or delete): a new partition's segment makes none
        return self.directory / self.name

    def write_pending(self) -> None:
        """Write entries kept in memory only; the subclass knows which."""

    def sync(self) -> None:
        self.write_pending()
        if self._unsynced:
            os.fsync(self._open())
            self._unsynced = False

    def _read_entries(self, entry_size: int) -> bytes:
        """The whole entries in the file; a torn last one (a crash mid-write) is cut off."""
        fd = self._open()
        size = os.fstat(fd).st_size
        usable = size - size % entry_size
        if usable != size:
            self._truncate(usable)
        return os.pread(fd, usable, 0) if usable else b""

    def _pwrite(self, data: bytes | bytearray, position: int) -> None:
        pwrite_all(self._open(), data, position)
        self._unsynced = True

    def _truncate(self, size: int) -> None:
        os.ftruncate(self._open(), size)
        self._unsynced = True

    def discard(self) -> None:
        """Close without writing what is pending: the file is being deleted."""
        self._close_file()


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def file_name(offset: int, suffix: str) -> str:
    """Kafka's naming: the base offset, zero padded to 20 digits."""
    return f"{offset:020d}{suffix}"
