"""Durable storage: segmented partition logs with Kafka's offset, time and aborted-txn indexes."""

from storage.config import FsyncPolicy, LogConfig
from storage.partition import AppendResult, PartitionLog, ReadResult
from storage.producer_state import ProducerInfo
from storage.store import LogStore, TopicError, TopicInfo, valid_topic_name

__all__ = [
    "AppendResult",
    "FsyncPolicy",
    "LogConfig",
    "LogStore",
    "PartitionLog",
    "ProducerInfo",
    "ReadResult",
    "TopicError",
    "TopicInfo",
    "valid_topic_name",
]
