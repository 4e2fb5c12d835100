"""Record batches as a client reads them: whole batches out of a Fetch answer, and the read_committed
filter a Kafka consumer applies to them (the broker serves aborted batches too, with a list of the
aborted transactions; the consumer drops them, as Kafka's Fetcher does)."""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from typing import Any

from kafkette.cluster import Cluster, check
from kafkette.protocol.messages import FETCH
from kafkette.protocol.records import ABORT, HEADER_SIZE, BatchHeader, control_type
from kafkette.protocol.types import IsolationLevel

Batch = tuple[BatchHeader, memoryview]
MAX_FETCH_BYTES = 50 * 1024 * 1024  # the Java consumer's fetch.max.bytes


def whole_batches(records: Any) -> Iterator[Batch]:
    """The whole batches of a Fetch answer's records; one cut short by the size limit at the end is left out."""
    view = memoryview(records or b"")
    pos = 0
    while len(view) - pos >= HEADER_SIZE:
        header = BatchHeader.parse(view, pos)
        if header.size < HEADER_SIZE or pos + header.size > len(view):
            return
        yield header, view[pos:pos + header.size]
        pos += header.size


class AbortedFilter:
    """Decides, batch by batch in offset order, what a read_committed consumer skips."""

    def __init__(self, aborted: list[tuple[int, int]]) -> None:
        """`aborted`: (producer id, first offset) of the aborted transactions the fetch reported."""
        self._pending = [(first, pid) for pid, first in aborted]
        heapq.heapify(self._pending)
        self._aborting: set[int] = set()

    def aborted(self, header: BatchHeader, batch: memoryview) -> bool:
        """True for a data batch of an aborted transaction; ABORT markers end what they close."""
        if header.producer_id < 0:
            return False
        while self._pending and self._pending[0][0] <= header.last_offset:
            self._aborting.add(heapq.heappop(self._pending)[1])
        if header.is_control:
            if control_type(batch) == ABORT:
                self._aborting.discard(header.producer_id)
            return False
        return header.is_transactional and header.producer_id in self._aborting


def fetch(cluster: Cluster, leader: int, topic: str, positions: dict[int, int], committed: bool,
          max_wait_ms: int = 0, max_bytes: int = MAX_FETCH_BYTES) -> dict[int, Any]:
    """One sessionless Fetch of `positions` (partition -> offset) at `leader`: partition -> its answer."""
    R = FETCH.Request
    isolation = IsolationLevel.READ_COMMITTED if committed else IsolationLevel.READ_UNCOMMITTED
    body = R(replica_id=-1, max_wait_ms=max_wait_ms, min_bytes=1, max_bytes=max_bytes, isolation_level=isolation,
             session_id=0, session_epoch=-1, forgotten_topics_data=[], rack_id="", topics=[R.FetchTopic(
                 topic=topic, partitions=[R.FetchPartition(partition=p, fetch_offset=o, partition_max_bytes=max_bytes)
                                          for p, o in positions.items()])])
    answer = cluster.request(FETCH, body, leader)
    check(answer.error_code, f"fetching from {topic}")
    return {p.partition_index: p for t in answer.responses for p in t.partitions}


def aborted_list(partition: Any) -> list[tuple[int, int]]:
    return [(a.producer_id, a.first_offset) for a in partition.aborted_transactions or []]
