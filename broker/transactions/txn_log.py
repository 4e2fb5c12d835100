"""Transaction metadata as Kafka writes it to `__transaction_state`: TransactionLogKey/Value records."""

from __future__ import annotations

from collections import defaultdict

from kafkette.broker.transactions.metadata import TransactionMetadata
from kafkette.broker.transactions.states import TxnState
from kafkette.protocol import codec
from kafkette.protocol.messages.internal import TRANSACTION_LOG_KEY, TRANSACTION_LOG_VALUE
from kafkette.protocol.records import NewRecord
from kafkette.protocol.types import TopicPartition

KEY_VERSION = 0
VALUE_VERSION = 1

Key, Value = TRANSACTION_LOG_KEY.Record, TRANSACTION_LOG_VALUE.Record


def to_record(txn: TransactionMetadata) -> NewRecord:
    by_topic: dict[str, list[int]] = defaultdict(list)
    for topic, partition in sorted(txn.partitions):
        by_topic[topic].append(partition)
    value = Value(
        producer_id=txn.producer_id, previous_producer_id=txn.last_producer_id, producer_epoch=txn.producer_epoch,
        transaction_timeout_ms=txn.timeout_ms, transaction_status=int(txn.state),
        transaction_partitions=[Value.PartitionsSchema(topic=t, partition_ids=p) for t, p in by_topic.items()],
        transaction_last_update_timestamp_ms=txn.last_update_ms, transaction_start_timestamp_ms=txn.start_ms)
    key = Key(transactional_id=txn.transactional_id)
    return NewRecord(codec.write_versioned(TRANSACTION_LOG_KEY, KEY_VERSION, key),
                     codec.write_versioned(TRANSACTION_LOG_VALUE, VALUE_VERSION, value))


def from_record(key: bytes, value: bytes | None) -> tuple[str, TransactionMetadata | None]:
    """(transactional id, its metadata) from one record; None for a tombstone."""
    transactional_id = codec.read_versioned(TRANSACTION_LOG_KEY, key).transactional_id
    if value is None:
        return transactional_id, None
    v = codec.read_versioned(TRANSACTION_LOG_VALUE, value)
    partitions = {TopicPartition(p.topic, i) for p in v.transaction_partitions or () for i in p.partition_ids}
    return transactional_id, TransactionMetadata(
        transactional_id=transactional_id, producer_id=v.producer_id, producer_epoch=v.producer_epoch,
        timeout_ms=v.transaction_timeout_ms, state=TxnState(v.transaction_status), partitions=partitions,
        start_ms=v.transaction_start_timestamp_ms, last_update_ms=v.transaction_last_update_timestamp_ms,
        last_producer_id=v.previous_producer_id)
