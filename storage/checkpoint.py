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


class CheckpointError(ValueError):
    """The checkpoint file exists but cannot be read."""


def read_checkpoint(directory: Path) -> PartitionCheckpoint | None:
    """The partition's checkpoint, None if it has none; raises CheckpointError if it is damaged."""
    try:
        data = (directory / CHECKPOINT_NAME).read_bytes()
    except FileNotFoundError:
        return None
    except OSError as err:
        raise CheckpointError(f"cannot read {CHECKPOINT_NAME}: {err.strerror}") from None
    try:
        doc = json.loads(data)
        return PartitionCheckpoint(int(doc["log_start_offset"]), int(doc["recovery_segment"]),
                                   int(doc["recovery_position"]))
    except (ValueError, KeyError, TypeError) as err:
        raise CheckpointError(f"{CHECKPOINT_NAME} is damaged ({type(err).__name__}: {err})") from None


def write_checkpoint(directory: Path, checkpoint: PartitionCheckpoint, *, sync: bool = True) -> None:
    atomic_write(directory / CHECKPOINT_NAME, json.dumps(checkpoint._asdict()).encode(), sync=sync)
