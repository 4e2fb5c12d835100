"""`kafkette produce` and `kafkette consume` (what kcat is used for), with both isolation levels; the key
hash and the read_committed filter they rest on, socket-free."""

from __future__ import annotations

import io

import pytest
from confluent_kafka import Producer

from kafkette.cli.batches import AbortedFilter, whole_batches
from kafkette.cli.consume import _format_writer
from kafkette.cli.produce import murmur2, read_lines
from kafkette.protocol.records import NewRecord, Record, build_batch, build_control_batch, set_base_offset
from tests.clients import consume_assigned, create_topic, kafkette_cli, kafkette_json
from tests.conftest import unique
from tests.test_transactions import TIMEOUT, txn_producer


def test_murmur2_is_kafkas():
    """The vectors of Kafka's UtilsTest.testMurmur2: keys land where a Java producer puts them."""
    assert [murmur2(key) for key in (b"21", b"foobar", b"a-little-bit-long-string", b"a-little-bit-longer-string",
                                     b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", b"abc")] == \
        [-973932308, -790332482, -985981536, -1486304829, -58897971, 479470107]


def test_lines_split_into_key_and_value_at_the_first_separator():
    assert read_lines(io.BytesIO(b"k1:v:1\nplain\r\n:empty-key\n"), ":") == [
        NewRecord(b"k1", b"v:1"), NewRecord(None, b"plain"), NewRecord(b"", b"empty-key")]
    assert read_lines(io.BytesIO(b"a:b\n"), None) == [NewRecord(None, b"a:b")]


def test_consume_formats_records_with_kcats_tokens():
    out = io.BytesIO()
    write = _format_writer("orders", r"%t/%p/%o %k=%s %T [%h] 100%% \\ \t|\n", out)
    write(2, Record(5, 7, b"k", b"v", [("h", b"1")]))
    write(2, Record(6, 8, None, None, []))
    assert out.getvalue() == b"orders/2/5 k=v 7 [h=1] 100% \\ \t|\norders/2/6 = 8 [] 100% \\ \t|\n"


def test_read_committed_filter_drops_aborted_batches_until_their_abort_marker():
    def txn(offset: int, pid: int) -> bytes:
        return build_batch([(None, b"v")], timestamp_ms=1, base_offset=offset, producer_id=pid, producer_epoch=0,
                           base_sequence=offset, transactional=True)

    def abort(offset: int, pid: int) -> bytes:
        batch = bytearray(build_control_batch(pid, 0, False, 0, 1))
        set_base_offset(batch, offset)
        return bytes(batch)

    records = txn(0, 1) + txn(1, 2) + abort(2, 1) + txn(3, 1) + txn(4, 2)
    skip = AbortedFilter([(1, 0)])
    assert [(h.base_offset, skip.aborted(h, b)) for h, b in whole_batches(records)] == \
        [(0, True), (1, False), (2, False), (3, False), (4, False)]
    assert [h.base_offset for h, _ in whole_batches(records[:-5])] == [0, 1, 2, 3]  # a cut-off last batch is left out


def test_produce_and_consume_round_trip_at_both_isolation_levels(broker):
    bootstrap = broker.bootstrap_servers
    topic = create_topic(bootstrap, unique("cli-roundtrip"), 3)
    keyed = b"".join(b"key-%d=value-%d\n" % (i, i) for i in range(6))
    sent = kafkette_json("produce", topic, "--key-separator", "=", bootstrap=bootstrap, stdin=keyed)
    assert sum(p["records"] for p in sent) == 6
    got = {(m.key(), m.value()): m.partition() for m in consume_assigned(bootstrap, topic, 6, partitions=range(3))}
    assert {k: p for (k, _), p in got.items()} == {b"key-%d" % i: (murmur2(b"key-%d" % i) & 0x7FFFFFFF) % 3
                                                   for i in range(6)}
    java_like = Producer({"bootstrap.servers": bootstrap, "partitioner": "murmur2"})  # librdkafka's Java partitioner
    delivered = []
    java_like.produce(topic, key=b"key-0", value=b"again", on_delivery=lambda err, msg: delivered.append(msg))
    java_like.flush(TIMEOUT)
    assert delivered[0].partition() == got[(b"key-0", b"value-0")]

    second = create_topic(bootstrap, unique("cli-isolation"), 1)
    kafkette_json("produce", second, bootstrap=bootstrap, stdin=b"plain-1\n")
    aborted = txn_producer(bootstrap)
    aborted.begin_transaction()
    aborted.produce(second, b"aborted")
    aborted.flush(TIMEOUT)
    aborted.abort_transaction(TIMEOUT)
    done = kafkette_json("produce", second, "--transactional-id", unique("cli-tx"), bootstrap=bootstrap,
                         stdin=b"txn-1\ntxn-2\n")
    assert done == [{"partition": 0, "records": 2, "first_offset": 3, "last_offset": 4}]

    def consume(isolation: str, count: int) -> list[str]:
        result = kafkette_cli("consume", second, "--from-beginning", "--isolation", isolation, "--count", count,
                              "--timeout", 5, "--format", "%o:%s\\n", bootstrap=bootstrap)
        assert result.returncode == 0, result.stderr
        return result.stdout.splitlines()

    assert consume("read_uncommitted", 4) == ["0:plain-1", "1:aborted", "3:txn-1", "4:txn-2"]
    assert consume("read_committed", 3) == ["0:plain-1", "3:txn-1", "4:txn-2"]
    json_lines = kafkette_cli("consume", second, "--offset", 3, "--count", 1, "--json", bootstrap=bootstrap).stdout
    assert json_lines.startswith('{"topic": "%s", "partition": 0, "offset": 3, ' % second)
    short = kafkette_cli("consume", second, "--from-beginning", "--isolation", "read_committed", "--count", 4,
                         "--timeout", 1, bootstrap=bootstrap)
    assert short.returncode == 1 and "only 3 of 4 records arrived within 1 s" in short.stderr


def test_consume_with_a_group_starts_at_its_committed_offsets_and_commits(broker):
    bootstrap = broker.bootstrap_servers
    topic = create_topic(bootstrap, unique("cli-consume-group"), 1)
    kafkette_cli("produce", topic, bootstrap=bootstrap, stdin=b"".join(b"m%d\n" % i for i in range(5)))
    group = unique("cli-consumer")

    def run(count: int) -> list[str]:
        result = kafkette_cli("consume", topic, "--group", group, "--from-beginning", "--count", count, "--timeout", 5,
                              bootstrap=bootstrap)
        assert result.returncode == 0, result.stderr
        return result.stdout.splitlines()

    assert run(2) == ["m0", "m1"]
    described = kafkette_json("groups", "describe", group, bootstrap=bootstrap)
    assert [(p["committed"], p["lag"]) for p in described["partitions"]] == [(2, 3)]
    assert run(3) == ["m2", "m3", "m4"]  # --from-beginning only where the group has no offset


@pytest.mark.parametrize("args, message", [
    (["--partition", "3"], "has no partition 3"),
    (["--offset", "99", "--count", "1", "--timeout", "1"], "OFFSET_OUT_OF_RANGE"),
])
def test_consume_refuses_what_the_topic_does_not_have(broker, args, message):
    topic = create_topic(broker.bootstrap_servers, unique("cli-consume-bad"), 1)
    result = kafkette_cli("consume", topic, *args, bootstrap=broker.bootstrap_servers)
    assert result.returncode in (1, 2) and message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
