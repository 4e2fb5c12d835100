"""What each client does while its requests are recorded: `SCENARIOS[name](bootstrap, token)`.

Every name a scenario creates (topics, groups, transactional ids) contains `token`, so a replay
can give them names of its own. Each scenario is bounded in time and leaves nothing running.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
from typing import Callable

from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, ConfigResource, NewPartitions, NewTopic, ResourceType

from kafkette.protocol.messages import (ADD_OFFSETS_TO_TXN, ADD_PARTITIONS_TO_TXN, API_VERSIONS, DELETE_GROUPS,
                                        DESCRIBE_GROUPS, END_TXN, FETCH, FIND_COORDINATOR, HEARTBEAT,
                                        INIT_PRODUCER_ID, JOIN_GROUP, LIST_OFFSETS, METADATA, OFFSET_COMMIT,
                                        OFFSET_FETCH, PRODUCE, SYNC_GROUP, TXN_OFFSET_COMMIT)
from kafkette.protocol.records import build_batch
from tests.clients import RawClient, create_topic, produce_request
from tests.test_kafkajs import NODE_MODULES, SCRIPT as KAFKAJS_SCRIPT

TIMEOUT = 20.0
# Record timestamps of today: Kafka rolls a segment when a batch is older than segment.ms (7 days) than its
# first, and a Fetch answer holds one segment's batches, so old timestamps would cut Kafka's answers short.
TS = int(time.time() * 1000) - 60_000


def _consume(c: Consumer, count: int, timeout: float = TIMEOUT) -> list:
    out: list = []
    deadline = time.monotonic() + timeout
    while len(out) < count and time.monotonic() < deadline:
        out += [m for m in c.consume(count - len(out), timeout=0.3) if not m.error()]
    return out


# ---------------------------------------------------------------------------------------------- confluent_kafka


def confluent_produce(bootstrap: str, token: str) -> None:
    topic = create_topic(bootstrap, f"cf-produce-{token}", 2)
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 20, "compression.type": "lz4"})
    for i in range(20):
        producer.produce(topic, b"value-%d" % i, key=b"k%d" % (i % 4), partition=i % 2, timestamp=TS + i,
                         headers=[("h", b"%d" % i)])
    assert producer.flush(TIMEOUT) == 0
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": f"cf-reader-{token}", "enable.auto.commit": False})
    try:
        c.assign([TopicPartition(topic, p, 0) for p in (0, 1)])
        assert len(_consume(c, 20)) == 20
        c.get_watermark_offsets(TopicPartition(topic, 1), timeout=10, cached=False)
        c.offsets_for_times([TopicPartition(topic, 0, TS + 4)], timeout=10)
    finally:
        c.close()


def confluent_idempotent(bootstrap: str, token: str) -> None:
    topic = create_topic(bootstrap, f"cf-idem-{token}", 1)
    producer = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True, "linger.ms": 5})
    for i in range(30):
        producer.produce(topic, b"%d" % i, timestamp=TS + i)
        if i % 10 == 9:
            producer.flush(TIMEOUT)
    assert producer.flush(TIMEOUT) == 0


def confluent_transactions(bootstrap: str, token: str) -> None:
    a = create_topic(bootstrap, f"cf-txn-a-{token}", 2)
    b = create_topic(bootstrap, f"cf-txn-b-{token}", 2)
    producer = Producer({"bootstrap.servers": bootstrap, "transactional.id": f"cf-tid-{token}", "linger.ms": 5})
    producer.init_transactions(TIMEOUT)
    for commit in (True, False):
        producer.begin_transaction()
        for i in range(8):
            producer.produce(a if i % 2 else b, b"%s-%d" % (b"c" if commit else b"a", i), partition=i % 2,
                             timestamp=TS + i)
        producer.flush(TIMEOUT)
        (producer.commit_transaction if commit else producer.abort_transaction)(TIMEOUT)
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": f"cf-rc-{token}", "isolation.level": "read_committed",
                  "enable.auto.commit": False})
    try:
        c.assign([TopicPartition(t, p, 0) for t in (a, b) for p in (0, 1)])
        assert len(_consume(c, 8)) == 8
    finally:
        c.close()


def confluent_group(bootstrap: str, token: str) -> None:
    topic = create_topic(bootstrap, f"cf-group-{token}", 3)
    producer = Producer({"bootstrap.servers": bootstrap})
    for i in range(9):
        producer.produce(topic, b"%d" % i, partition=i % 3, timestamp=TS + i)
    assert producer.flush(TIMEOUT) == 0
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": f"cf-g-{token}", "auto.offset.reset": "earliest",
                  "enable.auto.commit": False, "group.instance.id": f"cf-static-{token}"})
    try:
        c.subscribe([topic])
        assert len(_consume(c, 9)) == 9
        c.commit(asynchronous=False)
        c.committed([TopicPartition(topic, p) for p in range(3)], timeout=10)
    finally:
        c.close()


def confluent_admin(bootstrap: str, token: str) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    names = [f"cf-adm-{token}-{i}" for i in range(2)]
    futures = admin.create_topics([NewTopic(names[0], 2, config={"cleanup.policy": "compact", "flush.ms": "1000"}),
                                   NewTopic(names[1], 1)], request_timeout=TIMEOUT)
    for f in futures.values():
        f.result(TIMEOUT)
    for name in names:
        from kafkette.client import wait_for_topic

        wait_for_topic(bootstrap, name)
    resources = [ConfigResource(ResourceType.TOPIC, names[0])]
    for f in admin.describe_configs(resources, request_timeout=TIMEOUT).values():
        f.result(TIMEOUT)
    admin.create_partitions([NewPartitions(names[1], 3)], request_timeout=TIMEOUT)[names[1]].result(TIMEOUT)
    admin.list_consumer_groups(request_timeout=TIMEOUT).result(TIMEOUT)
    admin.describe_cluster(request_timeout=TIMEOUT).result(TIMEOUT)
    for f in admin.delete_topics(names, request_timeout=TIMEOUT).values():
        f.result(TIMEOUT)


# ---------------------------------------------------------------------------------------------- other clients


def kafka_python(bootstrap: str, token: str) -> None:
    from kafka import KafkaConsumer, KafkaProducer

    topic = create_topic(bootstrap, f"kp-{token}", 2)
    producer = KafkaProducer(bootstrap_servers=bootstrap, linger_ms=5)
    for i in range(10):
        producer.send(topic, b"%d" % i, partition=i % 2, timestamp_ms=TS + i)
    producer.flush(TIMEOUT)
    producer.close(TIMEOUT)
    consumer = KafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=f"kp-g-{token}",
                             auto_offset_reset="earliest", enable_auto_commit=False, consumer_timeout_ms=10_000)
    seen = 0
    for _ in consumer:
        seen += 1
        if seen == 10:
            break
    consumer.commit()
    consumer.close()
    assert seen == 10


def aiokafka(bootstrap: str, token: str) -> None:
    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

    topic = create_topic(bootstrap, f"aio-{token}", 2)

    async def run() -> None:
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap, transactional_id=f"aio-tid-{token}")
        await producer.start()
        try:
            async with producer.transaction():
                for i in range(6):
                    await producer.send(topic, b"%d" % i, partition=i % 2, timestamp_ms=TS + i)
        finally:
            await producer.stop()
        consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=f"aio-g-{token}",
                                    auto_offset_reset="earliest", enable_auto_commit=False,
                                    isolation_level="read_committed")
        await consumer.start()
        try:
            got = 0
            deadline = time.monotonic() + TIMEOUT
            while got < 6 and time.monotonic() < deadline:
                batch = await consumer.getmany(timeout_ms=500)
                got += sum(len(v) for v in batch.values())
            await consumer.commit()
            assert got == 6
        finally:
            await consumer.stop()

    asyncio.run(asyncio.wait_for(run(), 60))


def kafkajs(bootstrap: str, token: str) -> None:
    done = subprocess.run(["node", str(KAFKAJS_SCRIPT), bootstrap, f"js-{token}"], capture_output=True, text=True,
                          timeout=60, env={"NODE_PATH": str(NODE_MODULES), "PATH": "/usr/local/bin:/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    assert len(json.loads(done.stdout.strip().splitlines()[-1])["seen"]) == 101


def java_client(bootstrap: str, token: str) -> None:
    """The reference client: transactions across topics, then consume-transform-produce in a group."""
    from conformance.kafka import compile_java_checks, java

    checks = compile_java_checks()
    for scenario in ("transactions", "eos-classic"):
        done = subprocess.run(java("KafkaChecks", scenario, bootstrap, f"java-{scenario}-{token}", jvm=["-Xmx256m"],
                                   extra_classpath=str(checks)), capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr[-2000:]


# ---------------------------------------------------------------------------------------------- error paths, by hand


def _init(raw: RawClient, tid: str | None) -> tuple[int, int]:
    """InitProducerId, retried as clients do while an open transaction is being aborted (CONCURRENT_TRANSACTIONS)."""
    deadline = time.monotonic() + TIMEOUT
    while True:
        r = raw.request(INIT_PRODUCER_ID, 4, INIT_PRODUCER_ID.Request(
            transactional_id=tid, transaction_timeout_ms=60000, producer_id=-1, producer_epoch=-1))
        if r.error_code != 51 or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert r.error_code == 0, r
    return r.producer_id, r.producer_epoch


def _add(raw: RawClient, tid: str, pid: int, epoch: int, topic: str, partitions: list[int]):
    A = ADD_PARTITIONS_TO_TXN.Request
    return raw.request(ADD_PARTITIONS_TO_TXN, 3, A(
        v3_and_below_transactional_id=tid, v3_and_below_producer_id=pid, v3_and_below_producer_epoch=epoch,
        v3_and_below_topics=[A.AddPartitionsToTxnTopic(name=topic, partitions=partitions)]))


def _batch(pid: int, epoch: int, seq: int, count: int = 1, transactional: bool = False) -> bytes:
    return build_batch([(None, b"v%d" % (seq + i)) for i in range(count)], timestamp_ms=TS, producer_id=pid,
                       producer_epoch=epoch, base_sequence=seq, transactional=transactional)


def _end(raw: RawClient, tid: str, pid: int, epoch: int, commit: bool):
    return raw.request(END_TXN, 3, END_TXN.Request(transactional_id=tid, producer_id=pid, producer_epoch=epoch,
                                                   committed=commit))


def raw_fencing_and_transitions(bootstrap: str, token: str) -> None:
    topic = create_topic(bootstrap, f"raw-fence-{token}", 2)
    tid = f"raw-tid-{token}"
    with RawClient(bootstrap) as raw:
        assert raw.request(FIND_COORDINATOR, 3, FIND_COORDINATOR.Request(key=tid, key_type=1)).error_code == 0
        pid, epoch = _init(raw, tid)
        _end(raw, tid, pid, epoch, commit=True)  # nothing added: Kafka commits an empty transaction or refuses
        _add(raw, tid, pid, epoch, topic, [0, 1])
        raw.request(PRODUCE, 9, produce_request(topic, _batch(pid, epoch, 0, transactional=True), transactional_id=tid))
        # a second producer with the same transactional id fences the first (its open transaction is aborted)
        pid2, epoch2 = _init(raw, tid)
        _add(raw, tid, pid, epoch, topic, [0])
        raw.request(PRODUCE, 9, produce_request(topic, _batch(pid, epoch, 1, transactional=True), transactional_id=tid))
        _end(raw, tid, pid, epoch, commit=True)
        # invalid transitions and mappings
        _end(raw, tid, pid2, epoch2, commit=False)  # nothing ongoing
        raw.request(ADD_OFFSETS_TO_TXN, 3, ADD_OFFSETS_TO_TXN.Request(transactional_id=tid, producer_id=pid2 + 1000,
                                                                      producer_epoch=epoch2, group_id=f"g-{token}"))
        _add(raw, tid, pid2, epoch2 + 5, topic, [1])
        _add(raw, f"raw-unknown-tid-{token}", pid2, epoch2, topic, [1])
        _add(raw, tid, pid2, epoch2, f"raw-no-such-topic-{token}", [0])
        _add(raw, tid, pid2, epoch2, topic, [7])
        # a real transaction after all that, with offsets, committed
        _add(raw, tid, pid2, epoch2, topic, [1])
        raw.request(PRODUCE, 9, produce_request(topic, _batch(pid2, epoch2, 0, transactional=True), partition=1,
                                                transactional_id=tid))
        raw.request(ADD_OFFSETS_TO_TXN, 3, ADD_OFFSETS_TO_TXN.Request(transactional_id=tid, producer_id=pid2,
                                                                      producer_epoch=epoch2, group_id=f"g-{token}"))
        T = TXN_OFFSET_COMMIT.Request
        raw.request(TXN_OFFSET_COMMIT, 3, T(transactional_id=tid, group_id=f"g-{token}", producer_id=pid2,
                                            producer_epoch=epoch2, generation_id=-1, member_id="",
                                            group_instance_id=None, topics=[T.TxnOffsetCommitRequestTopic(
                                                name=topic, partitions=[T.TxnOffsetCommitRequestPartition(
                                                    partition_index=1, committed_offset=1,
                                                    committed_leader_epoch=-1, committed_metadata="m")])]))
        _end(raw, tid, pid2, epoch2, commit=True)
        _end(raw, tid, pid2, epoch2, commit=False)  # abort right after a commit


def raw_idempotence_errors(bootstrap: str, token: str) -> None:
    topic = create_topic(bootstrap, f"raw-idem-{token}", 1)
    with RawClient(bootstrap) as raw:
        pid, epoch = _init(raw, None)
        for seq in (0, 2, 0, 7):  # in order, duplicate of the first, out of order
            raw.request(PRODUCE, 9, produce_request(topic, _batch(pid, epoch, seq, count=2)))
        raw.request(PRODUCE, 9, produce_request(topic, _batch(pid, epoch + 1, 4)))  # a newer epoch at seq 4
        raw.request(PRODUCE, 9, produce_request(topic, _batch(pid, epoch, 4)))  # the old epoch now
        raw.request(PRODUCE, 9, produce_request(topic, _batch(pid, epoch, 0, transactional=True)))  # no transaction
        raw.request(PRODUCE, 9, produce_request(topic, _batch(pid + 1000, 0, 3)))  # unknown producer, seq 3
        raw.send(PRODUCE, 9, produce_request(topic, build_batch([(None, b"x")], timestamp_ms=TS), acks=0))
        raw.request(PRODUCE, 9, produce_request(topic, build_batch([(None, b"y")], timestamp_ms=TS), acks=1))
        raw.request(PRODUCE, 9, produce_request(topic, build_batch([(None, b"z")], timestamp_ms=TS), acks=2))


def raw_unknown_topics_and_offsets(bootstrap: str, token: str) -> None:
    topic = create_topic(bootstrap, f"raw-known-{token}", 1)
    missing = f"raw-missing-{token}"
    M, F, L = METADATA.Request, FETCH.Request, LIST_OFFSETS.Request
    with RawClient(bootstrap) as raw:
        raw.request(METADATA, 12, M(topics=[M.MetadataRequestTopic(name=missing)], allow_auto_topic_creation=False))
        raw.request(METADATA, 9, M(topics=[M.MetadataRequestTopic(name="bad/name")], allow_auto_topic_creation=True))
        raw.request(PRODUCE, 9, produce_request(missing, build_batch([(None, b"v")], timestamp_ms=TS)))
        raw.request(PRODUCE, 9, produce_request(topic, build_batch([(None, b"v")], timestamp_ms=TS), partition=5))
        raw.request(PRODUCE, 9, produce_request(topic, build_batch([(None, b"v%d" % i) for i in range(3)],
                                                                   timestamp_ms=TS)))
        for offset in (0, 2, 3, 4, -1):
            raw.request(FETCH, 12, F(max_wait_ms=0, min_bytes=0, max_bytes=1 << 20, isolation_level=1, session_id=0,
                                     session_epoch=-1, topics=[F.FetchTopic(topic=t, partitions=[F.FetchPartition(
                                         partition=0, fetch_offset=offset, partition_max_bytes=1 << 20)])
                                         for t in (topic, missing)], forgotten_topics_data=[], rack_id=""))
        for timestamp in (-1, -2, -3, TS, TS + 10):
            raw.request(LIST_OFFSETS, 7, L(replica_id=-1, isolation_level=0, topics=[L.ListOffsetsTopic(
                name=t, partitions=[L.ListOffsetsPartition(partition_index=p, timestamp=timestamp) for p in ps])
                for t, ps in ((topic, (0, 3)), (missing, (0,)))]))


def raw_group_coordinator_errors(bootstrap: str, token: str) -> None:
    from kafkette.broker.groups.consumer_protocol import encode_subscription

    topic = create_topic(bootstrap, f"raw-grp-{token}", 1)
    group = f"raw-g-{token}"
    JR, SR, HR, CR, FR = (JOIN_GROUP.Request, SYNC_GROUP.Request, HEARTBEAT.Request, OFFSET_COMMIT.Request,
                          OFFSET_FETCH.Request)

    def join(member: str, session_ms: int = 10_000, group_id: str = group):
        return raw.request(JOIN_GROUP, 7, JR(group_id=group_id, session_timeout_ms=session_ms, rebalance_timeout_ms=5000,
                                             member_id=member, group_instance_id=None, protocol_type="consumer",
                                             protocols=[JR.JoinGroupRequestProtocol(
                                                 name="range", metadata=encode_subscription([topic]))]))

    def commit(generation: int, member: str, partition: int = 0, topic_name: str = topic):
        return raw.request(OFFSET_COMMIT, 7, CR(group_id=group, generation_id_or_member_epoch=generation,
                                                member_id=member, group_instance_id=None, topics=[
                                                    CR.OffsetCommitRequestTopic(name=topic_name, partitions=[
                                                        CR.OffsetCommitRequestPartition(
                                                            partition_index=partition, committed_offset=5,
                                                            committed_leader_epoch=-1, committed_metadata="")])]))

    with RawClient(bootstrap) as raw:
        raw.request(FIND_COORDINATOR, 3, FIND_COORDINATOR.Request(key=group, key_type=0))
        raw.request(FIND_COORDINATOR, 3, FIND_COORDINATOR.Request(key=group, key_type=5))
        join("", session_ms=10)  # invalid session timeout
        join("ghost")
        join("", group_id="")
        first = join("")
        joined = join(first.member_id)
        raw.request(HEARTBEAT, 4, HR(group_id=group, generation_id=joined.generation_id, member_id="ghost"))
        raw.request(HEARTBEAT, 4, HR(group_id=group, generation_id=joined.generation_id + 1,
                                     member_id=joined.member_id))
        commit(joined.generation_id, joined.member_id)  # before SyncGroup: CompletingRebalance
        raw.request(SYNC_GROUP, 5, SR(group_id=group, generation_id=joined.generation_id, member_id=joined.member_id,
                                      group_instance_id=None, protocol_type="consumer", protocol_name="range",
                                      assignments=[SR.SyncGroupRequestAssignment(member_id=joined.member_id,
                                                                                  assignment=b"")]))
        commit(joined.generation_id, joined.member_id)
        commit(joined.generation_id + 1, joined.member_id)
        commit(joined.generation_id, "ghost")
        commit(joined.generation_id, joined.member_id, partition=9)
        commit(joined.generation_id, joined.member_id, topic_name=f"raw-missing-{token}")
        raw.request(OFFSET_FETCH, 7, FR(group_id=group, topics=None, require_stable=True))
        raw.request(OFFSET_FETCH, 7, FR(group_id=f"raw-nobody-{token}", topics=[FR.OffsetFetchRequestTopic(
            name=topic, partition_indexes=[0])], require_stable=False))
        raw.request(DESCRIBE_GROUPS, 5, DESCRIBE_GROUPS.Request(groups=[group, f"raw-nobody-{token}"],
                                                                include_authorized_operations=False))
        raw.request(DELETE_GROUPS, 2, DELETE_GROUPS.Request(groups_names=[group, f"raw-nobody-{token}"]))


def raw_unsupported_versions(bootstrap: str, token: str) -> None:
    topic = create_topic(bootstrap, f"raw-ver-{token}", 1)
    with RawClient(bootstrap) as raw:
        # an ApiVersions version from the future gets Kafka's v0 answer (the replay leaves ApiVersions out,
        # conformance/test_replay.py compares it by itself); a Produce v2 closes the connection
        raw.request(METADATA, 1, METADATA.Request(topics=[METADATA.Request.MetadataRequestTopic(name=topic)]))
    with RawClient(bootstrap) as raw:
        try:
            raw.request(PRODUCE, 2, produce_request(topic, build_batch([(None, b"v")], timestamp_ms=TS)))
        except Exception:
            pass
    with RawClient(bootstrap) as raw:
        raw.request(API_VERSIONS, 3, API_VERSIONS.Request(client_software_name="conformance",
                                                         client_software_version="1"))


def raw_authorized_operations(bootstrap: str, token: str) -> None:
    """Kafka without an authorizer answers every supported operation, when asked (and MIN_VALUE when not)."""
    from kafkette.protocol.messages import CONSUMER_GROUP_DESCRIBE, DESCRIBE_CLUSTER

    topic = create_topic(bootstrap, f"raw-ops-{token}", 1)
    M = METADATA.Request
    with RawClient(bootstrap) as raw:
        for version in (8, 10, 12):
            for asked in (True, False):
                raw.request(METADATA, version, M(topics=[M.MetadataRequestTopic(name=topic)],
                                                 allow_auto_topic_creation=False,
                                                 include_cluster_authorized_operations=asked,
                                                 include_topic_authorized_operations=asked))
        for asked in (True, False):
            raw.request(DESCRIBE_CLUSTER, 1, DESCRIBE_CLUSTER.Request(include_cluster_authorized_operations=asked))
            raw.request(DESCRIBE_GROUPS, 5, DESCRIBE_GROUPS.Request(groups=[f"raw-ops-nobody-{token}"],
                                                                    include_authorized_operations=asked))
            raw.request(CONSUMER_GROUP_DESCRIBE, 0, CONSUMER_GROUP_DESCRIBE.Request(
                group_ids=[f"raw-ops-nobody-{token}"], include_authorized_operations=asked))


SCENARIOS: dict[str, Callable[[str, str], None]] = {
    "confluent-produce": confluent_produce,
    "confluent-idempotent": confluent_idempotent,
    "confluent-transactions": confluent_transactions,
    "confluent-group": confluent_group,
    "confluent-admin": confluent_admin,
    "kafka-python": kafka_python,
    "aiokafka": aiokafka,
    "kafkajs": kafkajs,
    "java-client": java_client,
    "raw-fencing-and-transitions": raw_fencing_and_transitions,
    "raw-idempotence-errors": raw_idempotence_errors,
    "raw-unknown-topics-and-offsets": raw_unknown_topics_and_offsets,
    "raw-group-coordinator-errors": raw_group_coordinator_errors,
    "raw-unsupported-versions": raw_unsupported_versions,
    "raw-authorized-operations": raw_authorized_operations,
}
