"""`kafkette dump TOPIC PARTITION`: a partition's batches as a person wants to see them (see dump_view).

From a broker it speaks only the protocol: Fetch read_uncommitted for the batches, a read_committed Fetch
from the same offset for its aborted-transactions list, ListOffsets for the log start, LSO and high
watermark, and DescribeProducers for the open transactions. With --data-dir it reads a stopped broker's
partition directory without writing to it, as kafka-dump-log.sh does: the segments through the storage
package's Segment reader, the open transactions by replaying the log into a ProducerStateTable, and
the aborted-transaction index (.txnindex) of every segment.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from kafkette.cli.batches import aborted_list, fetch, whole_batches
from kafkette.cli.common import EXIT_USAGE, CommandError, Output, connect
from kafkette.cli.dump_view import PartitionView, classify, render, to_json
from kafkette.cli.offsets import marks
from kafkette.cli.txn import producer_states
from kafkette.cluster import Cluster, check
from kafkette.protocol.messages import DESCRIBE_PRODUCERS
from kafkette.protocol.records import ABORT, COMMIT, BatchHeader, control_record
from kafkette.protocol.types import TopicPartition
from kafkette.storage.checkpoint import CheckpointError, read_checkpoint
from kafkette.storage.config import LogConfig
from kafkette.storage.producer_state import ProducerStateTable
from kafkette.storage.recovery import segment_bases
from kafkette.storage.segment import Segment
from kafkette.storage.txn_index import read_entries

WINDOW_BYTES = 1 << 20  # per Fetch while reading the view


def dump(args: argparse.Namespace, out: Output) -> None:
    if args.limit < 1:
        raise CommandError("--limit must be at least 1", EXIT_USAGE)
    view = _from_files(args) if args.data_dir else _from_broker(args)
    if out.as_json:
        out.json(to_json(view))
    else:
        render(view, out.console, args.records)


# --------------------------------------------------------------------------------------------- from a broker


def _from_broker(args: argparse.Namespace) -> PartitionView:
    tp = TopicPartition(args.topic, args.partition)
    with connect(args) as cluster:
        leader = cluster.leader(tp.topic, tp.partition)
        mark = marks(cluster, tp.topic, [tp.partition])[tp.partition]
        start = mark.log_start if args.start is None else args.start
        if not mark.log_start <= start <= mark.high_watermark:
            raise CommandError(f"--from {start} is outside the log of {tp.topic}-{tp.partition}, which holds offsets "
                               f"{mark.log_start} to {mark.high_watermark - 1}")
        batches = _window(cluster, leader, tp, start, mark.high_watermark, args.limit)
        aborted: list[tuple[int, int, int | None]] = []
        if batches and start < mark.last_stable:
            answer = fetch(cluster, leader, tp.topic, {tp.partition: start}, committed=True)[tp.partition]
            check(answer.error_code, f"fetching {tp.topic}-{tp.partition} read_committed")
            aborted = [(pid, first, None) for pid, first in aborted_list(answer)]
        open_txns = {}
        if cluster.serves(DESCRIBE_PRODUCERS, leader):
            open_txns = {p.producer_id: p.current_txn_start_offset for p in producer_states(cluster, leader, [tp])[tp]
                         if p.current_txn_start_offset >= 0}
        source = f"broker {cluster.brokers.get(leader, args.bootstrap_server)}"
    return PartitionView(tp.topic, tp.partition, source, mark.log_start, mark.last_stable, mark.high_watermark,
                         open_txns, classify(batches, mark.last_stable, open_txns, aborted, args.records))


def _window(cluster: Cluster, leader: int, tp: TopicPartition, start: int, end: int,
            limit: int) -> list[tuple[BatchHeader, bytes]]:
    """Up to `limit` batches holding offsets from `start`, below `end`, read_uncommitted."""
    found: list[tuple[BatchHeader, bytes]] = []
    position = start
    while len(found) < limit and position < end:
        answer = fetch(cluster, leader, tp.topic, {tp.partition: position}, committed=False,
                       max_bytes=WINDOW_BYTES)[tp.partition]
        check(answer.error_code, f"fetching {tp.topic}-{tp.partition} from offset {position}")
        got = [(h, bytes(b)) for h, b in whole_batches(answer.records) if h.last_offset >= position
               and h.base_offset < end]
        if not got:
            break
        found += got
        position = got[-1][0].next_offset
    return found[:limit]


# --------------------------------------------------------------------------------------------- from files


def _from_files(args: argparse.Namespace) -> PartitionView:
    directory = Path(args.data_dir) / f"{args.topic}-{args.partition}"
    if not directory.is_dir():
        raise CommandError(f"{args.data_dir} holds no partition {args.topic}-{args.partition} (no directory "
                           f"{directory}): give the broker's --data-dir")
    segments = [Segment(directory, base, LogConfig().index_interval_bytes, read_only=True)
                for base in segment_bases(directory)]
    producers = ProducerStateTable()
    end = segments[0].base_offset if segments else 0
    try:
        checkpoint = read_checkpoint(directory)
    except CheckpointError:
        checkpoint = None  # damaged: the log starts at its first segment, as recovery takes it
    log_start = max(checkpoint.log_start_offset if checkpoint else 0, end)
    start = log_start if args.start is None else args.start
    batches: list[tuple[BatchHeader, bytes]] = []
    for segment in segments:
        try:
            for position, header, data in segment.iter_batches():
                wanted = header.last_offset >= start and len(batches) < args.limit
                if data is None and (wanted or header.is_control):
                    data = memoryview(segment.read(position, header.size))
                _replay(producers, header, data)
                if wanted and data is not None:
                    batches.append((header, bytes(data)))
                end = header.next_offset
        finally:
            segment.close()
    log_start = min(log_start, end)
    if not log_start <= start <= end:
        raise CommandError(f"--from {start} is outside the log of {args.topic}-{args.partition}, which holds offsets "
                           f"{log_start} to {end - 1}")
    index = [e for s in segments for e in read_entries(s.txn_index.path)]
    unstable = producers.first_unstable_offset()
    last_stable = end if unstable is None else unstable
    open_txns = dict(producers.open_txns)
    aborted: list[tuple[int, int, int | None]] = [(e.producer_id, e.first_offset, e.last_offset) for e in index]
    return PartitionView(args.topic, args.partition, f"files in {directory}", log_start, last_stable, end, open_txns,
                         classify(batches, last_stable, open_txns, aborted, args.records), index)


def _replay(producers: ProducerStateTable, header: BatchHeader, data: Any) -> None:
    """The producer state a broker rebuilds from the log: open transactions begin and end."""
    if header.producer_id < 0:
        return
    if not header.is_control:
        producers.replay(header)
        return
    kind, coordinator_epoch = control_record(data)
    if kind in (ABORT, COMMIT):
        producers.apply_marker(header.producer_id, header.producer_epoch, coordinator_epoch, kind,
                               header.base_offset, header.max_timestamp)
