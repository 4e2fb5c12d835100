"""Fault rules against unmodified clients: their error handling, seen through the transactions they
commit and the requests they sent (the request log).

The consume-transform-produce loop below handles errors as librdkafka documents: a retriable
error is retried by the client itself, an abortable one makes the application abort and redo
the transaction, a fatal one ends the producer (a new one with the same transactional.id takes
over). Every rule is scoped to the test's own transactional id, group or client id.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass

import pytest
from confluent_kafka import KafkaException, Producer, TopicPartition

from kafkette.admin_client import AdminApiError
from kafkette.local_broker import LocalBroker
from kafkette.protocol.errors import ErrorCode
from kafkette.protocol.messages import CREATE_TOPICS, METADATA
from tests.clients import (
    ConnectionClosed, RawClient, consume_until, consumer, create_topic, drain, produce_and_flush, watermarks,
)
from tests.conftest import unique

TIMEOUT = 20
INPUTS = 5
OUTPUTS = 6  # per transaction, over the sink's two partitions


@dataclass
class Pipeline:
    bootstrap: str
    source: str
    sink: str
    group: str
    transactional_id: str
    client_id: str

    def producer(self) -> Producer:
        producer = Producer({"bootstrap.servers": self.bootstrap, "transactional.id": self.transactional_id,
                             "client.id": self.client_id, "linger.ms": 5})
        producer.init_transactions(TIMEOUT)
        return producer

    def run(self, producer: Producer, attempts: int = 3) -> list[str]:
        """Consume the inputs, produce outputs and commit the offsets in one transaction; what happened to
        each attempt: "committed", "abortable" (then aborted and redone) or "fatal ERROR" (the end).

        An abortable error's name depends on which call met it first (the error itself, or _STATE from
        a call made after the transaction failed in the background), so it is not kept."""
        c = consumer(self.bootstrap, group_id=self.group)
        outcomes = []
        try:
            c.assign([TopicPartition(self.source, 0, 0)])
            assert len(consume_until(c, INPUTS, timeout=TIMEOUT)) == INPUTS
            for attempt in range(attempts):
                try:
                    producer.begin_transaction()
                    for i in range(OUTPUTS):
                        producer.produce(self.sink, b"out-%d-%d" % (attempt, i), partition=i % 2)
                    producer.send_offsets_to_transaction([TopicPartition(self.source, 0, INPUTS)],
                                                         c.consumer_group_metadata(), TIMEOUT)
                    producer.commit_transaction(TIMEOUT)
                    return outcomes + ["committed"]
                except KafkaException as e:
                    error = e.args[0]
                    if error.fatal():
                        return outcomes + [f"fatal {error.name()}"]
                    assert error.txn_requires_abort(), f"neither retried by the client nor abortable: {error}"
                    outcomes.append("abortable")
                    producer.abort_transaction(TIMEOUT)
        finally:
            c.close()
        return outcomes

    def committed_output(self) -> list[bytes]:
        c = consumer(self.bootstrap, **{"isolation.level": "read_committed"})
        try:
            c.assign([TopicPartition(self.sink, p, 0) for p in (0, 1)])
            return sorted(m.value() for m in drain(c, quiet=1.0, timeout=TIMEOUT))
        finally:
            c.close()

    def committed_offset(self) -> int:
        c = consumer(self.bootstrap, group_id=self.group)
        try:
            return c.committed([TopicPartition(self.source, 0)], timeout=TIMEOUT)[0].offset
        finally:
            c.close()


def outputs(attempt: int) -> list[bytes]:
    return sorted(b"out-%d-%d" % (attempt, i) for i in range(OUTPUTS))


@pytest.fixture
def pipeline(broker) -> Pipeline:
    source = create_topic(broker.bootstrap_servers, unique("fault-in"), 1)
    sink = create_topic(broker.bootstrap_servers, unique("fault-out"), 2)
    produce_and_flush(broker.bootstrap_servers, source, [{"value": b"in-%d" % i} for i in range(INPUTS)])
    return Pipeline(broker.bootstrap_servers, source, sink, unique("fault-group"), unique("fault-tid"),
                    unique("fault-client"))


def scope(pipeline: Pipeline, api: str) -> dict[str, str]:
    """What scopes a rule to this test: the group for the group coordinator's API, else the transactional id."""
    return {"group_id": pipeline.group} if api == "TxnOffsetCommit" else \
        {"transactional_id": pipeline.transactional_id}


def sent(broker, pipeline: Pipeline, api: str) -> list:
    return [r for r in broker.requests(client_id=pipeline.client_id) if r.api == api]


# ---------------------------------------------------------------------------------------------- transactions


@pytest.mark.parametrize("api, error", [
    ("FindCoordinator", "COORDINATOR_NOT_AVAILABLE"),
    ("AddPartitionsToTxn", "CONCURRENT_TRANSACTIONS"),
    ("AddOffsetsToTxn", "COORDINATOR_LOAD_IN_PROGRESS"),
    ("TxnOffsetCommit", "COORDINATOR_LOAD_IN_PROGRESS"),
    ("EndTxn", "COORDINATOR_NOT_AVAILABLE"),
    ("EndTxn", "NOT_COORDINATOR"),
])
def test_retriable_errors_are_retried_by_the_client_and_the_transaction_commits_once(broker, pipeline, api, error):
    with broker.faults.add(api=api, error=error, count=2, **scope(pipeline, api)) as rule:
        outcomes = pipeline.run(pipeline.producer())
    assert rule.fired == 2  # its final count, kept when the with block removed it
    assert outcomes == ["committed"]
    assert pipeline.committed_output() == outputs(0)
    assert pipeline.committed_offset() == INPUTS
    requests = sent(broker, pipeline, api)
    answered = [r for r in requests if r.rule == rule.id]
    assert [r.action for r in answered] == ["error", "error"]
    assert any(r.seq > answered[-1].seq and r.rule is None for r in requests), "the client never retried"


@pytest.mark.parametrize("api, error", [
    ("AddPartitionsToTxn", "TOPIC_AUTHORIZATION_FAILED"),
    ("AddOffsetsToTxn", "GROUP_AUTHORIZATION_FAILED"),
    ("TxnOffsetCommit", "ILLEGAL_GENERATION"),
])
def test_abortable_errors_make_the_application_abort_and_redo_and_nothing_aborted_is_read(broker, pipeline, api,
                                                                                         error):
    with broker.faults.add(api=api, error=error, **scope(pipeline, api)) as rule:
        outcomes = pipeline.run(pipeline.producer())
    assert outcomes == ["abortable", "committed"]
    assert [r.action for r in sent(broker, pipeline, api) if r.rule == rule.id] == ["error"]
    assert pipeline.committed_output() == outputs(1)
    assert pipeline.committed_offset() == INPUTS


@pytest.mark.parametrize("api, error", [("EndTxn", "PRODUCER_FENCED"), ("AddPartitionsToTxn", "INVALID_PRODUCER_EPOCH")])
def test_a_fenced_producer_is_a_fatal_error_and_a_new_one_takes_over(broker, pipeline, api, error):
    with broker.faults.add(api=api, error=error, transactional_id=pipeline.transactional_id):
        outcomes = pipeline.run(pipeline.producer())
    assert outcomes == ["fatal _FENCED"]  # librdkafka's name for a fenced producer, whichever code fenced it
    successor = pipeline.producer()  # aborts what the fenced one left open
    assert pipeline.run(successor) == ["committed"]
    assert pipeline.committed_output() == outputs(0)


def test_the_commit_gap_on_end_txn_is_retried_and_the_commit_applied_once(broker, pipeline):
    with broker.faults.add(api="EndTxn", drop="after", transactional_id=pipeline.transactional_id):
        outcomes = pipeline.run(pipeline.producer())
    assert outcomes == ["committed"]
    assert pipeline.committed_output() == outputs(0)
    assert pipeline.committed_offset() == INPUTS
    assert [r.action for r in sent(broker, pipeline, "EndTxn")] == ["drop_after", None]
    for partition in (0, 1):  # three records and one COMMIT marker each: the retried commit wrote no second marker
        assert watermarks(pipeline.bootstrap, pipeline.sink, partition) == (0, OUTPUTS // 2 + 1)


def end_txn_with(client: str, bootstrap: str, topic: str, transactional_id: str, client_id: str) -> None:
    """One transaction of four records over two partitions, by kafka-python or aiokafka."""
    if client == "kafka-python":
        from kafka import KafkaProducer

        producer = KafkaProducer(bootstrap_servers=bootstrap, transactional_id=transactional_id, client_id=client_id,
                                 enable_idempotence=True, acks="all")
        try:
            producer.init_transactions()
            producer.begin_transaction()
            for i in range(4):
                producer.send(topic, value=b"v-%d" % i, partition=i % 2)
            producer.commit_transaction()
        finally:
            producer.close(timeout=10)
        return
    from aiokafka import AIOKafkaProducer

    async def run() -> None:
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap, transactional_id=transactional_id,
                                    client_id=client_id)
        await producer.start()
        try:
            async with producer.transaction():
                for i in range(4):
                    await producer.send(topic, value=b"v-%d" % i, partition=i % 2)
        finally:
            await producer.stop()

    asyncio.run(asyncio.wait_for(run(), TIMEOUT * 2))


@pytest.mark.parametrize("client", ["kafka-python", "aiokafka"])
def test_other_clients_retry_the_commit_gap_and_report_fencing(broker, client):
    """aiokafka sends EndTxn v0, which knows no PRODUCER_FENCED: the rule's error reaches it as INVALID_PRODUCER_EPOCH."""
    topic = create_topic(broker.bootstrap_servers, unique("fault-other"), 2)
    tid, client_id = unique("fault-tid"), unique("fault-client")
    with broker.faults.add(api="EndTxn", drop="after", transactional_id=tid):
        end_txn_with(client, broker.bootstrap_servers, topic, tid, client_id)
    assert [r.action for r in broker.requests(client_id=client_id, api="EndTxn")] == ["drop_after", None]
    assert [watermarks(broker.bootstrap_servers, topic, p) for p in (0, 1)] == [(0, 3), (0, 3)]

    fenced_tid = unique("fault-tid")
    with broker.faults.add(api="EndTxn", error="PRODUCER_FENCED", transactional_id=fenced_tid):
        with pytest.raises(Exception, match="ProducerFenced"):
            end_txn_with(client, broker.bootstrap_servers, topic, fenced_tid, client_id)
    version = broker.requests(client_id=client_id, api="EndTxn")[-1].version
    assert version == (0 if client == "aiokafka" else 3)


# ---------------------------------------------------------------------------------------------- other actions


def test_partition_errors_fail_only_their_partition_and_the_producer_delivers_each_message_once(broker):
    topic = create_topic(broker.bootstrap_servers, unique("fault-parts"), 2)
    client_id = unique("fault-client")
    with broker.faults.add(api="Produce", topic=topic, partition=1, error="NOT_LEADER_OR_FOLLOWER",
                           scope="partitions", count=2) as rule:
        produce_and_flush(broker.bootstrap_servers, topic, [{"value": b"%d" % i, "partition": i % 2}
                                                            for i in range(10)],
                          **{"client.id": client_id, "enable.idempotence": True})
        assert rule.fired == 2
    assert [watermarks(broker.bootstrap_servers, topic, p) for p in (0, 1)] == [(0, 5), (0, 5)]
    c = consumer(broker.bootstrap_servers)
    try:
        c.assign([TopicPartition(topic, p, 0) for p in (0, 1)])
        assert sorted(m.value() for m in consume_until(c, 10, TIMEOUT)) == sorted(b"%d" % i for i in range(10))
    finally:
        c.close()


def test_a_delayed_answer_and_a_throttle_are_what_the_client_sees(broker):
    topic = create_topic(broker.bootstrap_servers, unique("fault-slow"), 1)
    client_id = unique("fault-client")
    throttles = []
    producer = Producer({"bootstrap.servers": broker.bootstrap_servers, "client.id": client_id, "linger.ms": 0,
                         "throttle_cb": throttles.append})
    producer.produce(topic, b"warm-up")  # connected, metadata known: what is measured next is the Produce alone
    assert producer.flush(TIMEOUT) == 0
    delivered = []
    with broker.faults.add(api="Produce", client_id=client_id, delay_ms=700):
        started = time.monotonic()
        producer.produce(topic, b"slow", on_delivery=lambda err, msg: delivered.append((err, time.monotonic())))
        assert producer.flush(TIMEOUT) == 0
    assert delivered[0][0] is None and delivered[0][1] - started >= 0.7
    with broker.faults.add(api="Produce", client_id=client_id, throttle_ms=300):
        producer.produce(topic, b"throttled")
        assert producer.flush(TIMEOUT) == 0
    deadline = time.monotonic() + TIMEOUT
    while not throttles and time.monotonic() < deadline:
        producer.poll(0.1)
    assert [(event.broker_id, event.throttle_time) for event in throttles] == [(1, 0.3)]
    assert [r.action for r in broker.requests(client_id=client_id, api="Produce")] == [None, "delay", "throttle"]


def create_topics_request(name: str):
    R = CREATE_TOPICS.Request
    return R(topics=[R.CreatableTopic(name=name, num_partitions=1, replication_factor=1)], timeout_ms=5000)


def topic_exists(bootstrap: str, name: str) -> bool:
    R = METADATA.Request
    with RawClient(bootstrap) as client:
        answer = client.request(METADATA, 12, R(topics=[R.MetadataRequestTopic(name=name)],
                                                allow_auto_topic_creation=False))
    return answer.topics[0].error_code == ErrorCode.NONE


@pytest.mark.parametrize("drop, applied", [("before", False), ("after", True)])
def test_a_dropped_request_is_answered_with_a_closed_connection_applied_or_not(broker, drop, applied):
    name, client_id = unique("fault-drop"), unique("fault-client")
    with broker.faults.add(api="CreateTopics", client_id=client_id, drop=drop):
        with RawClient(broker.bootstrap_servers, client_id=client_id) as client:
            with pytest.raises(ConnectionClosed):
                client.request(CREATE_TOPICS, 7, create_topics_request(name))
    assert topic_exists(broker.bootstrap_servers, name) is applied
    assert [r.action for r in broker.requests(client_id=client_id)] == [f"drop_{drop}"]


def test_a_black_hole_holds_the_request_unanswered_then_closes_the_connection(broker):
    name, client_id = unique("fault-hole"), unique("fault-client")
    with broker.faults.add(api="CreateTopics", client_id=client_id, black_hole_ms=600):
        with RawClient(broker.bootstrap_servers, client_id=client_id) as client:
            client.send(CREATE_TOPICS, 7, create_topics_request(name))
            assert not client.is_closed_by_peer(timeout=0.3)  # nothing arrives, and the connection stays open...
            assert client.is_closed_by_peer(timeout=TIMEOUT)  # ...until the hold ends
    assert not topic_exists(broker.bootstrap_servers, name)
    assert [r.action for r in broker.requests(client_id=client_id)] == ["black_hole"]


# ---------------------------------------------------------------------------------------------- rules themselves


def metadata_errors(bootstrap: str, client_id: str, topic: str, calls: int) -> list[int]:
    """The error code each of `calls` Metadata requests for `topic` got, on one connection."""
    R = METADATA.Request
    with RawClient(bootstrap, client_id=client_id) as client:
        return [client.request(METADATA, 12, R(topics=[R.MetadataRequestTopic(name=topic)])).topics[0].error_code
                for _ in range(calls)]


def test_seeded_probabilistic_faults_replay_to_the_same_request_log(broker):
    topic = create_topic(broker.bootstrap_servers, unique("fault-dice"), 1)

    def run(seed: int) -> tuple[list[int], list]:
        client_id = unique("fault-client")
        with broker.faults.add(api="Metadata", client_id=client_id, error="LEADER_NOT_AVAILABLE", count=None,
                               probability=0.5, seed=seed):
            errors = metadata_errors(broker.bootstrap_servers, client_id, topic, 30)
        log = [(r.correlation_id, r.action) for r in broker.requests(client_id=client_id)]
        assert [c for c, action in log if action == "error"] == [i + 1 for i, e in enumerate(errors) if e]
        return errors, [action for _, action in log]

    first, again, other = run(42), run(42), run(43)
    assert first == again
    assert 0 < first[0].count(ErrorCode.LEADER_NOT_AVAILABLE) < 30
    assert other != first


def test_a_rule_stops_firing_when_its_with_block_ends(broker):
    topic = create_topic(broker.bootstrap_servers, unique("fault-scoped"), 1)
    client_id = unique("fault-client")
    with broker.faults.add(api="Metadata", client_id=client_id, topic=topic, error="UNKNOWN_TOPIC_OR_PARTITION",
                           count=None) as rule:
        assert metadata_errors(broker.bootstrap_servers, client_id, topic, 2) == [3, 3]
        assert rule.id in [r.id for r in broker.faults.list()]
    assert metadata_errors(broker.bootstrap_servers, client_id, topic, 2) == [0, 0]
    assert rule.id not in [r.id for r in broker.faults.list()]
    assert [r.rule for r in broker.requests(client_id=client_id)] == [rule.id, rule.id, None, None]
    rule.remove()  # already gone: no error


def test_a_wrong_rule_is_refused_with_what_to_change(broker):
    with pytest.raises(AdminApiError) as refused:
        broker.faults.add(api="EndTxn", error="COORDINATOR_NOT_AVAILABLE", scope="partitions")
    assert refused.value.status == 400
    assert "EndTxn names no partitions with their own error codes; use scope response" in str(refused.value)


@pytest.mark.kafkette_only("kafkette's HTTP admin API")
@pytest.mark.parametrize("method, path, body, status, message", [
    ("GET", "/requests?since=soon", None, 400, "since='soon': an integer, at least 0"),
    ("GET", "/requests?limit=0", None, 400, "limit='0': an integer, at least 1"),
    ("GET", "/requests?api=Nope", None, 400, "api 'Nope': give an API kafkette serves"),
    ("GET", "/faults/first", None, 404, "no fault rule 'first': rules have numbers"),
    ("DELETE", "/faults/99999", None, 404, "no fault rule 99999: see GET /admin/faults"),
    ("POST", "/faults", b"api=EndTxn", 400, "the body is not JSON"),
    ("POST", "/faults", b"[]", 400, "a rule is a JSON object"),
])
def test_the_admin_routes_refuse_wrong_input_saying_why(broker, method, path, body, status, message):
    import urllib.error
    import urllib.request

    request = urllib.request.Request(f"http://{broker.http_address}/admin{path}", data=body, method=method)
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=TIMEOUT)
    assert refused.value.code == status
    assert message in json.loads(refused.value.read())["error"]


def test_the_command_line_adds_lists_and_removes_rules_and_shows_the_request_log(tmp_path):
    from tests.clients import kafkette_cli

    with LocalBroker(tmp_path / "data", admin_api=True) as own:
        admin = ["--admin", own.http_address]
        added = kafkette_cli("faults", "add", *admin, "--api", "Metadata", "--client-id", "cli-test", "--error",
                             "LEADER_NOT_AVAILABLE", "--count", "2")
        assert added.returncode == 0, added.stderr
        assert added.stdout.strip() == ("fault rule 1: Metadata client-id=cli-test: error LEADER_NOT_AVAILABLE, "
                                        "the first 2 matching calls")
        assert kafkette_cli("faults", "add", *admin, "--api", "Produce", "--delay", "5", "--nth", "3").returncode == 0
        topic = own.create_topic("cli-faults")
        assert metadata_errors(own.bootstrap_servers, "cli-test", topic, 3) == [5, 5, 0]

        listed = kafkette_cli("faults", "list", *admin)
        assert listed.returncode == 0
        assert "error LEADER_NOT_AVAILABLE" in listed.stdout and "the 3rd matching call" in listed.stdout
        log = kafkette_cli("requests", *admin, "--client-id", "cli-test", "--json")
        answer = json.loads(log.stdout)
        assert [(r["api"], r["rule"]) for r in answer["requests"]] == [("Metadata", 1), ("Metadata", 1),
                                                                      ("Metadata", None)]
        since = answer["requests"][0]["seq"]
        table = kafkette_cli("requests", *admin, "--client-id", "cli-test", "--since", since)
        assert table.stdout.count("Metadata") == 2 and f"next: --since {answer['last']}" in table.stdout

        removed = kafkette_cli("faults", "remove", *admin, "1")
        assert removed.stdout.strip() == "removed fault rule 1 (fired 2 times)"
        assert kafkette_cli("faults", "clear", *admin).stdout.strip() == "removed 1 fault rule"
        assert kafkette_cli("faults", "list", *admin).stdout.strip() == "(no fault rules)"
        wrong = kafkette_cli("faults", "add", *admin, "--api", "EndTxn", "--error", "NO_SUCH_ERROR")
        assert wrong.returncode == 1
        assert wrong.stderr.strip() == ("kafkette faults add: POST /faults: error 'NO_SUCH_ERROR': give a Kafka error "
                                        "name (NOT_COORDINATOR) or code (16)")
