"""`kafkette produce TOPIC`: the lines of standard input as records, as kcat -P or kafka-console-producer.sh.

Each line is a record (split into key and value at the first --key-separator). Records go to
--partition, else to the partition of their key's murmur2 hash (Kafka's default partitioner, so a key
lands where a Java producer would put it), and unkeyed ones all to one partition picked at random.
Batches are sent with acks=all. With --transactional-id every line is sent in one transaction
(InitProducerId, AddPartitionsToTxn, transactional batches, EndTxn), committed once all are written.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections import defaultdict
from typing import Any, BinaryIO, Callable

from kafkette.cli.common import EXIT_USAGE, CommandError, Output, connect
from kafkette.cluster import TRANSACTION, Cluster, KafkaError, check
from kafkette.protocol.errors import ErrorCode
from kafkette.protocol.messages import ADD_PARTITIONS_TO_TXN, END_TXN, INIT_PRODUCER_ID, PRODUCE
from kafkette.protocol.records import NewRecord, add_sequence, build_batch

MAX_BATCH_BYTES = 512 * 1024  # well under Kafka's default max.message.bytes (1 MiB)
TRANSACTION_TIMEOUT_MS = 60_000  # the Java producer's transaction.timeout.ms
_RETRY = (ErrorCode.CONCURRENT_TRANSACTIONS, ErrorCode.COORDINATOR_LOAD_IN_PROGRESS)
_MOVED = (ErrorCode.NOT_COORDINATOR, ErrorCode.COORDINATOR_NOT_AVAILABLE)  # find the coordinator again


def produce(args: argparse.Namespace, out: Output) -> None:
    records = read_lines(sys.stdin.buffer, args.key_separator)
    with connect(args) as cluster:
        leaders = cluster.partitions(args.topic)
        if args.partition is not None and args.partition not in leaders:
            raise CommandError(f"topic {args.topic!r} has no partition {args.partition} (it has "
                               f"0-{len(leaders) - 1})", EXIT_USAGE)
        by_partition: dict[int, list[NewRecord]] = defaultdict(list)
        sticky = random.randrange(len(leaders))
        for record in records:
            by_partition[_partition(record.key, len(leaders), args.partition, sticky)].append(record)
        if args.transactional_id is not None and by_partition:
            sent = Transaction(cluster, args.transactional_id).send(args.topic, leaders, by_partition)
        else:
            sent = {p: _send(cluster, leaders[p], args.topic, p, rs, None) for p, rs in sorted(by_partition.items())}
    out.rows([("partition", "Partition"), ("records", "Records"), ("first_offset", "FirstOffset"),
              ("last_offset", "LastOffset")],
             [{"partition": p, "records": len(by_partition[p]), "first_offset": first,
               "last_offset": first + len(by_partition[p]) - 1} for p, first in sorted(sent.items())],
             empty="no lines on standard input: nothing was sent")


def read_lines(stream: BinaryIO, separator: str | None) -> list[NewRecord]:
    sep = separator.encode() if separator else None
    records = []
    for line in stream.read().splitlines():
        if sep is not None and sep in line:
            key, _, value = line.partition(sep)
            records.append(NewRecord(key, value))
        else:
            records.append(NewRecord(None, line))
    return records


def _partition(key: bytes | None, count: int, explicit: int | None, sticky: int) -> int:
    if explicit is not None:
        return explicit
    if key is None:
        return sticky
    return (murmur2(key) & 0x7FFFFFFF) % count


def murmur2(data: bytes) -> int:
    """Kafka's Utils.murmur2 (the default partitioner's hash), as a signed 32-bit int."""
    m, mask = 0x5BD1E995, 0xFFFFFFFF
    h = (0x9747B28C ^ len(data)) & mask
    whole = len(data) - len(data) % 4
    for i in range(0, whole, 4):
        k = int.from_bytes(data[i:i + 4], "little")
        k = (k * m) & mask
        k ^= k >> 24
        k = (k * m) & mask
        h = ((h * m) & mask) ^ k
    tail = data[whole:]
    if tail:
        for i in reversed(range(len(tail))):
            h ^= tail[i] << (8 * i)
        h = (h * m) & mask
    h ^= h >> 13
    h = (h * m) & mask
    h ^= h >> 15
    return h - (1 << 32) if h & 0x80000000 else h


def _batches(records: list[NewRecord]) -> list[list[NewRecord]]:
    batches: list[list[NewRecord]] = [[]]
    size = 0
    for record in records:
        length = len(record.key or b"") + len(record.value or b"") + 16
        if batches[-1] and size + length > MAX_BATCH_BYTES:
            batches.append([])
            size = 0
        batches[-1].append(record)
        size += length
    return batches


def _send(cluster: Cluster, leader: int, topic: str, partition: int, records: list[NewRecord],
          txn: Transaction | None) -> int:
    """Produce `records` to one partition, batch by batch; the first offset they got."""
    R = PRODUCE.Request
    first = -1
    for batch in _batches(records):
        data = build_batch(batch, timestamp_ms=int(time.time() * 1000), **(txn.batch_fields(partition, len(batch))
                                                                            if txn else {}))
        body = R(transactional_id=txn.transactional_id if txn else None, acks=-1, timeout_ms=int(cluster.timeout * 1000),
                 topic_data=[R.TopicProduceData(name=topic, partition_data=[
                     R.PartitionProduceData(index=partition, records=data)])])
        answer = cluster.request(PRODUCE, body, leader).responses[0].partition_responses[0]
        check(answer.error_code, f"producing to {topic}-{partition}", answer.error_message)
        first = answer.base_offset if first < 0 else first
    return first


class Transaction:
    """One transaction of a transactional id: every partition's records, then a commit."""

    def __init__(self, cluster: Cluster, transactional_id: str) -> None:
        self.cluster = cluster
        self.transactional_id = transactional_id
        self.coordinator = cluster.coordinator(transactional_id, TRANSACTION)
        self.sequences: dict[int, int] = defaultdict(int)
        R = INIT_PRODUCER_ID.Request
        body = R(transactional_id=transactional_id, transaction_timeout_ms=TRANSACTION_TIMEOUT_MS, producer_id=-1,
                 producer_epoch=-1)

        def init() -> tuple[int, Any]:
            answer = cluster.request(INIT_PRODUCER_ID, body, self.coordinator)
            return answer.error_code, answer

        answer = self._retrying(init, "initializing the producer")
        self.producer_id, self.epoch = answer.producer_id, answer.producer_epoch

    def send(self, topic: str, leaders: dict[int, int], by_partition: dict[int, list[NewRecord]]) -> dict[int, int]:
        self._add_partitions(topic, sorted(by_partition))
        try:
            sent = {p: _send(self.cluster, leaders[p], topic, p, rs, self) for p, rs in sorted(by_partition.items())}
        except KafkaError:
            self._end(commit=False)
            raise
        self._end(commit=True)
        return sent

    def batch_fields(self, partition: int, count: int) -> dict[str, Any]:
        sequence = self.sequences[partition]
        self.sequences[partition] = add_sequence(sequence, count)
        return {"producer_id": self.producer_id, "producer_epoch": self.epoch, "base_sequence": sequence,
                "transactional": True}

    def _add_partitions(self, topic: str, partitions: list[int]) -> None:
        R = ADD_PARTITIONS_TO_TXN.Request
        body = R(v3_and_below_transactional_id=self.transactional_id, v3_and_below_producer_id=self.producer_id,
                 v3_and_below_producer_epoch=self.epoch,
                 v3_and_below_topics=[R.AddPartitionsToTxnTopic(name=topic, partitions=partitions)])

        def add() -> tuple[int, Any]:
            answer = self.cluster.request(ADD_PARTITIONS_TO_TXN, body, self.coordinator)
            errors = [p.partition_error_code for t in answer.results_by_topic_v3_and_below
                      for p in t.results_by_partition if p.partition_error_code]
            return (errors[0] if errors else ErrorCode.NONE), answer

        self._retrying(add, "adding the partitions to the transaction")

    def _end(self, commit: bool) -> None:
        R = END_TXN.Request
        answer = self.cluster.request(END_TXN, R(transactional_id=self.transactional_id, producer_id=self.producer_id,
                                                 producer_epoch=self.epoch, committed=commit), self.coordinator)
        check(answer.error_code, f"{'committing' if commit else 'aborting'} the transaction of "
                                 f"{self.transactional_id!r}")

    def _retrying(self, request: Callable[[], tuple[int, Any]], what: str) -> Any:
        """`request()` (-> error code, answer) again while the coordinator is busy finishing this id's
        previous transaction."""
        deadline = time.monotonic() + self.cluster.timeout
        while True:
            error, answer = request()
            if error not in _RETRY + _MOVED or time.monotonic() > deadline:
                check(error, f"{what} of transactional id {self.transactional_id!r}")
                return answer
            if error in _MOVED:
                self.coordinator = self.cluster.coordinator(self.transactional_id, TRANSACTION)
            time.sleep(0.05)
