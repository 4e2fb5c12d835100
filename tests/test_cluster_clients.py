"""Real clients against a simulated cluster of three brokers (`--brokers 3`): partitions led by each broker,
a group spread over them, replication factor 3, and clients following leaders, coordinators and brokers
that move or go down, through their own metadata refresh and coordinator lookup."""

from __future__ import annotations

import socket
import time

import pytest
from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import NewTopic

from kafkette.certs import create_certificates
from kafkette.local_broker import LocalBroker
from tests.clients import admin, consume_until, consumer, kafkette_cli, produce_and_flush
from tests.conftest import unique

TIMEOUT = 30


@pytest.fixture(scope="module")
def cluster3(tmp_path_factory) -> LocalBroker:
    with LocalBroker(tmp_path_factory.mktemp("cluster-clients") / "data", brokers=3, admin_api=True) as broker:
        yield broker


def create_topic(bootstrap: str, name: str, partitions: int, replication_factor: int = 3) -> str:
    client = admin(bootstrap)
    futures = client.create_topics([NewTopic(name, partitions, replication_factor=replication_factor)],
                                   operation_timeout=10, request_timeout=15)
    futures[name].result(timeout=15)
    return name


def leaders(bootstrap: str, topic: str) -> dict[int, int]:
    """partition -> leader, as confluent_kafka's metadata says."""
    found = admin(bootstrap).list_topics(topic, timeout=10).topics[topic]
    return {p.id: p.leader for p in found.partitions.values()}


def test_replication_factor_three_as_an_admin_client_sees_it(cluster3):
    topic = create_topic(cluster3.bootstrap_servers, unique("rf3"), 3)
    metadata = admin(cluster3.bootstrap_servers).list_topics(topic, timeout=10)
    assert sorted(metadata.brokers) == [0, 1, 2]
    assert {(b.host, b.port) for b in metadata.brokers.values()} == \
        {("127.0.0.1", cluster3.port + n) for n in (0, 1, 2)}
    partitions = metadata.topics[topic].partitions.values()
    assert sorted(p.leader for p in partitions) == [0, 1, 2]
    assert all(sorted(p.replicas) == [0, 1, 2] and sorted(p.isrs) == [0, 1, 2] for p in partitions)
    too_many = unique("rf4")
    client = admin(cluster3.bootstrap_servers)  # must outlive the future: a destroyed handle fails it
    futures = client.create_topics([NewTopic(too_many, 1, replication_factor=4)], operation_timeout=10,
                                   request_timeout=15)
    with pytest.raises(KafkaException) as refused:
        futures[too_many].result(timeout=15)
    assert refused.value.args[0].name() == "INVALID_REPLICATION_FACTOR"


def test_produce_to_partitions_led_by_each_broker_and_read_back(cluster3):
    topic = create_topic(cluster3.bootstrap_servers, unique("spread"), 6)
    assert sorted(leaders(cluster3.bootstrap_servers, topic).values()) == [0, 0, 1, 1, 2, 2]
    produce_and_flush(cluster3.bootstrap_servers, topic,
                      ({"value": b"%d-%d" % (p, i), "partition": p} for i in range(100) for p in range(6)),
                      acks="all", **{"enable.idempotence": True})
    c = consumer(cluster3.bootstrap_servers)
    try:
        c.assign([TopicPartition(topic, p, 0) for p in range(6)])
        got = consume_until(c, 600, TIMEOUT)
    finally:
        c.close()
    by_partition = {p: [m.value() for m in got if m.partition() == p] for p in range(6)}
    assert by_partition == {p: [b"%d-%d" % (p, i) for i in range(100)] for p in range(6)}


def group_coordinated_by(broker: LocalBroker, node: int, prefix: str) -> str:
    """A new group id whose coordinator is `node`."""
    return next(g for g in (unique(prefix) for _ in range(300)) if broker.cluster.coordinator("group", g) == node)


def test_a_consumer_group_spread_over_the_brokers(cluster3):
    topic = create_topic(cluster3.bootstrap_servers, unique("group-spread"), 6)
    group = group_coordinated_by(cluster3, 2, "spread-group")
    members = [Consumer({"bootstrap.servers": cluster3.bootstrap_servers, "group.id": group,
                         "auto.offset.reset": "earliest", "enable.auto.commit": False,
                         "session.timeout.ms": 6000}) for _ in range(3)]
    seen: dict[int, list[bytes]] = {i: [] for i in range(3)}
    try:
        for member in members:
            member.subscribe([topic])
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and any(len(member.assignment()) != 2 for member in members):
            for member in members:  # polling drives the rebalance; nothing is produced yet
                assert member.consume(10, 0.1) == []
        assignments = [{tp.partition for tp in member.assignment()} for member in members]
        produce_and_flush(cluster3.bootstrap_servers, topic,
                          ({"value": b"%d" % i, "partition": i % 6} for i in range(600)))
        while sum(map(len, seen.values())) < 600 and time.monotonic() < deadline:
            for i, member in enumerate(members):
                for m in member.consume(100, 0.2):
                    assert not m.error(), m.error()
                    seen[i].append(m.value())
                    member.commit(m, asynchronous=False)
    finally:
        for member in members:
            member.close()
    assert sorted(p for a in assignments for p in a) == list(range(6)) and all(len(a) == 2 for a in assignments)
    assert sorted(v for values in seen.values() for v in values) == sorted(b"%d" % i for i in range(600))
    assert all(len(seen[i]) == 200 for i in range(3))  # each member read its two partitions
    check = Consumer({"bootstrap.servers": cluster3.bootstrap_servers, "group.id": group})
    try:
        committed = check.committed([TopicPartition(topic, p) for p in range(6)], timeout=10)
    finally:
        check.close()
    assert [tp.offset for tp in committed] == [100] * 6


def test_confluent_kafka_follows_leaders_that_move_while_it_produces_and_consumes(cluster3):
    topic = create_topic(cluster3.bootstrap_servers, unique("moving"), 3)
    producer = Producer({"bootstrap.servers": cluster3.bootstrap_servers, "enable.idempotence": True,
                         "linger.ms": 5})
    c = consumer(cluster3.bootstrap_servers)
    c.assign([TopicPartition(topic, p, 0) for p in range(3)])
    got: list = []
    try:
        for round_ in range(4):
            for i in range(150):
                producer.produce(topic, value=b"%d-%d" % (round_, i), partition=i % 3)
            assert producer.flush(TIMEOUT) == 0
            got += consume_until(c, 150, TIMEOUT)  # raises on any consumer error
            for p in range(3):  # every leader moves on, with a new leader epoch
                cluster3.cluster.move_leader(topic, p, (cluster3.cluster.leader(topic, p) + 1) % 3)
        got += consume_until(c, 1, 2)
    finally:
        c.close()
    assert sorted(m.value() for m in got) == sorted(b"%d-%d" % (r, i) for r in range(4) for i in range(150))
    for p in range(3):  # in order, each once
        offsets = [m.offset() for m in got if m.partition() == p]
        assert offsets == list(range(200))
    assert all(state["leader_epoch"] == 4 for state in cluster3.cluster.status()["partitions"]
               if state["topic"] == topic)


def test_kafka_python_follows_a_leader_move(cluster3):
    from kafka import KafkaConsumer, KafkaProducer
    from kafka import TopicPartition as KTopicPartition

    topic = create_topic(cluster3.bootstrap_servers, unique("kp-move"), 1)
    producer = KafkaProducer(bootstrap_servers=cluster3.bootstrap_servers.split(","), acks="all", retries=10,
                             linger_ms=5)
    consumer_ = KafkaConsumer(bootstrap_servers=cluster3.bootstrap_servers.split(","), enable_auto_commit=False,
                              auto_offset_reset="earliest", consumer_timeout_ms=2000)
    consumer_.assign([KTopicPartition(topic, 0)])
    try:
        offsets = [producer.send(topic, b"a%d" % i).get(timeout=TIMEOUT).offset for i in range(50)]
        first = [m.value for m in _kafka_python_read(consumer_, 50)]
        cluster3.cluster.move_leader(topic, 0, (cluster3.cluster.leader(topic, 0) + 1) % 3)
        offsets += [producer.send(topic, b"b%d" % i).get(timeout=TIMEOUT).offset for i in range(50)]
        second = [m.value for m in _kafka_python_read(consumer_, 50)]
    finally:
        producer.close(5)
        consumer_.close()
    assert offsets == list(range(100))
    assert first + second == [b"a%d" % i for i in range(50)] + [b"b%d" % i for i in range(50)]


def _kafka_python_read(consumer_, count: int) -> list:
    out: list = []
    deadline = time.monotonic() + TIMEOUT
    while len(out) < count and time.monotonic() < deadline:
        for records in consumer_.poll(timeout_ms=500).values():
            out.extend(records)
    return out


def test_a_broker_down_moves_its_leaders_and_clients_carry_on_until_it_is_back(tmp_path):
    with LocalBroker(tmp_path / "data", brokers=3, admin_api=True) as broker:
        topic = create_topic(broker.bootstrap_servers, unique("down"), 3)
        victim = leaders(broker.bootstrap_servers, topic)[0]
        producer = Producer({"bootstrap.servers": broker.bootstrap_servers, "enable.idempotence": True,
                             "linger.ms": 5})
        c = consumer(broker.bootstrap_servers)
        c.assign([TopicPartition(topic, p, 0) for p in range(3)])
        got: list = []
        try:
            for i in range(90):
                producer.produce(topic, value=b"before-%d" % i, partition=i % 3)
            assert producer.flush(TIMEOUT) == 0
            got += consume_until(c, 90, TIMEOUT)
            answer = broker.cluster.down(victim)
            assert {"topic": topic, "partition": 0} in answer["leaders_changed"]
            with pytest.raises(ConnectionRefusedError):
                socket.create_connection(("127.0.0.1", broker.port + victim), timeout=5).close()
            metadata = admin(broker.bootstrap_servers).list_topics(topic, timeout=10)
            assert victim not in metadata.brokers
            assert all(p.leader != victim and victim not in p.isrs and sorted(p.replicas) == [0, 1, 2]
                       for p in metadata.topics[topic].partitions.values())
            for i in range(90):
                producer.produce(topic, value=b"during-%d" % i, partition=i % 3)
            assert producer.flush(TIMEOUT) == 0
            got += consume_until(c, 90, TIMEOUT)
            broker.cluster.up(victim)
            assert all(sorted(p["isr"]) == [0, 1, 2] for p in broker.cluster.status()["partitions"])
            for i in range(90):
                producer.produce(topic, value=b"after-%d" % i, partition=i % 3)
            assert producer.flush(TIMEOUT) == 0
            got += consume_until(c, 90, TIMEOUT)
        finally:
            c.close()
        expected = [b"%s-%d" % (phase, i) for phase in (b"before", b"during", b"after") for i in range(90)]
        assert sorted(m.value() for m in got) == sorted(expected)


def test_every_broker_serves_every_listener_and_one_down_closes_them_all(tmp_path):
    certs = create_certificates(tmp_path / "certs")
    with LocalBroker(tmp_path / "data", listeners=["PLAINTEXT", "SASL_SSL"], brokers=3, admin_api=True,
                     sasl_user=["alice:secret"], **certs.broker_settings()) as broker:
        plain, secured = broker.ports["PLAINTEXT"], broker.ports["SASL_SSL"]
        assert [n["listeners"] for n in broker.cluster.status()["nodes"]] == [
            [f"PLAINTEXT://127.0.0.1:{plain + n}", f"SASL_SSL://127.0.0.1:{secured + n}"] for n in range(3)]
        assert broker.bootstrap("SASL_SSL") == ",".join(f"127.0.0.1:{secured + n}" for n in range(3))
        topic = create_topic(broker.bootstrap_servers, unique("tls"), 3)
        producer = Producer({"bootstrap.servers": broker.bootstrap("SASL_SSL"), "security.protocol": "SASL_SSL",
                             "sasl.mechanism": "PLAIN", "sasl.username": "alice", "sasl.password": "secret",
                             **certs.client_properties()})
        for i in range(30):
            producer.produce(topic, value=b"%d" % i, partition=i % 3)
        assert producer.flush(TIMEOUT) == 0
        broker.cluster.down(1)
        for port in (plain + 1, secured + 1):
            with pytest.raises(ConnectionRefusedError):
                socket.create_connection(("127.0.0.1", port), timeout=5).close()
        broker.cluster.up(1)
        for port in (plain + 1, secured + 1):
            socket.create_connection(("127.0.0.1", port), timeout=5).close()
        broker.restart()  # the same ports again
        assert (broker.ports, broker.port) == ({"PLAINTEXT": plain, "SASL_SSL": secured}, plain)
        for i in range(30):
            producer.produce(topic, value=b"%d" % i, partition=i % 3)
        assert producer.flush(TIMEOUT) == 0


def test_kafkette_cluster_commands(cluster3):
    topic = create_topic(cluster3.bootstrap_servers, unique("cli"), 1)
    http = ["--admin", cluster3.http_address]
    status = kafkette_cli("cluster", "status", *http)
    assert status.returncode == 0 and "up, controller" in status.stdout and topic in status.stdout
    target = (cluster3.cluster.leader(topic, 0) + 1) % 3
    moved = kafkette_cli("cluster", "move-leader", topic, 0, target, *http)
    assert moved.returncode == 0 and f"broker {target} leads {topic}-0 at leader epoch 1" in moved.stdout
    group = unique("cli-group")
    target = (cluster3.cluster.coordinator("group", group) + 1) % 3
    moved = kafkette_cli("cluster", "move-coordinator", "group", group, target, *http)
    assert moved.returncode == 0 and f"broker {target} coordinates group '{group}'" in moved.stdout
    down = kafkette_cli("cluster", "down", 2, *http)
    try:
        assert down.returncode == 0 and down.stdout.startswith("broker 2 is down:")
        again = kafkette_cli("cluster", "down", 2, *http)
        assert again.returncode == 1 and again.stderr.strip().endswith("broker 2 is down already")
    finally:
        up = kafkette_cli("cluster", "up", 2, *http)
    assert up.returncode == 0 and up.stdout.startswith("broker 2 is up:")
    unknown = kafkette_cli("cluster", "up", 9, *http)
    assert unknown.returncode == 1 and "there is no broker 9: the brokers are 0, 1, 2" in unknown.stderr
    missing = kafkette_cli("cluster", "status")
    assert missing.returncode == 2 and "--admin HOST:PORT" in missing.stderr


def test_placement_and_leader_epochs_survive_a_restart(tmp_path):
    with LocalBroker(tmp_path / "data", brokers=3, admin_api=True) as broker:
        topic = create_topic(broker.bootstrap_servers, unique("restart"), 2)
        produce_and_flush(broker.bootstrap_servers, topic, ({"value": b"%d" % i, "partition": 0} for i in range(5)))
        broker.cluster.move_leader(topic, 0, (broker.cluster.leader(topic, 0) + 1) % 3)
        before = [p for p in broker.cluster.status()["partitions"] if p["topic"] == topic]
        broker.restart()
        after = [p for p in broker.cluster.status()["partitions"] if p["topic"] == topic]
        assert after == before and after[0]["leader_epoch"] == 1
        produce_and_flush(broker.bootstrap_servers, topic, ({"value": b"x", "partition": 0} for _ in range(1)))
        c = consumer(broker.bootstrap_servers)
        try:
            c.assign([TopicPartition(topic, 0, 0)])
            got = consume_until(c, 6, TIMEOUT)
        finally:
            c.close()
        assert [m.leader_epoch() for m in got] == [0] * 5 + [1]
