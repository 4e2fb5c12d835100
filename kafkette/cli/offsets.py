"""ListOffsets for the commands: log start, high watermark, last stable offset, offsets by time."""

from __future__ import annotations

from collections import defaultdict
from typing import NamedTuple

from kafkette.cluster import Cluster, check
from kafkette.protocol.messages import LIST_OFFSETS
from kafkette.protocol.types import IsolationLevel

EARLIEST, LATEST = -2, -1  # ListOffsets' special timestamps


class Marks(NamedTuple):
    """Where a partition's log starts, where read_committed readers stop, and where it ends."""

    log_start: int
    last_stable: int
    high_watermark: int


def list_offsets(cluster: Cluster, topic: str, partitions: list[int] | None, timestamp: int,
                 committed: bool = False) -> dict[int, int]:
    """partition -> the offset ListOffsets answers for `timestamp` (-1 when no record is that late);
    every partition of the topic when `partitions` is None. `committed`: read_committed (LATEST is the LSO)."""
    leaders = cluster.partitions(topic)
    by_leader: dict[int, list[int]] = defaultdict(list)
    for p in sorted(leaders) if partitions is None else partitions:
        by_leader[leaders[p] if p in leaders else cluster.leader(topic, p)].append(p)
    R = LIST_OFFSETS.Request
    isolation = IsolationLevel.READ_COMMITTED if committed else IsolationLevel.READ_UNCOMMITTED
    found = {}
    for leader, ps in by_leader.items():
        body = R(replica_id=-1, isolation_level=isolation, topics=[R.ListOffsetsTopic(name=topic, partitions=[
            R.ListOffsetsPartition(partition_index=p, timestamp=timestamp) for p in ps])])
        for answer in cluster.request(LIST_OFFSETS, body, leader).topics[0].partitions:
            check(answer.error_code, f"listing the offsets of {topic}-{answer.partition_index}")
            found[answer.partition_index] = answer.offset
    return found


def last_stable_offsets(cluster: Cluster, topic: str, partitions: list[int] | None) -> dict[int, int]:
    return list_offsets(cluster, topic, partitions, LATEST, committed=True)


def marks(cluster: Cluster, topic: str, partitions: list[int] | None = None) -> dict[int, Marks]:
    start = list_offsets(cluster, topic, partitions, EARLIEST)
    end = list_offsets(cluster, topic, partitions, LATEST)
    stable = last_stable_offsets(cluster, topic, partitions)
    return {p: Marks(start[p], stable[p], end[p]) for p in sorted(start)}
