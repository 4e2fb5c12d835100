"""LogStore: the topics of one data directory and their partition logs.

Layout:
    <data_dir>/__meta/<topic>.json      name, topic id (hex), partition count, configs
    <data_dir>/<topic>-<partition>/     one PartitionLog
    <data_dir>/.clean-shutdown          present only between a clean close and the next open

A topic exists exactly when its metadata file does; partition directories are
created before it is written and deleted after it is removed.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path
from typing import Callable, Iterator

import structlog

from kafkette.protocol.errors import ErrorCode
from kafkette.storage.config import LogConfig
from kafkette.storage.engine import TopicError, TopicInfo, TopicTable, check_new_topic, topic_log_config
from kafkette.storage.files import atomic_write, fsync_dir
from kafkette.storage.partition import PartitionLog

log = structlog.get_logger()

META_DIR = "__meta"
CLEAN_MARKER = ".clean-shutdown"
class LogStore(TopicTable[PartitionLog]):
    def __init__(self, data_dir: Path, default_config: LogConfig,
                 on_append: Callable[[PartitionLog], None] | None = None) -> None:
        """`on_append` is called after every successful append to any partition (to wake long polls)."""
        super().__init__()
        self.data_dir = Path(data_dir)
        self.default_config = default_config
        self._on_append = on_append

    # --- lifecycle -----------------------------------------------------------

    def open(self) -> None:
        started = time.monotonic()
        meta = self.data_dir / META_DIR
        if not meta.exists():
            meta.mkdir(parents=True)
            fsync_dir(self.data_dir)  # a power cut must not lose the directory every topic is listed in
            fsync_dir(self.data_dir.parent)
        marker = self.data_dir / CLEAN_MARKER
        clean = marker.exists()
        if clean:
            marker.unlink()
            fsync_dir(self.data_dir)
        metas = sorted((self.data_dir / META_DIR).glob("*.json"))
        log.info("opening log store", data_dir=str(self.data_dir), topics=len(metas), clean=clean)
        for i, path in enumerate(metas, 1):
            doc = json.loads(path.read_bytes())
            self._topics[doc["name"]] = self._open_topic(doc, clean)
            if i % 100 == 0:
                log.info("opening log store", opened_topics=i, of=len(metas))
        log.info("log store open", topics=len(self._topics),
                 partitions=sum(len(t.partitions) for t in self._topics.values()),
                 seconds=round(time.monotonic() - started, 3))

    def _open_topic(self, doc: dict, clean: bool) -> TopicInfo[PartitionLog]:
        name, configs = doc["name"], doc["configs"]
        config = self.default_config.with_topic_configs(configs)
        partitions = [self._watched(PartitionLog.open(self._partition_dir(name, i), config, clean=clean))
                      for i in range(doc["partitions"])]
        return TopicInfo(name, bytes.fromhex(doc["topic_id"]), partitions, configs)

    def close(self) -> None:
        """Flush and close every partition, then mark the shutdown clean."""
        for topic in self._topics.values():
            for partition in topic.partitions:
                partition.close()
        self._topics.clear()
        atomic_write(self.data_dir / CLEAN_MARKER, b"")

    # --- topics --------------------------------------------------------------

    def create_topic(self, name: str, partitions: int, configs: dict[str, str],
                     topic_id: bytes | None = None) -> TopicInfo[PartitionLog]:
        check_new_topic(name, partitions, name in self._topics)
        config = topic_log_config(self.default_config, configs)
        logs = [self._fresh_partition(name, i, config) for i in range(partitions)]
        topic = TopicInfo(name, topic_id or os.urandom(16), logs, dict(configs))
        self._write_meta(topic)
        self._topics[name] = topic
        return topic

    def delete_topic(self, name: str) -> None:
        topic = self._topics.pop(name, None)
        if topic is None:
            raise TopicError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, f"no topic {name!r}")
        self._meta_path(name).unlink()
        fsync_dir(self.data_dir / META_DIR)
        for i, partition in enumerate(topic.partitions):
            partition.close()
            shutil.rmtree(self._partition_dir(name, i), ignore_errors=True)

    def add_partitions(self, name: str, new_total: int) -> None:
        topic = self._growing(name, new_total)
        config = topic_log_config(self.default_config, topic.configs)
        topic.partitions.extend(self._fresh_partition(name, i, config)
                                for i in range(len(topic.partitions), new_total))
        self._write_meta(topic)

    def set_topic_config(self, name: str, configs: dict[str, str]) -> None:
        """Replace the topic's configs; the log settings among them apply from now on."""
        topic = self._existing(name)
        config = topic_log_config(self.default_config, configs)
        topic.configs = dict(configs)
        self._write_meta(topic)
        for partition in topic.partitions:
            partition.config = config

    def enforce_retention(self, now_ms: int) -> int:
        return sum(p.enforce_retention(now_ms) for t in self._topics.values() for p in t.partitions)

    def flush(self) -> Iterator[None]:
        """Make every append so far durable, one partition at a time: yields after each one that wrote,
        so the caller can let requests run in between."""
        for topic in self.topics():
            for partition in topic.partitions:
                if self._topics.get(topic.name) is not topic:
                    break  # deleted while the caller was away
                wrote = partition.dirty
                partition.flush()
                if wrote:
                    yield

    # --- helpers -------------------------------------------------------------

    def _fresh_partition(self, name: str, index: int, config: LogConfig) -> PartitionLog:
        directory = self._partition_dir(name, index)
        if directory.exists():  # left over from a deleted topic of the same name
            shutil.rmtree(directory)
        return self._watched(PartitionLog.open(directory, config, clean=True))

    def _watched(self, partition: PartitionLog) -> PartitionLog:
        if self._on_append is not None:
            partition.on_append = self._on_append
        return partition

    def _partition_dir(self, name: str, index: int) -> Path:
        return self.data_dir / f"{name}-{index}"

    def _meta_path(self, name: str) -> Path:
        return self.data_dir / META_DIR / f"{name}.json"

    def _write_meta(self, topic: TopicInfo[PartitionLog]) -> None:
        doc = {"name": topic.name, "topic_id": topic.topic_id.hex(), "partitions": len(topic.partitions),
               "configs": topic.configs}
        atomic_write(self._meta_path(topic.name), json.dumps(doc, sort_keys=True).encode())
