"""Kafka's own command-line tools against kafkette, with Apache Kafka as the control.

kafka-transactions.sh (TransactionsCommand) and kafka-consumer-groups.sh (ConsumerGroupCommand), run
by main class from the fetched jars, print the same tables for the same state on both brokers (clock
readings and producer ids aside).
"""

from __future__ import annotations

import re
import subprocess
import uuid

import pytest
from confluent_kafka import Consumer, TopicPartition

from conformance.kafka import compile_java_checks, java
from tests.clients import produce_and_flush

TRANSACTIONS = "org.apache.kafka.tools.TransactionsCommand"
GROUPS = "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand"
CLOCK_COLUMNS = {"CurrentTransactionStartTimeMs", "TransactionDurationMs", "LastTimestamp", "Duration(min)"}
ID_COLUMNS = {"ProducerId"}


def tool(main_class: str, bootstrap: str, *args: str) -> str:
    done = subprocess.run(java(main_class, "--bootstrap-server", bootstrap, *args, jvm=["-Xmx256m"]),
                          capture_output=True, text=True, timeout=90)
    assert done.returncode == 0, f"{main_class} {' '.join(args)} on {bootstrap}: {done.stderr[-2000:]}"
    return done.stdout


def table(output: str, keep=lambda row: True) -> list[dict[str, str]]:
    """The rows of a tool's table, columns by header name, ids and clock readings replaced."""
    lines = [line for line in output.splitlines() if line.strip()]
    if not lines:
        return []
    header = re.split(r"\s+", lines[0].strip())
    rows = []
    for line in lines[1:]:
        row = dict(zip(header, re.split(r"\s+", line.strip())))
        if not keep(row):
            continue
        rows.append({k: "<clock>" if k in CLOCK_COLUMNS else "<id>" if k in ID_COLUMNS and v != "-1" else v
                     for k, v in row.items()})
    return rows


@pytest.fixture(scope="module")
def setups(brokers) -> dict[str, str]:
    """On each broker the same state: a topic with 3 records, a group that committed offset 2, and a
    transaction left open by a Java producer that exited without closing. Returns the common name."""
    name = f"tools-{uuid.uuid4().hex[:8]}"
    checks = compile_java_checks()
    for bootstrap in brokers.values():
        done = subprocess.run(java("KafkaChecks", "open-transaction", bootstrap, name, jvm=["-Xmx256m"],
                                   extra_classpath=str(checks)), capture_output=True, text=True, timeout=90)
        assert done.returncode == 0, done.stderr[-2000:]
        produce_and_flush(bootstrap, name, [{"value": b"plain-%d" % i, "partition": 0} for i in range(3)])
        c = Consumer({"bootstrap.servers": bootstrap, "group.id": f"{name}-group", "enable.auto.commit": False})
        c.commit(offsets=[TopicPartition(name, 0, 2)], asynchronous=False)
        c.close()
    return name


def both(brokers: dict[str, str], main_class: str, *args: str, keep=lambda row: True) -> list[dict[str, str]]:
    seen = {broker: table(tool(main_class, bootstrap, *args), keep) for broker, bootstrap in brokers.items()}
    assert seen["kafkette"] == seen["kafka"], seen
    return seen["kafka"]


def test_transactions_list_describe_and_describe_producers(brokers, setups):
    name = setups
    listed = both(brokers, TRANSACTIONS, "list", keep=lambda row: row.get("TransactionalId") == f"{name}-tid")
    assert [r["TransactionState"] for r in listed] == ["Ongoing"]
    described = both(brokers, TRANSACTIONS, "describe", "--transactional-id", f"{name}-tid")
    assert [(r["TransactionState"], r["TopicPartitions"]) for r in described] == [("Ongoing", f"{name}-0")]
    producers = both(brokers, TRANSACTIONS, "describe-producers", "--topic", name, "--partition", "0")
    assert [r["CurrentTransactionStartOffset"] for r in producers] == ["0"]


def test_transactions_find_hanging_and_abort(brokers, setups):
    name = setups
    # open for seconds, not past transaction.max.timeout.ms: not hanging yet on either broker
    assert both(brokers, TRANSACTIONS, "find-hanging", "--broker-id", "1") == []
    for bootstrap in brokers.values():
        tool(TRANSACTIONS, bootstrap, "abort", "--topic", name, "--partition", "0", "--start-offset", "0")
    producers = both(brokers, TRANSACTIONS, "describe-producers", "--topic", name, "--partition", "0")
    assert [r["CurrentTransactionStartOffset"] for r in producers] == ["None"]


def test_consumer_groups_describe_and_reset_offsets(brokers, setups):
    group = f"{setups}-group"
    described = both(brokers, GROUPS, "--describe", "--group", group)
    assert [(r["PARTITION"], r["CURRENT-OFFSET"]) for r in described] == [("0", "2")]
    reset = both(brokers, GROUPS, "--reset-offsets", "--group", group, "--topic", setups, "--to-earliest",
                 "--execute")
    assert [(r["PARTITION"], r["NEW-OFFSET"]) for r in reset] == [("0", "0")]
    again = both(brokers, GROUPS, "--describe", "--group", group)
    assert [r["CURRENT-OFFSET"] for r in again] == ["0"]
