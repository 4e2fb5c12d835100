"""The reference Java client (kafka-clients 4.4) against kafkette, with Apache Kafka as the control.

conformance/java/KafkaChecks.java runs one scenario and prints what it observed; each scenario runs
on both brokers and must observe the same, and what it observes on Kafka is checked too (so a
scenario that goes wrong on both does not pass).
"""

from __future__ import annotations

import subprocess
import uuid
from pathlib import Path

import pytest

from conformance.kafka import compile_java_checks, java

TIMEOUT = 120


@pytest.fixture(scope="session")
def checks(brokers) -> Path:
    return compile_java_checks()


def run_java(checks: Path, scenario: str, bootstrap: str, name: str) -> dict[str, str]:
    done = subprocess.run(java("KafkaChecks", scenario, bootstrap, name, jvm=["-Xmx256m"],
                               extra_classpath=str(checks)), capture_output=True, text=True, timeout=TIMEOUT)
    assert done.returncode == 0, f"{scenario} on {bootstrap} failed: {done.stderr[-3000:]}"
    return dict(line[len("check "):].split("=", 1) for line in done.stdout.splitlines() if line.startswith("check "))


def on_both(checks: Path, brokers: dict[str, str], scenario: str) -> dict[str, str]:
    """What the scenario observed on Kafka, after checking kafkette observed the same."""
    name = f"java-{scenario}-{uuid.uuid4().hex[:8]}"
    seen = {broker: run_java(checks, scenario, bootstrap, name) for broker, bootstrap in brokers.items()}
    assert seen["kafkette"] == seen["kafka"], seen
    return seen["kafka"]


def test_transactions_commit_and_abort_across_topics_and_partitions(checks, brokers):
    seen = on_both(checks, brokers, "transactions")
    assert seen["read_committed"] == str(sorted(f"committed-{i}" for i in range(8))).replace("'", "")


def test_a_second_producer_with_the_same_transactional_id_fences_the_first(checks, brokers):
    seen = on_both(checks, brokers, "fencing")
    assert seen["first_commit_after_fencing"] == "ProducerFencedException"
    assert seen["read_committed"] == "[from-second]"


def test_a_transaction_open_past_its_timeout_is_aborted_by_the_broker(checks, brokers):
    seen = on_both(checks, brokers, "timeout")
    assert seen["commit_after_timeout"] != "none"
    assert "stalled" not in seen["read_committed"]


@pytest.mark.parametrize("protocol", ["classic", "consumer"])
def test_consume_transform_produce_with_send_offsets_to_transaction(checks, brokers, protocol):
    seen = on_both(checks, brokers, f"eos-{protocol}")
    assert (seen["processed"], seen["output"]) == ("30", "30")
    assert seen["committed"] == "{0=15, 1=15}"


def test_admin_transactions_producers_groups_topics_and_configs(checks, brokers):
    seen = on_both(checks, brokers, "admin")
    assert seen["listTransactions"] == "Ongoing" and seen["afterAbortTransaction"] == "OptionalLong.empty"
    assert seen["commitAfterFenceProducers"] != "none"
