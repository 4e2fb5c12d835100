"""What `kafkette dump` shows of a partition, worked out from its batches (no I/O here).

Each batch gets its transaction's outcome and what a read_committed reader does with it:
- a transactional batch is committed or aborted by the next COMMIT/ABORT marker of its producer; past
  the end of the view, an open transaction of its producer (DescribeProducers, or the replayed log)
  makes it open, an aborted-transaction entry (Fetch's list, or the .txnindex) aborted, and below the
  LSO anything else is committed (everything there is decided);
- a reader reads the batches below the LSO except aborted ones and markers, and waits at the LSO.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from kafkette.protocol.records import ABORT, COMMIT, BatchHeader, Record, control_type, iter_records

COMPRESSION = {1: "gzip", 2: "snappy", 3: "lz4", 4: "zstd"}
PREVIEW = 40  # characters of a key or value shown per record
NO_WRAP = ("", "Offsets", "#", "PID/Epoch", "Sequence", "Time")  # short: others wrap first in a narrow terminal


@dataclass
class BatchView:
    header: BatchHeader
    marker: str | None  # "COMMIT" / "ABORT" for a transaction marker
    # a transactional data batch: "committed", "aborted", "open", or "marker past view" (decided, by a later marker)
    transaction: str | None
    reader: str  # what a read_committed reader does: "reads", "skips: aborted", "skips: marker", "waits"
    records: list[Record] = field(default_factory=list)


@dataclass
class PartitionView:
    topic: str
    partition: int
    source: str  # "broker HOST:PORT" or "files in DIR"
    log_start: int
    last_stable: int
    high_watermark: int
    open_transactions: dict[int, int]  # producer id -> first offset of its open transaction
    batches: list[BatchView]
    aborted_index: list[Any] | None = None  # the .txnindex entries (read from files only)


Marker = tuple[int, int, str | None]  # (offset, producer id, "COMMIT" / "ABORT")


def classify(batches: list[tuple[BatchHeader, bytes]], last_stable: int, open_txns: dict[int, int],
             aborted: list[tuple[int, int, int | None]], with_records: bool) -> list[BatchView]:
    """`aborted`: (producer id, first offset, ABORT marker offset or None if unknown) of aborted transactions."""
    markers = [(h.base_offset, h.producer_id, _marker(data)) for h, data in batches if h.is_control]
    views = []
    for header, data in batches:
        marker = _marker(data) if header.is_control else None
        outcome = None
        if header.is_transactional and not header.is_control:
            outcome = _outcome(header, markers, last_stable, open_txns, aborted)
        records = list(iter_records(data)) if with_records and not header.is_control else []
        views.append(BatchView(header, marker, outcome, _reader(header, outcome, last_stable), records))
    return views


def _marker(data: bytes) -> str | None:
    kind = control_type(data)
    return "COMMIT" if kind == COMMIT else "ABORT" if kind == ABORT else None


def _outcome(header: BatchHeader, markers: list[Marker], last_stable: int, open_txns: dict[int, int],
             aborted: list[tuple[int, int, int | None]]) -> str:
    pid, offset = header.producer_id, header.base_offset
    mine = [(at, kind) for at, producer, kind in markers if producer == pid and kind]
    later = [kind for at, kind in mine if at > offset]
    if later:
        return "committed" if later[0] == "COMMIT" else "aborted"
    if open_txns.get(pid, offset + 1) <= offset:
        return "open"
    begun = max((first for p, first, last in aborted
                 if p == pid and first <= offset and (last is None or offset < last)), default=None)
    if begun is not None and not any(begun <= at < offset for at, _ in mine):
        return "aborted"
    return "committed" if offset < last_stable else "marker past view"


def _reader(header: BatchHeader, outcome: str | None, last_stable: int) -> str:
    if header.is_control:
        return "skips: marker"
    if header.base_offset >= last_stable:
        return "waits"
    return "skips: aborted" if outcome == "aborted" else "reads"


# --------------------------------------------------------------------------------------------- output


def to_json(view: PartitionView) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "topic": view.topic, "partition": view.partition, "source": view.source, "log_start_offset": view.log_start,
        "last_stable_offset": view.last_stable, "high_watermark": view.high_watermark,
        "open_transactions": [{"producer_id": pid, "first_offset": first}
                              for pid, first in sorted(view.open_transactions.items(), key=lambda i: i[1])],
        "batches": [_batch_json(b) for b in view.batches]}
    if view.aborted_index is not None:
        doc["aborted_index"] = [e._asdict() for e in view.aborted_index]
    return doc


def _batch_json(b: BatchView) -> dict[str, Any]:
    h = b.header
    doc: dict[str, Any] = {"base_offset": h.base_offset, "last_offset": h.last_offset, "record_count": h.record_count,
           "producer_id": h.producer_id, "producer_epoch": h.producer_epoch, "base_sequence": h.base_sequence,
           "last_sequence": h.last_sequence, "transactional": h.is_transactional, "control": h.is_control,
           "compression": COMPRESSION.get(h.compression), "max_timestamp": h.max_timestamp, "marker": b.marker,
           "transaction": b.transaction, "read_committed": b.reader}
    if b.records:
        doc["records"] = [{"offset": r.offset, "timestamp": r.timestamp, "key": _show(r.key, None),
                           "value": _show(r.value, None)} for r in b.records]
    return doc


def render(view: PartitionView, console: Any, with_records: bool) -> None:
    """The partition as a table, the log start, LSO and high watermark drawn at their batches."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    days = {_time(b.header.max_timestamp)[:10] for b in view.batches if b.header.max_timestamp >= 0}
    day = days.pop() if len(days) == 1 else None  # one day: the times without it
    console.print(f"[bold]{view.topic}-{view.partition}[/bold]  from {view.source}:  log start {view.log_start}   "
                  f"LSO {view.last_stable}   high watermark {view.high_watermark}" + (f"   ({day}, UTC)" if day else ""))
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    for heading in ("", "Offsets", "#", "PID/Epoch", "Sequence", "Batch", "Transaction", "read_committed",
                    "Time" if day else "Time (UTC)") + (("Records",) if with_records else ()):
        table.add_column(heading, overflow="fold", no_wrap=heading in NO_WRAP)
    for b in view.batches:
        h = b.header
        table.add_row(_marks(view, h.base_offset, h.last_offset), _span(h.base_offset, h.last_offset),
                      str(h.record_count), f"{h.producer_id}/{h.producer_epoch}" if h.producer_id >= 0 else "-",
                      _span(h.base_sequence, h.last_sequence) if h.base_sequence >= 0 else "-", _kind(b),
                      b.transaction or "", b.reader, _time(h.max_timestamp)[11 if day else 0:],
                      *((Text("\n".join(_record_line(r) for r in b.records)),) if with_records else ()),
                      style=_style(b))
    shown_to = view.batches[-1].header.next_offset if view.batches else view.high_watermark
    end_note = "end of log" if shown_to >= view.high_watermark else \
        f"{view.high_watermark - shown_to} more offsets: --from {shown_to}"
    table.add_row(_marks(view, view.high_watermark, view.high_watermark, end=True), str(view.high_watermark), "",
                  "", "", f"({end_note})", style="dim")
    console.print(table)
    _explain(view, console)
    if view.aborted_index is not None:
        _index_table(view, console)


def _marks(view: PartitionView, first: int, last: int, end: bool = False) -> str:
    found = [name for name, at in (("log start", view.log_start), ("LSO", view.last_stable),
                                   ("HWM", view.high_watermark))
             if first <= at <= last and (end or at < view.high_watermark)]
    if found:
        return " ".join(found) + " ▶"
    return "┃ held back" if view.last_stable <= first < view.high_watermark else ""


def _style(b: BatchView) -> str:
    if b.transaction == "open":
        return "bold yellow"
    if b.transaction == "aborted" or b.marker == "ABORT":
        return "red"
    if b.marker == "COMMIT":
        return "green"
    return "dim" if b.reader == "waits" else ""


def _kind(b: BatchView) -> str:
    if b.header.is_control:
        return f"{b.marker or 'control'} marker"
    flags = ["txn"] if b.header.is_transactional else []
    return " ".join(["data"] + flags + ([COMPRESSION[b.header.compression]] if b.header.compression else []))


def _explain(view: PartitionView, console: Any) -> None:
    if view.last_stable >= view.high_watermark:
        console.print("LSO = high watermark: no open transaction holds read_committed readers back.")
        return
    holders = sorted((first, pid) for pid, first in view.open_transactions.items() if first == view.last_stable)
    who = ", ".join(f"producer {pid}" for _, pid in holders) or "an open transaction"
    console.print(f"[bold yellow]read_committed readers wait at offset {view.last_stable}[/bold yellow]: the open "
                  f"transaction of {who}, begun there, holds back {view.high_watermark - view.last_stable} offsets "
                  f"up to the high watermark. If its producer is gone, end it with: kafkette txn abort --topic "
                  f"{view.topic} --partition {view.partition} --start-offset {view.last_stable}", soft_wrap=True)


def _index_table(view: PartitionView, console: Any) -> None:
    from rich import box
    from rich.table import Table

    table = Table(title="aborted-transaction index (.txnindex)", title_justify="left", box=box.SIMPLE_HEAD,
                  show_edge=False, pad_edge=False)
    for heading in ("Producer", "FirstOffset", "LastOffset (ABORT marker)", "LSO after"):
        table.add_column(heading)
    for e in view.aborted_index or []:
        table.add_row(str(e.producer_id), str(e.first_offset), str(e.last_offset), str(e.last_stable_offset))
    console.print(table if view.aborted_index else "aborted-transaction index (.txnindex): empty")


def _span(first: int, last: int) -> str:
    return str(first) if first == last else f"{first}-{last}"


def _time(ms: int) -> str:
    if ms < 0:
        return "-"
    return datetime.fromtimestamp(ms / 1000, timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def _record_line(r: Record) -> str:
    return f"{r.offset}: {_show(r.key, PREVIEW)} = {_show(r.value, PREVIEW)}"


def _show(data: bytes | None, limit: int | None) -> str | None:
    if data is None:
        return None if limit is None else "null"
    text = data.decode(errors="backslashreplace")
    return text if limit is None or len(text) <= limit else text[:limit] + "…"
