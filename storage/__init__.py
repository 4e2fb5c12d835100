"""Durable storage: segmented partition logs with Kafka's offset, time and aborted-txn indexes."""

from kafkette.storage.config import FsyncPolicy, LogConfig
from kafkette.storage.partition import AppendResult, PartitionLog, ReadResult
from kafkette.storage.producer_state import ProducerInfo
from kafkette.storage.store import LogStore, TopicError, TopicInfo, valid_topic_name

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
