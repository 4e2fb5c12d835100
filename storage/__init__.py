"""Storage: the engine interface, segmented partition logs with Kafka's offset, time and aborted-txn
indexes, and an in-memory engine."""

from kafkette.storage.appending import AppendResult, ReadResult
from kafkette.storage.config import FsyncPolicy, LogConfig
from kafkette.storage.engine import LogEngine, PartitionEngine, TopicError, TopicInfo, valid_topic_name
from kafkette.storage.memory import MemoryStore
from kafkette.storage.partition import PartitionLog
from kafkette.storage.producer_state import ProducerInfo
from kafkette.storage.store import LogStore

__all__ = [
    "AppendResult",
    "FsyncPolicy",
    "LogConfig",
    "LogEngine",
    "LogStore",
    "MemoryStore",
    "PartitionEngine",
    "PartitionLog",
    "ProducerInfo",
    "ReadResult",
    "TopicError",
    "TopicInfo",
    "valid_topic_name",
]
