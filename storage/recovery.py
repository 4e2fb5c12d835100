"""Bringing a partition directory back to a consistent state on open.

1. Segments before the recovery point are trusted and opened lazily.
2. From the recovery point on, every batch must pass length, magic, CRC and
   offset continuity checks; the first bad batch and everything after it is
   truncated, and missing or damaged indexes are rebuilt from the batches.
3. Producer state comes from the newest snapshot not beyond the log end, plus
   a replay of the batch headers after it (markers decoded, aborted
   transactions re-indexed when the index lost them).
"""

from __future__ import annotations

from pathlib import Path

import structlog

from kafkette.protocol.records import ABORT, COMMIT, control_record
from kafkette.storage.checkpoint import PartitionCheckpoint
from kafkette.storage.config import LogConfig
from kafkette.storage.producer_state import ProducerStateTable, load_snapshot
from kafkette.storage.segment import LOG_SUFFIX, Segment
from kafkette.storage.txn_index import AbortedTxn

log = structlog.get_logger()


def segment_bases(directory: Path) -> list[int]:
    names = (p.name[:-len(LOG_SUFFIX)] for p in directory.glob("*" + LOG_SUFFIX))
    return sorted(int(n) for n in names if n.isdigit())


def open_segments(directory: Path, config: LogConfig, checkpoint: PartitionCheckpoint) -> tuple[list[Segment], int]:
    """Open (and where needed recover) the segments; returns them and the bytes truncated."""
    bases = segment_bases(directory) or [max(checkpoint.log_start_offset, 0)]
    segments = [Segment(directory, base, config.index_interval_bytes) for base in bases]
    for current, following in zip(segments, segments[1:]):
        current.next_offset = following.base_offset
    truncated = 0
    for i, segment in enumerate(segments):
        last = i == len(segments) - 1
        if segment.base_offset < checkpoint.recovery_segment and not last:
            segment.load_max_timestamp()
            continue
        if segment.base_offset < checkpoint.recovery_segment:
            verify_from = segment.size
        elif segment.base_offset == checkpoint.recovery_segment:
            verify_from = checkpoint.recovery_position
        else:
            verify_from = 0
        cut = segment.open_indexes(verify_from)
        truncated += cut
        if not last and segment.next_offset != segments[i + 1].base_offset:
            truncated += _drop_after(segments, i)
            break
    if not segments[0].path.exists():
        segments[0].fd  # create the first, empty segment
    return segments, truncated


def _drop_after(segments: list[Segment], i: int) -> int:
    """A hole in the middle of the log: nothing after it can be served."""
    hole, following = segments[i], segments[i + 1:]
    dropped = sum(segment.size for segment in following)
    log.warning("dropping the log segments after a hole", partition=hole.path.parent.name,
                from_offset=hole.next_offset, dropped_segments=[s.path.name for s in following],
                dropped_bytes=dropped, reason=f"{hole.path.name} ends at offset {hole.next_offset} but the next "
                f"segment starts at {following[0].base_offset}")
    for segment in following:
        segment.delete()
    del segments[i + 1:]
    return dropped


def restore_producers(directory: Path, segments: list[Segment]) -> tuple[ProducerStateTable, int]:
    """Producer state as of the log end; returns it and the number of batches replayed."""
    end = segments[-1].next_offset
    loaded = load_snapshot(directory, end)
    table, start = loaded if loaded else (ProducerStateTable(), segments[0].base_offset)
    replayed = 0
    for segment in segments:
        if segment.next_offset <= start:
            continue
        position = segment.position_of(start) if start > segment.base_offset else 0
        for pos, header, batch in segment.iter_batches(position):
            if header.producer_id < 0:
                continue
            replayed += 1
            if header.is_control:
                kind, coordinator_epoch = control_record(batch if batch is not None else segment.read(pos, header.size))
                _replay_marker(table, segment, header, kind, coordinator_epoch)
            else:
                table.replay(header)
    table.changed = loaded is None or replayed > 0
    table.snapshot_offset = start if loaded else -1
    return table, replayed


def _replay_marker(table: ProducerStateTable, segment: Segment, header, kind: int, coordinator_epoch: int) -> None:
    if kind not in (ABORT, COMMIT):
        return
    done = table.apply_marker(header.producer_id, header.producer_epoch, coordinator_epoch, kind,
                              header.base_offset, header.max_timestamp)
    segment.ensure_txn_index()
    if done.aborted and done.marker_offset > segment.txn_index.last_marker_offset:
        unstable = table.first_unstable_offset()
        lso = unstable if unstable is not None else done.marker_offset + 1
        segment.txn_index.append(AbortedTxn(done.producer_id, done.first_offset, done.marker_offset, lso))


def log_recovery(directory: Path, *, clean: bool, truncated: int, replayed: int, end_offset: int) -> None:
    if truncated or replayed or (not clean and end_offset > 0):
        log.info("partition recovered", partition=directory.name, clean=clean, truncated_bytes=truncated,
                 replayed_batches=replayed, log_end_offset=end_offset)
