"""LogStore: the topics of one data directory and their partition logs.

Layout:
    <data_dir>/__meta/<topic>.json      name, topic id (hex), partition count, configs
    <data_dir>/<topic>-<partition>/     one PartitionLog, made by its first append
    <data_dir>/<topic>-<partition>.<id>-delete/   a deleted partition's files, awaiting removal
    <data_dir>/.clean-shutdown          present only between a clean close and the next open

A topic exists exactly when its metadata file does: creating one writes only that file, and
deleting one removes it first, then moves the partition directories aside and removes them in
the background. Every change to a topic writes its metadata file before memory changes, so a
failed write (a full disk) leaves the old state. At open, a damaged metadata file takes its topic
offline (the rest is served), and directories that belong to no topic are removed.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from collections import deque
from pathlib import Path
from typing import Callable, Iterator

import structlog

from kafkette.protocol.errors import ErrorCode
from kafkette.storage.config import LogConfig
from kafkette.storage.engine import (
    DELETING,
    STEP,
    OfflineTopic,
    Steps,
    TopicError,
    TopicInfo,
    TopicTable,
    topic_log_config,
    valid_topic_name,
)
from kafkette.storage.files import DELETED_SUFFIX, atomic_write, fsync_dir
from kafkette.storage.partition import PartitionLog

log = structlog.get_logger()

META_DIR = "__meta"
CLEAN_MARKER = ".clean-shutdown"
_PARTITION_DIR = re.compile(r"(.+)-(\d+)")


class LogStore(TopicTable[PartitionLog]):
    def __init__(self, data_dir: Path, default_config: LogConfig,
                 on_append: Callable[[PartitionLog], None] | None = None) -> None:
        """`on_append` is called after every successful append to any partition (to wake long polls)."""
        super().__init__()
        self.data_dir = Path(data_dir)
        self.default_config = default_config
        self._on_append = on_append
        self._trash: deque[Path] = deque()  # directories of deleted partitions, to remove
        self._failing: set[str] = set()  # partitions whose last flush failed

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
        metas = sorted(meta.glob("*.json"))
        log.info("opening log store", data_dir=str(self.data_dir), topics=len(metas), clean=clean)
        directories = _partition_directories(self.data_dir)
        for i, path in enumerate(metas, 1):
            self._load_topic(path, clean, directories)
            if i % 100 == 0:
                log.info("opening log store", opened_topics=i, of=len(metas))
        self._collect_orphans(directories)
        log.info("log store open", topics=len(self._topics),
                 partitions=sum(len(t.partitions) for t in self._topics.values()),
                 offline_topics=sorted(self._offline), seconds=round(time.monotonic() - started, 3))

    def _load_topic(self, path: Path, clean: bool, directories: dict[str, dict[int, Path]]) -> None:
        """Open one topic, or take it offline with a logged reason when its files can't be read."""
        name = path.name[:-len(".json")]
        try:
            doc = json.loads(path.read_bytes())
            if doc["name"] != name or not isinstance(doc["partitions"], int) or not isinstance(doc["configs"], dict):
                raise ValueError("its fields do not describe this topic")
            self._topics[name] = self._open_topic(doc, clean)
        except (OSError, ValueError, KeyError, TypeError) as err:
            found = directories.get(name, {})
            reason = f"{path} cannot be used ({type(err).__name__}: {err})"
            self._offline[name] = OfflineTopic(name, reason, max(found, default=0) + 1)
            log.error("topic offline: its metadata cannot be read", topic=name, reason=reason,
                      partition_directories=len(found), effect="its partitions answer KAFKA_STORAGE_ERROR",
                      hint="restore the file from a backup, or delete the topic to free its name and its files")

    def _open_topic(self, doc: dict, clean: bool) -> TopicInfo[PartitionLog]:
        name, configs = doc["name"], doc["configs"]
        topic_id = bytes.fromhex(doc["topic_id"])
        config = self.default_config.with_topic_configs(configs)
        partitions: list[PartitionLog] = []
        try:
            for i in range(doc["partitions"]):
                partitions.append(self._watched(PartitionLog.open(self._partition_dir(name, i), config, clean=clean)))
        except BaseException:
            for partition in partitions:
                partition.discard()
            raise
        return TopicInfo(name, topic_id, partitions, configs)

    def _collect_orphans(self, directories: dict[str, dict[int, Path]]) -> None:
        """Queue for removal the directories no topic owns: left by a deletion a crash interrupted."""
        for name, found in directories.items():
            topic = self._topics.get(name)
            orphans = sorted(i for i in found if topic is None or i >= len(topic.partitions))
            if name in self._offline or not orphans:
                continue
            log.info("removing the files of partitions that belong to no topic", topic=name, partitions=orphans)
            for index in orphans:
                self._move_to_trash(found[index], "orphan")
        self._trash.extend(p for p in self.data_dir.glob("*" + DELETED_SUFFIX) if p.is_dir())

    def close(self) -> None:
        """Flush and close every partition, then mark the shutdown clean if every flush succeeded.

        A partition that cannot be flushed (a full disk) is logged on one line and closed all the same;
        without the marker, the next start verifies what was written after its last checkpoint.
        """
        failed = []
        for topic in self._topics.values():
            for partition in topic.partitions:
                try:
                    partition.close()
                except OSError as err:
                    failed.append(partition.directory.name)
                    log.error("partition not flushed at shutdown", partition=partition.directory.name,
                              error=err.strerror or str(err), effect="the next start recovers it from its log")
        self._topics.clear()
        if failed:
            log.warning("shutdown not marked clean: some partitions could not be flushed", partitions=len(failed))
            return
        try:
            atomic_write(self.data_dir / CLEAN_MARKER, b"")
        except OSError as err:
            log.error("cannot mark the shutdown clean", error=err.strerror or str(err),
                      effect="the next start verifies the unflushed end of every partition")

    # --- topics --------------------------------------------------------------

    def _partition_maker(self, name: str, configs: dict[str, str]) -> Callable[[int], PartitionLog]:
        config = topic_log_config(self.default_config, configs)
        return lambda index: self._watched(PartitionLog.create(self._partition_dir(name, index), config))

    def deleting_topic(self, name: str) -> Steps[None]:
        topic = self._topics.get(name)
        offline = self._offline.get(name)
        if topic is None and offline is None:
            raise TopicError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, f"no topic {name!r}")
        try:
            self._meta_path(name).unlink()
        except OSError as err:
            raise TopicError(ErrorCode.KAFKA_STORAGE_ERROR, f"cannot delete topic {name}: {err.strerror}") from err
        try:
            fsync_dir(self.data_dir / META_DIR)
        except OSError as err:  # deleted all the same; a power cut might bring it back
            log.error("cannot sync the deletion of a topic", topic=name, error=err.strerror)
        self._topics.pop(name, None)
        self._offline.pop(name, None)
        self._reserved[name] = DELETING
        partitions: list[PartitionLog | None]
        if topic is not None:
            tag, partitions = topic.topic_id.hex(), list(topic.partitions)
        else:
            assert offline is not None
            tag, partitions = "offline", [None] * offline.partition_count
        try:
            for i, partition in enumerate(partitions):
                if partition is not None:
                    partition.discard()
                directory = self._partition_dir(name, i)
                if (partition is None or partition.on_disk) and directory.exists():
                    self._move_to_trash(directory, tag)
                if i % STEP == STEP - 1:
                    yield
        finally:
            del self._reserved[name]

    def remove_deleted(self) -> Iterator[None]:
        while self._trash:
            shutil.rmtree(self._trash.popleft(), ignore_errors=True)
            yield

    def _move_to_trash(self, directory: Path, tag: str) -> None:
        trash = directory.with_name(f"{directory.name}.{tag}-{os.urandom(4).hex()}{DELETED_SUFFIX}")
        try:
            directory.rename(trash)
        except OSError as err:  # left where it is: the next start finds it again
            log.error("cannot move a deleted partition's files aside", directory=directory.name, error=err.strerror)
            return
        self._trash.append(trash)

    def set_topic_config(self, name: str, configs: dict[str, str]) -> None:
        """Replace the topic's configs; the log settings among them apply from now on."""
        topic = self._existing(name)
        config = topic_log_config(self.default_config, configs)
        self._persist(name, topic.topic_id, len(topic.partitions), configs)
        topic.configs = dict(configs)
        for partition in topic.partitions:
            partition.config = config

    def restore_topic_metadata(self, name: str, partitions: int, configs: dict[str, str]) -> None:
        offline = self._offline.get(name)
        if offline is None:
            raise TopicError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, f"topic {name!r} is not offline")
        topic_id = os.urandom(16)
        self._persist(name, topic_id, partitions, configs)
        del self._offline[name]
        self._topics[name] = self._open_topic({"name": name, "topic_id": topic_id.hex(), "partitions": partitions,
                                               "configs": configs}, clean=False)
        log.warning("rebuilt the metadata of a topic", topic=name, partitions=partitions, configs=configs,
                    was_offline_because=offline.reason)

    def enforce_retention(self, now_ms: int) -> int:
        return sum(p.enforce_retention(now_ms) for t in self._topics.values() for p in t.partitions)

    def flush(self) -> Iterator[None]:
        """Make every append so far durable, one partition at a time: yields after each one that wrote,
        so the caller can let requests run in between. A partition that fails is logged when it starts
        failing and when it recovers, and retried at the next flush."""
        for topic in self.topics():
            for partition in topic.partitions:
                if self._topics.get(topic.name) is not topic:
                    break  # deleted while the caller was away
                wrote = partition.dirty
                self._flush_one(partition)
                if wrote:
                    yield

    def _flush_one(self, partition: PartitionLog) -> None:
        name = partition.directory.name
        try:
            partition.flush()
        except OSError as err:
            if name not in self._failing:
                self._failing.add(name)
                log.error("flush failed; appends to this partition are not durable until one succeeds",
                          partition=name, error=err.strerror or str(err), retry="at every flush interval")
            return
        if name in self._failing:
            self._failing.discard(name)
            log.info("flush succeeds again", partition=name)

    # --- helpers -------------------------------------------------------------

    def _watched(self, partition: PartitionLog) -> PartitionLog:
        if self._on_append is not None:
            partition.on_append = self._on_append
        return partition

    def _partition_dir(self, name: str, index: int) -> Path:
        return self.data_dir / f"{name}-{index}"

    def _meta_path(self, name: str) -> Path:
        return self.data_dir / META_DIR / f"{name}.json"

    def _persist(self, name: str, topic_id: bytes, partitions: int, configs: dict[str, str]) -> None:
        """Write a topic's metadata file; raises TopicError(KAFKA_STORAGE_ERROR) with the old file intact."""
        doc = {"name": name, "topic_id": topic_id.hex(), "partitions": partitions, "configs": configs}
        try:
            atomic_write(self._meta_path(name), json.dumps(doc, sort_keys=True).encode())
        except OSError as err:
            log.error("cannot write a topic's metadata; the change is refused", topic=name, error=err.strerror)
            raise TopicError(ErrorCode.KAFKA_STORAGE_ERROR,
                             f"cannot write the metadata of topic {name}: {err.strerror}") from err


def _partition_directories(data_dir: Path) -> dict[str, dict[int, Path]]:
    """topic name -> partition index -> directory, for every `<topic>-<n>` directory in the data dir."""
    found: dict[str, dict[int, Path]] = {}
    with os.scandir(data_dir) as entries:
        for entry in entries:
            match = _PARTITION_DIR.fullmatch(entry.name)
            if match and valid_topic_name(match[1]) and entry.is_dir():
                found.setdefault(match[1], {})[int(match[2])] = Path(entry.path)
    return found
