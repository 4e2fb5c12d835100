"""The broker's log: one debug line per request, transactions and rebalances at info, JSON or console lines."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import signal
import subprocess
import sys
import time
from typing import Any

import pytest

from kafkette.local_broker import LocalBroker
from kafkette.protocol.errors import ErrorCode as E
from kafkette.protocol.messages import FETCH, METADATA, PRODUCE
from kafkette.protocol.records import NewRecord, build_batch
from tests.clients import RawClient, create_topic, produce_request
from tests.conftest import unique
from tests.test_groups_clients import group_consumer
from tests.test_groups_consumer_protocol_clients import new_consumer, poll_until
from tests.test_startup import assert_refused, kafkette
from tests.test_transactions import TIMEOUT, txn_producer, wait_until


@pytest.fixture(scope="module")
def debug_broker(tmp_path_factory) -> LocalBroker:
    with LocalBroker(tmp_path_factory.mktemp("logging") / "data", log_level="debug",
                     group_consumer_heartbeat_interval_ms=500) as proc:
        yield proc


def log_lines(broker: LocalBroker, **match: Any) -> list[dict[str, Any]]:
    """The broker's log lines (JSON: its stderr is a file) whose fields include `match`."""
    lines = [json.loads(line) for line in broker.log_path.read_text().splitlines() if line.startswith("{")]
    return [line for line in lines if all(line.get(k) == v for k, v in match.items())]


def logged(broker: LocalBroker, count: int, **match: Any) -> list[dict[str, Any]]:
    """Wait (bounded) until at least `count` lines match; those lines."""
    wait_until(lambda: len(log_lines(broker, **match)) >= count, timeout=10)
    return log_lines(broker, **match)


# ---------------------------------------------------------------------------------------------- requests


def test_each_request_is_one_debug_line_with_its_error_if_any(debug_broker):
    topic = create_topic(debug_broker.bootstrap_servers, unique("log-requests"), 1)
    client_id = unique("log-client")
    batch = build_batch([NewRecord(None, b"v")], timestamp_ms=1_700_000_000_000)
    with RawClient(debug_broker.bootstrap_servers, client_id=client_id) as raw:
        raw.request(METADATA, 12, METADATA.Request(topics=[METADATA.Request.MetadataRequestTopic(name=topic)]))
        refused = raw.request(PRODUCE, 9, produce_request(topic, batch, partition=7))
    assert refused.responses[0].partition_responses[0].error_code == E.UNKNOWN_TOPIC_OR_PARTITION

    ok, failed = logged(debug_broker, 2, event="request", client_id=client_id)
    assert (ok["api"], ok["version"], ok["correlation_id"], ok["level"]) == ("Metadata", 12, 1, "debug")
    assert "error" not in ok and ok["latency_ms"] >= 0
    assert (failed["api"], failed["version"], failed["correlation_id"], failed["error"]) == (
        "Produce", 9, 2, "UNKNOWN_TOPIC_OR_PARTITION")


def test_a_waiting_request_is_timed_until_its_response_is_written(debug_broker):
    topic = create_topic(debug_broker.bootstrap_servers, unique("log-long-poll"), 1)
    client_id = unique("log-fetch")
    R = FETCH.Request
    body = R(max_wait_ms=500, min_bytes=1, max_bytes=1 << 20, isolation_level=0, session_id=0, session_epoch=-1,
             topics=[R.FetchTopic(topic=topic, partitions=[R.FetchPartition(partition=0, fetch_offset=0,
                                                                              partition_max_bytes=1 << 20)])],
             forgotten_topics_data=[], rack_id="")
    with RawClient(debug_broker.bootstrap_servers, client_id=client_id) as raw:
        raw.request(FETCH, 12, body)  # nothing to read: answered when max_wait_ms runs out
    (line,) = logged(debug_broker, 1, event="request", client_id=client_id)
    assert line["api"] == "Fetch" and line["latency_ms"] >= 400


# ---------------------------------------------------------------------------------------------- state changes


def test_transaction_state_changes_are_logged_at_info(debug_broker):
    bootstrap = debug_broker.bootstrap_servers
    topic = create_topic(bootstrap, unique("log-txn"), 1)
    tid = unique("log-tid")
    producer = txn_producer(bootstrap, tid)
    producer.begin_transaction()
    producer.produce(topic, b"kept")
    producer.commit_transaction(TIMEOUT)
    producer.begin_transaction()
    producer.produce(topic, b"fenced")
    producer.flush(TIMEOUT)
    txn_producer(bootstrap, tid)  # a successor fences it, aborting its open transaction

    lines = logged(debug_broker, 9, transactional_id=tid)
    assert {line["level"] for line in lines} == {"info"}
    assert len({line["producer_id"] for line in lines}) == 1
    assert [(line["event"], line["epoch"]) for line in lines] == [
        ("transactional producer initialised", 0),
        ("transaction begins", 0), ("transaction prepares commit", 0), ("transaction committed", 0),
        ("transaction begins", 0),
        ("fencing the previous producer: a new one with its transactional id aborts its open transaction", 0),
        ("transaction prepares abort", 1), ("transaction aborted", 1),  # aborted with the fencing epoch
        ("transactional producer initialised", 2),  # the successor
    ]


def test_group_rebalances_are_logged_at_info_with_generation_and_members(debug_broker):
    bootstrap = debug_broker.bootstrap_servers
    topic = create_topic(bootstrap, unique("log-group"), 2)
    classic, kip848 = unique("log-classic"), unique("log-consumer")
    consumer = group_consumer(bootstrap, classic)
    consumer.subscribe([topic])
    assert poll_until([consumer], lambda sets: sets == [{0, 1}]) == [{0, 1}]
    member = consumer.memberid()
    consumer.close()
    steps = [(line["state"], line["generation"], line["members"]) for line in logged(debug_broker, 4, group=classic)]
    assert steps[-3:] == [("CompletingRebalance", 1, 1), ("Stable", 1, 1), ("Empty", 2, 0)]
    stable = log_lines(debug_broker, group=classic, state="Stable")[0]
    assert (stable["level"], stable["type"], stable["member_ids"], stable["protocol"]) == (
        "info", "classic", [member], "range")

    consumer = new_consumer(bootstrap, kip848)
    consumer.subscribe([topic])
    assert poll_until([consumer], lambda sets: sets == [{0, 1}]) == [{0, 1}]
    consumer.close()
    lines = logged(debug_broker, 2, group=kip848, type="consumer")
    assert [line["state"] for line in lines][-1] == "Empty"
    assert any(line["state"] == "Stable" and line["members"] == 1 and line["generation"] >= 1 for line in lines)


# ---------------------------------------------------------------------------------------------- formats


def test_json_lines_when_the_log_is_not_a_terminal(debug_broker):
    lines = debug_broker.log_path.read_text().splitlines()
    listening = [json.loads(line) for line in lines if '"kafkette listening"' in line]
    assert listening and {"timestamp", "level", "address"} <= set(listening[0])
    assert all(line.startswith("{") for line in lines)


def test_console_lines_when_asked_for(tmp_path):
    broker = LocalBroker(tmp_path / "data", log_format="console").start()
    broker.stop()
    lines = broker.log_path.read_text().splitlines()
    assert lines and not any(line.startswith("{") for line in lines)
    assert any(re.search(r"\[info\s*\] kafkette listening .*address=127\.0\.0\.1:", line) for line in lines)


def test_console_lines_on_a_terminal_by_default(tmp_path):
    ready = tmp_path / "ready"
    leader, follower = pty.openpty()
    env = {k: v for k, v in os.environ.items() if not k.startswith("KAFKETTE_")}
    proc = subprocess.Popen([sys.executable, "-m", "kafkette", "serve", "--port", "0", "--data-dir",
                             str(tmp_path / "data"), "--ready-file", str(ready)],
                            stdin=subprocess.DEVNULL, stdout=follower, stderr=follower, env=env)
    os.close(follower)
    text = ""
    try:
        deadline = time.monotonic() + 30
        while "kafkette listening" not in text and time.monotonic() < deadline:
            if select.select([leader], [], [], 0.5)[0]:
                text += os.read(leader, 65536).decode(errors="replace")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(10)
        os.close(leader)
    plain = re.sub(r"\x1b\[[0-9;]*m", "", text)  # on a terminal the console renderer colours its lines
    assert re.search(r"\[info\s*\] kafkette listening", plain), text
    assert "{" not in plain.splitlines()[0]


def test_an_invalid_log_format_is_refused_in_one_line(tmp_path):
    assert_refused(kafkette("serve", "--port", "0", "--data-dir", str(tmp_path), "--log-format", "xml"),
                   "invalid --log-format xml: must be one of auto, console, json")
    assert_refused(kafkette("serve", "--port", "0", "--data-dir", str(tmp_path), env={"KAFKETTE_LOG_FORMAT": ""}),
                   "invalid KAFKETTE_LOG_FORMAT=: must be one of auto, console, json")
