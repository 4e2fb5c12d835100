"""`kafkette txn`: list, describe, describe-producers, find-hanging and abort, as kafka-transactions.sh
(org.apache.kafka.tools.TransactionsCommand) and the Admin client do them.

- `abort --topic T --partition P --start-offset O` looks the producer id, epoch and coordinator epoch
  up with DescribeProducers and writes the ABORT marker with WriteTxnMarkers to the partition's leader,
  as Admin.abortTransaction does. The transaction coordinator is not told: if it still tracks the
  transaction, it aborts it again (harmlessly) at its timeout, as Kafka's does.
- `abort --transactional-id ID` fences the id's producer as Admin.fenceProducers does: InitProducerId
  at its coordinator, which bumps the epoch and aborts the open transaction on every partition.
- `find-hanging` finds open transactions as Kafka's tool does (DescribeProducers, then ListTransactions
  and DescribeTransactions for their transactional ids). Kafka's prints only the hanging ones, those
  no coordinator will end; this one also lists the others it found, marked as not hanging with the
  time their coordinator will abort them, since they hold read_committed readers back until then too.
"""

from __future__ import annotations

import argparse
import time
from collections import defaultdict
from typing import Any, Iterable

from kafkette.cli import TXN_STATES
from kafkette.cli.common import EXIT_USAGE, CommandError, Output, connect
from kafkette.cli.offsets import last_stable_offsets
from kafkette.cluster import TRANSACTION, Cluster, KafkaError, check
from kafkette.protocol.errors import ErrorCode
from kafkette.protocol.messages import (
    DESCRIBE_PRODUCERS,
    DESCRIBE_TRANSACTIONS,
    INIT_PRODUCER_ID,
    LIST_TRANSACTIONS,
    WRITE_TXN_MARKERS,
)
from kafkette.protocol.types import TopicPartition

MAX_PARTITIONS_PER_REQUEST = 500  # as Kafka's tool, so one request never grows huge
LIST_COLUMNS = [("transactional_id", "TransactionalId"), ("coordinator", "Coordinator"),
                ("producer_id", "ProducerId"), ("state", "TransactionState")]
DESCRIBE_FIELDS = [("coordinator", "CoordinatorId"), ("transactional_id", "TransactionalId"),
                   ("producer_id", "ProducerId"), ("producer_epoch", "ProducerEpoch"),
                   ("state", "TransactionState"), ("timeout_ms", "TransactionTimeoutMs"),
                   ("start_time_ms", "CurrentTransactionStartTimeMs"), ("duration_ms", "TransactionDurationMs"),
                   ("partitions", "TopicPartitions")]
PRODUCER_COLUMNS = [("producer_id", "ProducerId"), ("producer_epoch", "ProducerEpoch"),
                    ("coordinator_epoch", "LatestCoordinatorEpoch"), ("last_sequence", "LastSequence"),
                    ("last_timestamp", "LastTimestamp"), ("txn_start_offset", "CurrentTransactionStartOffset")]
HANGING_COLUMNS = [("topic", "Topic"), ("partition", "Partition"), ("producer_id", "ProducerId"),
                   ("producer_epoch", "ProducerEpoch"), ("coordinator_epoch", "CoordinatorEpoch"),
                   ("start_offset", "StartOffset"), ("last_timestamp", "LastTimestamp"),
                   ("duration_min", "Duration(min)"), ("transactional_id", "TransactionalId"),
                   ("hanging", "Hanging"), ("status", "Status")]


# --------------------------------------------------------------------------------------------- list, describe


def list_transactions(args: argparse.Namespace, out: Output) -> None:
    R = LIST_TRANSACTIONS.Request
    rows = []
    with connect(args) as cluster:
        for node in sorted(cluster.brokers):
            if args.duration_filter >= 0 and cluster.version(LIST_TRANSACTIONS, node) < 1:
                raise CommandError(f"--duration-filter needs ListTransactions v1 (Kafka 3.8 or later), which the "
                                   f"broker at {cluster.brokers[node]} does not serve")
            answer = cluster.request(LIST_TRANSACTIONS, R(state_filters=args.state, producer_id_filters=args.producer_id,
                                                          duration_filter=args.duration_filter), node)
            check(answer.error_code, f"listing the transactions of broker {node}")
            if answer.unknown_state_filters:
                raise CommandError(f"unknown transaction state {', '.join(answer.unknown_state_filters)}: the "
                                   f"broker knows {', '.join(TXN_STATES)}", EXIT_USAGE)
            rows += [{"transactional_id": t.transactional_id, "coordinator": node, "producer_id": t.producer_id,
                      "state": t.transaction_state} for t in answer.transaction_states]
    out.rows(LIST_COLUMNS, sorted(rows, key=lambda r: r["transactional_id"]))


def describe(args: argparse.Namespace, out: Output) -> None:
    with connect(args) as cluster:
        node, txn = describe_one(cluster, args.transactional_id)
    now = int(time.time() * 1000)
    started = txn.transaction_start_time_ms if txn.transaction_start_time_ms >= 0 else None
    out.fields(DESCRIBE_FIELDS, {
        "coordinator": node, "transactional_id": txn.transactional_id, "producer_id": txn.producer_id,
        "producer_epoch": txn.producer_epoch, "state": txn.transaction_state, "timeout_ms": txn.transaction_timeout_ms,
        "start_time_ms": started, "duration_ms": None if started is None else now - started,
        "partitions": [f"{t.topic}-{p}" for t in txn.topics for p in t.partitions]})


def describe_one(cluster: Cluster, transactional_id: str) -> tuple[int, Any]:
    """(coordinator node, DescribeTransactions entry); CommandError if the id is unknown."""
    node = cluster.coordinator(transactional_id, TRANSACTION)
    txn = _describe_at(cluster, node, [transactional_id])[0]
    if txn.error_code == ErrorCode.TRANSACTIONAL_ID_NOT_FOUND:
        raise CommandError(f"no transactional id {transactional_id!r} is known to its coordinator (node {node}): "
                           f"see `kafkette txn list`")
    check(txn.error_code, f"describing transactional id {transactional_id!r}")
    return node, txn


def _describe_at(cluster: Cluster, node: int, transactional_ids: list[str]) -> list[Any]:
    R = DESCRIBE_TRANSACTIONS.Request
    return cluster.request(DESCRIBE_TRANSACTIONS, R(transactional_ids=transactional_ids), node).transaction_states


# --------------------------------------------------------------------------------------------- producers


def describe_producers(args: argparse.Namespace, out: Output) -> None:
    with connect(args) as cluster:
        node = args.broker_id if args.broker_id is not None else cluster.leader(args.topic, args.partition)
        producers = producer_states(cluster, node, [TopicPartition(args.topic, args.partition)])
    out.rows(PRODUCER_COLUMNS, [_producer_row(p) for p in producers[TopicPartition(args.topic, args.partition)]],
             empty=f"no producer has written to {args.topic}-{args.partition}")


def producer_states(cluster: Cluster, node: int, partitions: list[TopicPartition]) -> dict[TopicPartition, list[Any]]:
    """DescribeProducers of `partitions` at `node`; KafkaError for a partition it refuses."""
    R = DESCRIBE_PRODUCERS.Request
    found: dict[TopicPartition, list[Any]] = {}
    for chunk in _chunks(partitions, MAX_PARTITIONS_PER_REQUEST):
        by_topic: dict[str, list[int]] = defaultdict(list)
        for tp in chunk:
            by_topic[tp.topic].append(tp.partition)
        body = R(topics=[R.TopicRequest(name=t, partition_indexes=ps) for t, ps in by_topic.items()])
        for topic in cluster.request(DESCRIBE_PRODUCERS, body, node).topics:
            for p in topic.partitions:
                check(p.error_code, f"describing the producers of {topic.name}-{p.partition_index} on broker {node}",
                      p.error_message)
                found[TopicPartition(topic.name, p.partition_index)] = p.active_producers
    return found


def _producer_row(p: Any) -> dict[str, Any]:
    return {"producer_id": p.producer_id, "producer_epoch": p.producer_epoch,
            "coordinator_epoch": p.coordinator_epoch, "last_sequence": p.last_sequence,
            "last_timestamp": p.last_timestamp,
            "txn_start_offset": p.current_txn_start_offset if p.current_txn_start_offset >= 0 else None}


# --------------------------------------------------------------------------------------------- find-hanging


def find_hanging(args: argparse.Namespace, out: Output) -> None:
    if args.topic is None and args.broker_id is None:
        raise CommandError("find-hanging needs --topic or --broker-id to limit the search", EXIT_USAGE)
    if args.partition is not None and args.topic is None:
        raise CommandError("--partition needs --topic", EXIT_USAGE)
    max_ms = args.max_transaction_timeout * 60_000
    with connect(args) as cluster:
        now = int(time.time() * 1000)
        open_txns = [(tp, p) for node, tps in _partitions_to_search(cluster, args).items()
                     for tp, producers in producer_states(cluster, node, tps).items()
                     for p in producers if p.current_txn_start_offset >= 0 and now - p.last_timestamp > max_ms]
        ids = _transactional_ids(cluster, {p.producer_id for _, p in open_txns})
        described = _describe_all(cluster, set(ids.values()))
    rows = [_hanging_row(tp, p, ids.get(p.producer_id), described, now) for tp, p in open_txns]
    out.rows(HANGING_COLUMNS, rows, empty="no open transaction found")
    for row in rows:
        out.text(f"end it now: kafkette txn abort --topic {row['topic']} --partition {row['partition']} "
                 f"--start-offset {row['start_offset']}"
                 + (f"  (or --transactional-id {row['transactional_id']})" if row["transactional_id"] else ""))


def _partitions_to_search(cluster: Cluster, args: argparse.Namespace) -> dict[int, list[TopicPartition]]:
    """node to ask -> partitions: --broker-id's replicas, or the leaders of --topic's partitions."""
    if args.topic is not None:
        leaders = cluster.partitions(args.topic)
        if args.partition is not None:
            leaders = {args.partition: cluster.leader(args.topic, args.partition)}
        found = [(TopicPartition(args.topic, p), leader) for p, leader in sorted(leaders.items())]
    else:
        found = [(TopicPartition(t.name, p.partition_index), p.leader_id) for t in cluster.metadata(None).topics
                 for p in t.partitions if args.broker_id in p.replica_nodes]
    by_node: dict[int, list[TopicPartition]] = defaultdict(list)
    for tp, leader in found:
        by_node[args.broker_id if args.broker_id is not None else leader].append(tp)
    return by_node


def _transactional_ids(cluster: Cluster, producer_ids: set[int]) -> dict[int, str]:
    if not producer_ids:
        return {}
    R = LIST_TRANSACTIONS.Request
    ids = {}
    for node in cluster.brokers:
        answer = cluster.request(LIST_TRANSACTIONS, R(state_filters=[], producer_id_filters=sorted(producer_ids)), node)
        check(answer.error_code, f"listing the transactions of broker {node}")
        ids.update({t.producer_id: t.transactional_id for t in answer.transaction_states
                    if t.producer_id in producer_ids})
    return ids


def _describe_all(cluster: Cluster, transactional_ids: Iterable[str]) -> dict[str, Any]:
    """transactional id -> its DescribeTransactions entry (left out if the coordinator does not know it)."""
    by_node: dict[int, list[str]] = defaultdict(list)
    for tid in transactional_ids:
        by_node[cluster.coordinator(tid, TRANSACTION)].append(tid)
    found = {}
    for node, tids in by_node.items():
        for txn in _describe_at(cluster, node, tids):
            if txn.error_code != ErrorCode.TRANSACTIONAL_ID_NOT_FOUND:
                check(txn.error_code, f"describing transactional id {txn.transactional_id!r}")
                found[txn.transactional_id] = txn
    return found


def _hanging_row(tp: TopicPartition, p: Any, tid: str | None, described: dict[str, Any], now: int) -> dict[str, Any]:
    txn = described.get(tid) if tid is not None else None
    tracked = txn is not None and any(t.topic == tp.topic and tp.partition in t.partitions for t in txn.topics)
    if txn is not None and tracked:
        left_s = max(0, (txn.transaction_start_time_ms + txn.transaction_timeout_ms - now) // 1000)
        status = f"{txn.transaction_state} at its coordinator: aborted at its timeout, in {left_s} s"
    elif tid is None:
        status = "no coordinator knows this producer id"
    else:
        status = f"its coordinator no longer includes this partition (state {txn.transaction_state if txn else '?'})"
    return {"topic": tp.topic, "partition": tp.partition, "producer_id": p.producer_id,
            "producer_epoch": p.producer_epoch, "coordinator_epoch": p.coordinator_epoch,
            "start_offset": p.current_txn_start_offset, "last_timestamp": p.last_timestamp,
            "duration_min": (now - p.last_timestamp) // 60_000, "transactional_id": tid,
            "hanging": not tracked, "status": status}


# --------------------------------------------------------------------------------------------- abort


def abort(args: argparse.Namespace, out: Output) -> None:
    by_partition = [args.topic, args.partition, args.start_offset, args.producer_id]
    if args.transactional_id is not None:
        if any(v is not None for v in by_partition):
            raise CommandError("give either --transactional-id or --topic and --partition, not both", EXIT_USAGE)
        with connect(args) as cluster:
            fence(cluster, args.transactional_id, out)
        return
    if args.topic is None or args.partition is None:
        raise CommandError("name the transaction with --transactional-id, or with --topic, --partition and "
                           "--start-offset", EXIT_USAGE)
    if args.start_offset is None and args.producer_id is None:
        raise CommandError("the transaction to abort must be identified either with --start-offset or with "
                           "--producer-id, --producer-epoch and --coordinator-epoch", EXIT_USAGE)
    tp = TopicPartition(args.topic, args.partition)
    with connect(args) as cluster:
        leader = cluster.leader(tp.topic, tp.partition)
        if args.start_offset is not None:
            producer_id, epoch, coordinator_epoch = _open_transaction_at(cluster, leader, tp, args.start_offset)
        else:
            if args.producer_epoch is None or args.coordinator_epoch is None:
                raise CommandError("--producer-id needs --producer-epoch and --coordinator-epoch", EXIT_USAGE)
            producer_id, epoch, coordinator_epoch = args.producer_id, args.producer_epoch, args.coordinator_epoch
        # A transaction begun by a new producer id has no coordinator epoch yet (-1): 0 is at or below any.
        write_abort_marker(cluster, leader, tp, producer_id, epoch, max(coordinator_epoch, 0))
        lso = last_stable_offsets(cluster, tp.topic, [tp.partition])[tp.partition]
    out.fields([("aborted", "Aborted"), ("producer_id", "ProducerId"), ("producer_epoch", "ProducerEpoch"),
                ("last_stable_offset", "LastStableOffset")],
               {"aborted": f"{tp.topic}-{tp.partition}", "producer_id": producer_id, "producer_epoch": epoch,
                "last_stable_offset": lso})


def _open_transaction_at(cluster: Cluster, leader: int, tp: TopicPartition, start: int) -> tuple[int, int, int]:
    for p in producer_states(cluster, leader, [tp])[tp]:
        if p.current_txn_start_offset == start:
            return p.producer_id, p.producer_epoch, p.coordinator_epoch
    raise CommandError(f"could not find any open transaction starting at offset {start} on partition "
                       f"{tp.topic}-{tp.partition}: see `kafkette txn describe-producers {tp.topic} {tp.partition}`")


def write_abort_marker(cluster: Cluster, leader: int, tp: TopicPartition, producer_id: int, epoch: int,
                       coordinator_epoch: int) -> None:
    R = WRITE_TXN_MARKERS.Request
    body = R(markers=[R.WritableTxnMarker(producer_id=producer_id, producer_epoch=epoch, transaction_result=False,
                                          coordinator_epoch=coordinator_epoch, topics=[R.WritableTxnMarkerTopic(
                                              name=tp.topic, partition_indexes=[tp.partition])])])
    answer = cluster.request(WRITE_TXN_MARKERS, body, leader)
    for marker in answer.markers:
        for topic in marker.topics:
            for p in topic.partitions:
                check(p.error_code, f"writing the ABORT marker of producer {producer_id} (epoch {epoch}) to "
                                    f"{topic.name}-{p.partition_index}")


def fence(cluster: Cluster, transactional_id: str, out: Output) -> None:
    """Admin.fenceProducers: InitProducerId for the id at its coordinator, retried while it aborts."""
    node, txn = describe_one(cluster, transactional_id)
    if txn.transaction_state != "Ongoing":
        raise CommandError(f"transactional id {transactional_id!r} has no open transaction (state "
                           f"{txn.transaction_state}): nothing to abort")
    R = INIT_PRODUCER_ID.Request
    body = R(transactional_id=transactional_id, transaction_timeout_ms=txn.transaction_timeout_ms,
             producer_id=-1, producer_epoch=-1)
    deadline = time.monotonic() + cluster.timeout
    while True:
        answer = cluster.request(INIT_PRODUCER_ID, body, node)
        if answer.error_code == ErrorCode.NONE:
            break
        if answer.error_code == ErrorCode.NOT_COORDINATOR:
            node = cluster.coordinator(transactional_id, TRANSACTION)
        elif answer.error_code not in (ErrorCode.CONCURRENT_TRANSACTIONS, ErrorCode.COORDINATOR_LOAD_IN_PROGRESS) \
                or time.monotonic() > deadline:
            raise KafkaError(answer.error_code, f"fencing the producer of transactional id {transactional_id!r}")
        time.sleep(0.05)
    out.fields([("transactional_id", "TransactionalId"), ("producer_id", "ProducerId"),
                ("fenced_epoch", "FencedEpoch"), ("producer_epoch", "NewEpoch"), ("aborted", "Aborted")],
               {"transactional_id": transactional_id, "producer_id": answer.producer_id,
                "fenced_epoch": txn.producer_epoch, "producer_epoch": answer.producer_epoch,
                "aborted": [f"{t.topic}-{p}" for t in txn.topics for p in t.partitions]})


def _chunks(items: list[TopicPartition], size: int) -> Iterable[list[TopicPartition]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]
