"""The engine-independent half of an append: check, place, and patch the batches.

Both engines (the segment log and the in-memory one) call `place_batches` or
`place_marker`, write the bytes their own way, and only then commit the staged
producer state, so "check sequence, append, advance state" stays one step.
"""

from __future__ import annotations

from typing import NamedTuple

from kafkette.protocol.errors import ErrorCode
from kafkette.protocol.model import RecordChunk
from kafkette.protocol.records import (
    TIMESTAMP_TYPE_BIT,
    BatchHeader,
    RecordsError,
    build_control_batch,
    crc_ok,
    set_base_offset,
    set_leader_epoch,
    set_log_append_time,
    split_batches,
)
from kafkette.storage.producer_state import Duplicate, ProducerEntry, ProducerStateTable


class AppendResult(NamedTuple):
    error: ErrorCode
    base_offset: int
    log_append_time: int  # for a duplicate, the original batch's max timestamp, as Kafka answers it
    log_start_offset: int


class ReadResult(NamedTuple):
    error: ErrorCode
    chunks: list[RecordChunk]  # whole batches, served verbatim
    high_watermark: int
    last_stable_offset: int
    log_start_offset: int
    aborted: list[tuple[int, int]]  # (producer id, first offset), read_committed only


class Placed(NamedTuple):
    buf: bytearray  # the batches, base offsets and leader epochs patched
    batches: list[tuple[int, BatchHeader]]  # (position in buf, header as placed)
    staged: dict[int, ProducerEntry]  # producer state to commit once the bytes are written
    append_time: int  # the LogAppendTime stamped on every batch, or -1


def place_batches(records: bytes | memoryview, next_offset: int, producers: ProducerStateTable, *,
                  now_ms: int, log_append_time: bool, leader_epoch: int) -> Placed | Duplicate | ErrorCode:
    """Validate a Produce partition's batches and place them from `next_offset`, all or nothing."""
    try:
        batches = split_batches(records)
    except RecordsError as err:
        return err.error
    if not batches:
        return ErrorCode.CORRUPT_MESSAGE
    staged: dict[int, ProducerEntry] = {}
    placed: list[tuple[int, BatchHeader]] = []
    offset = next_offset
    position = 0
    append_time = now_ms if log_append_time else -1
    for header, batch in batches:
        if not crc_ok(batch, header):
            return ErrorCode.CORRUPT_MESSAGE
        if header.is_control:
            return ErrorCode.INVALID_RECORD
        if append_time >= 0:
            header = header._replace(attributes=header.attributes | TIMESTAMP_TYPE_BIT, max_timestamp=append_time)
        if header.producer_id >= 0:
            verdict = producers.check(header, offset, staged)
            if isinstance(verdict, Duplicate) or verdict:
                return verdict
        placed.append((position, header._replace(base_offset=offset)))
        offset += header.last_offset_delta + 1
        position += header.size
    buf = bytearray(records)
    for position, header in placed:
        set_base_offset(buf, header.base_offset, position)
        set_leader_epoch(buf, leader_epoch, position)
        if append_time >= 0:
            set_log_append_time(buf, append_time, position)
    return Placed(buf, placed, staged, append_time)


def place_marker(producer_id: int, producer_epoch: int, commit: bool, coordinator_epoch: int, offset: int,
                 now_ms: int, leader_epoch: int) -> tuple[bytearray, BatchHeader]:
    """A COMMIT/ABORT control batch at `offset`; check the producer with `check_marker` first."""
    buf = bytearray(build_control_batch(producer_id, producer_epoch, commit, coordinator_epoch, now_ms))
    set_base_offset(buf, offset)
    set_leader_epoch(buf, leader_epoch)
    return buf, BatchHeader.parse(buf)
