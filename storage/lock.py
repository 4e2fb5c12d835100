"""DataDirLock: one broker at a time per data directory.

An exclusive flock on `<data_dir>/.lock`, held for the broker's lifetime; the file
holds the holder's pid so that a refused broker can name it. The kernel drops the
lock when its holder dies, even by SIGKILL, so a crash never leaves the directory
locked. The file itself stays: removing it would let a third broker lock a new file
while the second still holds the old one.
"""

from __future__ import annotations

import errno
import fcntl
import os
from pathlib import Path

LOCK_FILE = ".lock"


class DataDirError(Exception):
    """The data directory cannot be used; the message says why and what to do."""


class DataDirLock:
    def __init__(self, fd: int) -> None:
        self._fd = fd

    @classmethod
    def acquire(cls, data_dir: Path) -> DataDirLock:
        """Create the directory if needed and lock it. Raises DataDirError."""
        path = Path(data_dir) / LOCK_FILE
        try:
            Path(data_dir).mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except (FileExistsError, NotADirectoryError):
            raise DataDirError(f"data directory {data_dir} is a file (or lies under one): "
                               f"choose a directory") from None
        except OSError as e:
            raise DataDirError(f"cannot write to data directory {data_dir} ({e.strerror}): "
                               f"make it writable or choose another one") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as e:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            if e.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
                raise DataDirError(f"data directory {data_dir} is in use by another broker (pid {holder}): "
                                   f"stop it or choose another data directory") from None
            raise DataDirError(f"cannot lock data directory {data_dir} ({e.strerror})") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        return cls(fd)

    def release(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)  # closing the last descriptor drops the flock
            self._fd = -1
