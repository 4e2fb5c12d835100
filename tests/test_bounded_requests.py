"""Every request is bounded: Fetch sizes, unread responses, partitions per request and in all, open
files, admin requests done in slices, idle connections and the number of connections."""

from __future__ import annotations

import re
import socket
import time
from pathlib import Path

import pytest

from kafkette.local_broker import LocalBroker
from kafkette.protocol.errors import ErrorCode
from kafkette.protocol.messages import (
    API_VERSIONS,
    CREATE_PARTITIONS,
    CREATE_TOPICS,
    DELETE_TOPICS,
    FETCH,
    METADATA,
    PRODUCE,
)
from kafkette.protocol.records import NewRecord, build_batch, split_batches
from tests.clients import RawClient
from tests.conftest import unique

MAX_INT = 2**31 - 1


def batch_of(size: int, records: int = 1) -> bytes:
    value = bytes(size // records)
    return build_batch([NewRecord(None, value, (), 1000 + i) for i in range(records)], timestamp_ms=1000)


def produce(client: RawClient, topic: str, batches: dict[int, list[bytes]]) -> list[int]:
    """One Produce request appending each partition's batches in turn; the error of every partition."""
    errors = []
    for round_ in range(max(len(b) for b in batches.values())):
        R = PRODUCE.Request
        data = [R.PartitionProduceData(index=p, records=b[round_]) for p, b in batches.items() if round_ < len(b)]
        body = R(transactional_id=None, acks=1, timeout_ms=5000,
                 topic_data=[R.TopicProduceData(name=topic, partition_data=data)])
        response = client.request(PRODUCE, 9, body)
        errors += [r.error_code for r in response.responses[0].partition_responses]
    return errors


def fetch_body(topic: str, offsets: dict[int, int], max_bytes: int = MAX_INT, partition_max_bytes: int = MAX_INT):
    R = FETCH.Request
    return R(max_wait_ms=0, min_bytes=1, max_bytes=max_bytes, isolation_level=0, session_id=0, session_epoch=-1,
             topics=[R.FetchTopic(topic=topic, partitions=[R.FetchPartition(
                 partition=p, fetch_offset=o, partition_max_bytes=partition_max_bytes) for p, o in offsets.items()])],
             forgotten_topics_data=[], rack_id="")


def fetched(client: RawClient, topic: str, offsets: dict[int, int], **sizes) -> dict[int, tuple[int, int, int]]:
    """partition -> (error, record bytes, batches) of one Fetch v12."""
    response = client.request(FETCH, 12, fetch_body(topic, offsets, **sizes))
    out = {}
    for p in response.responses[0].partitions:
        data = bytes(p.records or b"")
        out[p.partition_index] = (p.error_code, len(data), len(split_batches(data)) if data else 0)
    return out


def rss_bytes(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+) kB", status)[1]) * 1024


def open_files(pid: int) -> int:
    return len(list(Path(f"/proc/{pid}/fd").iterdir()))


# ---------------------------------------------------------------------------------------------- Fetch


def test_fetch_sizes_follow_kafkas_rules_under_the_broker_limit(tmp_path):
    with LocalBroker(tmp_path / "data", fetch_max_bytes=64 * 1024) as broker:
        topic = broker.create_topic(unique("fetch-cap"), partitions=3)
        with RawClient(broker.bootstrap_servers) as client:
            assert produce(client, topic, {0: [batch_of(8000)] * 24, 1: [batch_of(100_000)], 2: [batch_of(8000)]}) \
                == [0] * 26
            # MaxBytes 2^31-1 is capped by --fetch-max-bytes: whole batches up to 64 KiB, the rest waits
            sizes = fetched(client, topic, {0: 0, 1: 0, 2: 0})
            assert 56_000 < sum(size for _, size, _ in sizes.values()) <= 64 * 1024
            assert sizes[1][1] == 0  # p1's batch no longer fits, and it is not the first partition with data
            # the first batch of the first partition with data is whole, whatever the limits (KIP-74)
            only_big = fetched(client, topic, {0: 24, 1: 0}, max_bytes=1000, partition_max_bytes=1000)
            assert only_big[0][1] == 0 and only_big[1][1] > 100_000 and only_big[1][2] == 1
            # each partition stops at its partition_max_bytes, in whole batches
            per_partition = fetched(client, topic, {0: 0, 2: 0}, partition_max_bytes=20_000)
            assert per_partition[0][2] == 2 and per_partition[2][2] == 1
            # the request's own max_bytes, when below the broker's
            assert fetched(client, topic, {0: 0}, max_bytes=30_000)[0][2] == 3


def test_clients_that_never_read_their_responses_do_not_pin_the_brokers_memory(tmp_path):
    with LocalBroker(tmp_path / "data", fetch_max_bytes=4 << 20) as broker:
        topic = broker.create_topic(unique("unread"), config={"max.message.bytes": str(2 << 20)})
        with RawClient(broker.bootstrap_servers) as client:
            assert produce(client, topic, {0: [batch_of(512 << 10, records=8)] * 16}) == [0] * 16
        before = rss_bytes(broker.pid)
        _, frame = RawClient(broker.bootstrap_servers).frame(FETCH, 12, fetch_body(topic, {0: 0}))
        silent = [socket.create_connection(("127.0.0.1", broker.port)) for _ in range(4)]
        try:
            for sock in silent:  # 60 Fetches of 4 MiB each per connection, none read: 960 MiB if all were built
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
                sock.sendall(frame * 60)
            peak = before
            deadline = time.monotonic() + 3
            while time.monotonic() < deadline:
                peak = max(peak, rss_bytes(broker.pid))
                time.sleep(0.05)
            assert peak - before < 150 << 20
            with RawClient(broker.bootstrap_servers) as client:  # everyone else is still served
                assert fetched(client, topic, {0: 0}, max_bytes=1 << 20)[0][:1] == (0,)
                assert produce(client, topic, {0: [batch_of(100)]}) == [0]
        finally:
            for sock in silent:
                sock.close()


# ---------------------------------------------------------------------------------------------- partitions


def create_topics(client: RawClient, topics: list[tuple[str, int]], validate_only: bool = False):
    R = CREATE_TOPICS.Request
    body = R(topics=[R.CreatableTopic(name=n, num_partitions=p, replication_factor=-1, assignments=[], configs=[])
                     for n, p in topics], timeout_ms=60_000, validate_only=validate_only)
    return [(t.name, t.error_code, t.error_message) for t in client.request(CREATE_TOPICS, 7, body).topics]


def grow(client: RawClient, topics: list[tuple[str, int]], validate_only: bool = False):
    R = CREATE_PARTITIONS.Request
    body = R(topics=[R.CreatePartitionsTopic(name=n, count=c, assignments=None) for n, c in topics],
             timeout_ms=60_000, validate_only=validate_only)
    return [(t.name, t.error_code, t.error_message) for t in client.request(CREATE_PARTITIONS, 3, body).results]


def test_requests_for_more_than_10000_partitions_are_refused_whole_as_kafka_refuses_them(broker):
    too_many = (ErrorCode.POLICY_VIOLATION, "Excessively large number of partitions per request.")
    a, b, c, d = (unique("many") for _ in range(4))
    with RawClient(broker.bootstrap_servers) as client:
        assert create_topics(client, [(a, 30_000)]) == [(a, *too_many)]
        assert create_topics(client, [(a, 6000), (b, 6000)], validate_only=True) == [(a, *too_many), (b, *too_many)]
        assert create_topics(client, [(a, 10_000)], validate_only=True) == [
            (a, ErrorCode.POLICY_VIOLATION, "Unable to perform excessively large batch operation.")]
        assert create_topics(client, [(a, 9_999)], validate_only=True) == [(a, ErrorCode.NONE, None)]
        assert create_topics(client, [(c, 1), (d, 1)]) == [(c, 0, None), (d, 0, None)]
        more = (ErrorCode.POLICY_VIOLATION, "Excessively large number of additional partitions per request.")
        assert grow(client, [(c, 30_000)]) == [(c, *more)]
        assert grow(client, [(c, 6000), (d, 6000)]) == [(c, *more), (d, *more)]
        grown = grow(client, [(c, 6000), (unique("absent"), 6000)], validate_only=True)
        assert next(r for r in grown if r[0] == c) == (c, 0, None)  # Kafka lists the unknown topic first
        response = client.request(METADATA, 12, METADATA.Request(topics=[METADATA.Request.MetadataRequestTopic(name=n)
                                                                        for n in (a, b, c)],
                                                                allow_auto_topic_creation=False))
    assert {t.name: (t.error_code, len(t.partitions)) for t in response.topics} == {  # in no set order
        a: (ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, 0), b: (ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, 0), c: (0, 1)}


def test_the_broker_holds_at_most_max_partitions(tmp_path):
    with LocalBroker(tmp_path / "data", max_partitions=60) as broker:  # two are the internal topics'
        first = broker.create_topic(unique("cap"), partitions=40)
        with RawClient(broker.bootstrap_servers) as client:
            name = unique("cap")
            [(_, error, message)] = create_topics(client, [(name, 20)])
            assert error == ErrorCode.POLICY_VIOLATION and "--max-partitions" in message
            assert grow(client, [(first, 80)])[0][1] == ErrorCode.POLICY_VIOLATION
            assert create_topics(client, [(name, 18)]) == [(name, 0, None)]
            assert produce(client, first, {39: [batch_of(100)]}) == [0]


def test_tens_of_thousands_of_partitions_keep_within_the_open_file_budget(tmp_path):
    probe = LocalBroker(tmp_path / "probe", log_format="console").start()  # key=value lines
    limit = int(re.search(r"open_file_limit=(\d+)", probe.log_path.read_text())[1])
    probe.close()
    budget = 200  # log files; RESERVED (64) more are kept for the listener, the event loop and short-lived files
    with LocalBroker(tmp_path / "data", max_connections=limit - 64 - budget, fsync="never") as broker:
        topics = [unique("fd") for _ in range(3)]
        with RawClient(broker.bootstrap_servers, timeout=120) as client:
            for name in topics:  # 29,997 partitions: Kafka takes at most 9,999 per request
                assert create_topics(client, [(name, 9_999)]) == [(name, 0, None)]
            written = range(0, 9_999, 20)  # 500 partitions, each with its files
            assert produce(client, topics[0], {p: [batch_of(100)] for p in written}) == [0] * len(written)
            assert open_files(broker.pid) <= budget + 64
            sizes = fetched(client, topics[0], {p: 0 for p in written})
            assert all(error == 0 and count == 1 for error, _, count in sizes.values())
            assert produce(client, topics[2], {9_998: [batch_of(100)]}) == [0]
            assert open_files(broker.pid) <= budget + 64


# ---------------------------------------------------------------------------------------------- slices


def test_a_delete_topics_naming_300000_topics_leaves_other_clients_served(broker):
    doomed = [broker.create_topic(unique("doomed")) for _ in range(2)]
    names = [f"nothing-{i:07d}" for i in range(300_000)] + doomed
    R = DELETE_TOPICS.Request
    with RawClient(broker.bootstrap_servers, timeout=120) as big, RawClient(broker.bootstrap_servers) as other:
        _, request = big.frame(DELETE_TOPICS, 5, R(topic_names=names, timeout_ms=60_000))
        _, behind = big.frame(METADATA, 12, METADATA.Request(topics=[METADATA.Request.MetadataRequestTopic(name=n)
                                                                     for n in doomed], allow_auto_topic_creation=False))
        big.send_bytes(request + behind)  # a Metadata pipelined behind it, on the same connection
        big.sock.settimeout(0.005)
        answered_meanwhile = 0
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            other.request(API_VERSIONS, 3, API_VERSIONS.Request(client_software_name="t", client_software_version="1"))
            answered_meanwhile += 1
            try:
                if big.sock.recv(1, socket.MSG_PEEK):
                    break
            except socket.timeout:
                pass
        big.sock.settimeout(120)
        deleted = big.recv(DELETE_TOPICS, 5)[1].responses
        metadata = big.recv(METADATA, 12)[1]
    assert answered_meanwhile >= 5
    assert len(deleted) == len(names)
    errors = {r.name: r.error_code for r in deleted}  # by name: Kafka answers in its own order
    assert {errors[n] for n in names[:-2]} == {ErrorCode.UNKNOWN_TOPIC_OR_PARTITION}
    assert [errors[n] for n in doomed] == [0, 0]
    # what was pipelined behind the deletion sees all of it done
    assert [t.error_code for t in metadata.topics] == [ErrorCode.UNKNOWN_TOPIC_OR_PARTITION] * 2


# ---------------------------------------------------------------------------------------------- connections


def api_versions(client: RawClient):
    return client.request(API_VERSIONS, 3, API_VERSIONS.Request(client_software_name="t", client_software_version="1"))


def test_idle_connections_are_closed(tmp_path):
    with LocalBroker(tmp_path / "data", connections_max_idle_ms=300) as broker:
        with RawClient(broker.bootstrap_servers) as idle, RawClient(broker.bootstrap_servers) as busy:
            api_versions(idle)
            for _ in range(10):  # 1 s of a request every 100 ms
                assert api_versions(busy).error_code == 0
                time.sleep(0.1)
            assert idle.is_closed_by_peer(timeout=2)
            assert api_versions(busy).error_code == 0


def test_connections_beyond_max_connections_wait_until_one_closes(tmp_path):
    with LocalBroker(tmp_path / "data", max_connections=3) as broker:
        first = [RawClient(broker.bootstrap_servers) for _ in range(3)]
        for client in first:
            api_versions(client)
        waiting = [RawClient(broker.bootstrap_servers, timeout=0.5) for _ in range(2)]  # TCP accepts via the backlog
        for client in waiting:
            with pytest.raises(socket.timeout):
                api_versions(client)
        first.pop().close()
        waiting[0].sock.settimeout(10)
        assert waiting[0].recv(API_VERSIONS, 3)[1].error_code == 0
        for client in first + waiting:
            client.close()
        assert broker.log_path.read_text().count("connection limit reached") == 1


def test_create_partitions_naming_a_topic_twice_answers_it_once_invalid_request(broker):
    """ControllerApis.createPartitions: the name given twice is answered once, INVALID_REQUEST; the rest is served."""
    twice, once = broker.create_topic(unique("grow-twice")), broker.create_topic(unique("grow-once"))
    with RawClient(broker.bootstrap_servers) as client:
        results = grow(client, [(twice, 2), (once, 2), (twice, 3)])
    assert sorted(results) == sorted([(twice, ErrorCode.INVALID_REQUEST, "Duplicate topic name."),
                                      (once, ErrorCode.NONE, None)])
