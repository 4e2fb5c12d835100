"""`kafkette txn`: a producer killed mid-transaction is found, aborted, and read_committed readers move on
long before its transaction timeout; the other commands against a real broker, run as a user runs them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from confluent_kafka import KafkaException, TopicPartition

from tests.clients import consumer, create_topic, kafkette_cli, kafkette_json
from tests.conftest import unique
from tests.test_transactions import TIMEOUT, txn_producer

STUCK_TIMEOUT_MS = 600_000  # the killed producer's transaction.timeout.ms: far beyond every wait here


def committed(bootstrap: str, topic: str, values: list[bytes]) -> None:
    producer = txn_producer(bootstrap)
    producer.begin_transaction()
    for value in values:
        producer.produce(topic, value, partition=0)
    producer.commit_transaction(TIMEOUT)


def killed_mid_transaction(bootstrap: str, topic: str, transactional_id: str) -> None:
    """A child process opens a transaction on partition 0 and is SIGKILLed before ending it."""
    child = subprocess.Popen([sys.executable, "-m", "tests.workers.stuck_producer", bootstrap, topic,
                              transactional_id, str(STUCK_TIMEOUT_MS)], stdout=subprocess.PIPE)
    try:
        assert child.stdout is not None and child.stdout.readline() == b"open\n"
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait(10)


def read_committed_values(c, want: int, timeout: float) -> list[bytes]:
    got: list[bytes] = []
    deadline = time.monotonic() + timeout
    while len(got) < want and time.monotonic() < deadline:
        for message in c.consume(10, timeout=0.2):
            if message.error() is None:
                got.append(message.value())
    return got


def test_a_producer_killed_mid_transaction_is_found_and_aborted_and_readers_move_on(broker):
    bootstrap = broker.bootstrap_servers
    topic = create_topic(bootstrap, unique("cli-stuck"), 1)
    stuck_id = unique("stuck")
    committed(bootstrap, topic, [b"before"])
    killed_mid_transaction(bootstrap, topic, stuck_id)  # offsets 2-4, after "before" and its marker
    committed(bootstrap, topic, [b"after-1", b"after-2"])
    reader = consumer(bootstrap, **{"isolation.level": "read_committed"})
    reader.assign([TopicPartition(topic, 0, 0)])
    try:
        assert read_committed_values(reader, 3, timeout=2.0) == [b"before"]  # the open transaction holds the rest

        found = kafkette_json("txn", "find-hanging", "--topic", topic, "--max-transaction-timeout", "0",
                              bootstrap=bootstrap)
        assert [(f["partition"], f["start_offset"], f["transactional_id"], f["hanging"]) for f in found] == \
            [(0, 2, stuck_id, False)]  # its coordinator still tracks it: Kafka's tool would not call it hanging
        assert "aborted at its timeout" in found[0]["status"]
        table = kafkette_cli("txn", "find-hanging", "--topic", topic, "--max-transaction-timeout", "0",
                             bootstrap=bootstrap).stdout
        assert f"kafkette txn abort --topic {topic} --partition 0 --start-offset 2" in table

        started = time.monotonic()
        aborted = kafkette_json("txn", "abort", "--topic", topic, "--partition", 0, "--start-offset", 2,
                                bootstrap=bootstrap)
        assert aborted["producer_id"] == found[0]["producer_id"] and aborted["producer_epoch"] == 0
        assert aborted["last_stable_offset"] == 9  # past the ABORT marker at 8: the high watermark
        assert read_committed_values(reader, 2, timeout=10.0) == [b"after-1", b"after-2"]
        assert time.monotonic() - started < 10 < STUCK_TIMEOUT_MS / 1000
    finally:
        reader.close()
    assert kafkette_json("txn", "find-hanging", "--topic", topic, "--max-transaction-timeout", "0",
                         bootstrap=bootstrap) == []
    again = kafkette_cli("txn", "abort", "--topic", topic, "--partition", 0, "--start-offset", 2, bootstrap=bootstrap)
    assert again.returncode == 1
    assert "could not find any open transaction starting at offset 2" in again.stderr


def test_abort_by_transactional_id_fences_the_producer_and_aborts_its_transaction(broker):
    bootstrap = broker.bootstrap_servers
    topic = create_topic(bootstrap, unique("cli-fence"), 2)
    tid = unique("fenced")
    producer = txn_producer(bootstrap, tid)
    producer.begin_transaction()
    producer.produce(topic, b"doomed-0", partition=0)
    producer.produce(topic, b"doomed-1", partition=1)
    producer.flush(TIMEOUT)
    committed(bootstrap, topic, [b"later"])

    fenced = kafkette_json("txn", "abort", "--transactional-id", tid, bootstrap=bootstrap)
    assert fenced["fenced_epoch"] == 0 and fenced["producer_epoch"] > 0
    assert sorted(fenced["aborted"]) == [f"{topic}-0", f"{topic}-1"]
    described = kafkette_json("txn", "describe", tid, bootstrap=bootstrap)
    assert (described["state"], described["producer_epoch"]) == ("Empty", fenced["producer_epoch"])
    with pytest.raises(KafkaException):
        producer.commit_transaction(TIMEOUT)  # fenced: its transaction was aborted for it
    reader = consumer(bootstrap, **{"isolation.level": "read_committed"})
    reader.assign([TopicPartition(topic, 0, 0)])
    try:
        assert read_committed_values(reader, 1, timeout=10.0) == [b"later"]
    finally:
        reader.close()
    nothing = kafkette_cli("txn", "abort", "--transactional-id", tid, bootstrap=bootstrap)
    assert nothing.returncode == 1 and "has no open transaction (state Empty)" in nothing.stderr


def test_list_describe_and_describe_producers(broker):
    bootstrap = broker.bootstrap_servers
    topic = create_topic(bootstrap, unique("cli-list"), 1)
    tid = unique("listed")
    producer = txn_producer(bootstrap, tid, **{"transaction.timeout.ms": 45000})
    producer.begin_transaction()
    producer.produce(topic, b"open", partition=0)
    producer.flush(TIMEOUT)

    listed = kafkette_json("txn", "list", "--state", "Ongoing", bootstrap=bootstrap)
    mine = [t for t in listed if t["transactional_id"] == tid]
    assert mine and mine[0]["state"] == "Ongoing" and mine[0]["coordinator"] == 1
    by_pid = kafkette_json("txn", "list", "--producer-id", mine[0]["producer_id"], bootstrap=bootstrap)
    assert [t["transactional_id"] for t in by_pid] == [tid]
    assert tid not in {t["transactional_id"] for t in kafkette_json("txn", "list", "--duration-filter", 60_000,
                                                                   bootstrap=bootstrap)}

    described = kafkette_json("txn", "describe", tid, bootstrap=bootstrap)
    assert (described["state"], described["timeout_ms"], described["partitions"]) == ("Ongoing", 45000, [f"{topic}-0"])
    assert described["duration_ms"] >= 0
    producers = kafkette_json("txn", "describe-producers", topic, 0, bootstrap=bootstrap)
    assert [(p["producer_id"], p["txn_start_offset"]) for p in producers] == [(mine[0]["producer_id"], 0)]
    table = kafkette_cli("txn", "describe-producers", topic, 0, bootstrap=bootstrap).stdout
    assert "CurrentTransactionStartOffset" in table.splitlines()[0]

    producer.commit_transaction(TIMEOUT)
    assert kafkette_json("txn", "describe", tid, bootstrap=bootstrap)["state"] == "CompleteCommit"
    unknown = kafkette_cli("txn", "list", "--state", "Hanging", bootstrap=bootstrap)
    assert unknown.returncode == 2 and "unknown transaction state Hanging" in unknown.stderr
