"""`kafkette consume TOPIC`: print records as they arrive, as kcat -C or kafka-console-consumer.sh.

Fetch (long polls of 0.5 s) at each partition's leader, sessionless. With read_committed, the broker
stops at the LSO and the aborted batches are dropped here, as a Kafka consumer drops them. With
--group, the group's committed offsets are the start and what was printed is committed back as a
standalone member (generation -1: no rebalancing, so the group must have no other active member).
"""

from __future__ import annotations

import argparse
import base64
import json
import re
import sys
import time
from typing import IO, Any, Callable

from kafkette.cli.batches import AbortedFilter, aborted_list, fetch, whole_batches
from kafkette.cli.common import EXIT_USAGE, CommandError, Output, connect
from kafkette.cli.groups import commit_offsets, committed_offsets
from kafkette.cli.offsets import EARLIEST, LATEST, list_offsets
from kafkette.cluster import GROUP, Cluster, check
from kafkette.protocol.records import Record, iter_records
from kafkette.protocol.types import TopicPartition

POLL_MS = 500
Writer = Callable[[int, Record], None]
_TOKEN = re.compile(r"%[tpokshT]|\\[nt]|%%|\\\\")
_ESCAPES = {"\\n": b"\n", "\\t": b"\t", "%%": b"%", "\\\\": b"\\"}


def consume(args: argparse.Namespace, out: Output) -> int:
    write = _json_writer(args.topic) if args.json else _format_writer(args.topic, args.format or "%s\\n")
    committed = args.isolation == "read_committed"
    printed = 0
    with connect(args) as cluster:
        leaders = cluster.partitions(args.topic)
        wanted = args.partition or sorted(leaders)
        unknown = sorted(set(wanted) - set(leaders))
        if unknown:
            raise CommandError(f"topic {args.topic!r} has no partition {unknown[0]} (it has 0-{len(leaders) - 1})",
                               EXIT_USAGE)
        coordinator = cluster.coordinator(args.group, GROUP) if args.group else None
        positions = _start(cluster, args, wanted, coordinator)
        last_arrival = time.monotonic()
        while args.count is None or printed < args.count:
            got = 0
            for leader in sorted({leaders[p] for p in wanted}):
                mine = {p: positions[p] for p in wanted if leaders[p] == leader}
                for p, data in fetch(cluster, leader, args.topic, mine, committed, POLL_MS).items():
                    check(data.error_code, f"fetching {args.topic}-{p} from offset {positions[p]}")
                    budget = None if args.count is None else args.count - printed - got
                    got += _deliver(data, positions, committed, budget, write)
            sys.stdout.flush()
            printed += got
            if got and coordinator is not None:
                commit_offsets(cluster, coordinator, args.group, {TopicPartition(args.topic, p): o
                                                                  for p, o in positions.items()})
            if got:
                last_arrival = time.monotonic()
            elif args.timeout is not None and time.monotonic() - last_arrival >= args.timeout:
                break
    if args.count is not None and printed < args.count:
        raise CommandError(f"only {printed} of {args.count} records arrived within {args.timeout:g} s")
    return 0


def _deliver(data: Any, positions: dict[int, int], committed: bool, budget: int | None, write: Writer) -> int:
    """Write the records of one partition's answer (at most `budget`), moving its position past them."""
    p = data.partition_index
    records, end = _records(data, positions[p], committed)
    if budget is not None and len(records) > budget:
        records, end = records[:budget], (records[budget - 1].offset + 1 if budget else positions[p])
    for record in records:
        write(p, record)
    positions[p] = end
    return len(records)


def _start(cluster: Cluster, args: argparse.Namespace, partitions: list[int], coordinator: int | None) -> dict[int, int]:
    """partition -> the offset to read from: --offset, else the group's committed offset, else the log start
    (--from-beginning, as auto.offset.reset=earliest) or end."""
    if args.offset is not None:
        return {p: args.offset for p in partitions}
    fallback = list_offsets(cluster, args.topic, partitions, EARLIEST if args.from_beginning else LATEST)
    group = committed_offsets(cluster, coordinator, args.group) if coordinator is not None else {}
    return {p: group.get(TopicPartition(args.topic, p), fallback[p]) for p in partitions}


def _records(data: Any, start: int, committed: bool) -> tuple[list[Record], int]:
    """(the records of one partition's answer a consumer delivers, the offset after its last batch)."""
    found: list[Record] = []
    end = start
    skip = AbortedFilter(aborted_list(data))
    for header, batch in whole_batches(data.records):
        dropped = committed and skip.aborted(header, batch)
        if not (dropped or header.is_control):
            found += [r for r in iter_records(batch) if r.offset >= start]
        end = max(end, header.next_offset)
    return found, end


_FIELDS: dict[str, Callable[[str, int, Record], bytes]] = {
    "%t": lambda topic, p, r: topic.encode(),
    "%p": lambda topic, p, r: str(p).encode(),
    "%o": lambda topic, p, r: str(r.offset).encode(),
    "%k": lambda topic, p, r: r.key or b"",
    "%s": lambda topic, p, r: r.value or b"",
    "%T": lambda topic, p, r: str(r.timestamp).encode(),
    "%h": lambda topic, p, r: b",".join(k.encode() + b"=" + (v or b"") for k, v in r.headers),
}


def _format_writer(topic: str, fmt: str, stream: IO[bytes] | None = None) -> Writer:
    """kcat's -f: %t %p %o %k %s %T %h, and the escapes \\n \\t."""
    out = stream or sys.stdout.buffer
    pieces: list[bytes | Callable[[str, int, Record], bytes]] = []
    pos = 0
    for match in _TOKEN.finditer(fmt):
        pieces.append(fmt[pos:match.start()].encode())
        pieces.append(_ESCAPES.get(match.group()) or _FIELDS[match.group()])
        pos = match.end()
    pieces.append(fmt[pos:].encode())

    def write(partition: int, record: Record) -> None:
        out.write(b"".join(p if isinstance(p, bytes) else p(topic, partition, record) for p in pieces))

    return write


def _json_writer(topic: str) -> Writer:
    def write(partition: int, record: Record) -> None:
        doc: dict[str, Any] = {"topic": topic, "partition": partition, "offset": record.offset,
                               "timestamp": record.timestamp}
        doc.update(_text("key", record.key))
        doc.update(_text("value", record.value))
        doc["headers"] = [dict(_text("key", k.encode()), **_text("value", v)) for k, v in record.headers]
        sys.stdout.write(json.dumps(doc) + "\n")

    return write


def _text(name: str, data: bytes | None) -> dict[str, Any]:
    """{name: text} for UTF-8 (or None), else {name_base64: ...}: JSON holds no raw bytes."""
    if data is None:
        return {name: None}
    try:
        return {name: data.decode()}
    except UnicodeDecodeError:
        return {f"{name}_base64": base64.b64encode(data).decode()}
