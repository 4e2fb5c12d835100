"""The per-partition checkpoint: log start offset and the recovery point.

The recovery point is the (segment, byte position) up to which the log was
flushed with its indexes; on open only bytes past it are CRC-checked.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import NamedTuple

from kafkette.storage.files import atomic_write

CHECKPOINT_NAME = "checkpoint.json"


class PartitionCheckpoint(NamedTuple):
    log_start_offset: int = 0
    recovery_segment: int = -1  # -1: nothing verified, scan everything
    recovery_position: int = 0


def read_checkpoint(directory: Path) -> PartitionCheckpoint:
    try:
        doc = json.loads((directory / CHECKPOINT_NAME).read_bytes())
        return PartitionCheckpoint(int(doc["log_start_offset"]), int(doc["recovery_segment"]),
                                   int(doc["recovery_position"]))
    except (OSError, ValueError, KeyError, TypeError):
        return PartitionCheckpoint()


def write_checkpoint(directory: Path, checkpoint: PartitionCheckpoint, *, sync: bool = True) -> None:
    atomic_write(directory / CHECKPOINT_NAME, json.dumps(checkpoint._asdict()).encode(), sync=sync)
