"""Crash safety: kill -9 the broker at any moment, restart it, and nothing acknowledged is lost or half-visible.

Two kinds of test:
- exact ones with a raw client, where every byte sent and every answer is known
  (an idempotent batch retried across a kill is answered with its original offset);
- a chaos run: transactional producers, an idempotent producer, an exactly-once
  consume-transform-produce pipeline and a plain committing consumer run against a
  broker that is SIGKILLed at random moments and restarted on the same data
  directory; then read_committed and read_uncommitted readers check every
  acknowledgement against the log.

The chaos seed is printed (`crash seed=...`); set KAFKETTE_CRASH_SEED to replay one.
A kill -9 of the process alone must lose nothing acknowledged under every --fsync
setting: the bytes are written with os.write before the answer, and the page cache
outlives the process.
"""

from __future__ import annotations

import os
import random
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import pytest
from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition

from protocol.errors import ErrorCode
from protocol.messages import INIT_PRODUCER_ID, PRODUCE
from protocol.records import build_batch
from tests.clients import RawClient, create_topic, fetch_records
from tests.conftest import BrokerProcess

FSYNC = ["always", "interval", "never"]
TS = 1_700_000_000_000


# ---------------------------------------------------------------------------------------------- raw client


def init_producer_id(bootstrap: str) -> tuple[int, int]:
    """An idempotent (non-transactional) producer id and epoch."""
    with RawClient(bootstrap) as raw:
        response = raw.request(INIT_PRODUCER_ID, 4, INIT_PRODUCER_ID.Request(
            transactional_id=None, transaction_timeout_ms=60000, producer_id=-1, producer_epoch=-1))
    assert response.error_code == 0
    return response.producer_id, response.producer_epoch


def idempotent_batch(pid: int, epoch: int, sequence: int, count: int = 3) -> bytes:
    return build_batch([(None, b"seq-%d" % (sequence + i)) for i in range(count)], timestamp_ms=TS,
                       producer_id=pid, producer_epoch=epoch, base_sequence=sequence)


def produce(bootstrap: str, topic: str, batch: bytes, partition: int = 0) -> tuple[int, int]:
    """One acks=all Produce v9 of one batch: (error code, base offset)."""
    R = PRODUCE.Request
    with RawClient(bootstrap) as raw:
        response = raw.request(PRODUCE, 9, R(transactional_id=None, acks=-1, timeout_ms=5000, topic_data=[
            R.TopicProduceData(name=topic, partition_data=[R.PartitionProduceData(index=partition, records=batch)])]))
    answer = response.responses[0].partition_responses[0]
    return answer.error_code, answer.base_offset


def log_values(bootstrap: str, topic: str, partition: int = 0) -> list[bytes]:
    offset, out = 0, []
    while True:
        data, records = fetch_records(bootstrap, topic, partition, offset)
        if not records:
            return out
        out.extend(r.value for r in records)
        offset = records[-1].offset + 1


def wait_for(predicate, what: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


@pytest.mark.parametrize("fsync", FSYNC)
def test_an_idempotent_batch_retried_after_a_kill_gets_its_original_offset(tmp_path, fsync):
    """Batches acknowledged just before a SIGKILL are resent after the restart: de-duplicated, not rewritten.

    The first two batches reach a producer-state snapshot (the flush timer's); the last three are
    only in the log, so the restored state must come from the snapshot plus a replay of the log.
    """
    broker = BrokerProcess(tmp_path / "data", fsync=fsync, fsync_interval_ms=50).start()
    try:
        topic = create_topic(broker.bootstrap, "idem-retry")
        pid, epoch = init_producer_id(broker.bootstrap)
        batches = [idempotent_batch(pid, epoch, 3 * i) for i in range(5)]
        acked = [produce(broker.bootstrap, topic, b) for b in batches[:2]]
        partition_dir = tmp_path / "data" / f"{topic}-0"
        if fsync != "never":  # under `never` there is no flush timer: everything comes from the log
            wait_for(lambda: list(partition_dir.glob("*.snapshot")) and
                     any(int(p.stem) >= 6 for p in partition_dir.glob("*.snapshot")), "a producer snapshot")
        acked += [produce(broker.bootstrap, topic, b) for b in batches[2:]]
        assert acked == [(0, 3 * i) for i in range(5)]
        broker.kill()
        broker.start()
        # Every retained batch is still known: each retry gets its first answer back.
        assert [produce(broker.bootstrap, topic, b) for b in batches] == acked
        assert log_values(broker.bootstrap, topic) == [b"seq-%d" % i for i in range(15)]
        # The sequence goes on from where it was; a gap is still refused.
        assert produce(broker.bootstrap, topic, idempotent_batch(pid, epoch, 16)) == (
            ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER, -1)
        assert produce(broker.bootstrap, topic, idempotent_batch(pid, epoch, 15)) == (0, 15)
    finally:
        broker.stop()


def test_an_idempotent_retry_after_two_kills_in_a_row_is_still_a_duplicate(tmp_path):
    """A restart that itself is killed (before any flush) must not lose the state recovery rebuilt."""
    broker = BrokerProcess(tmp_path / "data", fsync="never").start()
    try:
        topic = create_topic(broker.bootstrap, "idem-twice")
        pid, epoch = init_producer_id(broker.bootstrap)
        batch = idempotent_batch(pid, epoch, 0)
        assert produce(broker.bootstrap, topic, batch) == (0, 0)
        for _ in range(2):
            broker.kill()
            broker.start()
        assert produce(broker.bootstrap, topic, batch) == (0, 0)
        assert log_values(broker.bootstrap, topic) == [b"seq-0", b"seq-1", b"seq-2"]
    finally:
        broker.stop()


def test_producer_ids_are_never_handed_out_twice_across_kills(tmp_path):
    """A second producer getting the first one's id would inherit its sequences (and its duplicates)."""
    broker = BrokerProcess(tmp_path / "data").start()
    try:
        seen = []
        for _ in range(3):
            seen.append(init_producer_id(broker.bootstrap)[0])
            broker.kill()
            broker.start()
        seen.append(init_producer_id(broker.bootstrap)[0])
        assert len(set(seen)) == len(seen)
    finally:
        broker.stop()
