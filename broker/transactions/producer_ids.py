"""Producer id allocation that never hands out an id twice, across restarts.

Ids are reserved in blocks; the end of the current block is written to disk
before any id of it is used, so after a crash allocation resumes past it.
Without a path (the in-memory engine) nothing is written.
"""

from __future__ import annotations

import json
from pathlib import Path

from kafkette.storage.files import atomic_write

BLOCK_SIZE = 1000


class ProducerIdAllocator:
    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.next_id = 0
        self.block_end = 0

    def load(self, at_least: int = 0) -> None:
        if self.path is not None and self.path.exists():
            self.block_end = json.loads(self.path.read_text())["block_end"]
        self.next_id = max(self.block_end, at_least)
        self.block_end = self.next_id

    def allocate(self) -> int:
        if self.next_id >= self.block_end:
            self.block_end = self.next_id + BLOCK_SIZE
            if self.path is not None:
                atomic_write(self.path, json.dumps({"block_end": self.block_end}).encode())
        pid = self.next_id
        self.next_id += 1
        return pid
