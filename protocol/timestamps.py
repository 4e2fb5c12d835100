"""Finding a timestamp inside a stored batch (ListOffsets) without inflating more than the budget allows.

A compressed batch inflates into a bounded buffer (`protocol.inflate`); each
time the buffer fills, the records that fitted are searched first, so a
lookup usually stops in the first megabyte. A batch that can't be read answers
CORRUPT_MESSAGE through `RecordsError`, never an exception that closes the
connection.
"""

from __future__ import annotations

from kafkette.protocol.errors import ErrorCode
from kafkette.protocol.inflate import CorruptData, TooLarge, inflate
from kafkette.protocol.record_scan import OK, scan_records
from kafkette.protocol.records import HEADER_SIZE, NONE, BatchHeader, RecordsError, read_records
from kafkette.protocol.validation import MAX_INFLATED_BYTES


class _Found(Exception):
    def __init__(self, hit: tuple[int, int]) -> None:
        super().__init__()
        self.hit = hit


def first_record_at(batch: bytes | bytearray | memoryview, timestamp: int, min_offset: int,
                    limit: int = MAX_INFLATED_BYTES) -> tuple[int, int] | None:
    """(offset, timestamp) of the batch's first record at or after `timestamp` and `min_offset`, if any."""
    header = BatchHeader.parse(batch)
    data = memoryview(batch)[HEADER_SIZE:header.size]
    if header.compression == NONE:
        return _search(data, header, timestamp, min_offset)

    def check_prefix(prefix: memoryview) -> None:
        problem, end, complete, *_ = scan_records(prefix, 0, len(prefix), 0, header.record_count, False)
        if problem != OK:
            raise RecordsError(ErrorCode.CORRUPT_MESSAGE, f"stored batch at offset {header.base_offset} is unreadable")
        hit = _search(prefix[:end], header._replace(record_count=complete), timestamp, min_offset)
        if hit is not None:
            raise _Found(hit)

    try:
        body = inflate(header.compression, data, limit, check_prefix)
    except _Found as found:
        return found.hit
    except (CorruptData, TooLarge) as err:
        raise RecordsError(ErrorCode.CORRUPT_MESSAGE,
                           f"stored batch at offset {header.base_offset} can't be inflated: {err}") from None
    return _search(body, header, timestamp, min_offset)


def _search(body: memoryview, header: BatchHeader, timestamp: int, min_offset: int) -> tuple[int, int] | None:
    for record in read_records(body, header):
        if record.timestamp >= timestamp and record.offset >= min_offset:
            return record.offset, record.timestamp
    return None
