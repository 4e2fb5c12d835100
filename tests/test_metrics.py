"""`--metrics-port`: /metrics scraped over HTTP from a real broker and parsed as Prometheus does, and /ready.

Counters are compared before and after what a confluent_kafka client does, so
the tests in this module may share one broker.
"""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import urllib.request

import aiohttp
import pytest
from confluent_kafka import KafkaException, TopicPartition
from prometheus_client.parser import text_string_to_metric_families

from kafkette.broker.config import BrokerConfig
from kafkette.broker.server import Server
from kafkette.local_broker import LocalBroker, free_port
from kafkette.protocol.messages import API_VERSIONS
from tests.clients import RawClient, create_topic, produce_and_flush
from tests.conftest import unique
from tests.test_groups_clients import group_consumer, read
from tests.test_startup import assert_refused, kafkette
from tests.test_transactions import FENCED_CODES, TIMEOUT, txn_producer, wait_until

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


@pytest.fixture(scope="module")
def observed(tmp_path_factory) -> LocalBroker:
    with LocalBroker(tmp_path_factory.mktemp("metrics") / "data", metrics_port=free_port(),
                     transaction_abort_interval_ms=200) as proc:
        yield proc


def get(broker: LocalBroker, path: str) -> tuple[int, str, str]:
    """(status, content type, body) of GET `path` on the broker's metrics port."""
    url = f"http://127.0.0.1:{broker.settings['metrics_port']}{path}"
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, response.headers["Content-Type"], response.read().decode()


def scrape(broker: LocalBroker) -> Samples:
    status, content_type, text = get(broker, "/metrics")
    assert status == 200 and content_type.startswith("text/plain")
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples[name, tuple(sorted(labels.items()))]


def total(samples: Samples, name: str, **labels: str) -> float:
    """The sum of the samples of `name` whose labels include `labels` (0 if none exist yet)."""
    wanted = set(labels.items())
    return sum(v for (n, key), v in samples.items() if n == name and wanted <= set(key))


def grew(before: Samples, after: Samples, name: str, **labels: str) -> float:
    return total(after, name, **labels) - total(before, name, **labels)


def partition(samples: Samples, topic: str, index: int = 0) -> tuple[float, float, float]:
    """(high watermark, last stable offset, LSO lag) of a partition."""
    labels = {"topic": topic, "partition": str(index)}
    return (value(samples, "kafkette_partition_high_watermark", **labels),
            value(samples, "kafkette_partition_last_stable_offset", **labels),
            value(samples, "kafkette_partition_lso_lag", **labels))


# ---------------------------------------------------------------------------------------------- requests


def test_open_connections_are_counted(observed):  # first in the module: no other client is connected yet
    connections = "kafkette_active_connections"
    assert value(scrape(observed), connections) == 0
    with RawClient(observed.bootstrap_servers) as first, RawClient(observed.bootstrap_servers) as second:
        for client in (first, second):  # answered: the broker has accepted the connection
            client.request(API_VERSIONS, 3, API_VERSIONS.Request(client_software_name="t",
                                                                 client_software_version="1"))
        assert value(scrape(observed), connections) == 2
    assert wait_until(lambda: value(scrape(observed), connections) == 0, 10)


def test_requests_are_counted_per_api_and_version_with_latency_and_bytes(observed):
    before = scrape(observed)
    topic = create_topic(observed.bootstrap_servers, unique("m-requests"), 1)
    produce_and_flush(observed.bootstrap_servers, topic, [{"value": b"x" * 1000} for _ in range(3)])
    after = scrape(observed)
    assert grew(before, after, "kafkette_requests_total", request="CreateTopics") == 1
    assert grew(before, after, "kafkette_requests_total", request="Produce") >= 1
    produce_versions = {dict(key)["version"] for name, key in after if name == "kafkette_requests_total"
                        and dict(key)["request"] == "Produce"}
    assert produce_versions and all(v.isdigit() for v in produce_versions)
    assert grew(before, after, "kafkette_bytes_in_total", request="Produce") > 3000  # the records went in
    assert grew(before, after, "kafkette_bytes_out_total", request="Produce") > 0
    count = value(after, "kafkette_request_latency_seconds_count", request="Produce")
    assert value(after, "kafkette_request_latency_seconds_bucket", request="Produce", le="+Inf") == count
    assert value(after, "kafkette_request_latency_seconds_sum", request="Produce") > 0
    assert count == total(after, "kafkette_requests_total", request="Produce")
    assert value(after, "process_resident_memory_bytes") > 0


def test_error_responses_are_counted_by_error_name(observed):
    before = scrape(observed)
    with pytest.raises(KafkaException):
        create_topic(observed.bootstrap_servers, "bad name!", 1)
    after = scrape(observed)
    assert grew(before, after, "kafkette_request_errors_total", request="CreateTopics",
                error="INVALID_TOPIC_EXCEPTION") == 1


# ---------------------------------------------------------------------------------------------- transactions


def test_transaction_counters_and_the_lso_follow_commits_and_aborts(observed):
    bootstrap = observed.bootstrap_servers
    topic = create_topic(bootstrap, unique("m-txn"), 1)
    before = scrape(observed)
    producer = txn_producer(bootstrap)
    producer.begin_transaction()
    producer.produce(topic, b"kept")
    producer.commit_transaction(TIMEOUT)
    producer.begin_transaction()
    producer.produce(topic, b"dropped")
    producer.flush(TIMEOUT)  # the record reaches the partition, so the abort writes a marker
    producer.abort_transaction(TIMEOUT)
    after = scrape(observed)
    assert [grew(before, after, f"kafkette_transactions_{name}_total")
            for name in ("committed", "aborted", "timed_out", "fenced")] == [1, 1, 0, 0]
    assert grew(before, after, "kafkette_requests_total", request="EndTxn") == 2
    assert partition(after, topic) == (4, 4, 0)  # two records, two markers, nothing open

    producer.begin_transaction()
    producer.produce(topic, b"open")
    producer.flush(TIMEOUT)
    open_now = scrape(observed)
    assert partition(open_now, topic) == (5, 4, 1)  # the open transaction holds read_committed readers at 4
    assert grew(after, open_now, "kafkette_transactions", state="Ongoing") == 1
    producer.commit_transaction(TIMEOUT)
    assert partition(scrape(observed), topic) == (6, 6, 0)


def test_a_timed_out_transaction_is_counted_and_logged(observed):
    bootstrap = observed.bootstrap_servers
    topic = create_topic(bootstrap, unique("m-timeout"), 1)
    before = scrape(observed)
    stalled = txn_producer(bootstrap, **{"transaction.timeout.ms": 2000, "message.timeout.ms": 2000})
    stalled.begin_transaction()
    stalled.produce(topic, b"stalled")
    stalled.flush(TIMEOUT)
    assert partition(scrape(observed), topic)[2] == 1
    assert wait_until(lambda: grew(before, scrape(observed), "kafkette_transactions_timed_out_total") == 1, 15)
    after = scrape(observed)
    assert grew(before, after, "kafkette_transactions_aborted_total") == 1
    assert partition(after, topic) == (2, 2, 0)
    lines = [json.loads(line) for line in observed.log_path.read_text().splitlines() if line.startswith("{")]
    timed_out = [line for line in lines if line["event"] == "aborting timed-out transaction"]
    assert timed_out and timed_out[-1]["level"] == "info" and timed_out[-1]["timeout_ms"] == 2000
    assert {"transactional_id", "producer_id", "epoch"} <= set(timed_out[-1])


def test_a_fenced_producer_is_counted(observed):
    bootstrap = observed.bootstrap_servers
    topic = create_topic(bootstrap, unique("m-fence"), 1)
    tid = unique("tid-fence")
    before = scrape(observed)
    zombie = txn_producer(bootstrap, tid)
    zombie.begin_transaction()
    zombie.produce(topic, b"zombie")
    zombie.flush(TIMEOUT)
    txn_producer(bootstrap, tid)  # aborts the zombie's open transaction and fences it
    with pytest.raises(KafkaException) as info:
        zombie.commit_transaction(TIMEOUT)
    assert info.value.args[0].fatal() or info.value.args[0].code() in FENCED_CODES
    after = scrape(observed)
    assert [grew(before, after, f"kafkette_transactions_{name}_total")
            for name in ("committed", "aborted", "timed_out", "fenced")] == [0, 1, 0, 1]
    # the successor's first InitProducerId is told to retry while the zombie's transaction is aborted
    assert grew(before, after, "kafkette_request_errors_total", request="InitProducerId",
                error="CONCURRENT_TRANSACTIONS") == 1
    assert partition(after, topic) == (2, 2, 0)


# ---------------------------------------------------------------------------------------------- groups


def test_group_gauges_follow_a_consumer_group(observed):
    bootstrap = observed.bootstrap_servers
    topic = create_topic(bootstrap, unique("m-group"), 2)
    produce_and_flush(bootstrap, topic, [{"value": b"%d" % i, "partition": i % 2} for i in range(10)])
    group = unique("m-group")
    consumer = group_consumer(bootstrap, group)
    try:
        consumer.subscribe([topic])
        assert len(read(consumer, 10)) == 10
        consumer.commit(offsets=[TopicPartition(topic, 0, 3), TopicPartition(topic, 1, 5)], asynchronous=False)
        samples = scrape(observed)
        assert value(samples, "kafkette_group_members", group=group) == 1
        assert value(samples, "kafkette_groups", type="classic", state="Stable") >= 1
        offsets = {p: value(samples, "kafkette_group_committed_offset", group=group, topic=topic, partition=str(p))
                   for p in (0, 1)}
        lags = {p: value(samples, "kafkette_group_lag", group=group, topic=topic, partition=str(p)) for p in (0, 1)}
        assert (offsets, lags) == ({0: 3, 1: 5}, {0: 2, 1: 0})

        produce_and_flush(bootstrap, topic, [{"value": b"more", "partition": 1} for _ in range(4)])
        assert value(scrape(observed), "kafkette_group_lag", group=group, topic=topic, partition="1") == 4
    finally:
        consumer.close()  # leaves the group
    samples = scrape(observed)
    assert value(samples, "kafkette_group_members", group=group) == 0
    assert value(samples, "kafkette_group_committed_offset", group=group, topic=topic, partition="0") == 3
    assert value(samples, "kafkette_groups", type="classic", state="Empty") >= 1


# ---------------------------------------------------------------------------------------------- readiness


def test_ready_answers_200_while_the_broker_serves(observed):
    assert get(observed, "/ready")[0] == 200


async def status(http: aiohttp.ClientSession, port: int) -> int | None:
    """The status /ready answers, or None if nothing listens."""
    try:
        async with http.get(f"http://127.0.0.1:{port}/ready") as response:
            return response.status
    except aiohttp.ClientConnectionError:
        return None


async def test_ready_answers_503_until_the_broker_serves_and_from_when_it_stops(tmp_path):
    port = free_port()
    server = Server(BrokerConfig(port=0, data_dir=tmp_path / "data", metrics_port=port))
    opening, closing = asyncio.Event(), asyncio.Event()
    start_broker, stop_broker = server.broker.start, server.broker.stop

    async def held_start() -> None:  # the log takes its time to open (a long recovery)
        await opening.wait()
        await start_broker()

    async def held_stop() -> None:
        await closing.wait()
        await stop_broker()

    server.broker.start, server.broker.stop = held_start, held_stop  # type: ignore[method-assign]
    starting = asyncio.create_task(server.start())
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as http:
        for _ in range(100):
            if await status(http, port) is not None:
                break
            await asyncio.sleep(0.02)
        assert await status(http, port) == 503
        opening.set()
        await asyncio.wait_for(starting, 10)
        assert await status(http, port) == 200
        stopping = asyncio.create_task(server.stop())
        assert await status(http, port) == 503
        closing.set()
        await asyncio.wait_for(stopping, 10)
        assert await status(http, port) is None


# ---------------------------------------------------------------------------------------------- settings


@pytest.mark.parametrize("args, env, message", [
    (["--metrics-port", "70000"], {}, "invalid --metrics-port 70000: must be between 0 and 65535"),
    ([], {"KAFKETTE_METRICS_PORT": "nine"}, "invalid KAFKETTE_METRICS_PORT=nine: expected an integer"),
    (["--metrics-host", ""], {}, "invalid --metrics-host : must not be empty"),
])
def test_invalid_metrics_settings_are_refused_in_one_line(tmp_path, args, env, message):
    assert_refused(kafkette("serve", "--port", "0", "--data-dir", str(tmp_path / "data"), *args, env=env), message)


def test_a_busy_metrics_port_is_refused_before_the_data_dir_is_touched(tmp_path):
    with socket.create_server(("127.0.0.1", 0)) as busy:
        port = busy.getsockname()[1]
        result = kafkette("serve", "--port", "0", "--metrics-port", str(port), "--data-dir", str(tmp_path / "data"))
    assert_refused(result, f"port {port} is in use on 127.0.0.1: pass another --metrics-port "
                           f"or set KAFKETTE_METRICS_PORT")
    assert not (tmp_path / "data").exists()


def test_without_a_metrics_port_serve_loads_no_http_or_metrics_library():
    code = ("import sys, kafkette.broker.cli, kafkette.broker.server; "
            "print(sorted({'aiohttp', 'prometheus_client'} & set(sys.modules)))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert (result.returncode, result.stdout) == (0, "[]\n"), result.stderr
