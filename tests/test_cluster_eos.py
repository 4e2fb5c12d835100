"""The exactly-once pipeline (tests/workers/eos_pipeline.py) on a simulated cluster of three brokers while
its transaction and group coordinators move and a broker goes down and comes back: every input appears
exactly once in the read_committed output."""

from __future__ import annotations

import threading
import time

from confluent_kafka.admin import NewTopic

from kafkette.local_broker import LocalBroker
from tests.clients import admin, produce_and_flush
from tests.conftest import unique
from tests.test_eos_pipeline import PARTITIONS, committed_total, read_committed_output, start_pipeline

MESSAGES = 10_000
FIRST = 500  # produced before the pipeline starts; the rest arrives while the cluster changes
RESTARTS = 5  # an aborted transaction ends the worker; it is started again, as a deployment would
EVENT_GAP_S = 1.0


def feed(bootstrap: str, topic: str, failures: list) -> threading.Thread:
    """Produce inputs FIRST.. in the background, about 1000 a second."""
    def paced():
        for i in range(FIRST, MESSAGES):
            if i % 50 == 0:
                time.sleep(0.05)
            yield {"value": b"%d" % i, "partition": i % PARTITIONS}

    def run() -> None:
        try:
            produce_and_flush(bootstrap, topic, paced())
        except BaseException as e:  # noqa: BLE001 - reported by the test
            failures.append(e)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_pipeline_through_coordinator_moves_and_a_broker_down_and_up(tmp_path):
    with LocalBroker(tmp_path / "data", brokers=3, admin_api=True, transaction_abort_interval_ms=200) as broker:
        bootstrap, cluster = broker.bootstrap_servers, broker.cluster
        source, sink = unique("ceos-in"), unique("ceos-out")
        client = admin(bootstrap)
        for future in client.create_topics([NewTopic(t, PARTITIONS, replication_factor=3) for t in (source, sink)],
                                           operation_timeout=10, request_timeout=15).values():
            future.result(timeout=15)
        group, txn_id = unique("ceos-group"), unique("ceos-txn")
        produce_and_flush(bootstrap, source, ({"value": b"%d" % i, "partition": i % PARTITIONS} for i in range(FIRST)))

        # The transaction coordinator moves to node A, the group coordinator to another node, then A goes
        # down and comes back. (Not the group coordinator's node: librdkafka's send_offsets_to_transaction
        # then waits forever for the broker that vanished from the metadata, as it would with Apache Kafka:
        # confluentinc/librdkafka#5511.)
        txn_node = (cluster.coordinator("transaction", txn_id) + 1) % 3
        group_node = next(n for n in (0, 1, 2) if n not in (txn_node, cluster.coordinator("group", group)))
        events = [  # each once a transaction committed since the one before, and EVENT_GAP_S after it
            lambda: cluster.move_coordinator("transaction", txn_id, txn_node),
            lambda: cluster.move_coordinator("group", group, group_node),
            lambda: cluster.down(txn_node),  # the transaction coordinator, and the leaders it holds
            lambda: cluster.up(txn_node),
        ]
        failures: list = []
        feeder = None
        restarts, progress, last_event = 0, 0, 0.0
        timeline: list[str] = []  # what happened when, for the failure message
        deadline = time.monotonic() + 150
        pipeline = start_pipeline(bootstrap, source, sink, group, txn_id)
        try:
            while time.monotonic() < deadline:
                done = committed_total(bootstrap, group, source)
                if not timeline or not timeline[-1].endswith(f" {done}"):
                    timeline.append(f"{time.monotonic() % 1000:.1f}s {done}")
                if done >= MESSAGES and not events:
                    break
                if feeder is None and done > 0:
                    feeder = feed(bootstrap, source, failures)
                if pipeline.poll() is not None:
                    assert restarts < RESTARTS, f"the pipeline exited {restarts + 1} times"
                    restarts += 1
                    pipeline = start_pipeline(bootstrap, source, sink, group, txn_id)
                elif events and (done > progress or done >= MESSAGES) and time.monotonic() - last_event > EVENT_GAP_S:
                    timeline.append(f"event {4 - len(events)}: {events.pop(0)()}")
                    progress, last_event = done, time.monotonic()
                time.sleep(0.2)
        finally:
            pipeline.kill()
            pipeline.wait(10)
            if feeder is not None:
                feeder.join(30)
        assert not failures, f"producing the input failed: {failures[0]}"
        assert not events and committed_total(bootstrap, group, source) == MESSAGES, \
            f"{len(events)} events left, {restarts} restarts: {'; '.join(timeline)}"
        out = read_committed_output(bootstrap, sink)
        assert len(out) == MESSAGES, f"{len(out)} outputs for {MESSAGES} inputs ({restarts} restarts)"
        assert set(out) == {b"out-%d" % i for i in range(MESSAGES)}
